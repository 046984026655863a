/* Bad input, table-driven: every reader (IDX, .npy, CSV, safetensors, spec
 * files) and the flags, each row run through build/clae and held to
 * DESIGN.md's rule: exit 2, exactly one non-empty stderr line naming the
 * file or flag and the problem, and no output file (nor its temporary)
 * left behind. The bad files are made in the group setup, most of them
 * from real ones: the Fashion-MNIST test set, a small .npy and CSV, and a
 * model trained on 64 of those images. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "test_run.h"
#include "test_util.h"

#define CLAE "./build/clae"
#define FASHION_TEST TEST_FASHION "t10k-images-idx3-ubyte.gz"

enum { GOOD_N = 64, SIDE = 28, PIXELS = SIDE * SIDE, NPY_D = 64 };

/* A row: argv (NULL-terminated; "@name" is tmp_dir/name), then what the
 * error line must contain: the file or flag it names, and the problem. */
typedef struct {
    const char *name;
    const char *argv[24];
    const char *names, *problem;
} bad_case;

static char tmp_dir[256];

/* tmp_dir/name, in one of a few rotating static buffers. */
static const char *tmp_path(const char *name)
{
    static char buffers[8][512];
    static unsigned next;
    char *p = buffers[next++ % 8];
    int n = snprintf(p, sizeof buffers[0], "%s/%s", tmp_dir, name);
    if (n < 0 || (size_t)n >= sizeof buffers[0]) fail_msg("path too long: %s", name);
    return p;
}

/* "@name" as tmp_dir/name; anything else as it is. */
static const char *expand(const char *word)
{
    return word && word[0] == '@' ? tmp_path(word + 1) : word;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- fixtures ------------------------------------------------------------ */

static void write_file(const char *name, const void *bytes, size_t size)
{
    test_write_bytes(tmp_path(name), bytes, size);
}

static void write_text(const char *name, const char *text)
{
    write_file(name, text, strlen(text));
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* The first GOOD_N images of the Fashion-MNIST test set as a plain IDX
 * file in memory (16 + GOOD_N * PIXELS bytes). */
static unsigned char *fashion_prefix(size_t *size)
{
    gzFile gz = gzopen(FASHION_TEST, "rb");
    if (!gz) fail_msg("cannot open %s (make deps installs dataset-fashion-mnist)",
                      FASHION_TEST);
    *size = 16 + (size_t)GOOD_N * PIXELS;
    unsigned char *b = malloc(*size);
    assert_non_null(b);
    assert_int_equal(gzread(gz, b, (unsigned)*size), (int)*size);
    gzclose(gz);
    assert_int_equal(b[2], 0x08);
    assert_int_equal(b[3], 3);
    put_be32(b + 4, GOOD_N);
    return b;
}

/* good.idx, changed at offset `at` to the `len` bytes of `patch`, cut (or
 * padded with zeros) to `size` bytes when size is not 0. */
static void write_idx_variant(const char *name, const unsigned char *good,
                              size_t good_size, size_t at, const void *patch,
                              size_t len, size_t size)
{
    if (!size) size = good_size;
    unsigned char *b = calloc(1, size > good_size ? size : good_size);
    assert_non_null(b);
    memcpy(b, good, good_size);
    memcpy(b + at, patch, len);
    write_file(name, b, size);
    free(b);
}

static void write_idx_dims(const char *name, const unsigned char *good,
                           size_t good_size, uint32_t n, uint32_t h, uint32_t w)
{
    unsigned char dims[12];
    put_be32(dims, n);
    put_be32(dims + 4, h);
    put_be32(dims + 8, w);
    write_idx_variant(name, good, good_size, 4, dims, sizeof dims, 0);
}

static void make_idx_files(void)
{
    size_t size;
    unsigned char *good = fashion_prefix(&size);
    write_file("good.idx", good, size);
    write_idx_variant("idx_magic.idx", good, size, 0, "\x12\x34", 2, 0);
    write_idx_variant("idx_type.idx", good, size, 2, "\x0d", 1, 0);
    write_idx_variant("idx_2dims.idx", good, size, 3, "\x02", 1, 0);
    write_idx_variant("idx_9dims.idx", good, size, 3, "\x09", 1, 0);
    write_idx_variant("idx_header_cut.idx", good, size, 0, "", 0, 10);
    write_file("idx_empty.idx", "", 0);
    write_idx_dims("idx_declares_more.idx", good, size, 1000, SIDE, SIDE);
    write_idx_dims("idx_declares_less.idx", good, size, GOOD_N / 2, SIDE, SIDE);
    write_idx_dims("idx_zero_images.idx", good, size, 0, SIDE, SIDE);
    write_idx_dims("idx_zero_width.idx", good, size, GOOD_N, SIDE, 0);
    write_idx_dims("idx_terabytes.idx", good, size, 1000000, 1000, 1000);
    write_idx_dims("idx_overflow.idx", good, size, 0xffffffffu, 0xffffffffu,
                   0xffffffffu);
    free(good);

    /* The real gzip file cut at a third, and with its CRC trailer wrong. */
    size_t gz_size;
    char *gz = read_whole(FASHION_TEST, &gz_size);
    assert_non_null(gz);
    write_file("idx_cut.idx.gz", gz, gz_size / 3);
    gz[gz_size - 6] ^= 0x5a;
    write_file("idx_bad_crc.idx.gz", gz, gz_size);
    free(gz);
}

/* A version 1.0 .npy file: the dict text, padded as numpy pads it, then
 * data_size bytes of data. */
static void write_npy(const char *name, const char *dict, const void *data,
                      size_t data_size)
{
    size_t len = strlen(dict), padded = (10 + len + 1 + 63) / 64 * 64 - 10;
    unsigned char *b = malloc(10 + padded + data_size);
    assert_non_null(b);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)(padded & 0xff);
    b[9] = (unsigned char)(padded >> 8);
    memset(b + 10, ' ', padded);
    memcpy(b + 10, dict, len);
    b[10 + padded - 1] = '\n';
    if (data_size) memcpy(b + 10 + padded, data, data_size);
    write_file(name, b, 10 + padded + data_size);
    free(b);
}

#define F4_DICT(shape) "{'descr': '<f4', 'fortran_order': False, 'shape': " shape ", }"

static void make_npy_files(void)
{
    enum { N = 64, D = NPY_D };
    const size_t bytes = N * D * sizeof(float);
    float *x = malloc(bytes);
    assert_non_null(x);
    test_fill(x, N * D, 11, 0.0f, 1.0f);
    write_npy("good.npy", F4_DICT("(64, 64)"), x, bytes);
    write_npy("npy_dtype.npy", "{'descr': '<i8', 'fortran_order': False, "
                               "'shape': (64, 32), }", x, bytes);
    write_npy("npy_big_endian.npy", "{'descr': '>f4', 'fortran_order': False, "
                                    "'shape': (64, 64), }", x, bytes);
    write_npy("npy_fortran.npy", "{'descr': '<f4', 'fortran_order': True, "
                                 "'shape': (64, 64), }", x, bytes);
    write_npy("npy_no_shape.npy", "{'descr': '<f4', 'fortran_order': False, }",
              x, bytes);
    write_npy("npy_shape_more.npy", F4_DICT("(100, 64)"), x, bytes);
    write_npy("npy_shape_less.npy", F4_DICT("(32, 64)"), x, bytes);
    write_npy("npy_cut.npy", F4_DICT("(64, 64)"), x, bytes - 10);
    write_npy("npy_overflow.npy", F4_DICT("(18446744073709551615, 2)"), x, bytes);
    write_npy("npy_terabytes.npy", F4_DICT("(1000000, 1000000)"), x, bytes);
    write_npy("npy_beyond_u64.npy", F4_DICT("(99999999999999999999, 2)"), x,
              bytes);
    write_npy("npy_1d.npy", F4_DICT("(4096,)"), x, bytes);
    write_npy("npy_zero.npy", F4_DICT("(0, 64)"), x, 0);

    size_t size;
    char *good = read_whole(tmp_path("good.npy"), &size);
    assert_non_null(good);
    good[1] = 'X';
    write_file("npy_magic.npy", good, size);
    good[1] = 'N';
    good[6] = 9; /* format version 9 */
    write_file("npy_version.npy", good, size);
    good[6] = 1;
    write_file("npy_header_cut.npy", good, 40);
    free(good);

    x[5 * D + 7] = NAN;
    write_npy("npy_nan.npy", F4_DICT("(64, 64)"), x, bytes);
    x[5 * D + 7] = INFINITY;
    write_npy("npy_inf.npy", F4_DICT("(64, 64)"), x, bytes);
    free(x);
}

/* Labels from the Fashion-MNIST test set's first ones: 32 of them for
 * 64 samples, and some that are no class numbers. */
static void make_label_files(void)
{
    gzFile gz = gzopen(TEST_FASHION "t10k-labels-idx1-ubyte.gz", "rb");
    assert_non_null(gz);
    unsigned char b[8 + GOOD_N];
    assert_int_equal(gzread(gz, b, sizeof b), (int)sizeof b);
    gzclose(gz);
    assert_int_equal(b[3], 1);
    put_be32(b + 4, GOOD_N / 2);
    write_file("labels_short.idx", b, 8 + GOOD_N / 2);
    char text[8 * GOOD_N] = "", *at = text;
    for (int i = 0; i < GOOD_N; i++)
        at += sprintf(at, "%s\n", i == 9 ? "2.5" : "1");
    write_text("labels_fraction.csv", text);
    float labels[2 * GOOD_N] = {0};
    write_npy("labels_2d.npy", F4_DICT("(64, 2)"), labels, sizeof labels);
}

static void make_csv_files(void)
{
    write_text("good.csv", "a,b,c,d\n0.1,0.2,0.3,0.4\n0.5,0.6,0.7,0.8\n"
                           "0.9,1.0,0.0,0.1\n0.2,0.3,0.4,0.5\n");
    write_text("csv_ragged.csv", "0.1,0.2,0.3,0.4\n0.5,0.6,0.7\n0.9,1.0,0.0,0.1\n");
    write_text("csv_word.csv", "0.1,0.2,0.3,0.4\n0.5,0.6,seven,0.8\n");
    write_text("csv_empty.csv", "");
    write_text("csv_header_only.csv", "a,b,c,d\n");
    write_text("csv_nan.csv", "0.1,0.2,0.3,0.4\n0.5,nan,0.7,0.8\n");
    write_text("csv_inf.csv", "0.1,0.2,0.3,0.4\n0.5,0.6,-inf,0.8\n");
    write_text("csv_overflow.csv", "0.1,0.2,0.3,0.4\n0.5,0.6,1e999,0.8\n");
    write_text("csv_empty_field.csv", "0.1,0.2,0.3,0.4\n0.5,,0.7,0.8\n");
    write_text("metrics_3_columns.csv", "epoch,train_loss,val_loss\n1,0.5,0.4\n");
}

/* The model file made in setup: its header JSON and its data section. */
static char *model_header;
static unsigned char *model_data;
static size_t model_data_size;

static void read_model(void)
{
    size_t size;
    unsigned char *file = (unsigned char *)read_whole(tmp_path("model.safetensors"),
                                                      &size);
    assert_non_null(file);
    assert_true(size > 8);
    uint64_t header = 0;
    for (int i = 0; i < 8; i++) header |= (uint64_t)file[i] << (8 * i);
    assert_true(header <= size - 8);
    model_header = malloc(header + 1);
    model_data_size = size - 8 - header;
    model_data = malloc(model_data_size + 1);
    assert_non_null(model_header);
    assert_non_null(model_data);
    memcpy(model_header, file + 8, header);
    model_header[header] = '\0';
    memcpy(model_data, file + 8 + header, model_data_size);
    free(file);
}

/* A safetensors file of header text and data_size bytes of the model's
 * data; size_field overrides the header size when not 0. */
static void write_safetensors(const char *name, const char *header,
                              size_t data_size, uint64_t size_field)
{
    size_t len = strlen(header), padded = (len + 7) / 8 * 8;
    unsigned char *b = malloc(8 + padded + data_size);
    assert_non_null(b);
    uint64_t field = size_field ? size_field : padded;
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(field >> (8 * i));
    memset(b + 8, ' ', padded);
    memcpy(b + 8, header, len);
    memcpy(b + 8 + padded, model_data, data_size);
    write_file(name, b, 8 + padded + data_size);
    free(b);
}

/* The model's header with the first `from` after `after` replaced by to. */
static void write_model_variant(const char *name, const char *after,
                                const char *from, const char *to)
{
    const char *start = strstr(model_header, after);
    assert_non_null(start);
    const char *at = strstr(start, from);
    if (!at) fail_msg("no '%s' after '%s' in %s", from, after, model_header);
    size_t head = (size_t)(at - model_header), from_len = strlen(from);
    char *text = malloc(strlen(model_header) + strlen(to) + 1);
    assert_non_null(text);
    memcpy(text, model_header, head);
    strcpy(text + head, to);
    strcat(text, at + from_len);
    write_safetensors(name, text, model_data_size, 0);
    free(text);
}

static void make_model_files(void)
{
    const run_result *r =
        RUN(CLAE, "train", "--data", tmp_path("good.idx"), "--epochs", "1",
            "--hidden", "16", "--batch-size", "32", "--quiet", "--save",
            tmp_path("model.safetensors"));
    expect_exit(r, 0);
    read_model();
    const size_t header_len = strlen(model_header);

    write_file("st_short.safetensors", "\x10\0\0\0\0", 5);
    write_safetensors("st_header_cut.safetensors", model_header, 0, 0);
    {   /* cut inside the JSON, the size field as it was */
        size_t size;
        char *file = read_whole(tmp_path("model.safetensors"), &size);
        assert_non_null(file);
        write_file("st_json_cut.safetensors", file, 8 + header_len / 2);
        free(file);
    }
    write_safetensors("st_size_1t.safetensors", model_header, model_data_size,
                      (uint64_t)1 << 40);
    write_safetensors("st_size_wraps.safetensors", model_header, model_data_size,
                      UINT64_MAX);
    write_safetensors("st_not_object.safetensors", "[1, 2, 3]", model_data_size, 0);
    {   /* the JSON object left open */
        char *text = strdup(model_header);
        assert_non_null(text);
        char *brace = strrchr(text, '}');
        assert_non_null(brace);
        *brace = ' ';
        write_safetensors("st_bad_json.safetensors", text, model_data_size, 0);
        free(text);
    }
    write_model_variant("st_missing.safetensors", "\"layers.1.bias\"",
                        "layers.1.bias", "layers.1.bian");
    write_model_variant("st_shape.safetensors", "\"layers.0.weight\"",
                        "\"shape\":[16,784]", "\"shape\":[16,785]");
    write_model_variant("st_rank.safetensors", "\"layers.0.weight\"",
                        "\"shape\":[16,784]", "\"shape\":[16,784,1]");
    write_model_variant("st_dtype.safetensors", "\"layers.0.weight\"", "F32",
                        "F16");
    write_model_variant("st_offsets_1e20.safetensors", "\"layers.0.weight\"",
                        "\"data_offsets\":[0,50176]",
                        "\"data_offsets\":[0,100000000000000000000]");
    write_model_variant("st_offsets_wrap.safetensors", "\"layers.0.weight\"",
                        "\"data_offsets\":[0,50176]",
                        "\"data_offsets\":[18446744073709551615,"
                        "18446744073709601791]");
    write_model_variant("st_offsets_negative.safetensors", "\"layers.0.weight\"",
                        "\"data_offsets\":[0,50176]",
                        "\"data_offsets\":[-50176,0]");
    write_safetensors("st_data_cut.safetensors", model_header,
                      model_data_size - 100, 0);
    write_model_variant("st_no_spec.safetensors", "__metadata__", "\"spec\"",
                        "\"spex\"");
    write_model_variant("st_bad_spec.safetensors", "\"spec\"", "dense 16 relu",
                        "dense 16 frob");
    write_model_variant("st_spec_terabytes.safetensors", "\"spec\"",
                        "dense 16 relu", "dense 1000000 relu\\ndense 1000000 relu");
    /* 2^62 + 2^31 - 615441 parameters: four bytes each wrap size_t */
    write_model_variant("st_spec_wraps.safetensors", "\"spec\"",
                        "dense 16 relu",
                        "dense 2147482863 relu\\ndense 2147482864 relu");
    {   /* a NaN weight and an infinite bias (the data: weights, bias, ...) */
        unsigned char *clean = malloc(model_data_size);
        assert_non_null(clean);
        memcpy(clean, model_data, model_data_size);
        const float nan = NAN, inf = INFINITY;
        memcpy(model_data + 4 * 123, &nan, 4);
        write_safetensors("st_nan_weight.safetensors", model_header,
                          model_data_size, 0);
        memcpy(model_data, clean, model_data_size);
        memcpy(model_data + 4 * (16 * PIXELS + 3), &inf, 4);
        write_safetensors("st_inf_bias.safetensors", model_header,
                          model_data_size, 0);
        memcpy(model_data, clean, model_data_size);
        free(clean);
    }
    write_model_variant("st_bad_scale.safetensors", "__metadata__",
                        "\"format\"", "\"scale\":\"-3\",\"format\"");
    /* numbers that sscanf and atoi read wrapped or in part, each of which
     * once gave a model that loads: class 0, 28x28x1, scale 0.5 */
    write_model_variant("st_class_wraps.safetensors", "__metadata__",
                        "\"format\"",
                        "\"train_class\":\"4294967296\",\"format\"");
    write_model_variant("st_shape_wraps.safetensors", "__metadata__",
                        "\"image_shape\":\"28x28x1\"",
                        "\"image_shape\":\"4294967324x28x1\"");
    write_model_variant("st_scale_junk.safetensors", "__metadata__",
                        "\"format\"", "\"scale\":\"0.5x\",\"format\"");
    /* counters, seeds and losses that strtoull and strtod read in part or
     * wrapped (epoch 3, seed 0, a loss of 0.27) */
    write_model_variant("st_epoch_junk.safetensors", "__metadata__",
                        "\"format\"", "\"epoch\":\"3x\",\"format\"");
    write_model_variant("st_seed_wraps.safetensors", "__metadata__",
                        "\"format\"",
                        "\"init_seed\":\"18446744073709551616\",\"format\"");
    write_model_variant("st_loss_junk.safetensors", "__metadata__",
                        "\"format\"", "\"train_loss\":\"0.27 \",\"format\"");
    /* early stopping's best epoch without its weights */
    write_model_variant("st_best_alone.safetensors", "__metadata__",
                        "\"format\"", "\"best_epoch\":\"1\",\"format\"");
}

static void make_spec_files(void)
{
    write_text("bad.spec", "input 784\ndense 16 frob\ndense 784 sigmoid\n"
                           "loss bce\n");
    write_text("wraps.spec", "input 784\ndense 2147482863 relu\n"
                             "dense 2147482864 relu\ndense 784 sigmoid\n"
                             "loss bce\n");
    write_file("binary.spec", "input 784\0\1\2", 12);
    /* 2^32 + 28 and 2^32 + 3, which sscanf's %u once read as 28 and 3 */
    write_text("input_wraps.spec", "input 4294967324x28x1\ndense 16 relu\n"
                                   "dense 784 sigmoid\nloss bce\n");
    write_text("kernel_wraps.spec", "input 28x28x1\n"
                                    "conv 4 4294967299x3 relu same\n"
                                    "conv 1 3x3 sigmoid same\nloss bce\n");
    assert_int_equal(mkdir(tmp_path("adir"), 0755), 0);
    assert_int_equal(mkdir(tmp_path("adir.npy"), 0755), 0);
    assert_int_equal(mkdir(tmp_path("adir.csv"), 0755), 0);
}

static int group_setup(void **state)
{
    (void)state;
    if (test_make_temp_dir(tmp_dir, sizeof tmp_dir, "bad-inputs")) return -1;
    run_capture_dir = tmp_dir;
    if (!file_exists(CLAE)) {
        fprintf(stderr, "%s missing: run `make all` from the project root "
                        "first\n", CLAE);
        return -1;
    }
    make_idx_files();
    make_npy_files();
    make_csv_files();
    make_label_files();
    make_spec_files();
    make_model_files();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free(model_header);
    free(model_data);
    if (tmp_dir[0]) test_remove_tree(tmp_dir);
    return 0;
}

/* ---- the table ----------------------------------------------------------- */

/* train on a bad data file, with every output a run can write. */
#define TRAIN_ON(file)                                                       \
    CLAE, "train", "--data", file, "--epochs", "1", "--batch-size", "32",    \
        "--hidden", "16", "--save", "@out.safetensors", "--metrics",         \
        "@out.csv", "--checkpoint", "@out.ckpt"
/* train on good data with one more flag. */
#define TRAIN_WITH(...)                                                      \
    CLAE, "train", "--data", "@good.idx", "--epochs", "1", "--save",         \
        "@out.safetensors", "--metrics", "@out.csv", __VA_ARGS__
/* The model made in setup (784 wide) over data. */
#define EVAL_ON(file) CLAE, "eval", "--load", "@model.safetensors", "--data", file
#define ENCODE_ON(file)                                                      \
    CLAE, "encode", "--load", "@model.safetensors", "--data", file, "--out", \
        "@out.npy"
/* A bad model file over good data, writing codes. */
#define LOAD(file)                                                           \
    CLAE, "encode", "--load", file, "--data", "@good.idx", "--out", "@out.npy"

static const bad_case cases[] = {
    /* IDX */
    {"idx bad magic", {TRAIN_ON("@idx_magic.idx")}, "@idx_magic.idx", "bad magic"},
    {"idx value type", {TRAIN_ON("@idx_type.idx")}, "@idx_type.idx", "0x0d"},
    {"idx two dimensions", {TRAIN_ON("@idx_2dims.idx")}, "@idx_2dims.idx",
     "2 dimensions"},
    {"idx nine dimensions", {TRAIN_ON("@idx_9dims.idx")}, "@idx_9dims.idx",
     "9 dimensions"},
    {"idx header cut", {TRAIN_ON("@idx_header_cut.idx")}, "@idx_header_cut.idx",
     "truncated"},
    {"idx empty file", {TRAIN_ON("@idx_empty.idx")}, "@idx_empty.idx",
     "truncated"},
    {"idx declares more images than it has", {TRAIN_ON("@idx_declares_more.idx")},
     "@idx_declares_more.idx", "truncated"},
    {"idx data past the declared size", {TRAIN_ON("@idx_declares_less.idx")},
     "@idx_declares_less.idx", "past"},
    {"idx zero images", {TRAIN_ON("@idx_zero_images.idx")},
     "@idx_zero_images.idx", "no images"},
    {"idx zero width", {TRAIN_ON("@idx_zero_width.idx")}, "@idx_zero_width.idx",
     "zero"},
    {"idx terabytes", {TRAIN_ON("@idx_terabytes.idx")}, "@idx_terabytes.idx",
     "more than"},
    {"idx dims overflow", {TRAIN_ON("@idx_overflow.idx")}, "@idx_overflow.idx",
     "more than"},
    {"idx truncated gzip", {TRAIN_ON("@idx_cut.idx.gz")}, "@idx_cut.idx.gz",
     "end of file"},
    {"idx gzip bad crc", {TRAIN_ON("@idx_bad_crc.idx.gz")},
     "@idx_bad_crc.idx.gz", "check"},
    {"idx as --val", {TRAIN_WITH("--val", "@idx_magic.idx")}, "@idx_magic.idx",
     "bad magic"},
    /* .npy */
    {"npy bad magic", {TRAIN_ON("@npy_magic.npy")}, "@npy_magic.npy",
     "bad magic"},
    {"npy unsupported dtype", {TRAIN_ON("@npy_dtype.npy")}, "@npy_dtype.npy",
     "'<i8' is not supported"},
    {"npy big-endian", {TRAIN_ON("@npy_big_endian.npy")}, "@npy_big_endian.npy",
     "'>f4' is not supported"},
    {"npy fortran order", {TRAIN_ON("@npy_fortran.npy")}, "@npy_fortran.npy",
     "Fortran"},
    {"npy format version", {TRAIN_ON("@npy_version.npy")}, "@npy_version.npy",
     "version 9"},
    {"npy header without shape", {TRAIN_ON("@npy_no_shape.npy")},
     "@npy_no_shape.npy", "lacks"},
    {"npy header cut", {TRAIN_ON("@npy_header_cut.npy")}, "@npy_header_cut.npy",
     "truncated"},
    {"npy shape says more", {TRAIN_ON("@npy_shape_more.npy")},
     "@npy_shape_more.npy", "truncated"},
    {"npy shape says less", {TRAIN_ON("@npy_shape_less.npy")},
     "@npy_shape_less.npy", "past the data"},
    {"npy data cut", {TRAIN_ON("@npy_cut.npy")}, "@npy_cut.npy", "truncated"},
    {"npy shape overflows", {TRAIN_ON("@npy_overflow.npy")}, "@npy_overflow.npy",
     "more than"},
    {"npy shape terabytes", {TRAIN_ON("@npy_terabytes.npy")},
     "@npy_terabytes.npy", "more than"},
    {"npy shape beyond 64 bits", {TRAIN_ON("@npy_beyond_u64.npy")},
     "@npy_beyond_u64.npy", "malformed"},
    {"npy one dimension", {TRAIN_ON("@npy_1d.npy")}, "@npy_1d.npy",
     "1 dimensions"},
    {"npy zero samples", {TRAIN_ON("@npy_zero.npy")}, "@npy_zero.npy", "zero"},
    {"npy NaN", {TRAIN_ON("@npy_nan.npy")}, "@npy_nan.npy", "NaN"},
    {"npy Inf", {TRAIN_ON("@npy_inf.npy")}, "@npy_inf.npy", "infinite"},
    {"npy directory", {TRAIN_ON("@adir.npy")}, "@adir.npy", "directory"},
    /* CSV */
    {"csv ragged rows", {TRAIN_ON("@csv_ragged.csv")}, "@csv_ragged.csv",
     "row 2 has 3 fields"},
    {"csv not a number", {TRAIN_ON("@csv_word.csv")}, "@csv_word.csv",
     "'seven' is not a number"},
    {"csv empty field", {TRAIN_ON("@csv_empty_field.csv")},
     "@csv_empty_field.csv", "is not a number"},
    {"csv out of range", {TRAIN_ON("@csv_overflow.csv")}, "@csv_overflow.csv",
     "'1e999' is not a number"},
    {"csv empty file", {TRAIN_ON("@csv_empty.csv")}, "@csv_empty.csv",
     "no rows"},
    {"csv header only", {TRAIN_ON("@csv_header_only.csv")},
     "@csv_header_only.csv", "no rows"},
    {"csv NaN", {TRAIN_ON("@csv_nan.csv")}, "@csv_nan.csv", "NaN"},
    {"csv Inf", {TRAIN_ON("@csv_inf.csv")}, "@csv_inf.csv", "infinite"},
    {"csv directory", {TRAIN_ON("@adir.csv")}, "@adir.csv", "directory"},
    /* other data files */
    {"data missing", {TRAIN_ON("@absent.idx")}, "@absent.idx",
     "No such file"},
    {"data directory", {TRAIN_ON("@adir")}, "@adir", "directory"},
    {"val width mismatch", {TRAIN_WITH("--val", "@good.npy")}, "@good.npy",
     "64"},
    /* labels */
    {"labels fewer than samples",
     {TRAIN_WITH("--labels", "@labels_short.idx", "--class", "1")},
     "@good.idx", "32 labels for the 64 samples"},
    {"labels not class numbers",
     {TRAIN_WITH("--labels", "@labels_fraction.csv", "--class", "1")},
     "@labels_fraction.csv", "label 9 is 2.5"},
    {"labels two columns",
     {CLAE, "score", "--load", "@model.safetensors", "--data", "@good.idx",
      "--out", "@out.csv", "--labels", "@labels_2d.npy", "--normal-class", "1"},
     "@labels_2d.npy", "vector"},
    {"labels fewer in score",
     {CLAE, "score", "--load", "@model.safetensors", "--data", "@good.idx",
      "--out", "@out.csv", "--labels", "@labels_short.idx", "--normal-class",
      "1"},
     "--labels", "32 labels for the 64 samples"},
    /* data that does not fit the model */
    {"eval width mismatch", {EVAL_ON("@good.npy")}, "@good.npy", "64"},
    {"encode width mismatch", {ENCODE_ON("@good.csv")}, "@good.csv", "4"},
    {"encode NaN npy", {ENCODE_ON("@npy_nan.npy")}, "@npy_nan.npy", "NaN"},
    {"encode Inf csv", {ENCODE_ON("@csv_inf.csv")}, "@csv_inf.csv", "infinite"},
    {"reconstruct NaN", {CLAE, "reconstruct", "--load", "@model.safetensors",
                         "--data", "@npy_nan.npy", "--out", "@out.png"},
     "@npy_nan.npy", "NaN"},
    {"decode codes width mismatch", {CLAE, "decode", "--load",
                                     "@model.safetensors", "--codes",
                                     "@good.npy", "--out", "@out.npy"},
     "@good.npy", "64"},
    {"decode NaN codes", {CLAE, "decode", "--load", "@model.safetensors",
                          "--codes", "@npy_nan.npy", "--out", "@out.npy"},
     "@npy_nan.npy", "NaN"},
    /* safetensors */
    {"st too short", {LOAD("@st_short.safetensors")}, "@st_short.safetensors",
     "too short"},
    {"st header cut", {LOAD("@st_header_cut.safetensors")},
     "@st_header_cut.safetensors", "0 bytes of data"},
    {"st json cut", {LOAD("@st_json_cut.safetensors")},
     "@st_json_cut.safetensors", "exceeds the file"},
    {"st header size 1 TiB", {LOAD("@st_size_1t.safetensors")},
     "@st_size_1t.safetensors", "exceeds the file"},
    {"st header size wraps", {LOAD("@st_size_wraps.safetensors")},
     "@st_size_wraps.safetensors", "exceeds the file"},
    {"st header not an object", {LOAD("@st_not_object.safetensors")},
     "@st_not_object.safetensors", "not valid JSON"},
    {"st bad json", {LOAD("@st_bad_json.safetensors")},
     "@st_bad_json.safetensors", "not valid JSON"},
    {"st missing tensor", {LOAD("@st_missing.safetensors")},
     "@st_missing.safetensors", "layers.1.bias is missing"},
    {"st wrong shape", {LOAD("@st_shape.safetensors")}, "@st_shape.safetensors",
     "layers.0.weight does not have the shape"},
    {"st wrong rank", {LOAD("@st_rank.safetensors")}, "@st_rank.safetensors",
     "layers.0.weight does not have the shape"},
    {"st wrong dtype", {LOAD("@st_dtype.safetensors")}, "@st_dtype.safetensors",
     "layers.0.weight is not F32"},
    {"st offsets 1e20", {LOAD("@st_offsets_1e20.safetensors")},
     "@st_offsets_1e20.safetensors", "data offsets"},
    {"st offsets wrap", {LOAD("@st_offsets_wrap.safetensors")},
     "@st_offsets_wrap.safetensors", "data offsets"},
    {"st offsets negative", {LOAD("@st_offsets_negative.safetensors")},
     "@st_offsets_negative.safetensors", "data offsets"},
    {"st data cut", {LOAD("@st_data_cut.safetensors")},
     "@st_data_cut.safetensors", "more parameters than"},
    {"st no spec", {LOAD("@st_no_spec.safetensors")}, "@st_no_spec.safetensors",
     "no model spec"},
    {"st bad spec", {LOAD("@st_bad_spec.safetensors")},
     "@st_bad_spec.safetensors", "frob"},
    {"st spec asks for terabytes", {LOAD("@st_spec_terabytes.safetensors")},
     "@st_spec_terabytes.safetensors", "parameters"},
    {"st spec wraps size_t", {LOAD("@st_spec_wraps.safetensors")},
     "@st_spec_wraps.safetensors", "parameters"},
    {"st NaN weight", {LOAD("@st_nan_weight.safetensors")},
     "@st_nan_weight.safetensors", "layers.0.weight holds NaN"},
    {"st infinite bias", {LOAD("@st_inf_bias.safetensors")},
     "@st_inf_bias.safetensors", "layers.0.bias holds an infinite value"},
    {"st negative scale", {LOAD("@st_bad_scale.safetensors")},
     "@st_bad_scale.safetensors", "scale"},
    {"st train_class beyond int", {LOAD("@st_class_wraps.safetensors")},
     "@st_class_wraps.safetensors", "train_class '4294967296'"},
    {"st image_shape beyond 32 bits", {LOAD("@st_shape_wraps.safetensors")},
     "@st_shape_wraps.safetensors", "image_shape '4294967324x28x1'"},
    {"st scale with junk", {LOAD("@st_scale_junk.safetensors")},
     "@st_scale_junk.safetensors", "scale '0.5x'"},
    {"st epoch with junk", {LOAD("@st_epoch_junk.safetensors")},
     "@st_epoch_junk.safetensors", "epoch '3x'"},
    {"st init_seed beyond 64 bits", {LOAD("@st_seed_wraps.safetensors")},
     "@st_seed_wraps.safetensors", "init_seed '18446744073709551616'"},
    {"st train_loss with junk", {LOAD("@st_loss_junk.safetensors")},
     "@st_loss_junk.safetensors", "train_loss '0.27 '"},
    {"st best epoch without weights", {LOAD("@st_best_alone.safetensors")},
     "@st_best_alone.safetensors", "training.best_weights"},
    {"st missing", {LOAD("@absent.safetensors")}, "@absent.safetensors",
     "No such file"},
    {"st directory", {LOAD("@adir")}, "@adir", "directory"},
    {"st for --resume", {TRAIN_WITH("--resume", "@st_dtype.safetensors")},
     "@st_dtype.safetensors", "not F32"},
    {"info on a bad model", {CLAE, "info", "--load", "@st_dtype.safetensors"},
     "@st_dtype.safetensors", "not F32"},
    {"generate from a plain model", {CLAE, "generate", "--load",
                                     "@model.safetensors", "--out", "@out.png"},
     "@model.safetensors", "not a variational model"},
    /* metrics CSV (clae plot) */
    {"plot ragged metrics", {CLAE, "plot", "--metrics", "@csv_ragged.csv",
                             "--out", "@out.png"},
     "@csv_ragged.csv", "row 2 has 3 fields"},
    {"plot metrics of 3 columns", {CLAE, "plot", "--metrics",
                                   "@metrics_3_columns.csv", "--out", "@out.png"},
     "@metrics_3_columns.csv", "3 columns"},
    {"plot metrics missing", {CLAE, "plot", "--metrics", "@absent.csv", "--out",
                              "@out.png"},
     "@absent.csv", "No such file"},
    /* spec files */
    {"spec unknown activation", {TRAIN_WITH("--model", "@bad.spec")},
     "@bad.spec", "frob"},
    {"spec missing", {TRAIN_WITH("--model", "@absent.spec")}, "@absent.spec",
     "No such file"},
    {"spec directory", {TRAIN_WITH("--model", "@adir")}, "@adir", "directory"},
    {"spec binary", {TRAIN_WITH("--model", "@binary.spec")}, "@binary.spec",
     "not a text file"},
    {"spec wraps size_t", {TRAIN_WITH("--model", "@wraps.spec")}, "@wraps.spec",
     "parameters"},
    {"spec input side beyond 32 bits",
     {TRAIN_WITH("--model", "@input_wraps.spec")}, "@input_wraps.spec",
     "expected 'input N' or 'input HxWxC'"},
    {"spec kernel side beyond 32 bits",
     {TRAIN_WITH("--model", "@kernel_wraps.spec")}, "@kernel_wraps.spec",
     "expected 'conv CHANNELS KHxKW"},
    /* flags */
    {"batch size 0", {TRAIN_WITH("--batch-size", "0")}, "--batch-size", "'0'"},
    {"batch size negative", {TRAIN_WITH("--batch-size", "-8")}, "--batch-size",
     "'-8'"},
    {"batch size beyond 64 bits",
     {TRAIN_WITH("--batch-size", "99999999999999999999")}, "--batch-size",
     "99999999999999999999"},
    {"epochs 0", {TRAIN_WITH("--epochs", "0")}, "--epochs", "'0'"},
    {"epochs negative", {TRAIN_WITH("--epochs", "-2")}, "--epochs", "'-2'"},
    {"epochs not integer", {TRAIN_WITH("--epochs", "1.5")}, "--epochs", "'1.5'"},
    {"lr 0", {TRAIN_WITH("--lr", "0")}, "--lr", "'0'"},
    {"lr negative", {TRAIN_WITH("--lr", "-0.001")}, "--lr", "'-0.001'"},
    {"lr NaN", {TRAIN_WITH("--lr", "nan")}, "--lr", "'nan'"},
    {"lr infinite", {TRAIN_WITH("--lr", "inf")}, "--lr", "'inf'"},
    {"lr without value", {TRAIN_WITH("--lr")}, "--lr", "needs a value"},
    {"activation foo", {TRAIN_WITH("--activation", "foo")}, "--activation",
     "'foo'"},
    {"output activation foo", {TRAIN_WITH("--output-activation", "foo")},
     "--output-activation", "'foo'"},
    {"unknown option", {TRAIN_WITH("--frobnicate")}, "--frobnicate",
     "unknown option"},
    {"unknown option of eval", {EVAL_ON("@good.idx"), "--save", "@out.st"},
     "--save", "unknown option"},
    {"device 9:9", {TRAIN_WITH("--device", "9:9")}, "9:9", "no device"},
    {"device 9:9 in encode", {ENCODE_ON("@good.idx"), "--device", "9:9"}, "9:9",
     "no device"},
    {"device beyond 32 bits", {TRAIN_WITH("--device", "4294967296:0")},
     "4294967296:0", "expected P:D"},
    {"arch input side beyond 32 bits",
     {CLAE, "arch", "--input", "4294967298x2x1", "reference"}, "--input",
     "'4294967298x2x1'"},
    {"device type", {TRAIN_WITH("--device-type", "tpu")}, "--device-type",
     "'tpu'"},
    {"val-split 1.5", {TRAIN_WITH("--val-split", "1.5")}, "--val-split", "'1.5'"},
    {"val-split 0", {TRAIN_WITH("--val-split", "0")}, "--val-split", "'0'"},
    {"val-split leaves nothing", {TRAIN_WITH("--val-split", "0.001")},
     "--val-split", "no training or validation"},
    {"scale 0", {TRAIN_WITH("--scale", "0")}, "--scale", "'0'"},
    {"encode batch size 0", {ENCODE_ON("@good.idx"), "--batch-size", "0"},
     "--batch-size", "'0'"},
    {"hidden 0", {TRAIN_WITH("--hidden", "0")}, "--hidden", "'0'"},
    {"loss foo", {TRAIN_WITH("--loss", "foo")}, "--loss", "'foo'"},
    {"optimizer foo", {TRAIN_WITH("--optimizer", "foo")}, "--optimizer",
     "'foo'"},
    {"init foo", {TRAIN_WITH("--init", "foo")}, "--init", "'foo'"},
    {"seed negative", {TRAIN_WITH("--seed", "-1")}, "--seed", "'-1'"},
    {"device memory 0", {TRAIN_WITH("--device-memory", "0")},
     "--device-memory", "'0'"},
    {"out is a directory", {ENCODE_ON("@good.idx"), "--out", "@adir"}, "--out",
     "is a directory"},
    {"save is a directory", {TRAIN_WITH("--save", "@adir")}, "--save",
     "is a directory"},
    {"eval given --out", {EVAL_ON("@good.idx"), "--out", "@out.npy"},
     "--out", "writes no file"},
};

enum { CASES = sizeof cases / sizeof *cases };

/* Entries of tmp_dir, less the captures, into names (up to max); the count. */
static int list_dir(char names[][256], int max)
{
    DIR *d = opendir(tmp_dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "run.", 4) == 0 || strcmp(e->d_name, ".") == 0 ||
            strcmp(e->d_name, "..") == 0)
            continue;
        assert_true(n < max);
        snprintf(names[n++], 256, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

/* Whether name is among names. */
static int listed(char names[][256], int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return 1;
    return 0;
}

/* Whether an entry of tmp_dir starts with prefix (a target's temporary). */
static int has_prefix(const char *prefix)
{
    DIR *d = opendir(tmp_dir);
    assert_non_null(d);
    int found = 0;
    for (struct dirent *e; (e = readdir(d));)
        found |= strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return found;
}

static int is_output_flag(const char *word)
{
    return strcmp(word, "--out") == 0 || strcmp(word, "--save") == 0 ||
           strcmp(word, "--metrics") == 0 || strcmp(word, "--checkpoint") == 0;
}

/* What a run left in tmp_dir: each output it names (unless there before)
 * or its temporary, and any other new entry, which is removed so as not
 * to mislead the next row. The count. */
static int left_behind(const run_result *r, const char *const *argv,
                       size_t argc, char before[][256], int n_before)
{
    enum { MAX_FILES = 256 };
    static char after[MAX_FILES][256];
    int left = 0;
    for (size_t i = 0; i + 1 < argc; i++) {
        if (!is_output_flag(argv[i])) continue;
        const char *target = argv[i + 1], *base = strrchr(target, '/');
        base = base ? base + 1 : target;
        char temporary[512];
        snprintf(temporary, sizeof temporary, "%s.tmp-", base);
        if ((file_exists(target) && !listed(before, n_before, base)) ||
            has_prefix(temporary)) {
            print_message("%s\n%s %s (or its temporary) was left behind\n",
                          r->command, argv[i], target);
            left++;
        }
    }
    const int n_after = list_dir(after, MAX_FILES);
    for (int i = 0; i < n_after; i++)
        if (!listed(before, n_before, after[i])) {
            print_message("%s\nleft %s behind\n", r->command, after[i]);
            test_remove_tree(tmp_path(after[i]));
            left++;
        }
    return left;
}

/* One row: exit 2, one non-empty stderr line naming the file or flag and
 * the problem, and nothing left behind. */
static void run_case(void **state)
{
    const bad_case *c = *state;
    enum { MAX_ARGS = sizeof c->argv / sizeof *c->argv, MAX_FILES = 256 };
    static char before[MAX_FILES][256];
    const int n_before = list_dir(before, MAX_FILES);

    static char expanded[MAX_ARGS][512];
    const char *argv[MAX_ARGS + 1];
    size_t argc = 0;
    for (; argc < MAX_ARGS && c->argv[argc]; argc++) {
        snprintf(expanded[argc], sizeof expanded[argc], "%s", expand(c->argv[argc]));
        argv[argc] = expanded[argc];
    }
    argv[argc] = NULL;
    const run_result *r = run_env(NULL, argv);
    const int left = left_behind(r, argv, argc, before, n_before);

    expect_usage_error(r, expand(c->names));
    expect_contains(r->err, c->problem);
    assert_true(r->err[0] != '\n'); /* the one line says something */
    /* ... and names at most one call site (a message passed up from a
     * parser keeps its own, not two) */
    const char *site = strstr(r->err, " (src/");
    assert_true(!site || !strstr(site + 1, " (src/"));
    assert_int_equal(left, 0);
}

int main(void)
{
    struct CMUnitTest tests[CASES];
    for (size_t i = 0; i < CASES; i++)
        tests[i] = (struct CMUnitTest){.name = cases[i].name,
                                       .test_func = run_case,
                                       .initial_state = (void *)&cases[i]};
    return cmocka_run_group_tests_name("bad inputs", tests, group_setup,
                                       group_teardown);
}
