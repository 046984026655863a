/* Randomness on the device (cl/noise.cl) against the host's Philox
 * (src/philox.c) and the references in tests/ref: raw words, uniform and
 * normal draws, input corruption and dropout, plus the distributions they
 * draw from. Batches are odd-sized (a partial last chunk) and read at
 * an offset. CLAE_TEST_SMALL=1 shrinks everything for the Oclgrind run. */
#include "philox.h"
#include "ref/ref.h"
#include "test_util.h"

static size_t rows_, cols_; /* the batch compared with the references */
static size_t draws_;       /* draws for the distribution tests */

/* Normal draws use the device's log, sqrt, sin and cos, which OpenCL 1.2
 * lets be off by 3, 3, 4 and 4 ulp (glibc's by about 1): compounded, about
 * 12 ulp of the draw (measured: at most 2.6 on PoCL, 1.8 on Oclgrind).
 * Allowed: 16 ulp, 2^-19 relative to std * z, plus the rounding of adding
 * the mean. */
#define NORMAL_RTOL 0x1p-19f

/* Asserts got[i] and want[i] = center[i] + s z (s z from the host) agree
 * to NORMAL_RTOL. */
static void assert_normal_close(const char *what, const float *got,
                                const float *want, const float *center,
                                size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float tol = NORMAL_RTOL * (fabsf(want[i] - center[i]) + fabsf(center[i]));
        if (!(fabsf(got[i] - want[i]) <= tol))
            fail_msg("%s[%zu]: got %.9g, want %.9g (tolerance %.3g)", what, i,
                     (double)got[i], (double)want[i], (double)tol);
    }
}

/* Counters of the stream: among them 64-bit seeds and blocks, and blocks
 * that carry into the block's high word. */
static const struct {
    uint64_t seed;
    uint32_t stream, substream;
    uint64_t first_block;
} bit_cases[] = {
    {0, 0, 0, 0},
    {42, CLAE_STREAM_NOISE, 7, 0},
    {42, CLAE_STREAM_DROPOUT, 7, 0},
    {0x123456789abcdef0ull, CLAE_STREAM_INIT, 0xffffffffu, 1000},
    {1ull << 32, CLAE_STREAM_NOISE, 3, 0xfffffff0ull},
    {UINT64_MAX, 0xffffffffu, 0xffffffffu, 0x0123456789abcdefull},
    {5, CLAE_STREAM_SHUFFLE, 1, UINT64_MAX - 40},
};

/* random_bits gives the host's words, block for block. */
static void test_bits_match_host(void **state)
{
    clae_context *ctx = test_context(state);
    enum { BLOCKS = 37 };
    uint32_t got[4 * BLOCKS], want[4];
    cl_mem out = test_upload(ctx, NULL, sizeof got);
    for (size_t k = 0; k < sizeof bit_cases / sizeof *bit_cases; k++) {
        assert_int_equal(clae__random_bits(ctx, out, BLOCKS, bit_cases[k].seed,
                                           bit_cases[k].stream,
                                           bit_cases[k].substream,
                                           bit_cases[k].first_block),
                         CLAE_SUCCESS);
        test_download(ctx, out, got, sizeof got);
        for (size_t b = 0; b < BLOCKS; b++) {
            clae__random_block(bit_cases[k].seed, bit_cases[k].stream,
                               bit_cases[k].substream,
                               bit_cases[k].first_block + b, want);
            for (size_t w = 0; w < 4; w++)
                if (got[4 * b + w] != want[w])
                    fail_msg("case %zu block %zu word %zu: 0x%08x, want "
                             "0x%08x", k, b, w, got[4 * b + w], want[w]);
        }
    }
    clReleaseMemObject(out);
}

/* Uniform draws equal the host's bit for bit, including [1, 2) at seed
 * 34399, whose draw 716 rounds up to 2 before it is kept below. */
static void test_uniform_matches_host(void **state)
{
    clae_context *ctx = test_context(state);
    static const struct {
        uint64_t seed;
        uint32_t substream;
        float lo, hi;
    } cases[] = {
        {7, 0, 0.0f, 1.0f},
        {42ull | 1ull << 32, 3, -2.0f, 3.0f},
        {34399, 0, 1.0f, 2.0f},
    };
    size_t n = 717 + rows_ * cols_;
    float *got = malloc(n * 4), *want = malloc(n * 4);
    cl_mem out = test_upload(ctx, NULL, n * 4);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        assert_int_equal(clae__random_uniform_device(
                             ctx, out, n, cases[k].seed, CLAE_STREAM_INIT,
                             cases[k].substream, cases[k].lo, cases[k].hi),
                         CLAE_SUCCESS);
        clae__random_uniform(want, n, cases[k].seed, CLAE_STREAM_INIT,
                             cases[k].substream, cases[k].lo, cases[k].hi);
        test_download(ctx, out, got, n * 4);
        test_assert_close("uniform", got, want, n, 0.0f, 0.0f);
    }
    clReleaseMemObject(out);
    free(got); free(want);
}

/* Normal draws equal the host's to NORMAL_RTOL, plain and shifted and
 * scaled as the initialisers use them. */
static void test_normal_matches_host(void **state)
{
    clae_context *ctx = test_context(state);
    static const struct {
        uint64_t seed;
        uint32_t stream, substream;
        float mean, std;
    } cases[] = {
        {1, CLAE_STREAM_NOISE, 0, 0.0f, 1.0f},
        {0xfeedface12345678ull, CLAE_STREAM_INIT, 9, 0.5f, 0.05f},
        {3, CLAE_STREAM_INIT, 0xffffffffu, -1.0f, 2.0f},
    };
    size_t n = rows_ * cols_;
    float *got = malloc(n * 4), *want = malloc(n * 4), *center = malloc(n * 4);
    cl_mem out = test_upload(ctx, NULL, n * 4);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        assert_int_equal(clae__random_normal_device(
                             ctx, out, n, cases[k].seed, cases[k].stream,
                             cases[k].substream, cases[k].mean, cases[k].std),
                         CLAE_SUCCESS);
        clae__random_normal(want, n, cases[k].seed, cases[k].stream,
                            cases[k].substream, cases[k].mean, cases[k].std);
        for (size_t i = 0; i < n; i++) center[i] = cases[k].mean;
        test_download(ctx, out, got, n * 4);
        assert_normal_close("normal", got, want, center, n);
    }
    clReleaseMemObject(out);
    free(got); free(want); free(center);
}

/* The mean and standard deviation of x (n). */
static void moments(const float *x, size_t n, double *mean, double *std)
{
    double sum = 0.0, squares = 0.0;
    for (size_t i = 0; i < n; i++) sum += x[i];
    *mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        squares += (x[i] - *mean) * (x[i] - *mean);
    *std = sqrt(squares / (double)(n - 1));
}

/* Asserts |value - want| <= 5 standard errors. */
static void assert_within(const char *what, double value, double want,
                          double standard_error)
{
    if (!(fabs(value - want) <= 5.0 * standard_error))
        fail_msg("%s = %.6f, want %.6f +- %.6f (5 standard errors)", what,
                 value, want, 5.0 * standard_error);
}

/* draws_ device draws have the moments of their distribution, to 5
 * standard errors: normal mean 0 (SE 1 / sqrt n: 0.0049 at 2^20), std 1
 * (SE 1 / sqrt 2n: 0.0035), uniform [0, 1) mean 1/2 (SE sqrt(1/12n):
 * 0.0014), std sqrt(1/12) (SE sqrt(1/180) / (2 sqrt(1/12) sqrt n):
 * 0.00063); 68.27 % of the normals within 1 std (SE 0.00045 / sqrt(n /
 * 2^20)); normal skewness 0 (SE sqrt(6 / n): 0.0024) and excess kurtosis
 * 0 (SE sqrt(24 / n): 0.0048). The normals are checked in the streams of
 * input noise and of a VAE's latent samples. */
static void test_device_moments(void **state)
{
    clae_context *ctx = test_context(state);
    double n = (double)draws_, mean, std;
    float *x = malloc(draws_ * 4);
    cl_mem out = test_upload(ctx, NULL, draws_ * 4);

    const uint32_t streams[] = {CLAE_STREAM_NOISE, CLAE_STREAM_LATENT};
    for (int s = 0; s < 2; s++) {
        assert_int_equal(clae__random_normal_device(ctx, out, draws_, 2024,
                                                    streams[s], 1, 0.0f, 1.0f),
                         CLAE_SUCCESS);
        test_download(ctx, out, x, draws_ * 4);
        moments(x, draws_, &mean, &std);
        assert_within("normal mean", mean, 0.0, 1.0 / sqrt(n));
        assert_within("normal std", std, 1.0, 1.0 / sqrt(2.0 * n));
        size_t inside = 0;
        double m3 = 0.0, m4 = 0.0;
        for (size_t i = 0; i < draws_; i++) {
            const double d = (x[i] - mean) / std;
            inside += fabsf(x[i]) < 1.0f;
            m3 += d * d * d;
            m4 += d * d * d * d;
        }
        const double p1 = 0.682689492;
        assert_within("normal share within 1 std", inside / n, p1,
                      sqrt(p1 * (1.0 - p1) / n));
        assert_within("normal skewness", m3 / n, 0.0, sqrt(6.0 / n));
        assert_within("normal excess kurtosis", m4 / n - 3.0, 0.0,
                      sqrt(24.0 / n));
    }

    assert_int_equal(clae__random_uniform_device(ctx, out, draws_, 2024,
                                                 CLAE_STREAM_NOISE, 1, 0.0f,
                                                 1.0f),
                     CLAE_SUCCESS);
    test_download(ctx, out, x, draws_ * 4);
    moments(x, draws_, &mean, &std);
    assert_within("uniform mean", mean, 0.5, sqrt(1.0 / 12.0 / n));
    assert_within("uniform std", std, sqrt(1.0 / 12.0),
                  sqrt(1.0 / 180.0) / (2.0 * sqrt(1.0 / 12.0)) / sqrt(n));
    clReleaseMemObject(out);
    free(x);
}

/* The corruption kinds, each with a typical amount. */
static const struct {
    clae_noise_kernel kind;
    float amount;
    const char *name;
} noise_cases[] = {
    {CLAE_NOISE_KERNEL_GAUSSIAN, 0.3f, "gaussian"},
    {CLAE_NOISE_KERNEL_MASK, 0.25f, "mask"},
    {CLAE_NOISE_KERNEL_SALT_PEPPER, 0.2f, "salt and pepper"},
};
#define NOISE_CASES (sizeof noise_cases / sizeof *noise_cases)

/* noisy (rows, cols) = corrupt(clean at off), downloaded into got. */
static void run_corrupt(clae_context *ctx, float *got, cl_mem clean,
                        size_t off, size_t rows, size_t cols,
                        clae_noise_kernel kind, float amount, uint32_t sub)
{
    cl_mem noisy = test_upload(ctx, NULL, rows * cols * 4);
    assert_int_equal(clae__corrupt(ctx, noisy, clean, off, rows, cols, kind,
                                   amount, 99, sub),
                     CLAE_SUCCESS);
    test_download(ctx, noisy, got, rows * cols * 4);
    clReleaseMemObject(noisy);
}

/* corrupt equals ref_corrupt for each kind, read at an offset: exactly for
 * mask and salt and pepper, to NORMAL_RTOL of the noise for gaussian. */
static void test_corrupt_matches_ref(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n = rows_ * cols_, off = 3 * cols_ + 5;
    float *clean = malloc((off + n) * 4), *got = malloc(n * 4),
          *want = malloc(n * 4);
    test_fill(clean, off + n, 81, 0.0f, 1.0f);
    cl_mem d_clean = test_upload(ctx, clean, (off + n) * 4);
    for (size_t k = 0; k < NOISE_CASES; k++) {
        run_corrupt(ctx, got, d_clean, off, rows_, cols_, noise_cases[k].kind,
                    noise_cases[k].amount, 12);
        ref_corrupt(want, clean + off, n, noise_cases[k].kind,
                    noise_cases[k].amount, 99, 12);
        if (noise_cases[k].kind == CLAE_NOISE_KERNEL_GAUSSIAN)
            assert_normal_close(noise_cases[k].name, got, want, clean + off, n);
        else
            test_assert_close(noise_cases[k].name, got, want, n, 0.0f, 0.0f);
    }
    clReleaseMemObject(d_clean);
    free(clean); free(got); free(want);
}

/* Over draws_ elements: mask zeroes a share p (SE sqrt(p (1 - p) / n));
 * salt and pepper replaces a share p, half of them by 1; gaussian noise has
 * mean 0 and std amount; another substream draws another mask. Clean
 * values lie in [0.25, 0.75), so no replacement leaves one unchanged. */
static void test_corrupt_distribution(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n = draws_;
    double dn = (double)n;
    float *clean = malloc(n * 4), *got = malloc(n * 4), *other = malloc(n * 4);
    test_fill(clean, n, 82, 0.25f, 0.75f);
    cl_mem d_clean = test_upload(ctx, clean, n * 4);

    const float p = 0.3f;
    run_corrupt(ctx, got, d_clean, 0, 1, n, CLAE_NOISE_KERNEL_MASK, p, 5);
    size_t zeros = 0, moved = 0, same = 0;
    for (size_t i = 0; i < n; i++) zeros += got[i] == 0.0f;
    assert_within("masked share", zeros / dn, p, sqrt(p * (1 - p) / dn));
    run_corrupt(ctx, other, d_clean, 0, 1, n, CLAE_NOISE_KERNEL_MASK, p, 6);
    for (size_t i = 0; i < n; i++) same += (got[i] == 0.0f) == (other[i] == 0.0f);
    /* Independent masks agree on p^2 + (1 - p)^2 = 58 % of elements. */
    assert_within("mask agreement across substreams", same / dn, 0.58,
                  sqrt(0.58 * 0.42 / dn));

    run_corrupt(ctx, got, d_clean, 0, 1, n, CLAE_NOISE_KERNEL_SALT_PEPPER, p,
                5);
    size_t ones = 0;
    for (size_t i = 0; i < n; i++) {
        moved += got[i] != clean[i];
        ones += got[i] == 1.0f;
    }
    assert_within("salt and pepper share", moved / dn, p,
                  sqrt(p * (1 - p) / dn));
    assert_within("salt among replaced", (double)ones / (double)moved, 0.5,
                  sqrt(0.25 / (double)moved));

    run_corrupt(ctx, got, d_clean, 0, 1, n, CLAE_NOISE_KERNEL_GAUSSIAN, 0.5f,
                5);
    for (size_t i = 0; i < n; i++) got[i] -= clean[i];
    double mean, std;
    moments(got, n, &mean, &std);
    assert_within("gaussian noise mean", mean, 0.0, 0.5 / sqrt(dn));
    assert_within("gaussian noise std", std, 0.5, 0.5 / sqrt(2.0 * dn));
    clReleaseMemObject(d_clean);
    free(clean); free(got); free(other);
}

/* Amounts 0 leave the input as it is; probability 1 replaces all of it. */
static void test_corrupt_extremes(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n = rows_ * cols_;
    float *clean = malloc(n * 4), *got = malloc(n * 4), *zeros = calloc(n, 4);
    test_fill(clean, n, 83, 0.25f, 0.75f);
    cl_mem d_clean = test_upload(ctx, clean, n * 4);
    for (size_t k = 0; k < NOISE_CASES; k++) {
        run_corrupt(ctx, got, d_clean, 0, rows_, cols_, noise_cases[k].kind,
                    0.0f, 1);
        test_assert_close(noise_cases[k].name, got, clean, n, 0.0f, 0.0f);
    }
    run_corrupt(ctx, got, d_clean, 0, rows_, cols_, CLAE_NOISE_KERNEL_MASK,
                1.0f, 1);
    test_assert_close("mask 1", got, zeros, n, 0.0f, 0.0f);
    run_corrupt(ctx, got, d_clean, 0, rows_, cols_,
                CLAE_NOISE_KERNEL_SALT_PEPPER, 1.0f, 1);
    for (size_t i = 0; i < n; i++)
        if (got[i] != 0.0f && got[i] != 1.0f)
            fail_msg("salt and pepper 1: [%zu] = %g", i, (double)got[i]);
    clReleaseMemObject(d_clean);
    free(clean); free(got); free(zeros);
}

/* Device results of one dropout round trip: forward from x at x_off, then
 * backward over g. */
typedef struct {
    float *a, *multiplier, *g;
} dropout_result;

static dropout_result run_dropout(clae_context *ctx, const float *x,
                                  size_t x_off, const float *g, size_t n,
                                  float p, uint32_t sub)
{
    dropout_result r = {malloc(n * 4), malloc(n * 4), calloc(n, 4)};
    /* The multiplier buffer starts written by the host (zeros, from r.g):
     * Oclgrind 21.10 otherwise calls the multipliers that dropout_forward
     * stores uninitialised when dropout_backward reads them, for the items
     * beyond those of an earlier, smaller launch (a false positive: the
     * values are right, and a lone launch of either size is clean). */
    cl_mem d_x = test_upload(ctx, x, (x_off + n) * 4),
           d_a = test_upload(ctx, NULL, n * 4),
           d_m = test_upload(ctx, r.g, n * 4), d_g = test_upload(ctx, g, n * 4);
    assert_int_equal(clae__dropout_forward(ctx, d_a, d_m, d_x, x_off, 1, n, p,
                                           77, sub),
                     CLAE_SUCCESS);
    assert_int_equal(clae__dropout_backward(ctx, d_g, d_m, 1, n), CLAE_SUCCESS);
    test_download(ctx, d_a, r.a, n * 4);
    test_download(ctx, d_m, r.multiplier, n * 4);
    test_download(ctx, d_g, r.g, n * 4);
    clReleaseMemObject(d_x); clReleaseMemObject(d_a);
    clReleaseMemObject(d_m); clReleaseMemObject(d_g);
    return r;
}

static void dropout_result_free(dropout_result *r)
{
    free(r->a); free(r->multiplier); free(r->g);
}

/* dropout_forward (x at an offset) and dropout_backward equal the
 * references exactly, for several p. */
static void test_dropout_matches_ref(void **state)
{
    clae_context *ctx = test_context(state);
    static const float ps[] = {0.0f, 0.1f, 0.5f, 0.9f};
    size_t n = rows_ * cols_, off = 2 * cols_ + 3;
    float *x = malloc((off + n) * 4), *g = malloc(n * 4), *a = malloc(n * 4),
          *m = malloc(n * 4), *want_g = malloc(n * 4);
    test_fill(x, off + n, 91, -2.0f, 2.0f);
    test_fill(g, n, 92, -1.0f, 1.0f);
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
        dropout_result r = run_dropout(ctx, x, off, g, n, ps[k], 4);
        ref_dropout_forward(a, m, x + off, n, ps[k], 77, 4);
        memcpy(want_g, g, n * 4);
        ref_dropout_backward(want_g, m, n);
        test_assert_close("multiplier", r.multiplier, m, n, 0.0f, 0.0f);
        test_assert_close("a", r.a, a, n, 0.0f, 0.0f);
        test_assert_close("g", r.g, want_g, n, 0.0f, 0.0f);
        dropout_result_free(&r);
    }
    free(x); free(g); free(a); free(m); free(want_g);
}

/* Over draws_ elements a share 1 - p is kept (SE sqrt(p (1 - p) / n)), and
 * exactly the kept elements pass forward and backward, scaled by 1 / (1 -
 * p); the others are 0 both ways. Forward in place (a = x) gives the same. */
static void test_dropout_keeps(void **state)
{
    clae_context *ctx = test_context(state);
    const float p = 0.4f, scale = 1.0f / (1.0f - p);
    size_t n = draws_, kept = 0;
    float *x = malloc(n * 4), *g = malloc(n * 4), *in_place = malloc(n * 4);
    test_fill(x, n, 93, 0.5f, 1.5f);
    test_fill(g, n, 94, 0.5f, 1.5f);
    dropout_result r = run_dropout(ctx, x, 0, g, n, p, 8);
    for (size_t i = 0; i < n; i++) {
        int keep = r.multiplier[i] != 0.0f;
        kept += keep;
        if (r.multiplier[i] != (keep ? scale : 0.0f) ||
            r.a[i] != (keep ? x[i] * scale : 0.0f) ||
            r.g[i] != (keep ? g[i] * scale : 0.0f))
            fail_msg("[%zu]: multiplier %g, a %g from %g, g %g from %g", i,
                     (double)r.multiplier[i], (double)r.a[i], (double)x[i],
                     (double)r.g[i], (double)g[i]);
    }
    assert_within("kept share", kept / (double)n, 1.0 - p,
                  sqrt(p * (1.0 - p) / (double)n));

    cl_mem d_x = test_upload(ctx, x, n * 4), d_m = test_upload(ctx, NULL, n * 4);
    assert_int_equal(clae__dropout_forward(ctx, d_x, d_m, d_x, 0, 1, n, p, 77,
                                           8),
                     CLAE_SUCCESS);
    test_download(ctx, d_x, in_place, n * 4);
    test_assert_close("in place", in_place, r.a, n, 0.0f, 0.0f);
    clReleaseMemObject(d_x);
    clReleaseMemObject(d_m);
    dropout_result_free(&r);
    free(x); free(g); free(in_place);
}

/* Amounts outside their range are usage errors, before any launch. */
static void test_rejects_bad_amounts(void **state)
{
    clae_context *ctx = test_context(state);
    cl_mem buf = test_upload(ctx, NULL, 64 * 4);
    static const struct {
        clae_noise_kernel kind;
        float amount;
    } bad[] = {
        {CLAE_NOISE_KERNEL_GAUSSIAN, -0.1f},
        {CLAE_NOISE_KERNEL_GAUSSIAN, NAN},
        {CLAE_NOISE_KERNEL_MASK, 1.5f},
        {CLAE_NOISE_KERNEL_SALT_PEPPER, -0.5f},
        {(clae_noise_kernel)7, 0.5f},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
        assert_int_equal(clae__corrupt(ctx, buf, buf, 0, 4, 8, bad[k].kind,
                                       bad[k].amount, 1, 0),
                         CLAE_ERR_USAGE);
    static const float bad_p[] = {1.0f, -0.1f, NAN};
    for (size_t k = 0; k < sizeof bad_p / sizeof *bad_p; k++)
        assert_int_equal(clae__dropout_forward(ctx, buf, buf, buf, 0, 4, 8,
                                               bad_p[k], 1, 0),
                         CLAE_ERR_USAGE);
    clReleaseMemObject(buf);
}

int main(void)
{
    int small = getenv("CLAE_TEST_SMALL") != NULL;
    rows_ = small ? 5 : 67;
    cols_ = small ? 37 : 301;
    draws_ = small ? (size_t)1 << 14 : (size_t)1 << 20;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bits_match_host),
        cmocka_unit_test(test_uniform_matches_host),
        cmocka_unit_test(test_normal_matches_host),
        cmocka_unit_test(test_device_moments),
        cmocka_unit_test(test_corrupt_matches_ref),
        cmocka_unit_test(test_corrupt_distribution),
        cmocka_unit_test(test_corrupt_extremes),
        cmocka_unit_test(test_dropout_matches_ref),
        cmocka_unit_test(test_dropout_keeps),
        cmocka_unit_test(test_rejects_bad_amounts),
    };
    return cmocka_run_group_tests_name("random", tests, test_open_context,
                                       test_close_context);
}
