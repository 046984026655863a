/* The variational models' pictures: clae generate, interpolate and
 * manifold run as build/clae on a tiny VAE trained here, their PNGs read
 * back tile by tile against clae_generate, clae_interpolate and
 * clae_manifold, and those against clae_encode and clae_decode; the
 * commands' refusals (exit 2, one stderr line); and the normal quantile
 * the manifold's grid is built on. */
#include <png.h>

#include "test_run.h"
#include "test_util.h"

#include "philox.h"
#include "vae.h"

#define CLAE "./build/clae"

enum { ROWS = 400, D = 16, SIDE = 4, GAP = 2 };

/* A VAE with a 2-D latent space, trained by clae train; one with a 3-D
 * latent space and a plain autoencoder, untrained (they are only
 * refused). */
static const char vae_spec[] =
    "input 16\ndense 8 relu\nlatent 2 gaussian\ndense 16 sigmoid\nloss bce\n";
static const char vae3_spec[] =
    "input 16\ndense 8 relu\nlatent 3 gaussian\ndense 16 sigmoid\nloss bce\n";
static const char ae_spec[] = "input 16\ndense 8 relu\ndense 16 sigmoid\n";

/* ---- fixtures ------------------------------------------------------------ */

/* Paths in the scratch directory, one static buffer each. */
static char data_path[512], vae_path[512], vae3_path[512], ae_path[512];

/* ROWS samples of a two-parameter family, waves of random frequency and
 * phase in [0, 1]: something a 2-D latent space can hold. */
static void write_data(clae_context *ctx)
{
    float *x = malloc(ROWS * D * sizeof *x);
    assert_non_null(x);
    uint32_t s = 7;
    for (size_t i = 0; i < ROWS; i++) {
        float a = test_uniform(&s, 0.0f, 3.0f), b = test_uniform(&s, 0.0f, 6.3f);
        for (size_t j = 0; j < D; j++)
            x[i * D + j] = 0.5f + 0.5f * sinf(a * (float)j / 3.0f + b);
    }
    const uint64_t shape[2] = {ROWS, D};
    assert_int_equal(clae_npy_write(ctx, data_path, x, 2, shape), CLAE_SUCCESS);
    free(x);
}

/* Saves an untrained model of spec at path. */
static void save_untrained(clae_context *ctx, const char *spec,
                           const char *path)
{
    clae_model *m = NULL;
    assert_int_equal(clae_model_create(ctx, spec, 1, &m), CLAE_SUCCESS);
    assert_int_equal(clae_model_save(m, path), CLAE_SUCCESS);
    clae_model_destroy(m);
}

static int group_setup(void **state)
{
    if (test_open_tmp_context(state)) return -1;
    run_capture_dir = test_tmp_root;
    if (access(CLAE, X_OK) != 0) {
        fprintf(stderr, "%s missing: run `make all` from the project root "
                        "first\n", CLAE);
        return -1;
    }
    if (!*state) return 0; /* the tests skip */
    clae_context *ctx = *state;
    char spec_path[512];
    test_tmp_path(data_path, sizeof data_path, "waves.npy");
    test_tmp_path(vae_path, sizeof vae_path, "vae.safetensors");
    test_tmp_path(vae3_path, sizeof vae3_path, "vae3.safetensors");
    test_tmp_path(ae_path, sizeof ae_path, "ae.safetensors");
    test_tmp_path(spec_path, sizeof spec_path, "vae.spec");
    write_data(ctx);
    test_write_bytes(spec_path, vae_spec, strlen(vae_spec));
    const run_result *r = RUN(CLAE, "train", "--data", data_path, "--model",
                              spec_path, "--epochs", "5", "--batch-size",
                              "32", "--save", vae_path);
    if (r->status != 0) {
        fprintf(stderr, "clae train failed:\n%s%s", r->out, r->err);
        return -1;
    }
    save_untrained(ctx, vae3_spec, vae3_path);
    save_untrained(ctx, ae_spec, ae_path);
    return 0;
}

static int group_teardown(void **state)
{
    free(last.out);
    free(last.err);
    return test_close_tmp_context(state);
}

static clae_model *load_model(clae_context *ctx, const char *path)
{
    clae_model *m = NULL;
    if (clae_model_load(ctx, path, &m) != CLAE_SUCCESS)
        fail_msg("%s: %s", path, clae_last_error(ctx));
    return m;
}

static clae_data *load_data(clae_context *ctx)
{
    clae_data *data = NULL;
    assert_int_equal(clae_data_load(ctx, data_path, NULL, &data), CLAE_SUCCESS);
    assert_int_equal(data->n, ROWS);
    return data;
}

/* out (n x D) = clae_decode of n codes of width k. */
static float *decode_codes(clae_model *m, const float *codes, size_t n,
                           size_t k)
{
    float *copy = malloc(n * k * sizeof *copy), *out = NULL;
    assert_non_null(copy);
    memcpy(copy, codes, n * k * sizeof *copy);
    const clae_data view = {.n = n, .d = k, .x = copy, .scale = 1.0f,
                            .value_bytes = 4};
    assert_int_equal(clae_decode(m, &view, 256, &out), CLAE_SUCCESS);
    free(copy);
    return out;
}

/* ---- PNGs ------------------------------------------------------------------ */

/* A grayscale PNG read with libpng; *width and *height its size. */
static unsigned char *read_png(const char *path, unsigned *width,
                               unsigned *height)
{
    png_image image = {.version = PNG_IMAGE_VERSION};
    if (!png_image_begin_read_from_file(&image, path))
        fail_msg("%s: not a PNG (%s)", path, image.message);
    assert_false(image.format & PNG_FORMAT_FLAG_COLOR);
    *width = image.width;
    *height = image.height;
    image.format = PNG_FORMAT_GRAY;
    unsigned char *pixels = malloc(PNG_IMAGE_SIZE(image));
    assert_non_null(pixels);
    assert_true(png_image_finish_read(&image, NULL, pixels, 0, NULL));
    return pixels;
}

/* Asserts that tile `index` of a grid `columns` tiles wide (SIDE x SIDE
 * tiles, GAP pixels apart, as clae_png_write_grid draws them) shows image
 * (D values in [0, 1]) to within one grey level. */
static void expect_tile(const unsigned char *pixels, unsigned width,
                        size_t columns, size_t index, const float *image)
{
    const size_t top = GAP + (index / columns) * (SIDE + GAP),
                 left = GAP + (index % columns) * (SIDE + GAP);
    for (size_t y = 0; y < SIDE; y++)
        for (size_t x = 0; x < SIDE; x++) {
            float v = image[y * SIDE + x];
            int want = (int)(fminf(fmaxf(v, 0.0f), 1.0f) * 255.0f + 0.5f),
                got = pixels[(top + y) * width + left + x];
            if (abs(got - want) > 1)
                fail_msg("tile %zu pixel (%zu, %zu): %d, want %d", index, y,
                         x, got, want);
        }
}

/* ---- the normal quantile ------------------------------------------------- */

/* Phi^-1 matches known values (mpmath's at the doubles nearest these p,
 * to 1e-12 where 1e-6 is asked),
 * inverts Phi over (0, 1) and deep into the tails, is odd about 1/2, and
 * gives the infinities at 0 and 1 and NaN outside. */
static void test_normal_quantile(void **state)
{
    (void)state;
    static const struct {
        double p, x;
    } known[] = {
        {0.05, -1.6448536269514727},   {0.5, 0.0},
        {0.975, 1.9599639845400539},   {0.95, 1.6448536269514723},
        {0.0125, -2.2414027276049454}, {1e-10, -6.3613409024040562},
        {0.999999, 4.7534243088170878},
    };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        double got = clae__normal_quantile(known[i].p);
        if (!(fabs(got - known[i].x) <= 1e-12 * (1.0 + fabs(known[i].x))))
            fail_msg("Phi^-1(%g) = %.17g, want %.17g", known[i].p, got,
                     known[i].x);
    }
    assert_true(fabs(clae__normal_quantile(0.05) + 1.6448536) < 1e-6);
    assert_true(fabs(clae__normal_quantile(0.975) - 1.9599640) < 1e-6);
    /* Down to 1e-300: x itself rounded to double moves Phi(x) by up to
     * about x^2 1.1e-16 relative there (x = -37). */
    for (double p = 1e-300; p < 0.5; p *= 3.7) {
        double x = clae__normal_quantile(p), phi = 0.5 * erfc(-x / sqrt(2.0));
        if (!(fabs(phi - p) <= 1e-12 * p))
            fail_msg("Phi(Phi^-1(%g)) = %.17g", p, phi);
        /* 1 - p is p's mirror to within 1e-16, which moves x by 1e-16 /
         * phi(x): tight only away from the far tail. */
        if (p >= 1e-3)
            assert_true(fabs(clae__normal_quantile(1.0 - p) + x) <= 1e-12);
    }
    for (int i = 1; i < 100; i++) {
        double p = i / 100.0, x = clae__normal_quantile(p);
        assert_true(fabs(0.5 * erfc(-x / sqrt(2.0)) - p) <= 1e-14);
    }
    assert_true(isinf(clae__normal_quantile(0.0)) &&
                clae__normal_quantile(0.0) < 0);
    assert_true(isinf(clae__normal_quantile(1.0)) &&
                clae__normal_quantile(1.0) > 0);
    assert_true(isnan(clae__normal_quantile(-0.1)));
    assert_true(isnan(clae__normal_quantile(1.5)));
    assert_true(isnan(clae__normal_quantile(NAN)));
}

/* ---- generate -------------------------------------------------------------- */

/* generate draws a square-ish grid of samples that clae_generate decodes
 * from Philox's normals; a seed gives the same file byte for byte, another
 * seed another file; plain autoencoders and bad counts are refused. */
static void test_generate(void **state)
{
    clae_context *ctx = test_context(state);
    char a[512], b[512], c[512];
    test_tmp_path(a, sizeof a, "gen_a.png");
    test_tmp_path(b, sizeof b, "gen_b.png");
    test_tmp_path(c, sizeof c, "gen_c.png");
    const run_result *r = RUN(CLAE, "generate", "--load", vae_path, "--n",
                              "10", "--seed", "5", "--out", a);
    expect_exit(r, 0);
    expect_contains(r->out, "10 samples (4x4, grayscale)");
    r = RUN(CLAE, "generate", "--load", vae_path, "--n", "10", "--seed", "5",
            "--out", b, "--batch-size", "3");
    expect_exit(r, 0);
    r = RUN(CLAE, "generate", "--load", vae_path, "--n", "10", "--seed", "6",
            "--out", c);
    expect_exit(r, 0);

    size_t size_a, size_b, size_c;
    char *file_a = read_whole(a, &size_a), *file_b = read_whole(b, &size_b),
         *file_c = read_whole(c, &size_c);
    assert_true(file_a && file_b && file_c);
    assert_true(size_a == size_b && memcmp(file_a, file_b, size_a) == 0);
    assert_false(size_a == size_c && memcmp(file_a, file_c, size_a) == 0);
    free(file_a);
    free(file_b);
    free(file_c);

    /* 10 samples: 4 columns (ceil sqrt 10), 3 rows of 4x4 tiles. */
    unsigned width, height;
    unsigned char *pixels = read_png(a, &width, &height);
    assert_int_equal(width, GAP + 4 * (SIDE + GAP));
    assert_int_equal(height, GAP + 3 * (SIDE + GAP));

    /* The codes are seed 5's normals of the generate stream; the images
     * their decodes, which the picture shows. */
    clae_model *m = load_model(ctx, vae_path);
    float *codes = NULL, *images = NULL, want[10 * 2];
    assert_int_equal(clae_generate(m, 10, 5, 4, &codes, &images), CLAE_SUCCESS);
    clae__random_normal(want, 10 * 2, 5, CLAE_STREAM_GENERATE, 0, 0.0f, 1.0f);
    assert_memory_equal(codes, want, sizeof want);
    float *decoded = decode_codes(m, codes, 10, 2);
    test_assert_close("generated", images, decoded, 10 * D, 1e-5f, 1e-5f);
    for (size_t i = 0; i < 10; i++)
        expect_tile(pixels, width, 4, i, images + i * D);
    /* Without codes asked for, the same images. */
    float *again = NULL;
    assert_int_equal(clae_generate(m, 10, 5, 256, NULL, &again), CLAE_SUCCESS);
    test_assert_close("again", again, images, 10 * D, 1e-5f, 1e-5f);
    free(again);
    free(decoded);
    free(codes);
    free(images);
    free(pixels);
    assert_int_equal(clae_generate(m, 0, 5, 4, NULL, &images), CLAE_ERR_USAGE);
    assert_null(images);
    clae_model_destroy(m);

    /* A plain autoencoder has no prior to draw from. */
    char refused[512];
    test_tmp_path(refused, sizeof refused, "gen_refused.png");
    r = RUN(CLAE, "generate", "--load", ae_path, "--out", refused);
    expect_usage_error(r, "not a variational model");
    expect_contains(r->err, ae_path);
    assert_int_not_equal(access(refused, F_OK), 0);
    m = load_model(ctx, ae_path);
    assert_int_equal(clae_generate(m, 4, 0, 4, NULL, &images), CLAE_ERR_USAGE);
    assert_null(images);
    clae_model_destroy(m);
    r = RUN(CLAE, "generate", "--load", vae_path, "--out", refused, "--n", "0");
    expect_usage_error(r, "--n");
    r = RUN(CLAE, "generate", "--load", vae_path, "--out", refused, "--seed",
            "x");
    expect_usage_error(r, "--seed");
    r = RUN(CLAE, "generate", "--load", vae_path);
    expect_usage_error(r, "--out");
    assert_int_not_equal(access(refused, F_OK), 0);
}

/* ---- interpolate ------------------------------------------------------------ */

/* interpolate draws one row: sample I, the decodes of `steps` codes from
 * I's latent mean to J's, sample J. The first and last codes are the two
 * samples' encodings and decode as those do; the ones between lie on the
 * line. Out-of-range samples, one step and plain autoencoders are
 * refused. */
static void test_interpolate(void **state)
{
    clae_context *ctx = test_context(state);
    enum { FROM = 3, TO = 17, STEPS = 6 };
    char out[512];
    test_tmp_path(out, sizeof out, "interp.png");
    const run_result *r = RUN(CLAE, "interpolate", "--load", vae_path,
                              "--data", data_path, "--from", "3", "--to", "17",
                              "--steps", "6", "--out", out);
    expect_exit(r, 0);
    expect_contains(r->out, "samples 3 and 17");
    unsigned width, height;
    unsigned char *pixels = read_png(out, &width, &height);
    assert_int_equal(width, GAP + (STEPS + 2) * (SIDE + GAP));
    assert_int_equal(height, GAP + SIDE + GAP);

    clae_model *m = load_model(ctx, vae_path);
    clae_data *data = load_data(ctx);
    float *codes = NULL, *images = NULL, *means = NULL;
    assert_int_equal(clae_interpolate(m, data, FROM, TO, STEPS, 256, &codes,
                                      &images),
                     CLAE_SUCCESS);
    assert_int_equal(clae_encode(m, data, 256, &means), CLAE_SUCCESS);
    const float *a = means + FROM * 2, *b = means + TO * 2;
    test_assert_close("first code", codes, a, 2, 1e-6f, 1e-5f);
    test_assert_close("last code", codes + (STEPS - 1) * 2, b, 2, 1e-6f, 1e-5f);
    /* The ends apart: the row is not one image repeated. */
    assert_true(fabsf(a[0] - b[0]) + fabsf(a[1] - b[1]) > 1e-3f);
    for (size_t i = 0; i < STEPS; i++) {
        float t = (float)i / (STEPS - 1), on_line[2];
        for (size_t j = 0; j < 2; j++)
            on_line[j] = (1.0f - t) * codes[j] + t * codes[(STEPS - 1) * 2 + j];
        test_assert_close("code on the line", codes + i * 2, on_line, 2, 1e-6f,
                          1e-6f);
    }
    /* The end images are the decodes of the two samples' encodings. */
    float ends[4] = {a[0], a[1], b[0], b[1]};
    float *decoded = decode_codes(m, ends, 2, 2);
    test_assert_close("first image", images, decoded, D, 1e-5f, 1e-4f);
    test_assert_close("last image", images + (STEPS - 1) * D, decoded + D, D,
                      1e-5f, 1e-4f);
    /* The picture: the originals at the ends, the decodes between. */
    expect_tile(pixels, width, STEPS + 2, 0, data->x + FROM * D);
    for (size_t i = 0; i < STEPS; i++)
        expect_tile(pixels, width, STEPS + 2, i + 1, images + i * D);
    expect_tile(pixels, width, STEPS + 2, STEPS + 1, data->x + TO * D);
    free(decoded);
    free(means);
    free(codes);
    free(images);
    free(pixels);

    assert_int_equal(clae_interpolate(m, data, FROM, ROWS, STEPS, 256, NULL,
                                      &images),
                     CLAE_ERR_USAGE);
    assert_int_equal(clae_interpolate(m, data, FROM, TO, 1, 256, NULL, &images),
                     CLAE_ERR_USAGE);
    assert_null(images);
    clae_model_destroy(m);
    m = load_model(ctx, ae_path);
    assert_int_equal(clae_interpolate(m, data, FROM, TO, STEPS, 256, NULL,
                                      &images),
                     CLAE_ERR_USAGE);
    clae_model_destroy(m);
    clae_data_free(data);

    char refused[512];
    test_tmp_path(refused, sizeof refused, "interp_refused.png");
    r = RUN(CLAE, "interpolate", "--load", vae_path, "--data", data_path,
            "--from", "3", "--to", "400", "--out", refused);
    expect_usage_error(r, "--to 400");
    expect_contains(r->err, "400 samples");
    r = RUN(CLAE, "interpolate", "--load", vae_path, "--data", data_path,
            "--from", "3", "--to", "4", "--steps", "1", "--out", refused);
    expect_usage_error(r, "--steps");
    r = RUN(CLAE, "interpolate", "--load", vae_path, "--data", data_path,
            "--to", "4", "--out", refused);
    expect_usage_error(r, "--from");
    r = RUN(CLAE, "interpolate", "--load", ae_path, "--data", data_path,
            "--from", "3", "--to", "4", "--out", refused);
    expect_usage_error(r, "not a variational model");
    assert_int_not_equal(access(refused, F_OK), 0);
}

/* ---- manifold ------------------------------------------------------------------ */

/* manifold draws n x n decodes of the codes (Phi^-1(p_c), Phi^-1(p_(n-1-r)))
 * at row r, column c, p evenly spaced in [0.05, 0.95]; a 3-D latent space
 * and a plain autoencoder are refused. */
static void test_manifold(void **state)
{
    clae_context *ctx = test_context(state);
    enum { N = 5 };
    char out[512];
    test_tmp_path(out, sizeof out, "manifold.png");
    const run_result *r = RUN(CLAE, "manifold", "--load", vae_path, "--n", "5",
                              "--out", out);
    expect_exit(r, 0);
    expect_contains(r->out, "5 x 5 images");
    unsigned width, height;
    unsigned char *pixels = read_png(out, &width, &height);
    assert_int_equal(width, GAP + N * (SIDE + GAP));
    assert_int_equal(height, GAP + N * (SIDE + GAP));

    clae_model *m = load_model(ctx, vae_path);
    float *codes = NULL, *images = NULL;
    assert_int_equal(clae_manifold(m, N, 7, &codes, &images), CLAE_SUCCESS);
    /* The corners: (-1.645, 1.645) at the top left, (1.645, -1.645) at the
     * bottom right. */
    assert_true(fabsf(codes[0] + 1.6448536f) < 1e-6f);
    assert_true(fabsf(codes[1] - 1.6448536f) < 1e-6f);
    assert_true(fabsf(codes[2 * (N * N - 1)] - 1.6448536f) < 1e-6f);
    assert_true(fabsf(codes[2 * (N * N - 1) + 1] + 1.6448536f) < 1e-6f);
    for (size_t row = 0; row < N; row++)
        for (size_t col = 0; col < N; col++) {
            const float *z = codes + 2 * (row * N + col);
            float want[2] = {
                (float)clae__normal_quantile(0.05 + 0.9 * col / (N - 1)),
                (float)clae__normal_quantile(0.05 + 0.9 * (N - 1 - row) /
                                                        (N - 1))};
            test_assert_close("manifold code", z, want, 2, 1e-6f, 1e-6f);
        }
    assert_true(fabsf(codes[2 * (2 * N + 2)]) < 1e-6f); /* the middle: 0 */
    float *decoded = decode_codes(m, codes, N * N, 2);
    test_assert_close("manifold", images, decoded, N * N * D, 1e-5f, 1e-4f);
    for (size_t i = 0; i < N * N; i++)
        expect_tile(pixels, width, N, i, images + i * D);
    free(decoded);
    free(codes);
    free(images);
    free(pixels);
    /* One image: p = 0.05 alone, as numpy's linspace gives it. */
    assert_int_equal(clae_manifold(m, 1, 7, &codes, &images), CLAE_SUCCESS);
    assert_true(fabsf(codes[0] + 1.6448536f) < 1e-6f &&
                fabsf(codes[1] + 1.6448536f) < 1e-6f);
    free(codes);
    free(images);
    clae_model_destroy(m);

    char refused[512];
    test_tmp_path(refused, sizeof refused, "manifold_refused.png");
    r = RUN(CLAE, "manifold", "--load", vae3_path, "--out", refused);
    expect_usage_error(r, "3 dimensions");
    expect_contains(r->err, "2-D");
    m = load_model(ctx, vae3_path);
    assert_int_equal(clae_manifold(m, N, 7, NULL, &images), CLAE_ERR_USAGE);
    assert_null(images);
    clae_model_destroy(m);
    r = RUN(CLAE, "manifold", "--load", ae_path, "--out", refused);
    expect_usage_error(r, "not a variational model");
    r = RUN(CLAE, "manifold", "--load", vae_path, "--out", refused, "--n",
            "0");
    expect_usage_error(r, "--n");
    assert_int_not_equal(access(refused, F_OK), 0);
}

/* Reads n scores from a clae score CSV (index,score rows after a header). */
static void read_scores(const char *path, float *scores, size_t n)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[128];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "index,score\n");
    for (size_t i = 0; i < n; i++) {
        unsigned index;
        assert_int_equal(fscanf(f, "%u,%f\n", &index, &scores[i]), 2);
        assert_int_equal(index, i);
    }
    fclose(f);
}

/* score --elbo: each sample's reconstruction score plus its KL divergence,
 * the same as clae_score_elbo; a plain autoencoder is refused. */
static void test_score_elbo(void **state)
{
    clae_context *ctx = test_context(state);
    char plain[512], elbo[512];
    test_tmp_path(plain, sizeof plain, "scores.csv");
    test_tmp_path(elbo, sizeof elbo, "elbo.csv");
    const run_result *r = RUN(CLAE, "score", "--load", vae_path, "--data",
                              data_path, "--out", plain);
    expect_exit(r, 0);
    r = RUN(CLAE, "score", "--load", vae_path, "--data", data_path, "--out",
            elbo, "--elbo");
    expect_exit(r, 0);
    float *by_plain = malloc(ROWS * sizeof *by_plain),
          *by_elbo = malloc(ROWS * sizeof *by_elbo), *want = NULL;
    read_scores(plain, by_plain, ROWS);
    read_scores(elbo, by_elbo, ROWS);
    clae_model *m = load_model(ctx, vae_path);
    clae_data *data = load_data(ctx);
    assert_int_equal(clae_score_elbo(m, data, 64, &want), CLAE_SUCCESS);
    for (size_t i = 0; i < ROWS; i++) {
        assert_true(by_elbo[i] > by_plain[i]);
        assert_true(fabsf(by_elbo[i] - want[i]) <= 1e-5f * fabsf(want[i]));
    }
    r = RUN(CLAE, "score", "--load", ae_path, "--data", data_path, "--out",
            elbo, "--elbo");
    expect_usage_error(r, "variational");
    free(by_plain);
    free(by_elbo);
    free(want);
    clae_data_free(data);
    clae_model_destroy(m);
}

/* Each command has its --help, and clae --help lists them. */
static void test_help(void **state)
{
    (void)state;
    static const char *const commands[] = {"generate", "interpolate",
                                           "manifold"};
    for (size_t i = 0; i < 3; i++) {
        const run_result *r = RUN(CLAE, commands[i], "--help");
        expect_exit(r, 0);
        char want[64];
        snprintf(want, sizeof want, "usage: clae %s", commands[i]);
        expect_contains(r->out, want);
        assert_string_equal(r->err, "");
    }
    const run_result *r = RUN(CLAE, "--help");
    expect_exit(r, 0);
    for (size_t i = 0; i < 3; i++) expect_contains(r->out, commands[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal_quantile),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_interpolate),
        cmocka_unit_test(test_manifold),
        cmocka_unit_test(test_score_elbo),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests_name("vae_cli", tests, group_setup,
                                       group_teardown);
}
