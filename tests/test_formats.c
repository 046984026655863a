/* Data files besides IDX: the .npy reader and writer and the CSV reader,
 * through clae_data_load (format by magic or name, scaling, the refusal of
 * values that are not finite); PNG grids read back with libpng, and image
 * shapes. Fixtures are written at run time into a
 * temporary directory that the group teardown removes. */
#include <math.h>
#include <png.h>

#include "test_util.h"

#include "data.h"
#include "files.h"

/* Writes name in the scratch directory as a version 1.0 .npy file with the given header
 * dict and data bytes, as numpy lays it out (header padded to 64). */
static void write_npy(char *path, size_t size, const char *name,
                      const char *dict, const void *data, size_t data_size)
{
    char header[512];
    size_t len = strlen(dict), total = 10 + len + 1;
    size_t padded = (total + 63) / 64 * 64;
    assert_true(padded - 10 < sizeof header);
    memcpy(header, dict, len);
    memset(header + len, ' ', padded - total);
    header[padded - 11] = '\n';
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                             (unsigned char)((padded - 10) & 0xff),
                             (unsigned char)((padded - 10) >> 8)};
    unsigned char *bytes = malloc(padded + data_size);
    assert_non_null(bytes);
    memcpy(bytes, pre, 10);
    memcpy(bytes + 10, header, padded - 10);
    if (data_size) memcpy(bytes + padded, data, data_size);
    test_tmp_path(path, size, name);
    test_write_bytes(path, bytes, padded + data_size);
    free(bytes);
}

static void assert_error_names(clae_context *ctx, const char *what)
{
    const char *msg = clae_last_error(ctx);
    if (!strstr(msg, what))
        fail_msg("last error \"%s\" does not mention \"%s\"", msg, what);
}

/* Loading path fails with CLAE_ERR_INPUT, naming the file and `what`. */
static void assert_refused(clae_context *ctx, const char *path,
                           const char *what)
{
    clae_data *data = (clae_data *)1;
    assert_int_equal(clae_data_load(ctx, path, NULL, &data), CLAE_ERR_INPUT);
    assert_null(data);
    assert_error_names(ctx, path);
    assert_error_names(ctx, what);
}

/* ===== .npy ============================================================= */

/* clae_npy_write, then clae_data_load: the same floats, the shape kept
 * (N x H x W x C as an image), and numpy's layout (data at a multiple of
 * 64, the header ending in a newline). */
static void test_npy_round_trip(void **state)
{
    clae_context *ctx = test_context(state);
    enum { N = 3, H = 5, W = 4, C = 2, D = H * W * C };
    float x[N * D];
    test_fill(x, N * D, 7, -3.0f, 3.0f);
    x[5] = 1e-30f; /* subnormal-adjacent values survive bit for bit */
    char path[512];
    test_tmp_path(path, sizeof path, "images.npy");
    const uint64_t shape[] = {N, H, W, C};
    assert_int_equal(clae_npy_write(ctx, path, x, 4, shape), CLAE_SUCCESS);

    size_t size = 0;
    char *bytes = clae__read_file(path, &size);
    assert_non_null(bytes);
    size_t header_len = (unsigned char)bytes[8] | (unsigned char)bytes[9] << 8;
    assert_int_equal((10 + header_len) % 64, 0);
    assert_int_equal(bytes[10 + header_len - 1], '\n');
    assert_non_null(strstr(bytes + 10, "'shape': (3, 5, 4, 2)"));
    assert_int_equal(size, 10 + header_len + sizeof x);
    free(bytes);

    clae_data *data = NULL;
    assert_int_equal(clae_data_load(ctx, path, NULL, &data), CLAE_SUCCESS);
    assert_int_equal(data->n, N);
    assert_int_equal(data->d, D);
    assert_int_equal(data->height, H);
    assert_int_equal(data->width, W);
    assert_int_equal(data->channels, C);
    assert_true(data->scale == 1.0f);
    assert_memory_equal(data->x, x, sizeof x);
    clae_data_free(data);

    /* N x D: no image shape; (N,) keeps its comma, as Python writes it. */
    const uint64_t flat[] = {N, D};
    assert_int_equal(clae_npy_write(ctx, path, x, 2, flat), CLAE_SUCCESS);
    assert_int_equal(clae_data_load(ctx, path, NULL, &data), CLAE_SUCCESS);
    assert_int_equal(data->height, 0);
    assert_int_equal(data->d, D);
    clae_data_free(data);
    const uint64_t one[] = {N * D};
    assert_int_equal(clae_npy_write(ctx, path, x, 1, one), CLAE_SUCCESS);
    bytes = clae__read_file(path, &size);
    assert_non_null(strstr(bytes + 10, "'shape': (120,)"));
    free(bytes);
}

/* float64 and uint8 files: converted to float; uint8 scaled by 255 unless
 * a scale is given; N x H x W is a one-channel image. */
static void test_npy_dtypes(void **state)
{
    clae_context *ctx = test_context(state);
    char path[512];
    const double f8[6] = {0.5, -1.25, 3e10, 0.0, 1.0 / 3.0, -7.0};
    write_npy(path, sizeof path, "f8.npy",
              "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
              f8, sizeof f8);
    clae_data *data = NULL;
    assert_int_equal(clae_data_load(ctx, path, NULL, &data), CLAE_SUCCESS);
    assert_int_equal(data->n, 2);
    assert_int_equal(data->d, 3);
    for (int i = 0; i < 6; i++) assert_true(data->x[i] == (float)f8[i]);
    clae_data_free(data);

    const unsigned char u1[2 * 2 * 3] = {0, 255, 51, 102, 1, 2,
                                         3, 4,   5,  6,   7, 8};
    write_npy(path, sizeof path, "u1.npy",
              "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3), }",
              u1, sizeof u1);
    assert_int_equal(clae_data_load(ctx, path, NULL, &data), CLAE_SUCCESS);
    assert_int_equal(data->d, 6);
    assert_int_equal(data->height, 2);
    assert_int_equal(data->width, 3);
    assert_int_equal(data->channels, 1);
    assert_true(data->scale == 255.0f);
    for (int i = 0; i < 12; i++) assert_true(data->x[i] == u1[i] / 255.0f);
    clae_data_free(data);

    clae_data_options options = {.scale = 2.0f};
    assert_int_equal(clae_data_load(ctx, path, &options, &data), CLAE_SUCCESS);
    for (int i = 0; i < 12; i++) assert_true(data->x[i] == u1[i] / 2.0f);
    clae_data_free(data);
    options.scale = -1.0f;
    assert_int_equal(clae_data_load(ctx, path, &options, &data), CLAE_ERR_USAGE);
}

/* Every malformed .npy is refused with a message that names the problem. */
static void test_npy_bad_files(void **state)
{
    clae_context *ctx = test_context(state);
    static const struct {
        const char *name, *dict;
        size_t data_bytes;
        const char *what;
    } cases[] = {
        {"int.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }",
         16, "'<i4' is not supported"},
        {"big-endian.npy",
         "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", 16,
         "'>f4' is not supported"},
        {"fortran.npy",
         "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16,
         "Fortran order"},
        {"short.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
         16, "truncated"},
        {"long.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
         16, "past the data"},
        {"vector.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
         16, "1 dimensions"},
        {"zero.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }",
         0, "dimension 0 is zero"},
        {"shape.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 2], }",
         16, "shape is malformed"},
        {"no-shape.npy", "{'descr': '<f4', 'fortran_order': False, }", 16,
         "lacks"},
        {"huge.npy",
         "{'descr': '<f4', 'fortran_order': False, "
         "'shape': (4294967296, 4294967296), }",
         16, "more than"},
    };
    const float zeros[4] = {0};
    char path[512];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_npy(path, sizeof path, cases[i].name, cases[i].dict, zeros,
                  cases[i].data_bytes);
        assert_refused(ctx, path, cases[i].what);
    }

    /* A header cut short and a bad version. */
    unsigned char cut[] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 100, 0, '{'};
    test_tmp_path(path, sizeof path, "cut.npy");
    test_write_bytes(path, cut, sizeof cut);
    assert_refused(ctx, path, "truncated .npy header");
    cut[6] = 9;
    test_tmp_path(path, sizeof path, "version.npy");
    test_write_bytes(path, cut, sizeof cut);
    assert_refused(ctx, path, "version 9");
}

/* NaN or infinity anywhere is refused, naming the sample and feature. */
static void test_non_finite_values(void **state)
{
    clae_context *ctx = test_context(state);
    char path[512];
    float x[6] = {0, 1, 2, 3, NAN, 5};
    write_npy(path, sizeof path, "nan.npy",
              "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", x,
              sizeof x);
    assert_refused(ctx, path, "sample 1, feature 1 is NaN");
    x[4] = 4.0f;
    x[0] = INFINITY;
    write_npy(path, sizeof path, "inf.npy",
              "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", x,
              sizeof x);
    assert_refused(ctx, path, "sample 0, feature 0 is infinite");
}

/* ===== CSV ============================================================== */

static void write_text(char *path, size_t size, const char *name,
                       const char *text)
{
    test_tmp_path(path, size, name);
    test_write_bytes(path, text, strlen(text));
}

/* Rows of numbers, with or without a header line, quoted fields, blanks
 * around numbers, scientific notation and a missing final newline. */
static void test_csv_reads(void **state)
{
    clae_context *ctx = test_context(state);
    char path[512];
    const float want[6] = {1.0f, -2.5f, 3e-3f, 4.0f, 0.5f, 6.0f};
    const char *texts[] = {
        "1,-2.5,3e-3\n4,0.5,6\n",
        "a,b,c\n1,-2.5,3e-3\n4,0.5,6",
        "\"x 1\",\"x 2\",x3\r\n 1 ,\"-2.5\",3E-3\r\n4,.5,6\r\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        write_text(path, sizeof path, "good.csv", texts[i]);
        clae_data *data = NULL;
        assert_int_equal(clae_data_load(ctx, path, NULL, &data), CLAE_SUCCESS);
        assert_int_equal(data->n, 2);
        assert_int_equal(data->d, 3);
        assert_int_equal(data->height, 0);
        assert_true(data->scale == 1.0f);
        test_assert_close("csv", data->x, want, 6, 0.0f, 0.0f);
        clae_data_free(data);
    }
}

static void test_csv_bad_files(void **state)
{
    clae_context *ctx = test_context(state);
    static const struct {
        const char *text, *what;
    } cases[] = {
        {"1,2,3\n4,5\n", "row 2 has 2 fields, the rows before it 3"},
        {"1,2\n3,x\n", "row 2, field 2: 'x' is not a number"},
        {"1,2\n3,\n", "row 2, field 2: '' is not a number"},
        {"", "no rows of numbers"},
        {"a,b\n", "no rows of numbers after the header"},
        {"1,2\n1e999,3\n", "is not a number"},
        {"1,nan\n", "NaN"},
    };
    char path[512];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(path, sizeof path, "bad.csv", cases[i].text);
        assert_refused(ctx, path, cases[i].what);
    }
    test_tmp_path(path, sizeof path, "missing.csv");
    assert_refused(ctx, path, "No such file");
}

/* ===== PNG ============================================================== */

/* Reads a PNG (8-bit gray or RGB) with libpng into a malloc'ed array. */
static unsigned char *read_png(const char *path, unsigned *width,
                               unsigned *height, unsigned *channels)
{
    png_image image = {.version = PNG_IMAGE_VERSION};
    assert_true(png_image_begin_read_from_file(&image, path));
    *width = image.width;
    *height = image.height;
    *channels = image.format & PNG_FORMAT_FLAG_COLOR ? 3 : 1;
    image.format = *channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    unsigned char *pixels = malloc(PNG_IMAGE_SIZE(image));
    assert_non_null(pixels);
    assert_true(png_image_finish_read(&image, NULL, pixels, 0, NULL));
    return pixels;
}

/* A grid of 5 images 3x2 in 2 columns: 3 rows of tiles with 2-pixel gray
 * gaps; values clipped to [0, 1] and scaled to bytes; RGB kept. */
static void test_png_grid(void **state)
{
    clae_context *ctx = test_context(state);
    enum { H = 3, W = 2, N = 5 };
    float images[N * H * W];
    for (size_t i = 0; i < N * H * W; i++) images[i] = (float)i / 10.0f - 0.5f;
    images[7] = NAN;
    char path[512];
    test_tmp_path(path, sizeof path, "grid.png");
    clae_image_shape gray = {H, W, 1};
    assert_int_equal(clae_png_write_grid(ctx, path, images, N, &gray, 2),
                     CLAE_SUCCESS);
    unsigned width, height, channels;
    unsigned char *px = read_png(path, &width, &height, &channels);
    assert_int_equal(width, 2 + 2 * (W + 2));
    assert_int_equal(height, 2 + 3 * (H + 2));
    assert_int_equal(channels, 1);
    for (size_t i = 0; i < N; i++)
        for (size_t y = 0; y < H; y++)
            for (size_t x = 0; x < W; x++) {
                float v = images[(i * H + y) * W + x];
                int want = !(v > 0.0f) ? 0 : v >= 1.0f ? 255 : (int)(v * 255.0f + 0.5f);
                size_t top = 2 + (i / 2) * (H + 2), left = 2 + (i % 2) * (W + 2);
                assert_int_equal(px[(top + y) * width + left + x], want);
            }
    assert_int_equal(px[0], 128);                      /* a gap */
    assert_int_equal(px[(height - 1) * width + width - 1], 128); /* no 6th tile */
    free(px);

    clae_image_shape rgb = {1, 1, 3};
    const float colour[6] = {1.0f, 0.0f, 0.5f, 0.0f, 1.0f, 0.0f};
    assert_int_equal(clae_png_write_grid(ctx, path, colour, 2, &rgb, 2),
                     CLAE_SUCCESS);
    px = read_png(path, &width, &height, &channels);
    assert_int_equal(channels, 3);
    assert_int_equal(width, 2 + 2 * 3);
    const unsigned char *first = px + (2 * width + 2) * 3, *second = first + 3 * 3;
    assert_true(first[0] == 255 && first[1] == 0 && first[2] == 128);
    assert_true(second[0] == 0 && second[1] == 255 && second[2] == 0);
    free(px);

    clae_image_shape two = {1, 1, 2};
    assert_int_equal(clae_png_write_grid(ctx, path, colour, 3, &two, 2),
                     CLAE_ERR_USAGE);
}

/* The image shape of a model: its spec's, the data's, or a square. */
static void test_image_shape(void **state)
{
    clae_context *ctx = test_context(state);
    clae_model *m = NULL;
    clae_image_shape shape;
    assert_int_equal(clae_model_create(ctx, "input 4x2x3\ndense 5 relu\n"
                                            "dense 24 sigmoid\n", 1, &m),
                     CLAE_SUCCESS);
    assert_int_equal(clae_image_shape_of(m, NULL, &shape), CLAE_SUCCESS);
    assert_true(shape.height == 4 && shape.width == 2 && shape.channels == 3);
    clae_model_destroy(m);

    assert_int_equal(clae_model_create(ctx, "input 24\ndense 5 relu\n"
                                            "dense 24 sigmoid\n", 1, &m),
                     CLAE_SUCCESS);
    assert_int_equal(clae_image_shape_of(m, NULL, &shape), CLAE_ERR_USAGE);
    clae_data data = {.n = 1, .d = 24, .height = 2, .width = 4, .channels = 3};
    assert_int_equal(clae_image_shape_of(m, &data, &shape), CLAE_SUCCESS);
    assert_true(shape.height == 2 && shape.width == 4 && shape.channels == 3);
    clae_model_destroy(m);

    assert_int_equal(clae_model_create(ctx, "input 36\ndense 5 relu\n"
                                            "dense 36 sigmoid\n", 1, &m),
                     CLAE_SUCCESS);
    assert_int_equal(clae_image_shape_of(m, NULL, &shape), CLAE_SUCCESS);
    assert_true(shape.height == 6 && shape.width == 6 && shape.channels == 1);
    clae_model_destroy(m);
}

/* Whether any pixel of an RGB picture is within 10 of the colour. */
static int has_colour(const unsigned char *px, size_t count, int r, int g, int b)
{
    for (size_t i = 0; i < count; i++) {
        const unsigned char *p = px + 3 * i;
        if (abs(p[0] - r) < 10 && abs(p[1] - g) < 10 && abs(p[2] - b) < 10)
            return 1;
    }
    return 0;
}

/* A metrics CSV with an empty val_loss column reads as NaN; the loss chart
 * and the code scatter are 720 x 480 PNGs in the palette's colours. */
static void test_charts(void **state)
{
    clae_context *ctx = test_context(state);
    char path[512], png[512];
    test_tmp_path(path, sizeof path, "m.csv");
    const char *metrics = "epoch,train_loss,val_loss,seconds\n1,0.5,,1.0\n"
                          "2,0.4,0.45,1.0\n3,0.3,0.35,1.1\n";
    test_write_bytes(path, metrics, strlen(metrics));
    double *train, *val;
    size_t epochs;
    assert_int_equal(clae_metrics_load(ctx, path, &train, &val, &epochs),
                     CLAE_SUCCESS);
    assert_int_equal(epochs, 3);
    assert_true(train[0] == 0.5 && train[2] == (double)0.3f); /* read as float */
    assert_true(isnan(val[0]) && val[1] == (double)0.45f);
    test_tmp_path(png, sizeof png, "loss.png");
    assert_int_equal(clae_plot_losses(ctx, png, train, val, epochs), CLAE_SUCCESS);
    unsigned width, height, channels;
    unsigned char *px = read_png(png, &width, &height, &channels);
    assert_true(width == 720 && height == 480 && channels == 3);
    assert_true(has_colour(px, (size_t)width * height, 31, 120, 180)); /* train */
    assert_true(has_colour(px, (size_t)width * height, 255, 127, 14)); /* val */
    free(px);
    const double nan3[3] = {NAN, NAN, NAN};
    assert_int_equal(clae_plot_losses(ctx, png, nan3, NULL, 3), CLAE_ERR_INPUT);
    free(train);
    free(val);
    test_write_bytes(path, "1,2\n", 4);
    assert_int_equal(clae_metrics_load(ctx, path, &train, &val, &epochs),
                     CLAE_ERR_INPUT);

    const float points[6] = {0, 0, 1, 1, 2, -1};
    const int labels[3] = {0, 3, 3};
    test_tmp_path(png, sizeof png, "codes.png");
    assert_int_equal(clae_plot_codes(ctx, png, points, 3, labels, "code"),
                     CLAE_SUCCESS);
    px = read_png(png, &width, &height, &channels);
    assert_true(width == 720 && height == 480);
    assert_true(has_colour(px, (size_t)width * height, 214, 39, 40)); /* class 3 */
    assert_false(has_colour(px, (size_t)width * height, 44, 160, 44)); /* not 2 */
    free(px);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_round_trip),
        cmocka_unit_test(test_npy_dtypes),
        cmocka_unit_test(test_npy_bad_files),
        cmocka_unit_test(test_non_finite_values),
        cmocka_unit_test(test_csv_reads),
        cmocka_unit_test(test_csv_bad_files),
        cmocka_unit_test(test_png_grid),
        cmocka_unit_test(test_image_shape),
        cmocka_unit_test(test_charts),
    };
    return cmocka_run_group_tests(tests, test_open_tmp_context,
                                  test_close_tmp_context);
}
