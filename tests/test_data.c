/* Data in and out of files, and the pure host code under it: the IDX reader,
 * the Philox generator, the spec parser, model files (safetensors) and
 * atomic writes. Every fixture is written at run time into a temporary
 * directory that the group teardown removes. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "test_util.h"

#include "files.h"
#include "model.h"
#include "philox.h"
#include "spec.h"

/* ===== Fixture helpers ================================================== */

/* A fresh, empty directory in the scratch directory. */
static void make_dir(char *out, size_t size, const char *name)
{
    test_tmp_path(out, size, name);
    test_remove_tree(out);
    assert_int_equal(mkdir(out, 0700), 0);
}

/* The whole file, malloc'ed (NUL-terminated); fails the test when missing. */
static unsigned char *read_bytes(const char *path, size_t *size)
{
    char *bytes = clae__read_file(path, size);
    if (!bytes) fail_msg("cannot read %s: %s", path, strerror(errno));
    return (unsigned char *)bytes;
}

/* Entries of a directory other than . and ..; *tmp_files counts those
 * whose name contains ".tmp-" (the atomic writer's temporaries). */
static int count_entries(const char *dir_path, int *tmp_files)
{
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    int n = 0;
    *tmp_files = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        n++;
        if (strstr(e->d_name, ".tmp-")) ++*tmp_files;
    }
    closedir(dir);
    return n;
}

static void assert_error_names(clae_context *ctx, const char *what)
{
    const char *msg = clae_last_error(ctx);
    if (!strstr(msg, what))
        fail_msg("last error \"%s\" does not mention \"%s\"", msg, what);
}

/* ===== IDX ============================================================== */

/* An IDX file: magic (0, 0, type, ndims), big-endian dims, the payload,
 * then `extra` trailing bytes; gzip-compressed when gz. */
static void write_idx(const char *path, int gz, unsigned char type,
                      unsigned ndims, const uint32_t *dims,
                      const unsigned char *payload, size_t payload_size,
                      size_t extra)
{
    size_t size = 4 + 4 * (size_t)ndims + payload_size + extra;
    unsigned char *buf = calloc(1, size);
    assert_non_null(buf);
    buf[2] = type;
    buf[3] = (unsigned char)ndims;
    for (unsigned i = 0; i < ndims; i++)
        for (int b = 0; b < 4; b++)
            buf[4 + 4 * i + b] = (unsigned char)(dims[i] >> (24 - 8 * b));
    if (payload_size) memcpy(buf + 4 + 4 * ndims, payload, payload_size);
    for (size_t i = 0; i < extra; i++) buf[size - extra + i] = 0x5a;
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(gzwrite(f, buf, (unsigned)size), (int)size);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        test_write_bytes(path, buf, size);
    }
    free(buf);
}

/* 5 images of 3 x 4 whose bytes run through 0 .. 255, both ends included. */
#define IMG_N 5
#define IMG_H 3
#define IMG_W 4
#define IMG_BYTES (IMG_N * IMG_H * IMG_W)

static void image_bytes(unsigned char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) bytes[i] = (unsigned char)(i * 37 % 256);
    bytes[0] = 0;
    bytes[n - 1] = 255;
}

static void check_images(const clae_data *data, const unsigned char *bytes,
                         size_t n, size_t d, unsigned h, unsigned w,
                         unsigned c)
{
    assert_non_null(data);
    assert_int_equal(data->n, n);
    assert_int_equal(data->d, d);
    assert_int_equal(data->height, h);
    assert_int_equal(data->width, w);
    assert_int_equal(data->channels, c);
    assert_non_null(data->x);
    for (size_t i = 0; i < n * d; i++)
        if (data->x[i] != (float)bytes[i] / 255.0f)
            fail_msg("x[%zu] = %.9g, want %u/255", i, (double)data->x[i],
                     bytes[i]);
    assert_true(data->x[0] == 0.0f);
    assert_true(data->x[n * d - 1] == 1.0f);
}

/* A plain and a gzipped N x H x W file both read back as n, d = H*W, the
 * shape with one channel, and every value exactly byte / 255. */
static void test_idx_round_trip(void **state)
{
    clae_context *ctx = test_context(state);
    unsigned char bytes[IMG_BYTES];
    image_bytes(bytes, IMG_BYTES);
    const uint32_t dims[3] = {IMG_N, IMG_H, IMG_W};
    for (int gz = 0; gz <= 1; gz++) {
        char path[512];
        test_tmp_path(path, sizeof path, gz ? "images.idx3-ubyte.gz"
                                       : "images.idx3-ubyte");
        write_idx(path, gz, 0x08, 3, dims, bytes, IMG_BYTES, 0);
        clae_data *data = NULL;
        assert_int_equal(clae_data_load(ctx, path, NULL, &data), CLAE_SUCCESS);
        check_images(data, bytes, IMG_N, IMG_H * IMG_W, IMG_H, IMG_W, 1);
        clae_data_free(data);
    }
}

/* clae_data_from_array copies the values (scale 1, float32) and refuses
 * what a file reader refuses: non-finite values, no samples or features. */
static void test_data_from_array(void **state)
{
    clae_context *ctx = test_context(state);
    float x[6] = {0.5f, -1.0f, 2.0f, 3.0f, 0.0f, 1e30f};
    clae_data *data = NULL;
    assert_int_equal(clae_data_from_array(ctx, x, 2, 3, &data), CLAE_SUCCESS);
    assert_int_equal(data->n, 2);
    assert_int_equal(data->d, 3);
    assert_true(data->x != x);
    assert_memory_equal(data->x, x, sizeof x);
    assert_true(data->scale == 1.0f);
    assert_int_equal(data->value_bytes, 4);
    clae_data_free(data);

    x[4] = NAN;
    assert_int_equal(clae_data_from_array(ctx, x, 2, 3, &data), CLAE_ERR_INPUT);
    assert_null(data);
    assert_non_null(strstr(clae_last_error(ctx),
                           "the array: sample 1, feature 1 is NaN"));
    assert_int_equal(clae_data_from_array(ctx, x, 0, 3, &data), CLAE_ERR_USAGE);
    assert_int_equal(clae_data_from_array(ctx, x, 2, 0, &data), CLAE_ERR_USAGE);
    assert_int_equal(clae_data_from_array(ctx, x, SIZE_MAX / 2, 3, &data),
                     CLAE_ERR_USAGE);
}

/* A 4-D file (N x H x W x C) gives the channel count and d = H*W*C. */
static void test_idx_channels(void **state)
{
    clae_context *ctx = test_context(state);
    enum { N = 2, H = 3, W = 2, C = 3 };
    unsigned char bytes[N * H * W * C];
    image_bytes(bytes, sizeof bytes);
    const uint32_t dims[4] = {N, H, W, C};
    char path[512];
    test_tmp_path(path, sizeof path, "rgb.idx4-ubyte.gz");
    write_idx(path, 1, 0x08, 4, dims, bytes, sizeof bytes, 0);
    clae_data *data = NULL;
    assert_int_equal(clae_data_load(ctx, path, NULL, &data), CLAE_SUCCESS);
    check_images(data, bytes, N, H * W * C, H, W, C);
    clae_data_free(data);
}

/* Loads a bad file: CLAE_ERR_INPUT, *data NULL, the error names the file. */
static void assert_idx_rejected(clae_context *ctx, const char *path,
                                const char *problem)
{
    clae_data dummy = {0};
    clae_data *data = &dummy;
    clae_status status = clae_data_load(ctx, path, NULL, &data);
    if (status != CLAE_ERR_INPUT)
        fail_msg("%s (%s): status %s, want CLAE_ERR_INPUT; last error: %s",
                 path, problem, clae_strerror(status), clae_last_error(ctx));
    assert_null(data);
    assert_error_names(ctx, path);
}

/* A missing file is bad input, named in the error. */
static void test_idx_missing(void **state)
{
    clae_context *ctx = test_context(state);
    char path[512];
    test_tmp_path(path, sizeof path, "no-such-file.idx3-ubyte");
    assert_idx_rejected(ctx, path, "missing");
    assert_error_names(ctx, "No such file");
}

/* Bad headers are refused before any data is read: wrong magic, a value type
 * other than uint8, a label (1-D) file, no images, a zero inner dimension. */
static void test_idx_bad_headers(void **state)
{
    clae_context *ctx = test_context(state);
    unsigned char bytes[IMG_BYTES];
    image_bytes(bytes, IMG_BYTES);
    const uint32_t dims[3] = {IMG_N, IMG_H, IMG_W};
    char path[512];

    test_tmp_path(path, sizeof path, "bad-magic.idx");
    unsigned char png[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    test_write_bytes(path, png, sizeof png);
    assert_idx_rejected(ctx, path, "bad magic");
    assert_error_names(ctx, "magic");

    test_tmp_path(path, sizeof path, "float.idx");
    write_idx(path, 0, 0x0D, 3, dims, bytes, IMG_BYTES, 0);
    assert_idx_rejected(ctx, path, "float values");
    assert_error_names(ctx, "0x0d");

    test_tmp_path(path, sizeof path, "labels.idx1-ubyte");
    const uint32_t label_dims[1] = {IMG_N};
    write_idx(path, 0, 0x08, 1, label_dims, bytes, IMG_N, 0);
    assert_idx_rejected(ctx, path, "labels");
    assert_error_names(ctx, "1 dimensions");

    test_tmp_path(path, sizeof path, "empty.idx3-ubyte");
    const uint32_t no_images[3] = {0, IMG_H, IMG_W};
    write_idx(path, 0, 0x08, 3, no_images, NULL, 0, 0);
    assert_idx_rejected(ctx, path, "zero images");
    assert_error_names(ctx, "no images");

    test_tmp_path(path, sizeof path, "zero-width.idx3-ubyte");
    const uint32_t zero_width[3] = {IMG_N, IMG_H, 0};
    write_idx(path, 0, 0x08, 3, zero_width, NULL, 0, 0);
    assert_idx_rejected(ctx, path, "zero width");
    assert_error_names(ctx, "dimension 2 is zero");
}

/* The data must be exactly as long as the header says: a short payload, a
 * cut header and trailing bytes are all refused, plain or gzipped. */
static void test_idx_bad_lengths(void **state)
{
    clae_context *ctx = test_context(state);
    unsigned char bytes[IMG_BYTES];
    image_bytes(bytes, IMG_BYTES);
    const uint32_t dims[3] = {IMG_N, IMG_H, IMG_W};
    char path[512];

    for (int gz = 0; gz <= 1; gz++) {
        test_tmp_path(path, sizeof path, gz ? "short.idx.gz" : "short.idx");
        write_idx(path, gz, 0x08, 3, dims, bytes, IMG_BYTES - 1, 0);
        assert_idx_rejected(ctx, path, "one byte short");
        assert_error_names(ctx, "truncated");

        test_tmp_path(path, sizeof path, gz ? "long.idx.gz" : "long.idx");
        write_idx(path, gz, 0x08, 3, dims, bytes, IMG_BYTES, 1);
        assert_idx_rejected(ctx, path, "one byte extra");
        assert_error_names(ctx, "continues past");
    }

    test_tmp_path(path, sizeof path, "cut-header.idx");
    unsigned char header[6] = {0, 0, 0x08, 3, 0, 0};
    test_write_bytes(path, header, sizeof header);
    assert_idx_rejected(ctx, path, "header cut in a dimension");

    test_tmp_path(path, sizeof path, "empty-file.idx");
    test_write_bytes(path, "", 0);
    assert_idx_rejected(ctx, path, "empty file");
}

/* A valid .gz cut short (inside the deflate stream, or in its 8-byte CRC
 * and length trailer) is refused, not read as a shorter file. */
static void test_idx_truncated_gzip(void **state)
{
    clae_context *ctx = test_context(state);
    unsigned char bytes[IMG_BYTES];
    image_bytes(bytes, IMG_BYTES);
    const uint32_t dims[3] = {IMG_N, IMG_H, IMG_W};
    char full[512], path[512];
    test_tmp_path(full, sizeof full, "full.idx.gz");
    write_idx(full, 1, 0x08, 3, dims, bytes, IMG_BYTES, 0);
    size_t size;
    unsigned char *gz = read_bytes(full, &size);
    assert_true(size > 20);

    test_tmp_path(path, sizeof path, "cut-stream.idx.gz");
    test_write_bytes(path, gz, size / 2);
    assert_idx_rejected(ctx, path, "cut in the stream");

    static const size_t cuts[] = {1, 4, 8}; /* bytes cut off the trailer */
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        char name[64];
        snprintf(name, sizeof name, "cut-trailer-%zu.idx.gz", cuts[i]);
        test_tmp_path(path, sizeof path, name);
        test_write_bytes(path, gz, size - cuts[i]);
        assert_idx_rejected(ctx, path, "cut in the trailer");
    }
    free(gz);
}

/* A zlib error names the file once, though zlib's own message (gzerror)
 * already starts with the path. */
static void test_idx_gzip_message(void **state)
{
    clae_context *ctx = test_context(state);
    unsigned char bytes[IMG_BYTES];
    image_bytes(bytes, IMG_BYTES);
    const uint32_t dims[3] = {IMG_N, IMG_H, IMG_W};
    char path[512];
    test_tmp_path(path, sizeof path, "message.idx.gz");
    write_idx(path, 1, 0x08, 3, dims, bytes, IMG_BYTES, 0);
    size_t size;
    unsigned char *gz = read_bytes(path, &size);
    test_write_bytes(path, gz, size / 2);
    free(gz);
    assert_idx_rejected(ctx, path, "cut in the stream");
    const char *msg = clae_last_error(ctx);
    if (strstr(strstr(msg, path) + 1, path))
        fail_msg("the path appears twice in \"%s\"", msg);
}

/* A header declaring absurd sizes (65535^3 bytes, about 2.8e14) fails at
 * once on the header, without allocating or reading. */
static void test_idx_absurd_size(void **state)
{
    clae_context *ctx = test_context(state);
    const uint32_t dims3[3] = {65535, 65535, 65535};
    const uint32_t dims4[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu,
                               0xffffffffu};
    char path[512];
    test_tmp_path(path, sizeof path, "absurd.idx3-ubyte");
    write_idx(path, 0, 0x08, 3, dims3, NULL, 0, 0);
    assert_idx_rejected(ctx, path, "65535^3");
    assert_error_names(ctx, "header declares");
    test_tmp_path(path, sizeof path, "absurd.idx4-ubyte.gz");
    write_idx(path, 1, 0x08, 4, dims4, NULL, 0, 0);
    assert_idx_rejected(ctx, path, "(2^32-1)^4");
    assert_error_names(ctx, "header declares");
}

/* ===== Philox =========================================================== */

/* Philox4x32-10 gives Random123's known-answer vectors (kat_vectors). */
static void test_philox_known_answers(void **state)
{
    (void)state;
    static const struct {
        uint32_t counter[4], key[2], want[4];
    } kat[] = {
        {{0, 0, 0, 0}, {0, 0},
         {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
         {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
         {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (size_t v = 0; v < sizeof kat / sizeof *kat; v++) {
        uint32_t out[4];
        clae__philox4x32(kat[v].counter, kat[v].key, out);
        for (int i = 0; i < 4; i++)
            if (out[i] != kat[v].want[i])
                fail_msg("vector %zu word %d: 0x%08x, want 0x%08x", v, i,
                         out[i], kat[v].want[i]);
    }
}

#define DRAWS 100000

/* Uniform draws lie in [lo, hi), repeat for the same (seed, stream,
 * substream), are a pure function of the index (a shorter call gives a
 * prefix), change with the substream, stream and seed, and average to the
 * middle of the range. */
static void test_random_uniform(void **state)
{
    (void)state;
    float *a = malloc(DRAWS * sizeof *a), *b = malloc(DRAWS * sizeof *b);
    assert_non_null(a);
    assert_non_null(b);

    clae__random_uniform(a, DRAWS, 42, CLAE_STREAM_INIT, 3, -2.0f, 3.0f);
    for (size_t i = 0; i < DRAWS; i++)
        if (!(a[i] >= -2.0f && a[i] < 3.0f))
            fail_msg("draw %zu = %.9g is outside [-2, 3)", i, (double)a[i]);

    clae__random_uniform(b, DRAWS, 42, CLAE_STREAM_INIT, 3, -2.0f, 3.0f);
    assert_memory_equal(a, b, DRAWS * sizeof *a);
    clae__random_uniform(b, 13, 42, CLAE_STREAM_INIT, 3, -2.0f, 3.0f);
    assert_memory_equal(a, b, 13 * sizeof *a);

    const struct { uint64_t seed; uint32_t stream, substream; } other[] = {
        {42, CLAE_STREAM_INIT, 4},
        {42, CLAE_STREAM_SHUFFLE, 3},
        {43, CLAE_STREAM_INIT, 3},
        {42ull | 1ull << 32, CLAE_STREAM_INIT, 3}, /* the seed's high word */
    };
    for (size_t k = 0; k < sizeof other / sizeof *other; k++) {
        clae__random_uniform(b, DRAWS, other[k].seed, other[k].stream,
                             other[k].substream, -2.0f, 3.0f);
        size_t same = 0;
        for (size_t i = 0; i < DRAWS; i++) same += a[i] == b[i];
        if (same > DRAWS / 1000)
            fail_msg("variant %zu shares %zu of %d draws", k, same, DRAWS);
    }

    clae__random_uniform(a, DRAWS, 7, CLAE_STREAM_INIT, 0, 0.0f, 1.0f);
    double sum = 0;
    for (size_t i = 0; i < DRAWS; i++) sum += a[i];
    double mean = sum / DRAWS;
    if (fabs(mean - 0.5) > 0.01) fail_msg("mean of [0, 1) draws = %g", mean);
    free(a);
    free(b);
}

/* The upper bound is excluded even for the largest 24-bit draw, where
 * lo + (hi - lo) * u rounds up to hi in float: seed 34399, stream 1,
 * substream 0 draws u = 1 - 2^-24 at index 716, and 1 + u rounds to 2. */
static void test_random_uniform_excludes_hi(void **state)
{
    (void)state;
    enum { N = 1024 };
    float x[N];
    clae__random_uniform(x, N, 34399, CLAE_STREAM_INIT, 0, 1.0f, 2.0f);
    for (size_t i = 0; i < N; i++)
        if (!(x[i] >= 1.0f && x[i] < 2.0f))
            fail_msg("draw %zu = %.9g is outside [1, 2)", i, (double)x[i]);
}

static void assert_permutation(const uint32_t *perm, size_t n)
{
    unsigned char *seen = calloc(n ? n : 1, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < n; i++) {
        if (perm[i] >= n) fail_msg("perm[%zu] = %u >= %zu", i, perm[i], n);
        if (seen[perm[i]]) fail_msg("perm[%zu] = %u repeats", i, perm[i]);
        seen[perm[i]] = 1;
    }
    free(seen);
}

/* Permutations contain each of 0 .. n-1 once (n = 0, 1, 2, 3, 1000), repeat
 * for the same (seed, stream, substream) and differ across substreams. */
static void test_random_permutation(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 2, 3, 1000};
    uint32_t a[1000], b[1000];
    clae__random_permutation(NULL, 0, 1, CLAE_STREAM_SHUFFLE, 0);
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        clae__random_permutation(a, n, 99, CLAE_STREAM_SHUFFLE, 5);
        assert_permutation(a, n);
        clae__random_permutation(b, n, 99, CLAE_STREAM_SHUFFLE, 5);
        assert_memory_equal(a, b, n * sizeof *a);
    }
    clae__random_permutation(a, 1000, 99, CLAE_STREAM_SHUFFLE, 5);
    clae__random_permutation(b, 1000, 99, CLAE_STREAM_SHUFFLE, 6);
    assert_permutation(b, 1000);
    assert_memory_not_equal(a, b, sizeof a);
    clae__random_permutation(b, 1000, 100, CLAE_STREAM_SHUFFLE, 5);
    assert_memory_not_equal(a, b, sizeof a);
    size_t fixed = 0;
    for (size_t i = 0; i < 1000; i++) fixed += a[i] == i;
    assert_true(fixed < 20); /* about 1 expected for a shuffle */
}

/* Over 6000 substreams, each of the 6 orders of 3 items comes up about
 * 1000 times (Fisher-Yates without an off-by-one). */
static void test_random_permutation_uniform(void **state)
{
    (void)state;
    unsigned counts[9] = {0};
    for (uint32_t sub = 0; sub < 6000; sub++) {
        uint32_t p[3];
        clae__random_permutation(p, 3, 2024, CLAE_STREAM_SHUFFLE, sub);
        counts[p[0] * 3 + p[1]]++;
    }
    for (unsigned first = 0; first < 3; first++)
        for (unsigned second = 0; second < 3; second++) {
            unsigned c = counts[first * 3 + second];
            if (first == second) assert_int_equal(c, 0);
            else if (c < 850 || c > 1150)
                fail_msg("order starting %u,%u came up %u times of 6000",
                         first, second, c);
        }
}

/* ===== Spec parser ====================================================== */

static const char reference_spec[] = "input 784\n"
                                     "dense 128 relu\n"
                                     "code\n"
                                     "dense 784 sigmoid\n"
                                     "loss bce\n";

static void assert_layer(const clae_spec *spec, size_t i, size_t units,
                         clae_activation act)
{
    assert_true(i < spec->count);
    assert_int_equal(spec->layers[i].kind, CLAE_LAYER_DENSE);
    assert_int_equal(spec->layers[i].units, units);
    assert_int_equal(spec->layers[i].act.kind, act);
}

/* The reference text parses to input 784, dense 128 relu, dense 784
 * sigmoid, code at layer 0, bce, no image shape. */
static void test_spec_reference(void **state)
{
    clae_spec spec;
    assert_int_equal(clae__spec_parse(*state, reference_spec, &spec),
                     CLAE_SUCCESS);
    assert_int_equal(spec.input, 784);
    assert_int_equal(spec.height, 0);
    assert_int_equal(spec.count, 2);
    assert_layer(&spec, 0, 128, CLAE_ACT_RELU);
    assert_layer(&spec, 1, 784, CLAE_ACT_SIGMOID);
    assert_int_equal(spec.code_layer, 0);
    assert_int_equal(spec.loss, CLAE_LOSS_BCE);
    char *text = clae__spec_format(&spec);
    assert_string_equal(text, reference_spec);
    free(text);
    clae__spec_free(&spec);
}

/* Comments (whole-line and trailing), blank lines, tabs and CRLF line ends
 * are ignored; an activation defaults to linear. */
static void test_spec_comments(void **state)
{
    static const char text[] = "# a model\r\n"
                               "\n"
                               "input 784   # flat images\r\n"
                               "   \t\n"
                               "\tdense 128 relu\n"
                               "# code   (commented out: a comment, not a code line)\n"
                               "dense 32\n"
                               "dense 784 sigmoid # out\n"
                               "loss mse";
    clae_spec spec;
    assert_int_equal(clae__spec_parse(*state, text, &spec), CLAE_SUCCESS);
    assert_int_equal(spec.input, 784);
    assert_int_equal(spec.count, 3);
    assert_layer(&spec, 0, 128, CLAE_ACT_RELU);
    assert_layer(&spec, 1, 32, CLAE_ACT_LINEAR);
    assert_layer(&spec, 2, 784, CLAE_ACT_SIGMOID);
    assert_int_equal(spec.code_layer, 1);
    assert_int_equal(spec.loss, CLAE_LOSS_MSE);
    clae__spec_free(&spec);
}

/* "input 28x28x1" gives input 784 and the image shape, kept by format. */
static void test_spec_shape(void **state)
{
    static const char text[] = "input 28x28x1\ndense 64 relu\n"
                               "dense 784 sigmoid\n";
    clae_spec spec;
    assert_int_equal(clae__spec_parse(*state, text, &spec), CLAE_SUCCESS);
    assert_int_equal(spec.input, 784);
    assert_int_equal(spec.height, 28);
    assert_int_equal(spec.width, 28);
    assert_int_equal(spec.channels, 1);
    char *formatted = clae__spec_format(&spec);
    assert_non_null(formatted);
    assert_non_null(strstr(formatted, "input 28x28x1\n"));
    free(formatted);
    clae__spec_free(&spec);

    assert_int_equal(clae__spec_parse(*state, "input 8x4x3\ndense 96\n", &spec),
                     CLAE_SUCCESS);
    assert_int_equal(spec.input, 96);
    assert_int_equal(spec.channels, 3);
    clae__spec_free(&spec);
}

/* Without a 'code' line the code is the narrowest layer, the first of
 * equals; an explicit 'code' wins over the narrowest. */
static void test_spec_default_code(void **state)
{
    clae_spec spec;
    assert_int_equal(clae__spec_parse(*state,
                                      "input 100\ndense 64 relu\ndense 16 relu\n"
                                      "dense 64 relu\ndense 100 sigmoid\n",
                                      &spec),
                     CLAE_SUCCESS);
    assert_int_equal(spec.code_layer, 1);
    clae__spec_free(&spec);

    assert_int_equal(clae__spec_parse(*state,
                                      "input 100\ndense 64 relu\ndense 16 relu\n"
                                      "dense 16 relu\ndense 100 sigmoid\n",
                                      &spec),
                     CLAE_SUCCESS);
    assert_int_equal(spec.code_layer, 1);
    clae__spec_free(&spec);

    assert_int_equal(clae__spec_parse(*state,
                                      "input 100\ndense 64 relu\ncode\n"
                                      "dense 16 relu\ndense 100 sigmoid\n",
                                      &spec),
                     CLAE_SUCCESS);
    assert_int_equal(spec.code_layer, 0);
    clae__spec_free(&spec);
}

static void assert_specs_equal(const clae_spec *a, const clae_spec *b)
{
    assert_int_equal(a->input, b->input);
    assert_int_equal(a->height, b->height);
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->channels, b->channels);
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++)
        assert_layer(b, i, a->layers[i].units, a->layers[i].act.kind);
    assert_int_equal(a->code_layer, b->code_layer);
    assert_int_equal(a->loss, b->loss);
}

/* Parses text, formats it, parses the result: the same spec, and the
 * canonical text formats to itself. */
static void assert_round_trip(void *ctx, const char *text)
{
    clae_spec first, second;
    assert_int_equal(clae__spec_parse(ctx, text, &first), CLAE_SUCCESS);
    char *formatted = clae__spec_format(&first);
    assert_non_null(formatted);
    if (clae__spec_parse(ctx, formatted, &second) != CLAE_SUCCESS)
        fail_msg("formatted text does not parse: %s\n%s", clae_last_error(ctx),
                 formatted);
    char *again = clae__spec_format(&second);
    assert_non_null(again);
    assert_string_equal(again, formatted);
    assert_specs_equal(&first, &second);
    free(again);
    free(formatted);
    clae__spec_free(&first);
    clae__spec_free(&second);
}

/* Formatting then parsing gives back the same spec: shapes, activations,
 * an explicit code that is not the narrowest, both losses. */
static void test_spec_round_trip(void **state)
{
    assert_round_trip(*state, reference_spec);
    assert_round_trip(*state, "input 28x28x1\ndense 256 tanh\ndense 32 linear\n"
                              "dense 256 relu\ndense 784 sigmoid\nloss mse\n");
    assert_round_trip(*state, "input 100\ndense 64 relu\ncode\ndense 16 relu\n"
                              "dense 100 sigmoid\n");
    assert_round_trip(*state, "input 3\ndense 3 sigmoid\n");
    assert_round_trip(*state, "input 8\ndense 16 relu\ndense 8 sigmoid\n");
}

/* A 'code' marked on the last layer (not the narrowest) survives
 * formatting: the canonical text must not lose it. */
static void test_spec_round_trip_code_last(void **state)
{
    assert_round_trip(*state, "input 784\ndense 32 relu\ndense 784 sigmoid\n"
                              "code\n");
}

/* clae_spec_dense and the presets write the expected canonical text. */
static void test_spec_dense_text(void **state)
{
    static const size_t hidden[] = {256, 64, 256};
    static const char deep[] = "input 784\n"
                               "dense 256 relu\n"
                               "dense 64 relu\n"
                               "code\n"
                               "dense 256 relu\n"
                               "dense 784 sigmoid\n"
                               "loss bce\n";
    clae_dense_spec dense = {.input = 784, .hidden = hidden,
                             .hidden_count = 3, .activation = CLAE_ACT_RELU,
                             .output_activation = CLAE_ACT_SIGMOID,
                             .loss = CLAE_LOSS_BCE};
    char *text = NULL;
    assert_int_equal(clae_spec_dense(*state, &dense, &text), CLAE_SUCCESS);
    assert_string_equal(text, deep);
    free(text);

    dense.input = 64;
    dense.hidden_count = 1;
    dense.hidden = (const size_t[]){128};
    dense.activation = CLAE_ACT_TANH;
    dense.output_activation = CLAE_ACT_LINEAR;
    dense.loss = CLAE_LOSS_MSE;
    assert_int_equal(clae_spec_dense(*state, &dense, &text), CLAE_SUCCESS);
    /* Overcomplete: the code is still the hidden layer. */
    assert_string_equal(text, "input 64\ndense 128 tanh\ncode\ndense 64 linear\n"
                              "loss mse\n");
    free(text);

    dense.init = "normal(0.05)"; /* --init: every layer's weights */
    assert_int_equal(clae_spec_dense(*state, &dense, &text), CLAE_SUCCESS);
    assert_string_equal(text, "input 64\ndense 128 tanh init=normal(0.05)\n"
                              "code\ndense 64 linear init=normal(0.05)\n"
                              "loss mse\n");
    free(text);
    dense.init = "normal";
    assert_int_equal(clae_spec_dense(*state, &dense, &text), CLAE_ERR_USAGE);
    assert_int_equal(clae_init_check("he_uniform"), CLAE_SUCCESS);
    assert_int_equal(clae_init_check("uniform(0.1)"), CLAE_SUCCESS);
    assert_int_equal(clae_init_check("lecun"), CLAE_ERR_USAGE);

    assert_int_equal(clae_arch_spec(*state, "deep", 784, NULL, &text), CLAE_SUCCESS);
    assert_string_equal(text, deep);
    free(text);
    assert_int_equal(clae_arch_spec(*state, "reference", 784, NULL, &text),
                     CLAE_SUCCESS);
    assert_string_equal(text, reference_spec);
    free(text);
}

/* An unknown preset is a usage error naming it. */
static void test_spec_unknown_arch(void **state)
{
    clae_context *ctx = test_context(state);
    char *text = NULL;
    assert_int_equal(clae_arch_spec(ctx, "resnet", 784, NULL, &text), CLAE_ERR_USAGE);
    assert_error_names(ctx, "'resnet'");
}

/* Parses bad text: CLAE_ERR_SPEC, the spec left empty, the message
 * containing each of the given fragments. */
static void assert_spec_rejected(clae_context *ctx, const char *text,
                                 const char *fragment1, const char *fragment2)
{
    clae_spec spec;
    clae_status status = clae__spec_parse(ctx, text, &spec);
    if (status != CLAE_ERR_SPEC)
        fail_msg("status %s, want CLAE_ERR_SPEC, for:\n%s",
                 clae_strerror(status), text);
    assert_null(spec.layers);
    assert_int_equal(spec.count, 0);
    assert_error_names(ctx, fragment1);
    if (fragment2) assert_error_names(ctx, fragment2);
}

/* Each malformed line is CLAE_ERR_SPEC naming its line number (counting
 * comment and blank lines) and the offending word. */
static void test_spec_line_errors(void **state)
{
    clae_context *ctx = test_context(state);
    assert_spec_rejected(ctx, "input 784\nconv 16 3x3 relu\ndense 784\n",
                         "line 2:", "'conv'");
    assert_spec_rejected(ctx, "# model\ninput 784\ndense 128 swish\n"
                              "dense 784 sigmoid\n",
                         "line 3:", "'swish'");
    assert_spec_rejected(ctx, "# model\n\ninput 784\ndense 0 relu\n"
                              "dense 784 sigmoid\n",
                         "line 4:", "dense");
    assert_spec_rejected(ctx, "input 784\ndense -5 relu\ndense 784\n",
                         "line 2:", "dense");
    assert_spec_rejected(ctx, "input 784\ncode\ndense 128 relu\n"
                              "dense 784 sigmoid\n",
                         "line 2:", "'code'");
    assert_spec_rejected(ctx, "input 784\ndense 128 relu\ncode\ncode\n"
                              "dense 784 sigmoid\n",
                         "line 4:", "'code'");
    assert_spec_rejected(ctx, "input 784\ndense 128 relu\ndense 784 sigmoid\n"
                              "\nloss hinge\n",
                         "line 5:", "loss");
    assert_spec_rejected(ctx, "input 28x28\ndense 784\n", "line 1:", "input");
    assert_spec_rejected(ctx, "input 0\ndense 784\n", "line 1:", "input");
    assert_spec_rejected(ctx, "input 784\ndense 784\ninput 784\n", "line 3:",
                         "before the layers");
}

/* A second 'input' line is refused: accepting it kept the first line's
 * image shape beside the second's width, a spec whose canonical text
 * ("input 28x28x1" ... "dense 100") no longer parses. */
static void test_spec_duplicate_input(void **state)
{
    clae_context *ctx = test_context(state);
    assert_spec_rejected(ctx, "input 28x28x1\ninput 100\ndense 100 sigmoid\n",
                         "line 2:", "input");
    assert_spec_rejected(ctx, "input 100\ninput 100\ndense 100 sigmoid\n",
                         "line 2:", "input");
}

/* Whole-spec errors (no input, no layers, an output that does not
 * reconstruct the input) are CLAE_ERR_SPEC saying what is missing. */
static void test_spec_global_errors(void **state)
{
    clae_context *ctx = test_context(state);
    assert_spec_rejected(ctx, "dense 128 relu\ndense 784 sigmoid\nloss bce\n",
                         "no 'input'", NULL);
    assert_spec_rejected(ctx, "input 784\nloss bce\n", "no layers", NULL);
    assert_spec_rejected(ctx, "", "no 'input'", NULL);
    assert_spec_rejected(ctx, "input 784\ndense 128 relu\ndense 100 sigmoid\n",
                         "100 units", "784");
}

/* ===== Model files ====================================================== */

static void read_params(clae_context *ctx, const clae_model *m, float *out)
{
    assert_int_equal(clEnqueueReadBuffer(ctx->queue, m->params, CL_TRUE, 0,
                                         m->param_count * sizeof(float), out,
                                         0, NULL, NULL),
                     CL_SUCCESS);
}

/* The header of a safetensors file as JSON, and where its data begins. */
static cJSON *parse_header(const unsigned char *file, size_t size,
                           size_t *data_begin)
{
    assert_true(size >= 8);
    uint64_t header_size = 0;
    for (int i = 0; i < 8; i++) header_size |= (uint64_t)file[i] << (8 * i);
    assert_true(header_size <= size - 8);
    cJSON *root = cJSON_ParseWithLength((const char *)file + 8, header_size);
    assert_non_null(root);
    *data_begin = 8 + (size_t)header_size;
    return root;
}

static void assert_tensor(const cJSON *root, const char *name, int dims,
                          const double *shape, double begin, double end)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!cJSON_IsObject(t)) fail_msg("tensor %s is missing", name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(t, "dtype");
    assert_true(cJSON_IsString(dtype));
    assert_string_equal(dtype->valuestring, "F32");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(t, "shape");
    assert_true(cJSON_IsArray(s));
    assert_int_equal(cJSON_GetArraySize(s), dims);
    for (int i = 0; i < dims; i++)
        assert_true(cJSON_GetArrayItem(s, i)->valuedouble == shape[i]);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
    assert_true(cJSON_IsArray(o));
    assert_int_equal(cJSON_GetArraySize(o), 2);
    assert_true(cJSON_GetArrayItem(o, 0)->valuedouble == begin);
    assert_true(cJSON_GetArrayItem(o, 1)->valuedouble == end);
}

/* Saving then loading the reference model gives the same spec text and
 * bit-identical parameters, and the file is plain safetensors: LE header
 * size, JSON naming layers.<i>.weight [out, in] / .bias [out] as F32 with
 * their byte ranges, __metadata__.spec, then the flat float data. */
static void test_model_save_load(void **state)
{
    clae_context *ctx = test_context(state);
    char path[512];
    test_tmp_path(path, sizeof path, "reference.safetensors");
    clae_model *m = NULL, *loaded = NULL;
    assert_int_equal(clae_model_create(ctx, reference_spec, 7, &m),
                     CLAE_SUCCESS);
    assert_int_equal(clae_model_save(m, path), CLAE_SUCCESS);
    assert_int_equal(clae_model_load(ctx, path, &loaded), CLAE_SUCCESS);
    assert_string_equal(clae_model_spec(loaded), clae_model_spec(m));
    assert_int_equal(clae_model_input_width(loaded), 784);
    assert_int_equal(loaded->param_count, m->param_count);
    size_t n = m->param_count;
    assert_int_equal(n, 784 * 128 + 128 + 128 * 784 + 784);
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    read_params(ctx, m, a);
    read_params(ctx, loaded, b);
    assert_memory_equal(a, b, n * sizeof *a);

    size_t size, data_begin;
    unsigned char *file = read_bytes(path, &size);
    cJSON *root = parse_header(file, size, &data_begin);
    assert_int_equal(data_begin % 8, 0);
    assert_int_equal(size - data_begin, n * sizeof(float));
    const double w0[2] = {128, 784}, b0[1] = {128}, w1[2] = {784, 128},
                 b1[1] = {784};
    double off = 0;
    assert_tensor(root, "layers.0.weight", 2, w0, off, off + 4 * 128 * 784);
    off += 4 * 128 * 784;
    assert_tensor(root, "layers.0.bias", 1, b0, off, off + 4 * 128);
    off += 4 * 128;
    assert_tensor(root, "layers.1.weight", 2, w1, off, off + 4 * 784 * 128);
    off += 4 * 784 * 128;
    assert_tensor(root, "layers.1.bias", 1, b1, off, off + 4 * 784);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(meta, "spec");
    assert_true(cJSON_IsString(spec));
    assert_string_equal(spec->valuestring, clae_model_spec(m));
    assert_memory_equal(file + data_begin, a, n * sizeof *a);
    for (size_t i = 0; i < 128; i++) /* zero biases, little-endian floats */
        assert_true(a[784 * 128 + i] == 0.0f);
    cJSON_Delete(root);
    free(file);
    free(a);
    free(b);
    clae_model_destroy(loaded);
    clae_model_destroy(m);
}

/* Saving over an existing file replaces it and leaves no temporary file. */
static void test_model_save_replaces(void **state)
{
    clae_context *ctx = test_context(state);
    char dir[512], path[600];
    make_dir(dir, sizeof dir, "replace");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    test_write_bytes(path, "an older, unrelated file", 24);
    clae_model *m = NULL, *loaded = NULL;
    assert_int_equal(clae_model_create(ctx, "input 6\ndense 3 relu\n"
                                            "dense 6 sigmoid\n", 1, &m),
                     CLAE_SUCCESS);
    assert_int_equal(clae_model_save(m, path), CLAE_SUCCESS);
    assert_int_equal(clae_model_save(m, path), CLAE_SUCCESS);
    int tmp_files;
    assert_int_equal(count_entries(dir, &tmp_files), 1);
    assert_int_equal(tmp_files, 0);
    assert_int_equal(clae_model_load(ctx, path, &loaded), CLAE_SUCCESS);
    assert_string_equal(clae_model_spec(loaded), clae_model_spec(m));
    clae_model_destroy(loaded);
    clae_model_destroy(m);
}

/* A small valid model file, its header parsed and its data section, to be
 * edited into bad files. */
typedef struct {
    cJSON *root;
    unsigned char *file;
    size_t size, data_begin;
} model_fixture;

static const char small_spec[] = "input 4\ndense 2 relu\ndense 4 sigmoid\n";

static void small_model(clae_context *ctx, model_fixture *fx)
{
    char path[512];
    test_tmp_path(path, sizeof path, "small.safetensors");
    clae_model *m = NULL;
    assert_int_equal(clae_model_create(ctx, small_spec, 3, &m), CLAE_SUCCESS);
    assert_int_equal(clae_model_save(m, path), CLAE_SUCCESS);
    clae_model_destroy(m);
    fx->file = read_bytes(path, &fx->size);
    fx->root = parse_header(fx->file, fx->size, &fx->data_begin);
}

/* Writes a safetensors file with the given header text and the fixture's
 * data section. */
static void write_model(const char *path, const char *header,
                        const model_fixture *fx)
{
    size_t header_size = strlen(header);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)((uint64_t)header_size >> (8 * i));
    size_t data_size = fx->size - fx->data_begin;
    assert_int_equal(fwrite(le, 1, 8, f), 8);
    assert_int_equal(fwrite(header, 1, header_size, f), header_size);
    assert_int_equal(fwrite(fx->file + fx->data_begin, 1, data_size, f),
                     data_size);
    assert_int_equal(fclose(f), 0);
}

/* Writes the fixture with its header edited by edit(header JSON copy). */
static void write_edited(const char *path, const model_fixture *fx,
                         void (*edit)(cJSON *root, size_t data_size))
{
    cJSON *copy = cJSON_Duplicate(fx->root, 1);
    assert_non_null(copy);
    edit(copy, fx->size - fx->data_begin);
    char *header = cJSON_PrintUnformatted(copy);
    assert_non_null(header);
    write_model(path, header, fx);
    free(header);
    cJSON_Delete(copy);
}

static void edit_nothing(cJSON *root, size_t data_size)
{
    (void)root;
    (void)data_size;
}

static void edit_drop_tensor(cJSON *root, size_t data_size)
{
    (void)data_size;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "layers.1.bias");
}

static void edit_transpose_shape(cJSON *root, size_t data_size)
{
    (void)data_size;
    cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "layers.0.weight");
    cJSON *shape = cJSON_CreateArray();
    cJSON_AddItemToArray(shape, cJSON_CreateNumber(4));
    cJSON_AddItemToArray(shape, cJSON_CreateNumber(2));
    cJSON_ReplaceItemInObjectCaseSensitive(t, "shape", shape);
}

static void edit_dtype_f16(cJSON *root, size_t data_size)
{
    (void)data_size;
    cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "layers.1.weight");
    cJSON_ReplaceItemInObjectCaseSensitive(t, "dtype", cJSON_CreateString("F16"));
}

/* Right length (the weight's 8 floats), but ending past the data. */
static void edit_offsets_past_end(cJSON *root, size_t data_size)
{
    cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "layers.0.weight");
    cJSON *o = cJSON_CreateArray();
    cJSON_AddItemToArray(o, cJSON_CreateNumber((double)data_size - 4));
    cJSON_AddItemToArray(o, cJSON_CreateNumber((double)data_size - 4 + 32));
    cJSON_ReplaceItemInObjectCaseSensitive(t, "data_offsets", o);
}

static void edit_drop_spec(cJSON *root, size_t data_size)
{
    (void)data_size;
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "spec");
}

static void edit_bad_spec(cJSON *root, size_t data_size)
{
    (void)data_size;
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    cJSON_ReplaceItemInObjectCaseSensitive(
        meta, "spec", cJSON_CreateString("input 4\nconvolve 2\ndense 4\n"));
}

static void assert_model_rejected(clae_context *ctx, const char *path,
                                  const char *problem)
{
    clae_model dummy;
    clae_model *m = &dummy;
    clae_status status = clae_model_load(ctx, path, &m);
    if (status != CLAE_ERR_INPUT)
        fail_msg("%s (%s): status %s, want CLAE_ERR_INPUT; last error: %s",
                 path, problem, clae_strerror(status), clae_last_error(ctx));
    assert_null(m);
    assert_error_names(ctx, path);
}

/* The fixture itself, rewritten through the helpers, still loads (so the
 * failures below come from the edits alone). */
static void test_model_fixture_loads(void **state)
{
    clae_context *ctx = test_context(state);
    model_fixture fx;
    small_model(ctx, &fx);
    char path[512];
    test_tmp_path(path, sizeof path, "rewritten.safetensors");
    write_edited(path, &fx, edit_nothing);
    clae_model *m = NULL;
    assert_int_equal(clae_model_load(ctx, path, &m), CLAE_SUCCESS);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(fx.root,
                                                         "__metadata__");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(meta, "spec");
    assert_true(cJSON_IsString(spec));
    assert_string_equal(clae_model_spec(m), spec->valuestring);
    clae_model_destroy(m);
    cJSON_Delete(fx.root);
    free(fx.file);
}

/* Broken files are CLAE_ERR_INPUT naming the file: missing, too short for
 * the size field, a header size past the end, a header that is not JSON. */
static void test_model_bad_container(void **state)
{
    clae_context *ctx = test_context(state);
    model_fixture fx;
    small_model(ctx, &fx);
    char path[512];

    test_tmp_path(path, sizeof path, "missing.safetensors");
    assert_model_rejected(ctx, path, "missing");
    assert_error_names(ctx, "No such file");

    test_tmp_path(path, sizeof path, "three-bytes.safetensors");
    test_write_bytes(path, "\x10\0\0", 3);
    assert_model_rejected(ctx, path, "3 bytes");

    test_tmp_path(path, sizeof path, "header-past-end.safetensors");
    unsigned char big[12] = {0x00, 0x10, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' '};
    test_write_bytes(path, big, sizeof big);
    assert_model_rejected(ctx, path, "header size 4096 in a 12-byte file");

    test_tmp_path(path, sizeof path, "header-huge.safetensors");
    unsigned char huge[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                              '{', '}', ' ', ' '};
    test_write_bytes(path, huge, sizeof huge);
    assert_model_rejected(ctx, path, "header size 2^64-1");

    test_tmp_path(path, sizeof path, "not-json.safetensors");
    write_model(path, "{\"layers.0.weight\": [1, 2,     ", &fx);
    assert_model_rejected(ctx, path, "not JSON");
    assert_error_names(ctx, "JSON");

    test_tmp_path(path, sizeof path, "json-array.safetensors");
    write_model(path, "[1, 2, 3]       ", &fx);
    assert_model_rejected(ctx, path, "JSON but not an object");

    cJSON_Delete(fx.root);
    free(fx.file);
}

/* Headers that disagree with the spec are CLAE_ERR_INPUT naming the file
 * (and the tensor): a missing tensor, a transposed shape, F16 instead of
 * F32, data offsets past the end, no spec in __metadata__. */
static void test_model_bad_tensors(void **state)
{
    clae_context *ctx = test_context(state);
    model_fixture fx;
    small_model(ctx, &fx);
    char path[512];
    static const struct {
        const char *file;
        void (*edit)(cJSON *, size_t);
        const char *says;
    } cases[] = {
        {"no-bias.safetensors", edit_drop_tensor, "layers.1.bias"},
        {"transposed.safetensors", edit_transpose_shape, "layers.0.weight"},
        {"f16.safetensors", edit_dtype_f16, "layers.1.weight"},
        {"offsets.safetensors", edit_offsets_past_end, "layers.0.weight"},
        {"no-spec.safetensors", edit_drop_spec, "spec"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        test_tmp_path(path, sizeof path, cases[i].file);
        write_edited(path, &fx, cases[i].edit);
        assert_model_rejected(ctx, path, cases[i].file);
        assert_error_names(ctx, cases[i].says);
    }
    cJSON_Delete(fx.root);
    free(fx.file);
}

/* A model file whose stored spec does not parse is bad input, and the error
 * names the file (not only "spec line 2"). */
static void test_model_bad_spec(void **state)
{
    clae_context *ctx = test_context(state);
    model_fixture fx;
    small_model(ctx, &fx);
    char path[512];
    test_tmp_path(path, sizeof path, "bad-spec.safetensors");
    write_edited(path, &fx, edit_bad_spec);
    assert_model_rejected(ctx, path, "unparsable spec");
    assert_error_names(ctx, "'convolve'");
    cJSON_Delete(fx.root);
    free(fx.file);
}

/* ===== Atomic writes ==================================================== */

/* Writes the bytes (a NUL among them) and nothing else in the directory. */
static void test_write_atomic_new(void **state)
{
    clae_context *ctx = test_context(state);
    char dir[512], path[600];
    make_dir(dir, sizeof dir, "atomic-new");
    snprintf(path, sizeof path, "%s/out.bin", dir);
    static const char content[] = "hello\0world";
    assert_int_equal(clae_file_write_atomic(ctx, path, content, sizeof content),
                     CLAE_SUCCESS);
    size_t size;
    unsigned char *got = read_bytes(path, &size);
    assert_int_equal(size, sizeof content);
    assert_memory_equal(got, content, sizeof content);
    free(got);
    int tmp_files;
    assert_int_equal(count_entries(dir, &tmp_files), 1);
    assert_int_equal(tmp_files, 0);

    snprintf(path, sizeof path, "%s/empty.bin", dir);
    assert_int_equal(clae_file_write_atomic(ctx, path, "", 0), CLAE_SUCCESS);
    got = read_bytes(path, &size);
    assert_int_equal(size, 0);
    free(got);
}

/* Replacing a longer existing file leaves exactly the new content. */
static void test_write_atomic_replace(void **state)
{
    clae_context *ctx = test_context(state);
    char dir[512], path[600];
    make_dir(dir, sizeof dir, "atomic-replace");
    snprintf(path, sizeof path, "%s/out.txt", dir);
    test_write_bytes(path, "an old and much longer content", 30);
    assert_int_equal(clae_file_write_atomic(ctx, path, "new", 3), CLAE_SUCCESS);
    size_t size;
    unsigned char *got = read_bytes(path, &size);
    assert_int_equal(size, 3);
    assert_memory_equal(got, "new", 3);
    free(got);
    int tmp_files;
    assert_int_equal(count_entries(dir, &tmp_files), 1);
    assert_int_equal(tmp_files, 0);
}

/* Writing into a directory that does not exist is CLAE_ERR_IO naming the
 * path, and creates nothing. */
static void test_write_atomic_no_dir(void **state)
{
    clae_context *ctx = test_context(state);
    char dir[512], path[700];
    make_dir(dir, sizeof dir, "atomic-nodir");
    snprintf(path, sizeof path, "%s/missing/out.bin", dir);
    assert_int_equal(clae_file_write_atomic(ctx, path, "x", 1), CLAE_ERR_IO);
    assert_error_names(ctx, path);
    int tmp_files;
    assert_int_equal(count_entries(dir, &tmp_files), 0);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
}

/* A new file gets the mode fopen would give it (0666 less the umask), not
 * the 0600 of the temporary file, and a replaced file keeps the same. */
static void test_write_atomic_mode(void **state)
{
    clae_context *ctx = test_context(state);
    char dir[512], path[600];
    make_dir(dir, sizeof dir, "atomic-mode");
    snprintf(path, sizeof path, "%s/out.bin", dir);
    mode_t old = umask(022);
    clae_status status = clae_file_write_atomic(ctx, path, "x", 1);
    umask(old);
    assert_int_equal(status, CLAE_SUCCESS);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    if ((st.st_mode & 0777) != 0644)
        fail_msg("new file has mode %03o, want 644 (0666 & ~022)",
                 (unsigned)(st.st_mode & 0777));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_round_trip),
        cmocka_unit_test(test_data_from_array),
        cmocka_unit_test(test_idx_channels),
        cmocka_unit_test(test_idx_missing),
        cmocka_unit_test(test_idx_bad_headers),
        cmocka_unit_test(test_idx_bad_lengths),
        cmocka_unit_test(test_idx_truncated_gzip),
        cmocka_unit_test(test_idx_gzip_message),
        cmocka_unit_test(test_idx_absurd_size),
        cmocka_unit_test(test_philox_known_answers),
        cmocka_unit_test(test_random_uniform),
        cmocka_unit_test(test_random_uniform_excludes_hi),
        cmocka_unit_test(test_random_permutation),
        cmocka_unit_test(test_random_permutation_uniform),
        cmocka_unit_test(test_spec_reference),
        cmocka_unit_test(test_spec_comments),
        cmocka_unit_test(test_spec_shape),
        cmocka_unit_test(test_spec_default_code),
        cmocka_unit_test(test_spec_round_trip),
        cmocka_unit_test(test_spec_round_trip_code_last),
        cmocka_unit_test(test_spec_dense_text),
        cmocka_unit_test(test_spec_unknown_arch),
        cmocka_unit_test(test_spec_line_errors),
        cmocka_unit_test(test_spec_duplicate_input),
        cmocka_unit_test(test_spec_global_errors),
        cmocka_unit_test(test_model_save_load),
        cmocka_unit_test(test_model_save_replaces),
        cmocka_unit_test(test_model_fixture_loads),
        cmocka_unit_test(test_model_bad_container),
        cmocka_unit_test(test_model_bad_tensors),
        cmocka_unit_test(test_model_bad_spec),
        cmocka_unit_test(test_write_atomic_new),
        cmocka_unit_test(test_write_atomic_replace),
        cmocka_unit_test(test_write_atomic_no_dir),
        cmocka_unit_test(test_write_atomic_mode),
    };
    return cmocka_run_group_tests_name("data", tests, test_open_tmp_context,
                                       test_close_tmp_context);
}
