/* The command-line contract of DESIGN.md, checked by running build/clae and
 * build/clae-devices: exit codes (0 done, 1 device or runtime failure, 2 bad
 * usage or bad input), one stderr line naming the file or flag, no partial
 * output files, the metrics CSV, and eval agreeing with training. Data are
 * small IDX files generated in a temporary directory. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cjson/cJSON.h>

#include "test_run.h"
#include "test_util.h"

#define CLAE "./build/clae"
#define CLAE_DEVICES "./build/clae-devices"

/* ---- the temporary directory and its fixtures -------------------------- */

static char tmp_dir[256];

/* tmp_dir/name, in one of a few rotating static buffers. */
static const char *tmp_path(const char *name)
{
    static char buffers[8][512];
    static unsigned next;
    char *p = buffers[next++ % 8];
    snprintf(p, sizeof buffers[0], "%s/%s", tmp_dir, name);
    return p;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void write_whole(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An IDX image file in memory: header declaring n x h x w, then `pixels`
 * bytes of learnable patterns (bars, a diagonal, blocks, plus a little
 * noise); pixels may differ from n * h * w to make corrupt files. */
static unsigned char *make_idx(uint32_t n, uint32_t h, uint32_t w,
                               size_t pixels, uint32_t seed, size_t *size)
{
    *size = 16 + pixels;
    unsigned char *b = malloc(*size);
    assert_non_null(b);
    b[0] = 0;
    b[1] = 0;
    b[2] = 0x08;
    b[3] = 3;
    put_be32(b + 4, n);
    put_be32(b + 8, h);
    put_be32(b + 12, w);
    uint32_t s = seed ? seed : 1;
    size_t per = (size_t)h * w;
    for (size_t k = 0; k < pixels; k++) {
        size_t i = per ? k / per : 0, p = per ? k % per : 0;
        unsigned y = (unsigned)(p / w), x = (unsigned)(p % w);
        unsigned kind = (unsigned)(i % 4), where = (unsigned)((i / 4) % h);
        int on = kind == 0   ? y == where
                 : kind == 1 ? x == where % w
                 : kind == 2 ? (x + where) % w == y
                             : (y / 4 + x / 4 + where) % 2 == 0;
        float noise = test_uniform(&s, 0.0f, 40.0f);
        b[16 + k] = (unsigned char)(on ? 255.0f - noise : noise);
    }
    return b;
}

static void write_idx(const char *name, uint32_t n, uint32_t h, uint32_t w,
                      uint32_t seed)
{
    size_t size;
    unsigned char *b = make_idx(n, h, w, (size_t)n * h * w, seed, &size);
    write_whole(tmp_path(name), b, size);
    free(b);
}

static void write_idx_gz(const char *name, uint32_t n, uint32_t h, uint32_t w,
                         uint32_t seed)
{
    size_t size;
    unsigned char *b = make_idx(n, h, w, (size_t)n * h * w, seed, &size);
    gzFile gz = gzopen(tmp_path(name), "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, b, (unsigned)size), (int)size);
    assert_int_equal(gzclose(gz), Z_OK);
    free(b);
}


/* Names in tmp_dir starting with prefix (an output or its temporary). */
static int count_with_prefix(const char *prefix)
{
    DIR *d = opendir(tmp_dir);
    assert_non_null(d);
    struct dirent *e;
    int count = 0;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) count++;
    closedir(d);
    return count;
}

static int group_setup(void **state)
{
    (void)state;
    if (test_make_temp_dir(tmp_dir, sizeof tmp_dir, "cli")) return -1;
    run_capture_dir = tmp_dir;
    if (!file_exists(CLAE) || !file_exists(CLAE_DEVICES)) {
        fprintf(stderr, "%s or %s missing: run `make all` from the project "
                        "root first\n", CLAE, CLAE_DEVICES);
        return -1;
    }
    write_idx("small.idx", 512, 8, 8, 7);
    write_idx_gz("small.idx.gz", 512, 8, 8, 7);
    write_idx("small_val.idx", 128, 8, 8, 99);
    write_idx("wide.idx", 16, 10, 10, 5);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (tmp_dir[0]) test_remove_tree(tmp_dir);
    return 0;
}

/* ---- device selection -------------------------------------------------- */

/* --device P:D that names no device is bad usage (2) and says which device. */
static void test_device_index_not_found(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "train", "--data", tmp_path("small.idx"),
                              "--epochs", "1", "--device", "9:9");
    expect_usage_error(r, "9:9");
    expect_contains(r->err, "device");
}

/* --device that is not P:D at all is bad usage (2), naming the value. */
static void test_device_not_an_index(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "train", "--data", tmp_path("small.idx"),
                              "--epochs", "1", "--device", "nonsense");
    expect_usage_error(r, "nonsense");
    r = RUN(CLAE, "eval", "--load", tmp_path("none.safetensors"), "--device",
            "0:");
    expect_usage_error(r, "device");
}

/* $CLAE_DEVICE naming no device is the same bad usage as --device. */
static void test_device_env_not_found(void **state)
{
    (void)state;
    static const char *const env[] = {"CLAE_DEVICE=7:3", NULL};
    const run_result *r = RUN_ENV(env, CLAE, "train", "--data",
                                  tmp_path("small.idx"), "--epochs", "1");
    expect_usage_error(r, "7:3");
}

/* --device-type accepts only gpu, cpu and any. */
static void test_device_type_unknown(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "train", "--data", tmp_path("small.idx"),
                              "--epochs", "1", "--device-type", "tpu");
    expect_usage_error(r, "--device-type");
}

/* ---- bad input files --------------------------------------------------- */

/* A missing data file is bad input (2), and the message names the file. */
static void test_missing_data_file(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "train", "--data", "/nonexistent/x.idx",
                              "--epochs", "1");
    expect_usage_error(r, "/nonexistent/x.idx");
}

/* Runs train on data_name with --save and --metrics and checks: exit 2, one
 * stderr line naming bad_name, and neither output (nor a temporary) left. */
static void expect_bad_input_run(const char *data_name, const char *val_name,
                                 const char *bad_name)
{
    const char *save = tmp_path("out.safetensors"), *metrics = tmp_path("m.csv");
    const run_result *r =
        val_name ? RUN(CLAE, "train", "--data", tmp_path(data_name), "--val",
                       tmp_path(val_name), "--epochs", "1", "--batch-size", "64",
                       "--save", save, "--metrics", metrics)
                 : RUN(CLAE, "train", "--data", tmp_path(data_name), "--epochs",
                       "1", "--batch-size", "64", "--save", save, "--metrics",
                       metrics);
    expect_usage_error(r, tmp_path(bad_name));
    assert_false(file_exists(save));
    assert_false(file_exists(metrics));
    assert_int_equal(count_with_prefix("out.safetensors"), 0);
    assert_int_equal(count_with_prefix("m.csv"), 0);
}

/* An IDX file whose magic is wrong is rejected, naming the file. */
static void test_idx_bad_magic(void **state)
{
    (void)state;
    size_t size;
    unsigned char *b = make_idx(16, 8, 8, 16 * 64, 3, &size);
    b[0] = 0x1f;
    b[1] = 0x7a;
    write_whole(tmp_path("bad_magic.idx"), b, size);
    free(b);
    expect_bad_input_run("bad_magic.idx", NULL, "bad_magic.idx");
}

/* An IDX file whose value type is not uint8 (0x0D, float) is rejected. */
static void test_idx_bad_type(void **state)
{
    (void)state;
    size_t size;
    unsigned char *b = make_idx(16, 8, 8, 16 * 64, 3, &size);
    b[2] = 0x0D;
    write_whole(tmp_path("bad_type.idx"), b, size);
    free(b);
    expect_bad_input_run("bad_type.idx", NULL, "bad_type.idx");
}

/* An IDX file whose header declares more images than it holds is rejected. */
static void test_idx_truncated_data(void **state)
{
    (void)state;
    size_t size;
    unsigned char *b = make_idx(100, 8, 8, 40 * 64 + 17, 3, &size);
    write_whole(tmp_path("truncated.idx"), b, size);
    free(b);
    expect_bad_input_run("truncated.idx", NULL, "truncated.idx");
}

/* An IDX file cut inside its header is rejected. */
static void test_idx_truncated_header(void **state)
{
    (void)state;
    size_t size;
    unsigned char *b = make_idx(16, 8, 8, 0, 3, &size);
    write_whole(tmp_path("short_header.idx"), b, 10);
    free(b);
    expect_bad_input_run("short_header.idx", NULL, "short_header.idx");
}

/* A valid .gz cut in half is rejected, naming the file. */
static void test_idx_truncated_gzip(void **state)
{
    (void)state;
    size_t size;
    char *gz = read_whole(tmp_path("small.idx.gz"), &size);
    assert_non_null(gz);
    assert_true(size > 100);
    write_whole(tmp_path("half.idx.gz"), gz, size / 2);
    free(gz);
    expect_bad_input_run("half.idx.gz", NULL, "half.idx.gz");
}

/* An IDX file declaring zero images is rejected, naming the file. */
static void test_idx_zero_images(void **state)
{
    (void)state;
    size_t size;
    unsigned char *b = make_idx(0, 8, 8, 0, 3, &size);
    write_whole(tmp_path("empty.idx"), b, size);
    free(b);
    expect_bad_input_run("empty.idx", NULL, "empty.idx");
}

/* A corrupt --val file is rejected like a corrupt --data file. */
static void test_idx_bad_validation_file(void **state)
{
    (void)state;
    size_t size;
    unsigned char *b = make_idx(50, 8, 8, 20 * 64, 3, &size);
    write_whole(tmp_path("bad_val.idx"), b, size);
    free(b);
    expect_bad_input_run("small.idx", "bad_val.idx", "bad_val.idx");
}

/* Validation data of another width than the training data is bad input,
 * naming the validation file, with no outputs left. */
static void test_validation_width_mismatch(void **state)
{
    (void)state;
    expect_bad_input_run("small.idx", "wide.idx", "wide.idx");
    expect_contains(last.err, "100");
    expect_contains(last.err, "64");
}

/* ---- kernel build failures --------------------------------------------- */

/* A kernel that does not compile is a runtime failure (1) whose message
 * carries the device's build log and the file being built. */
static void test_kernel_build_failure(void **state)
{
    (void)state;
    static const char *const kernels[] = {"activation.cl", "common.cl",
                                          "gather.cl", "loss.cl", "optim.cl"};
    const char *dir = tmp_path("kernels");
    assert_int_equal(mkdir(dir, 0755), 0);
    for (size_t i = 0; i < sizeof kernels / sizeof *kernels; i++) {
        char src[256], dst[1024];
        snprintf(src, sizeof src, "cl/%s", kernels[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, kernels[i]);
        size_t size;
        char *text = read_whole(src, &size);
        if (!text) fail_msg("cannot read %s (run from the project root)", src);
        write_whole(dst, text, size);
        free(text);
    }
    char bad[1024], env[1100];
    snprintf(bad, sizeof bad, "%s/activation.cl", dir);
    static const char garbage[] =
        "__kernel void broken(__global float *x)\n"
        "{\n"
        "    x[get_global_id(0)] = undeclared_identifier_xyz + ;\n"
        "}\n";
    write_whole(bad, garbage, sizeof garbage - 1);
    snprintf(env, sizeof env, "CLAE_KERNEL_DIR=%s", dir);

    const char *save = tmp_path("kout.safetensors"), *metrics = tmp_path("km.csv");
    const char *const envs[] = {env, "CLAE_BINARY_CACHE=0", NULL};
    const run_result *r = RUN_ENV(envs, CLAE, "train", "--data",
                                  tmp_path("small.idx"), "--epochs", "1",
                                  "--save", save, "--metrics", metrics);
    expect_exit(r, 1);
    expect_contains(r->err, "activation.cl");
    expect_contains(r->err, "error");
    expect_contains(r->err, "undeclared_identifier_xyz");
    assert_false(file_exists(save));
    assert_false(file_exists(metrics));
}

/* ---- nonsense flags ---------------------------------------------------- */

/* Runs train on small data with one bad flag value last; expects 2 and one
 * stderr line naming the flag. */
static void expect_bad_train_flag(const char *flag, const char *value)
{
    unlink(tmp_path("flag.csv"));
    const run_result *r = RUN(CLAE, "train", "--data", tmp_path("small.idx"),
                              "--epochs", "1", "--batch-size", "64",
                              "--metrics", tmp_path("flag.csv"), flag, value);
    expect_usage_error(r, flag);
    assert_false(file_exists(tmp_path("flag.csv")));
}

/* --batch-size must be a positive integer. */
static void test_flag_batch_size(void **state)
{
    (void)state;
    expect_bad_train_flag("--batch-size", "0");
    expect_bad_train_flag("--batch-size", "-3");
    expect_bad_train_flag("--batch-size", "12x");
    expect_bad_train_flag("--batch-size", "");
}

/* --device-memory takes a positive byte count with an optional K/M/G. */
static void test_flag_device_memory(void **state)
{
    (void)state;
    expect_bad_train_flag("--device-memory", "0");
    expect_bad_train_flag("--device-memory", "12X");
    expect_bad_train_flag("--device-memory", "5MB");
    expect_bad_train_flag("--device-memory", "-1G");
    expect_bad_train_flag("--device-memory", "99999999999G");
}

/* --epochs must be a positive integer. */
static void test_flag_epochs(void **state)
{
    (void)state;
    expect_bad_train_flag("--epochs", "0");
    expect_bad_train_flag("--epochs", "1.5");
}

/* --lr must be a positive finite number. */
static void test_flag_lr(void **state)
{
    (void)state;
    expect_bad_train_flag("--lr", "-1");
    expect_bad_train_flag("--lr", "abc");
    expect_bad_train_flag("--lr", "0");
    expect_bad_train_flag("--lr", "nan");
    expect_bad_train_flag("--lr", "inf");
}

/* --activation, --output-activation, --loss and --optimizer take known
 * names only. */
static void test_flag_names(void **state)
{
    (void)state;
    expect_bad_train_flag("--activation", "foo");
    expect_bad_train_flag("--init", "he");
    expect_bad_train_flag("--output-activation", "foo");
    expect_bad_train_flag("--loss", "foo");
    expect_bad_train_flag("--optimizer", "foo");
}

/* --hidden takes a comma-separated list of positive widths, nothing else. */
static void test_flag_hidden(void **state)
{
    (void)state;
    expect_bad_train_flag("--hidden", "0");
    expect_bad_train_flag("--hidden", "abc");
    expect_bad_train_flag("--hidden", "12,-3");
    expect_bad_train_flag("--hidden", "12,,3");
    expect_bad_train_flag("--hidden", "12,");
    expect_bad_train_flag("--hidden", ",12");
    expect_bad_train_flag("--hidden", ",");
}

/* --seed is a non-negative integer; --val-split a fraction in (0, 1). */
static void test_flag_seed_and_val_split(void **state)
{
    (void)state;
    expect_bad_train_flag("--seed", "-1");
    expect_bad_train_flag("--val-split", "1.5");
    expect_bad_train_flag("--val-split", "0");
}

/* The optimizer, schedule, clipping and penalty flags take numbers in
 * their ranges and known names only. */
static void test_flag_training_values(void **state)
{
    (void)state;
    expect_bad_train_flag("--optimizer", "adagrad");
    expect_bad_train_flag("--momentum", "-0.1");
    expect_bad_train_flag("--momentum", "1");
    expect_bad_train_flag("--momentum", "nan");
    expect_bad_train_flag("--weight-decay", "-1");
    expect_bad_train_flag("--weight-decay", "inf");
    expect_bad_train_flag("--rho", "1.5");
    expect_bad_train_flag("--rho", "x");
    expect_bad_train_flag("--lr-schedule", "linear");
    expect_bad_train_flag("--on-nan", "ignore");
    expect_bad_train_flag("--lr-step-epochs", "0");
    expect_bad_train_flag("--lr-step-epochs", "2.5");
    expect_bad_train_flag("--lr-gamma", "0");
    expect_bad_train_flag("--lr-gamma", "-0.5");
    expect_bad_train_flag("--clip-norm", "0");
    expect_bad_train_flag("--clip-norm", "-1");
    expect_bad_train_flag("--clip-norm", "nan");
    expect_bad_train_flag("--l1", "-1e-4");
    expect_bad_train_flag("--l1", "nan");
    expect_bad_train_flag("--l2", "-1");
    expect_bad_train_flag("--l2", "inf");
}

/* Runs train on small data with extra flags; expects 2 and one stderr
 * line naming `flag`. */
#define EXPECT_BAD_TRAIN_FLAGS(flag, ...)                                     \
    expect_usage_error(RUN(CLAE, "train", "--data", tmp_path("small.idx"),   \
                           "--epochs", "1", __VA_ARGS__),                    \
                       flag)

/* Flags the chosen optimizer or schedule would ignore are refused, as is
 * Nesterov without momentum and a step schedule without its period. */
static void test_flag_training_combinations(void **state)
{
    (void)state;
    EXPECT_BAD_TRAIN_FLAGS("--nesterov", "--optimizer", "sgd", "--nesterov");
    EXPECT_BAD_TRAIN_FLAGS("--nesterov", "--optimizer", "sgd", "--momentum",
                           "0", "--nesterov");
    EXPECT_BAD_TRAIN_FLAGS("--momentum", "--momentum", "0.9");
    EXPECT_BAD_TRAIN_FLAGS("--nesterov", "--optimizer", "adamw", "--nesterov");
    EXPECT_BAD_TRAIN_FLAGS("--weight-decay", "--weight-decay", "0.1");
    EXPECT_BAD_TRAIN_FLAGS("--weight-decay", "--optimizer", "sgd",
                           "--weight-decay", "0.1");
    EXPECT_BAD_TRAIN_FLAGS("--rho", "--optimizer", "adam", "--rho", "0.5");
    EXPECT_BAD_TRAIN_FLAGS("--lr-gamma", "--lr-gamma", "0.5");
    EXPECT_BAD_TRAIN_FLAGS("--lr-step-epochs", "--lr-schedule", "cosine",
                           "--lr-step-epochs", "2");
    EXPECT_BAD_TRAIN_FLAGS("--lr-step-epochs", "--lr-schedule", "step");
}

/* An unknown option is bad usage (2) and the message names it. */
static void test_unknown_option(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "train", "--data", tmp_path("small.idx"),
                              "--epochs", "1", "--bogus");
    expect_exit(r, 2);
    expect_contains(r->err, "--bogus");
    r = RUN(CLAE, "eval", "--bogus");
    expect_exit(r, 2);
    expect_contains(r->err, "--bogus");
    r = RUN(CLAE, "arch", "--bogus");
    expect_exit(r, 2);
    expect_contains(r->err, "--bogus");
}

/* A flag that needs a value but is given none is bad usage, naming it. */
static void test_missing_flag_value(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "train", "--data", tmp_path("small.idx"),
                              "--epochs");
    expect_exit(r, 2);
    expect_contains(r->err, "--epochs");
}

/* A stray positional argument is bad usage, naming it. */
static void test_unexpected_argument(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "train", "--data", tmp_path("small.idx"),
                              "--epochs", "1", "stray");
    expect_usage_error(r, "stray");
}

/* eval without --load is bad usage (2), naming --load. */
static void test_eval_without_load(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "eval", "--data", tmp_path("small_val.idx"));
    expect_usage_error(r, "--load");
}

/* --arch, --model and the dense flags exclude each other; so do --val and
 * --val-split. */
static void test_conflicting_flags(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "train", "--data", tmp_path("small.idx"),
                              "--epochs", "1", "--arch", "reference",
                              "--hidden", "32");
    expect_usage_error(r, "--arch");
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--epochs", "1",
            "--val", tmp_path("small_val.idx"), "--val-split", "0.2");
    expect_usage_error(r, "--val-split");
}

/* An output in a directory that cannot be written is refused before any
 * training (2, naming the flag), not after a long run. */
static void test_unwritable_output(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "train", "--data", tmp_path("small.idx"),
                              "--epochs", "1", "--save", "/nonexistent/m.st");
    expect_usage_error(r, "--save /nonexistent/m.st");
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--epochs", "1",
            "--metrics", "/nonexistent/m.csv");
    expect_usage_error(r, "--metrics /nonexistent/m.csv");
}

/* ---- diverging runs ----------------------------------------------------- */

/* A run whose loss becomes NaN in epoch 2 (its learning rate grows a
 * millionfold after epoch 1) exits 1 naming epoch 2 and the batch, saves
 * no model, and keeps epoch 1's checkpoint, which a saner run resumes. */
static void test_diverging_run_keeps_last_checkpoint(void **state)
{
    (void)state;
    const char *ckpt = tmp_path("diverge.ckpt.safetensors"),
               *save = tmp_path("diverge.safetensors");
    const run_result *r = RUN(
        CLAE, "train", "--data", tmp_path("small.idx"), "--epochs", "3",
        "--batch-size", "64", "--loss", "mse", "--activation", "linear",
        "--output-activation", "linear", "--optimizer", "sgd", "--lr", "0.1",
        "--lr-schedule", "step", "--lr-step-epochs", "1", "--lr-gamma", "1e6",
        "--checkpoint", ckpt, "--save", save);
    expect_exit(r, 1);
    expect_contains(r->err, "the training loss became NaN in epoch 2, batch ");
    assert_false(file_exists(save));
    assert_int_equal(count_with_prefix("diverge.safetensors"), 0);
    assert_true(file_exists(ckpt));
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--epochs", "2",
            "--batch-size", "64", "--optimizer", "sgd", "--lr", "0.1",
            "--resume", ckpt, "--save", save);
    expect_exit(r, 0);
    expect_contains(r->out, "resuming after epoch 1");
    expect_contains(r->out, "epoch 2/2");
    assert_true(file_exists(save));
}

/* 300 rows of 16 values in [0, 1], one of them 1e30: a finite value whose
 * squared error is not. */
static void write_csv_with_huge_value(const char *name)
{
    char *text = malloc(300 * 16 * 8), *at = text;
    assert_non_null(text);
    uint32_t seed = 3;
    for (int i = 0; i < 300; i++)
        for (int j = 0; j < 16; j++) {
            if (i == 100 && j == 3) at += sprintf(at, "1e30");
            else at += sprintf(at, "%.3f", test_uniform(&seed, 0.0f, 1.0f));
            *at++ = j == 15 ? '\n' : ',';
        }
    write_whole(tmp_path(name), text, (size_t)(at - text));
    free(text);
}

/* With --on-nan skip-batch that row's batch is left out, with a warning,
 * every epoch, and the run ends well; without it the run stops in epoch
 * 1 at that batch. */
static void test_on_nan_skip_batch(void **state)
{
    (void)state;
    write_csv_with_huge_value("huge.csv");
    const run_result *r = RUN(CLAE, "train", "--data", tmp_path("huge.csv"),
                              "--hidden", "8", "--epochs", "2",
                              "--batch-size", "64", "--loss", "mse",
                              "--on-nan", "skip-batch");
    expect_exit(r, 0);
    expect_contains(r->err, "epoch 1: left out 1 batch whose loss or "
                            "gradient was not finite (the first: batch ");
    expect_contains(r->err, "epoch 2: left out 1 batch");
    expect_contains(r->out, "epoch 2/2  train_loss 0.");
    r = RUN(CLAE, "train", "--data", tmp_path("huge.csv"), "--hidden", "8",
            "--epochs", "2", "--batch-size", "64", "--loss", "mse");
    expect_exit(r, 1);
    expect_contains(r->err, "the training loss became infinite in epoch 1");
}

/* ---- a successful small run -------------------------------------------- */

/* Splits a CSV line (without its newline) in place; returns the field count. */
static int split_fields(char *line, char **fields, int max)
{
    int n = 0;
    for (char *p = line;; p++) {
        if (n < max) fields[n] = p;
        n++;
        p = strchr(p, ',');
        if (!p) break;
        *p = '\0';
    }
    return n;
}

/* Splits text into lines in place; returns the count (no trailing empty). */
static int split_lines(char *text, char **lines, int max)
{
    int n = 0;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        if (n < max) lines[n] = p;
        n++;
        if (!nl) break;
        *nl = '\0';
        p = nl + 1;
    }
    return n;
}

static int count_prefixed_lines(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, strlen(prefix)) == 0) n++;
        p = strchr(p, '\n');
        if (p) p++;
    }
    return n;
}

static int trained;
static char last_val_loss[64];

/* Trains the small model once (2 epochs on gzip data, validating on plain
 * data) and checks the run; later tests reuse m.safetensors and m.csv. */
static void train_small_model(void)
{
    if (trained) return;
    const char *save = tmp_path("m.safetensors"), *metrics = tmp_path("m.csv");
    const run_result *r =
        RUN(CLAE, "train", "--data", tmp_path("small.idx.gz"), "--val",
            tmp_path("small_val.idx"), "--epochs", "2", "--batch-size", "64",
            "--metrics", metrics, "--save", save);
    expect_exit(r, 0);
    assert_int_equal(count_prefixed_lines(r->out, "epoch "), 2);
    assert_true(file_exists(save));

    size_t size;
    char *csv = read_whole(metrics, &size);
    assert_non_null(csv);
    assert_true(size > 0 && csv[size - 1] == '\n');
    char *lines[8];
    int n = split_lines(csv, lines, 8);
    assert_int_equal(n, 3);
    assert_string_equal(lines[0], "epoch,train_loss,val_loss,seconds");
    for (int i = 1; i < 3; i++) {
        char *f[8], *end;
        assert_int_equal(split_fields(lines[i], f, 8), 4);
        assert_int_equal(strtol(f[0], &end, 10), i);
        assert_int_equal(*end, '\0');
        double train = strtod(f[1], &end);
        assert_int_equal(*end, '\0');
        assert_true(train > 0.0 && train < 1.0);
        double val = strtod(f[2], &end);
        assert_true(*f[2] && *end == '\0');
        assert_true(val > 0.0 && val < 1.0);
        double seconds = strtod(f[3], &end);
        assert_int_equal(*end, '\0');
        assert_true(seconds >= 0.0);
        if (i == 2) snprintf(last_val_loss, sizeof last_val_loss, "%s", f[2]);
    }
    free(csv);
    assert_int_equal(count_with_prefix("m.csv"), 1);
    assert_int_equal(count_with_prefix("m.safetensors"), 1);
    trained = 1;
}

/* train on small data exits 0, prints a line per epoch, writes the CSV
 * header and a 4-field row per epoch, and saves the model. */
static void test_train_small_run(void **state)
{
    (void)state;
    train_small_model();
}

/* eval of the saved model on the validation data prints the last epoch's
 * val_loss to the six printed digits. */
static void test_eval_matches_val_loss(void **state)
{
    (void)state;
    train_small_model();
    const run_result *r = RUN(CLAE, "eval", "--load", tmp_path("m.safetensors"),
                              "--data", tmp_path("small_val.idx"));
    expect_exit(r, 0);
    const char *at = strstr(r->out, "loss ");
    if (!at) fail_msg("no 'loss ' in eval's output:\n%s", r->out);
    char printed[64] = "";
    assert_int_equal(sscanf(at + 5, "%63s", printed), 1);
    assert_string_equal(printed, last_val_loss);

    /* Streamed through a budget of 1 KiB, the same loss, and a note why. */
    r = RUN(CLAE, "eval", "--load", tmp_path("m.safetensors"), "--data",
            tmp_path("small_val.idx"), "--device-memory", "1K");
    expect_exit(r, 0);
    expect_contains(r->err, "streaming");
    at = strstr(r->out, "loss ");
    if (!at) fail_msg("no 'loss ' in eval's output:\n%s", r->out);
    assert_int_equal(sscanf(at + 5, "%63s", printed), 1);
    assert_string_equal(printed, last_val_loss);
}

/* A loaded 64-wide model refuses data of another width: 2, naming the file
 * and both widths. */
static void test_eval_width_mismatch(void **state)
{
    (void)state;
    train_small_model();
    const run_result *r = RUN(CLAE, "eval", "--load", tmp_path("m.safetensors"),
                              "--data", tmp_path("wide.idx"));
    expect_usage_error(r, "64");
    expect_contains(r->err, "100");
    expect_contains(r->err, tmp_path("wide.idx"));
}

/* encode writes N x K float32 codes and decode maps them back, both as
 * .npy files that numpy reads; numpy, running the layers of the model file
 * it parses itself, computes the same codes and outputs. */
static void test_encode_decode(void **state)
{
    (void)state;
    train_small_model();
    /* Copies: tmp_path's buffers are reused by every run. */
    char codes[512], decoded[512], model[512];
    snprintf(codes, sizeof codes, "%s", tmp_path("codes.npy"));
    snprintf(decoded, sizeof decoded, "%s", tmp_path("decoded.npy"));
    snprintf(model, sizeof model, "%s", tmp_path("m.safetensors"));
    const run_result *r = RUN(CLAE, "encode", "--load", tmp_path("m.safetensors"),
                              "--data", tmp_path("small_val.idx"), "--out",
                              codes, "--batch-size", "50");
    expect_exit(r, 0);
    expect_contains(r->out, "encoded 128 samples");
    /* 64 uint8 pixels against 128 float32 codes (an overcomplete model). */
    expect_contains(r->out, "64 bytes a sample (64 uint8) -> 512 bytes of "
                            "code, ratio 0.12");
    r = RUN(CLAE, "decode", "--load", model, "--codes", codes,
            "--out", decoded);
    expect_exit(r, 0);
    expect_contains(r->out, "decoded 128 codes");
    r = RUN("/usr/bin/python3", "tests/check_outputs.py", model,
            tmp_path("small_val.idx"), codes, decoded);
    expect_exit(r, 0);
    expect_contains(r->out, "ok");

    /* Codes of another width: bad input naming the file. */
    r = RUN(CLAE, "decode", "--load", model, "--codes", decoded, "--out",
            tmp_path("again.npy"));
    expect_usage_error(r, decoded);
    assert_int_equal(count_with_prefix("again.npy"), 0);
    r = RUN(CLAE, "decode", "--load", model, "--out", codes);
    expect_usage_error(r, "--codes F is required");
    r = RUN(CLAE, "encode", "--load", tmp_path("m.safetensors"));
    expect_usage_error(r, "--out F is required");
}

static void write_labels(const char *name, uint32_t n, unsigned classes);

/* The width and height a PNG file's IHDR declares; fails on anything that
 * is not a PNG. */
static void png_size(const char *path, uint32_t *width, uint32_t *height)
{
    size_t size;
    unsigned char *png = (unsigned char *)read_whole(path, &size);
    assert_non_null(png);
    assert_true(size > 24 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    *width = get_be32(png + 16);
    *height = get_be32(png + 20);
    free(png);
}

/* reconstruct draws rows of originals above rows of reconstructions, and
 * decode draws codes: 8x8 tiles with 2-pixel gaps. */
static void test_pictures(void **state)
{
    (void)state;
    train_small_model();
    char grid[512];
    snprintf(grid, sizeof grid, "%s", tmp_path("grid.png"));
    const run_result *r = RUN(CLAE, "reconstruct", "--load", tmp_path("m.safetensors"),
                              "--data", tmp_path("small_val.idx"), "--out", grid,
                              "--n", "10", "--columns", "4");
    expect_exit(r, 0);
    expect_contains(r->out, "10 samples");
    expect_contains(r->out, "8x8, grayscale");
    uint32_t width, height;
    png_size(grid, &width, &height);
    assert_int_equal(width, 2 + 4 * 10);  /* 4 columns of 8 + 2 */
    assert_int_equal(height, 2 + 6 * 10); /* 3 rows, each twice */

    r = RUN(CLAE, "encode", "--load", tmp_path("m.safetensors"), "--data",
            tmp_path("small_val.idx"), "--out", tmp_path("pic_codes.npy"));
    expect_exit(r, 0);
    r = RUN(CLAE, "decode", "--load", tmp_path("m.safetensors"), "--codes",
            tmp_path("pic_codes.npy"), "--out", grid);
    expect_exit(r, 0);
    png_size(grid, &width, &height);
    assert_int_equal(width, 2 + 12 * 10); /* 128 codes: ceil(sqrt) = 12 */
    assert_int_equal(height, 2 + 11 * 10);

    /* Colour images that are not square: the model keeps their shape, so
     * decode draws them without the data. */
    char rgb[512], rgb_model[512], rgb_codes[512];
    snprintf(rgb, sizeof rgb, "%s", tmp_path("rgb.npy"));
    snprintf(rgb_model, sizeof rgb_model, "%s", tmp_path("rgb.safetensors"));
    snprintf(rgb_codes, sizeof rgb_codes, "%s", tmp_path("rgb_codes.npy"));
    r = RUN("/usr/bin/python3", "-c",
            "import sys, numpy; numpy.save(sys.argv[1], numpy.random.default_rng(1)"
            ".integers(0, 256, (64, 4, 6, 3), dtype=numpy.uint8))", rgb);
    expect_exit(r, 0);
    r = RUN(CLAE, "train", "--data", rgb, "--epochs", "1", "--save", rgb_model);
    expect_exit(r, 0);
    r = RUN(CLAE, "info", "--load", rgb_model);
    expect_contains(r->out, "(4x6x3 images)");
    r = RUN(CLAE, "encode", "--load", rgb_model, "--data", rgb, "--out", rgb_codes);
    expect_exit(r, 0);
    r = RUN(CLAE, "decode", "--load", rgb_model, "--codes", rgb_codes, "--out", grid);
    expect_exit(r, 0);
    expect_contains(r->out, "a grid of 4x6 images");
    png_size(grid, &width, &height);
    assert_int_equal(width, 2 + 8 * (6 + 2)); /* 64 images, 8 a row */
    assert_int_equal(height, 2 + 8 * (4 + 2));

    /* The charts: the loss curves of the metrics, the codes' scatter. */
    r = RUN(CLAE, "plot", "--metrics", tmp_path("m.csv"), "--out", grid);
    expect_exit(r, 0);
    expect_contains(r->out, "loss of 2 epochs");
    png_size(grid, &width, &height);
    assert_true(width == 720 && height == 480);
    write_labels("pic_labels.idx", 128, 3);
    r = RUN(CLAE, "plot-codes", "--load", tmp_path("m.safetensors"), "--data",
            tmp_path("small_val.idx"), "--labels", tmp_path("pic_labels.idx"),
            "--out", grid);
    expect_exit(r, 0);
    expect_contains(r->out, "128 codes of 128 features, their first two "
                            "principal components, coloured by class");
    png_size(grid, &width, &height);
    assert_true(width == 720 && height == 480);
    r = RUN(CLAE, "plot", "--metrics", tmp_path("small.idx"), "--out",
            tmp_path("bad.png"));
    expect_usage_error(r, "small.idx");
    assert_int_equal(count_with_prefix("bad.png"), 0);

    r = RUN(CLAE, "reconstruct", "--load", tmp_path("m.safetensors"), "--out",
            grid, "--n", "0");
    expect_usage_error(r, "--n");

    /* A denoising conv model: rows of noisy inputs, reconstructions and
     * clean originals; a model without noise has nothing to show. */
    char denoising[512], denoising_model[512];
    snprintf(denoising, sizeof denoising, "%s", tmp_path("denoising.txt"));
    snprintf(denoising_model, sizeof denoising_model, "%s",
             tmp_path("denoising.safetensors"));
    const char *spec = "input 8x8x1\nnoise mask 0.3\nconv 2 3x3 relu same\n"
                       "conv 1 3x3 sigmoid same\n";
    write_whole(denoising, spec, strlen(spec));
    r = RUN(CLAE, "train", "--model", denoising, "--data", tmp_path("small.idx"),
            "--epochs", "1", "--save", denoising_model);
    expect_exit(r, 0);
    r = RUN(CLAE, "reconstruct", "--load", denoising_model, "--data",
            tmp_path("small_val.idx"), "--out", grid, "--n", "10", "--columns",
            "4", "--noisy");
    expect_exit(r, 0);
    expect_contains(r->out, "noisy inputs above their reconstructions and the "
                            "clean originals");
    png_size(grid, &width, &height);
    assert_int_equal(height, 2 + 9 * 10); /* 3 rows, each three times */
    r = RUN(CLAE, "info", "--load", denoising_model);
    expect_exit(r, 0);
    expect_contains(r->out, "1  conv      8x8x1 -> 8x8x2 relu");
    r = RUN(CLAE, "reconstruct", "--load", tmp_path("m.safetensors"), "--out",
            tmp_path("plain.png"), "--noisy");
    expect_usage_error(r, "no noise layer");
    assert_int_equal(count_with_prefix("plain.png"), 0);
    r = RUN(CLAE, "reconstruct", "--load", tmp_path("m.safetensors"), "--data",
            tmp_path("wide.idx"), "--out", tmp_path("wide.png"));
    expect_usage_error(r, "wide.idx");
    assert_int_equal(count_with_prefix("wide.png"), 0);
}

/* info lists the spec, the layers and what the file says of training. */
static void test_info(void **state)
{
    (void)state;
    train_small_model();
    const run_result *r = RUN(CLAE, "info", "--load", tmp_path("m.safetensors"));
    expect_exit(r, 0);
    expect_contains(r->out, "spec:\n  input 64\n  dense 128 relu\n  code\n");
    /* 64 x 128 + 128 and 128 x 64 + 64 parameters. */
    expect_contains(r->out, "8320 parameters  (code)");
    expect_contains(r->out, "total 16576 parameters");
    expect_contains(r->out, "training: 2 epochs, 16 steps; weights from seed 0");
    char want[600];
    snprintf(want, sizeof want, "last epoch: train_loss ");
    expect_contains(r->out, want);
    snprintf(want, sizeof want, "val_loss %s\n", last_val_loss);
    expect_contains(r->out, want);
    snprintf(want, sizeof want, "data: %s (8x8x1 images)\n", tmp_path("small.idx.gz"));
    expect_contains(r->out, want);
    expect_contains(r->out, "scale: the default");
}

/* A --scale given in training is kept in the model and applied by later
 * commands unless they give their own. */
static void test_scale_kept(void **state)
{
    (void)state;
    char model[512];
    snprintf(model, sizeof model, "%s", tmp_path("scaled.safetensors"));
    const run_result *r = RUN(CLAE, "train", "--data", tmp_path("small.idx"),
                              "--epochs", "1", "--scale", "510", "--save", model);
    expect_exit(r, 0);
    r = RUN(CLAE, "info", "--load", model);
    expect_contains(r->out, "scale: values divided by 510");
    char kept[128], given[128], other[128];
    r = RUN(CLAE, "eval", "--load", model, "--data", tmp_path("small_val.idx"));
    expect_exit(r, 0);
    snprintf(kept, sizeof kept, "%s", r->out);
    r = RUN(CLAE, "eval", "--load", model, "--data", tmp_path("small_val.idx"),
            "--scale", "510");
    snprintf(given, sizeof given, "%s", r->out);
    assert_string_equal(kept, given);
    r = RUN(CLAE, "eval", "--load", model, "--data", tmp_path("small_val.idx"),
            "--scale", "255");
    snprintf(other, sizeof other, "%s", r->out);
    assert_string_not_equal(kept, other);
    /* Codes are not data: decode leaves them as they are. */
    char codes[512], d_kept[512], d_one[512];
    snprintf(codes, sizeof codes, "%s", tmp_path("scaled_codes.npy"));
    snprintf(d_kept, sizeof d_kept, "%s", tmp_path("scaled_kept.npy"));
    snprintf(d_one, sizeof d_one, "%s", tmp_path("scaled_one.npy"));
    r = RUN(CLAE, "encode", "--load", model, "--data", tmp_path("small_val.idx"),
            "--out", codes);
    expect_exit(r, 0);
    r = RUN(CLAE, "decode", "--load", model, "--codes", codes, "--out", d_kept);
    expect_exit(r, 0);
    r = RUN(CLAE, "decode", "--load", model, "--codes", codes, "--out", d_one,
            "--scale", "1");
    expect_exit(r, 0);
    size_t a_size, b_size;
    char *a = read_whole(d_kept, &a_size), *b = read_whole(d_one, &b_size);
    assert_int_equal(a_size, b_size);
    assert_memory_equal(a, b, a_size);
    free(a);
    free(b);
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--scale", "0");
    expect_usage_error(r, "--scale");

    /* --standardize is kept as well, and refused for bce. */
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--epochs", "1",
            "--standardize", "--loss", "mse", "--output-activation", "linear",
            "--save", model);
    expect_exit(r, 0);
    r = RUN(CLAE, "info", "--load", model);
    expect_contains(r->out, "standardised: each feature");
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--standardize");
    expect_usage_error(r, "use loss mse or mae");
}

/* On a terminal (script(1) gives it one) train draws a progress bar that
 * each epoch's line replaces; into a pipe it prints plain lines only; with
 * --quiet nothing. The metrics are the same either way. */
static void test_progress_and_quiet(void **state)
{
    (void)state;
    char command[1024], with_bar[512], plain[512];
    snprintf(with_bar, sizeof with_bar, "%s", tmp_path("bar.csv"));
    snprintf(plain, sizeof plain, "%s", tmp_path("plain.csv"));
    snprintf(command, sizeof command,
             "%s train --data %s --epochs 2 --batch-size 16 --metrics %s", CLAE,
             tmp_path("small.idx"), with_bar);
    const run_result *r = RUN("/usr/bin/script", "-qec", command, "/dev/null");
    expect_exit(r, 0);
    expect_contains(r->out, "\r\033[Kepoch 1/2 [");
    expect_contains(r->out, "32/32");
    expect_contains(r->out, "samples/s  ETA ");
    expect_contains(r->out, "\r\033[Kepoch 2/2  train_loss ");

    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--epochs", "2",
            "--batch-size", "16", "--metrics", plain);
    expect_exit(r, 0);
    assert_null(strstr(r->out, "samples/s"));
    size_t a_size, b_size;
    char *a = read_whole(with_bar, &a_size), *b = read_whole(plain, &b_size);
    char *lines_a[4], *lines_b[4];
    assert_int_equal(split_lines(a, lines_a, 4), 3);
    assert_int_equal(split_lines(b, lines_b, 4), 3);
    for (int i = 1; i < 3; i++) /* epoch, train_loss, val_loss; not seconds */
        assert_memory_equal(lines_a[i], lines_b[i],
                            (size_t)(strrchr(lines_a[i], ',') - lines_a[i]));
    free(a);
    free(b);

    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--epochs", "1",
            "--quiet", "--save", tmp_path("quiet.safetensors"));
    expect_exit(r, 0);
    assert_string_equal(r->out, "");
    assert_true(file_exists(tmp_path("quiet.safetensors")));
}

/* Removes the line's fourth comma-separated field (the metrics CSV's
 * seconds, which differ from run to run). */
static void drop_seconds(char *line)
{
    char *start = line;
    for (int i = 0; i < 3 && start; i++) start = strchr(start, ',') + 1;
    char *end = strchr(start, ',');
    memmove(start, end ? end + 1 : start + strlen(start),
            strlen(end ? end + 1 : start + strlen(start)) + 1);
}

/* Training 2 epochs with a checkpoint and resuming it to 4 gives the
 * metrics and the very model file of 4 epochs in one go: Adam's moments,
 * the step schedule, the shuffling, dropout's and the latent layer's
 * draws and the KL warm-up all carry on. */
/* SIGINT (exit 130) or SIGTERM (143) stops a run of a variational model
 * with dropout, saving a checkpoint beside --save; resumed, it gives the
 * uninterrupted run's metrics and model file. */
static void interrupt_and_resume(int sig, const char *save_name,
                                 const char *checkpoint_name)
{
    char spec[512], save[512], ck[512], whole[512], m_parts[512], m_whole[512];
    snprintf(spec, sizeof spec, "%s", tmp_path("interrupted.txt"));
    snprintf(save, sizeof save, "%s", tmp_path(save_name));
    snprintf(ck, sizeof ck, "%s", tmp_path(checkpoint_name));
    snprintf(whole, sizeof whole, "%s", tmp_path("whole.safetensors"));
    snprintf(m_parts, sizeof m_parts, "%s", tmp_path("parts.csv"));
    snprintf(m_whole, sizeof m_whole, "%s", tmp_path("whole.csv"));
    const char *text = "input 64\ndense 32 relu\ndropout 0.25\n"
                       "latent 3 gaussian\ndense 64 sigmoid\n";
    write_whole(spec, text, strlen(text));
    unlink(ck);
    unlink(m_parts);
#define SAME_RUN "--data", tmp_path("small.idx"), "--val-split", "0.25", \
                 "--batch-size", "8", "--seed", "5"
    run_signal.after = "epoch 1/";
    run_signal.sig = sig;
    const run_result *r = RUN(CLAE, "train", SAME_RUN, "--model", spec,
                              "--epochs", "100000",
                              "--metrics", m_parts, "--save", save);
    expect_exit(r, 128 + sig);
    expect_contains(r->err, "saved a checkpoint to ");
    expect_contains(r->err, ck);
    assert_true(access(save, F_OK) != 0); /* no model from a stopped run */
    /* Interrupted after batch k of epoch E, or after epoch E - 1. */
    const char *at = strstr(r->err, "of epoch ");
    unsigned epochs = 0;
    if (at) assert_int_equal(sscanf(at, "of epoch %u", &epochs), 1);
    else assert_int_equal(sscanf(strstr(r->err, "after epoch "),
                                 "after epoch %u", &epochs), 1), epochs++;
    char n[16];
    snprintf(n, sizeof n, "%u", epochs);
    r = RUN(CLAE, "train", "--resume", ck, SAME_RUN, "--epochs", n,
            "--metrics", m_parts, "--save", save);
    expect_exit(r, 0);
    r = RUN(CLAE, "train", SAME_RUN, "--model", spec, "--epochs", n,
            "--metrics", m_whole, "--save", whole);
    expect_exit(r, 0);
#undef SAME_RUN
    size_t a_size, b_size;
    char *a = read_whole(whole, &a_size), *b = read_whole(save, &b_size);
    assert_int_equal(a_size, b_size);
    assert_memory_equal(a, b, a_size);
    free(a);
    free(b);
    a = read_whole(m_whole, &a_size);
    b = read_whole(m_parts, &b_size);
    char *lines_a[256], *lines_b[256];
    int count = split_lines(a, lines_a, 256);
    assert_int_equal(count, (int)epochs + 1);
    assert_int_equal(split_lines(b, lines_b, 256), count);
    for (int i = 0; i < count; i++) { /* all but the seconds */
        drop_seconds(lines_a[i]);
        drop_seconds(lines_b[i]);
        assert_string_equal(lines_a[i], lines_b[i]);
    }
    free(a);
    free(b);
}

static void test_interrupted_runs_resume(void **state)
{
    (void)state;
    interrupt_and_resume(SIGINT, "int.safetensors", "int.ckpt.safetensors");
    interrupt_and_resume(SIGTERM, "term.model", "term.model.ckpt.safetensors");
}

static void test_resume(void **state)
{
    (void)state;
    char spec[512], ck[512], one[512], two[512], m_one[512], m_two[512];
    snprintf(spec, sizeof spec, "%s", tmp_path("dropout.txt"));
    snprintf(ck, sizeof ck, "%s", tmp_path("ck.safetensors"));
    snprintf(one, sizeof one, "%s", tmp_path("one.safetensors"));
    snprintf(two, sizeof two, "%s", tmp_path("two.safetensors"));
    snprintf(m_one, sizeof m_one, "%s", tmp_path("one.csv"));
    snprintf(m_two, sizeof m_two, "%s", tmp_path("two.csv"));
    const char *text = "input 8x8x1\nconv 4 3x3 relu same\nconv 2 3x3 relu same\n"
                       "maxpool 2\ndropout 0.25\nlatent 3 gaussian beta=0.5\n"
                       "dense 64 sigmoid\n";
    write_whole(spec, text, strlen(text));
#define SAME_RUN "--data", tmp_path("small.idx"), "--val-split", "0.25", \
                 "--lr-schedule", "step", "--lr-step-epochs", "1",      \
                 "--batch-size", "32", "--seed", "9", "--kl-warmup", "3"
    const run_result *r = RUN(CLAE, "train", SAME_RUN, "--model", spec,
                              "--epochs", "4", "--metrics", m_one, "--save", one);
    expect_exit(r, 0);
    r = RUN(CLAE, "train", SAME_RUN, "--model", spec, "--epochs", "2",
            "--metrics", m_two, "--checkpoint", ck);
    expect_exit(r, 0);
    r = RUN(CLAE, "train", SAME_RUN, "--resume", ck, "--epochs", "4",
            "--metrics", m_two, "--save", two);
#undef SAME_RUN
    expect_exit(r, 0);
    expect_contains(r->out, "resuming after epoch 2");
    expect_contains(r->out, "epoch 3/4");
    size_t a_size, b_size;
    char *a = read_whole(one, &a_size), *b = read_whole(two, &b_size);
    assert_int_equal(a_size, b_size);
    assert_memory_equal(a, b, a_size);
    free(a);
    free(b);
    a = read_whole(m_one, &a_size);
    b = read_whole(m_two, &b_size);
    char *lines_a[8], *lines_b[8];
    assert_int_equal(split_lines(a, lines_a, 8), 5);
    assert_int_equal(split_lines(b, lines_b, 8), 5);
    assert_string_equal(lines_a[0], "epoch,train_loss,val_loss,seconds,"
                                    "train_recon,train_kl,val_recon,val_kl");
    for (int i = 0; i < 5; i++) { /* all but the seconds */
        drop_seconds(lines_a[i]);
        drop_seconds(lines_b[i]);
        assert_string_equal(lines_a[i], lines_b[i]);
    }
    free(a);
    free(b);

    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--resume", ck,
            "--epochs", "2");
    expect_usage_error(r, "has trained 2 epochs already");
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--resume", one,
            "--epochs", "6");
    expect_usage_error(r, "a model file without the optimizer's state");

    /* A --scale of the first run carries over to the resumed one. */
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--scale", "510",
            "--epochs", "3", "--metrics", m_one);
    expect_exit(r, 0);
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--scale", "510",
            "--epochs", "2", "--checkpoint", ck, "--metrics", m_two);
    expect_exit(r, 0);
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--resume", ck,
            "--epochs", "3", "--metrics", m_two);
    expect_exit(r, 0);
    a = read_whole(m_one, &a_size);
    b = read_whole(m_two, &b_size);
    assert_int_equal(split_lines(a, lines_a, 8), 4);
    assert_int_equal(split_lines(b, lines_b, 8), 4);
    *strrchr(lines_a[3], ',') = *strrchr(lines_b[3], ',') = '\0';
    assert_string_equal(lines_a[3], lines_b[3]);
    free(a);
    free(b);
    r = RUN(CLAE, "train", "--resume", ck, "--arch", "deep");
    expect_usage_error(r, "--resume takes the model from the checkpoint");
    r = RUN(CLAE, "train", "--checkpoint-every", "2");
    expect_usage_error(r, "--checkpoint-every needs --checkpoint");
}

/* An IDX file of n labels, label i = i % classes. */
static void write_labels(const char *name, uint32_t n, unsigned classes)
{
    unsigned char *buf = malloc(8 + n);
    assert_non_null(buf);
    buf[0] = buf[1] = 0;
    buf[2] = 0x08;
    buf[3] = 1;
    put_be32(buf + 4, n);
    for (uint32_t i = 0; i < n; i++) buf[8 + i] = (unsigned char)(i % classes);
    write_whole(tmp_path(name), buf, 8 + n);
    free(buf);
}

/* score writes index,score rows whose mean is eval's loss, a flag column
 * with a threshold, and the ranking metrics with labels. */
static void test_score(void **state)
{
    (void)state;
    train_small_model();
    char out[512];
    snprintf(out, sizeof out, "%s", tmp_path("scores.csv"));
    const run_result *r = RUN(CLAE, "score", "--load", tmp_path("m.safetensors"),
                              "--data", tmp_path("small_val.idx"), "--out", out);
    expect_exit(r, 0);
    expect_contains(r->out, "scored 128 samples");
    size_t size;
    char *csv = read_whole(out, &size);
    assert_non_null(csv);
    char *lines[200];
    int n = split_lines(csv, lines, 200);
    assert_int_equal(n, 129); /* the header and 128 rows */
    assert_string_equal(lines[0], "index,score");
    double sum = 0.0;
    for (int i = 1; i <= 128; i++) {
        char *f[4], *end;
        assert_int_equal(split_fields(lines[i], f, 4), 2);
        assert_int_equal(strtol(f[0], &end, 10), i - 1);
        double score = strtod(f[1], &end);
        assert_true(*end == '\0' && score > 0.0);
        sum += score;
    }
    free(csv);
    assert_true(fabs(sum / 128 - strtod(last_val_loss, NULL)) < 2e-6);

    write_labels("small_labels.idx", 128, 4);
    r = RUN(CLAE, "score", "--load", tmp_path("m.safetensors"), "--data",
            tmp_path("small_val.idx"), "--out", out, "--threshold-percentile",
            "90", "--labels", tmp_path("small_labels.idx"), "--normal-class", "2");
    expect_exit(r, 0);
    /* The model was trained on small.idx.gz, which it remembers. */
    expect_contains(r->out, "the 90-th percentile of the scores of 512 "
                            "reference samples");
    expect_contains(r->out, "ROC AUC ");
    expect_contains(r->out, "(anomalies: classes other than 2)");
    csv = read_whole(out, &size);
    assert_true(strncmp(csv, "index,score,anomaly\n0,", 22) == 0);
    free(csv);

    r = RUN(CLAE, "score", "--load", tmp_path("m.safetensors"), "--out", out,
            "--labels", tmp_path("small_labels.idx"));
    expect_usage_error(r, "--labels and --normal-class go together");
    r = RUN(CLAE, "score", "--load", tmp_path("m.safetensors"), "--out", out,
            "--threshold-percentile", "101");
    expect_usage_error(r, "--threshold-percentile");
    write_labels("few_labels.idx", 100, 4);
    r = RUN(CLAE, "score", "--load", tmp_path("m.safetensors"), "--data",
            tmp_path("small_val.idx"), "--out", out, "--labels",
            tmp_path("few_labels.idx"), "--normal-class", "1");
    expect_usage_error(r, "100 labels for the 128 samples");
}

/* With --data but no --val there is no validation: val_loss is empty. */
static void test_train_without_validation(void **state)
{
    (void)state;
    const char *metrics = tmp_path("noval.csv");
    const run_result *r = RUN(CLAE, "train", "--data", tmp_path("small.idx"),
                              "--epochs", "1", "--batch-size", "128",
                              "--hidden", "16", "--metrics", metrics);
    expect_exit(r, 0);
    assert_int_equal(count_prefixed_lines(r->out, "epoch "), 1);
    char *csv = read_whole(metrics, NULL);
    assert_non_null(csv);
    char *lines[4], *f[8];
    assert_int_equal(split_lines(csv, lines, 4), 2);
    assert_string_equal(lines[0], "epoch,train_loss,val_loss,seconds");
    assert_int_equal(split_fields(lines[1], f, 8), 4);
    assert_string_equal(f[0], "1");
    assert_true(*f[1] != '\0');
    assert_string_equal(f[2], "");
    assert_true(*f[3] != '\0');
    free(csv);
}

/* Every new training flag at once trains (exit 0, a line per epoch), and
 * --help documents each. */
static void test_training_flags_run(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "train", "--data", tmp_path("small.idx"),
                              "--epochs", "2", "--batch-size", "128",
                              "--hidden", "16", "--optimizer", "sgd", "--lr",
                              "0.5", "--momentum", "0.9", "--nesterov",
                              "--lr-schedule", "step", "--lr-step-epochs", "1",
                              "--lr-gamma", "0.5", "--clip-norm", "1", "--l1",
                              "1e-5", "--l2", "1e-4");
    expect_exit(r, 0);
    assert_int_equal(count_prefixed_lines(r->out, "epoch "), 2);
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--epochs", "1",
            "--hidden", "16", "--optimizer", "rmsprop", "--rho", "0.8",
            "--lr-schedule", "cosine");
    expect_exit(r, 0);
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--epochs", "1",
            "--hidden", "16", "--optimizer", "adamw", "--weight-decay", "0.1");
    expect_exit(r, 0);
    static const char *const flags[] = {
        "adamw", "rmsprop", "--momentum", "--nesterov", "--weight-decay",
        "--rho", "--lr-schedule", "cosine", "--lr-step-epochs", "--lr-gamma",
        "--clip-norm", "--l1", "--l2"};
    r = RUN(CLAE, "train", "--help");
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        expect_contains(r->out, flags[i]);
}

/* ---- version, help, arch, devices -------------------------------------- */

/* --version names clae, CLBlast and OpenCL, each with a version. */
static void test_version(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "--version");
    expect_exit(r, 0);
    expect_contains(r->out, "clae " CLAE_VERSION_STRING);
    expect_contains(r->out, "CLBlast");
    expect_contains(r->out, "OpenCL");
    assert_true(count_lines(r->out) >= 3);
}

/* Every command's --help exits 0 and prints its usage on stdout. */
static void test_help(void **state)
{
    (void)state;
    static const char *const commands[] = {"train",  "eval",   "arch",
                                           "encode", "decode", "score",
                                           "reconstruct", "info", "plot",
                                           "plot-codes"};
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        const run_result *r = RUN(CLAE, commands[i], "--help");
        expect_exit(r, 0);
        char want[64];
        snprintf(want, sizeof want, "usage: clae %s", commands[i]);
        expect_contains(r->out, want);
        assert_string_equal(r->err, "");
    }
    const run_result *r = RUN(CLAE, "train", "--help");
    expect_contains(r->out, "--device");
    expect_contains(r->out, "--metrics");
    r = RUN(CLAE, "--help");
    expect_exit(r, 0);
    expect_contains(r->out, "train");
}

/* arch lists presets and prints the reference spec; unknown presets are
 * bad usage. */
static void test_arch(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "arch");
    expect_exit(r, 0);
    expect_contains(r->out, "reference");
    r = RUN(CLAE, "arch", "reference");
    expect_exit(r, 0);
    expect_contains(r->out, "input 784");
    expect_contains(r->out, "dense 128 relu");
    expect_contains(r->out, "dense 784 sigmoid");
    r = RUN(CLAE, "arch", "reference", "--input", "64");
    expect_exit(r, 0);
    expect_contains(r->out, "input 64");
    expect_contains(r->out, "dense 64 sigmoid");
    r = RUN(CLAE, "arch", "nosuch");
    expect_usage_error(r, "nosuch");
    r = RUN(CLAE, "arch", "reference", "--input", "0");
    expect_usage_error(r, "--input");
}

/* A spec printed by arch trains as --model (the one path of specs). */
static void test_arch_spec_as_model(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "arch", "reference", "--input", "64");
    expect_exit(r, 0);
    write_whole(tmp_path("ref64.spec"), r->out, strlen(r->out));
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--model",
            tmp_path("ref64.spec"), "--epochs", "1", "--batch-size", "128");
    expect_exit(r, 0);
    static const char bad_spec[] = "input 64\ndense 16 wobble\nloss bce\n";
    write_whole(tmp_path("bad.spec"), bad_spec, sizeof bad_spec - 1);
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--model",
            tmp_path("bad.spec"), "--epochs", "1");
    expect_exit(r, 2);
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--model",
            tmp_path("no-such.spec"), "--epochs", "1");
    expect_usage_error(r, tmp_path("no-such.spec"));
}

/* A --model spec whose input width differs from the data's is bad input (2)
 * naming the data or the spec file, with no outputs left. */
static void test_model_width_mismatch(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "arch", "reference");
    expect_exit(r, 0);
    write_whole(tmp_path("ref784.spec"), r->out, strlen(r->out));
    const char *save = tmp_path("w.safetensors"), *metrics = tmp_path("w.csv");
    r = RUN(CLAE, "train", "--data", tmp_path("small.idx"), "--model",
            tmp_path("ref784.spec"), "--epochs", "1", "--save", save,
            "--metrics", metrics);
    expect_usage_error(r, "784");
    if (!strstr(r->err, tmp_path("small.idx")) &&
        !strstr(r->err, tmp_path("ref784.spec")))
        fail_msg("%s\nexpected the data or spec file named in:\n%s", r->command,
                 r->err);
    assert_false(file_exists(save));
    assert_false(file_exists(metrics));
}

/* An unknown command, or none, is bad usage. */
static void test_unknown_command(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "nosuchcommand");
    expect_exit(r, 2);
    expect_contains(r->err, "nosuchcommand");
    r = RUN(CLAE);
    expect_exit(r, 2);
    expect_contains(r->err, "usage");
}

/* clae-devices exits 0 and lists device 0:0 (PoCL's CPU here). */
static void test_devices(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE_DEVICES);
    expect_exit(r, 0);
    expect_contains(r->out, "0:0");
    r = RUN(CLAE_DEVICES, "--bogus");
    expect_exit(r, 2);
}

/* clae-devices --json parses as a JSON array holding the devices of the
 * plain listing: the same count, and each one's index and name as listed. */
static void test_devices_json(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE_DEVICES);
    expect_exit(r, 0);
    char *plain = strdup(r->out);
    assert_non_null(plain);
    int listed = 0;
    for (const char *line = plain; *line; line = strchr(line, '\n') + 1) {
        unsigned p, d;
        char colon;
        listed += sscanf(line, "  %u%c%u", &p, &colon, &d) == 3 && colon == ':';
        if (!strchr(line, '\n')) break;
    }
    r = RUN(CLAE_DEVICES, "--json");
    expect_exit(r, 0);
    assert_string_equal(r->err, "");
    cJSON *array = cJSON_Parse(r->out);
    if (!array) print_message("not JSON:\n%s---\n", r->out);
    assert_non_null(array);
    assert_true(cJSON_IsArray(array));
    assert_int_equal(cJSON_GetArraySize(array), listed);
    static const char *const numbers[] = {
        "platform", "device", "compute_units", "clock_mhz",
        "global_mem_bytes", "local_mem_bytes", "max_alloc_bytes"};
    static const char *const strings[] = {
        "index", "platform_name", "platform_version", "name", "vendor",
        "type", "opencl_version", "driver_version"};
    const cJSON *device;
    cJSON_ArrayForEach(device, array) {
        for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++)
            assert_true(cJSON_IsNumber(
                cJSON_GetObjectItemCaseSensitive(device, numbers[i])));
        for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
            assert_true(cJSON_IsString(
                cJSON_GetObjectItemCaseSensitive(device, strings[i])));
        char want[300];
        snprintf(want, sizeof want, "  %s  %s\n",
                 cJSON_GetObjectItemCaseSensitive(device, "index")->valuestring,
                 cJSON_GetObjectItemCaseSensitive(device, "name")->valuestring);
        expect_contains(plain, want);
        assert_true(cJSON_GetObjectItemCaseSensitive(device, "global_mem_bytes")
                        ->valuedouble > 0);
    }
    cJSON_Delete(array);
    free(plain);
    r = RUN(CLAE_DEVICES, "--help");
    expect_exit(r, 0);
    expect_contains(r->out, "--json");
    r = RUN(CLAE_DEVICES, "--json", "--bogus");
    expect_usage_error(r, "--bogus");
}

/* ---- corrupt model files ----------------------------------------------- */

/* eval of a missing or corrupt model file is bad input (2), naming it, and
 * never a crash. */
static void test_eval_corrupt_model(void **state)
{
    (void)state;
    const run_result *r = RUN(CLAE, "eval", "--load", tmp_path("absent.safetensors"),
                              "--data", tmp_path("small_val.idx"));
    expect_usage_error(r, tmp_path("absent.safetensors"));

    write_whole(tmp_path("three.safetensors"), "abc", 3);
    r = RUN(CLAE, "eval", "--load", tmp_path("three.safetensors"), "--data",
            tmp_path("small_val.idx"));
    expect_usage_error(r, tmp_path("three.safetensors"));

    /* The header size says 4096 bytes; the file holds 8 + 24. */
    unsigned char big[32] = {0x00, 0x10, 0, 0, 0, 0, 0, 0};
    memcpy(big + 8, "{\"__metadata__\":{}}     ", 24);
    write_whole(tmp_path("big_header.safetensors"), big, sizeof big);
    r = RUN(CLAE, "eval", "--load", tmp_path("big_header.safetensors"), "--data",
            tmp_path("small_val.idx"));
    expect_usage_error(r, tmp_path("big_header.safetensors"));

    /* A header size near 2^64 must not wrap around. */
    unsigned char huge[32];
    memcpy(huge, big, sizeof huge);
    memset(huge, 0xff, 8);
    write_whole(tmp_path("huge_header.safetensors"), huge, sizeof huge);
    r = RUN(CLAE, "eval", "--load", tmp_path("huge_header.safetensors"), "--data",
            tmp_path("small_val.idx"));
    expect_usage_error(r, tmp_path("huge_header.safetensors"));

    static const char not_json[] = "\x10\0\0\0\0\0\0\0{not json at all";
    write_whole(tmp_path("not_json.safetensors"), not_json, sizeof not_json - 1);
    r = RUN(CLAE, "eval", "--load", tmp_path("not_json.safetensors"), "--data",
            tmp_path("small_val.idx"));
    expect_usage_error(r, tmp_path("not_json.safetensors"));
}

/* A model file cut short (its tensors' data missing) is bad input (2). */
static void test_eval_truncated_model(void **state)
{
    (void)state;
    train_small_model();
    size_t size;
    char *file = read_whole(tmp_path("m.safetensors"), &size);
    assert_non_null(file);
    write_whole(tmp_path("cut.safetensors"), file, size - 100);
    free(file);
    const run_result *r = RUN(CLAE, "eval", "--load", tmp_path("cut.safetensors"),
                              "--data", tmp_path("small_val.idx"));
    expect_usage_error(r, tmp_path("cut.safetensors"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_index_not_found),
        cmocka_unit_test(test_device_not_an_index),
        cmocka_unit_test(test_device_env_not_found),
        cmocka_unit_test(test_device_type_unknown),
        cmocka_unit_test(test_missing_data_file),
        cmocka_unit_test(test_idx_bad_magic),
        cmocka_unit_test(test_idx_bad_type),
        cmocka_unit_test(test_idx_truncated_data),
        cmocka_unit_test(test_idx_truncated_header),
        cmocka_unit_test(test_idx_truncated_gzip),
        cmocka_unit_test(test_idx_zero_images),
        cmocka_unit_test(test_idx_bad_validation_file),
        cmocka_unit_test(test_validation_width_mismatch),
        cmocka_unit_test(test_kernel_build_failure),
        cmocka_unit_test(test_flag_batch_size),
        cmocka_unit_test(test_flag_device_memory),
        cmocka_unit_test(test_flag_epochs),
        cmocka_unit_test(test_flag_lr),
        cmocka_unit_test(test_flag_names),
        cmocka_unit_test(test_flag_hidden),
        cmocka_unit_test(test_flag_seed_and_val_split),
        cmocka_unit_test(test_flag_training_values),
        cmocka_unit_test(test_flag_training_combinations),
        cmocka_unit_test(test_unknown_option),
        cmocka_unit_test(test_missing_flag_value),
        cmocka_unit_test(test_unexpected_argument),
        cmocka_unit_test(test_eval_without_load),
        cmocka_unit_test(test_conflicting_flags),
        cmocka_unit_test(test_unwritable_output),
        cmocka_unit_test(test_diverging_run_keeps_last_checkpoint),
        cmocka_unit_test(test_on_nan_skip_batch),
        cmocka_unit_test(test_train_small_run),
        cmocka_unit_test(test_eval_matches_val_loss),
        cmocka_unit_test(test_eval_width_mismatch),
        cmocka_unit_test(test_encode_decode),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_pictures),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_scale_kept),
        cmocka_unit_test(test_progress_and_quiet),
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_interrupted_runs_resume),
        cmocka_unit_test(test_train_without_validation),
        cmocka_unit_test(test_training_flags_run),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_arch),
        cmocka_unit_test(test_arch_spec_as_model),
        cmocka_unit_test(test_model_width_mismatch),
        cmocka_unit_test(test_unknown_command),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_devices_json),
        cmocka_unit_test(test_eval_corrupt_model),
        cmocka_unit_test(test_eval_truncated_model),
    };
    return cmocka_run_group_tests_name("cli", tests, group_setup, group_teardown);
}
