/* The kernels of whole-row and per-feature layers against tests/ref:
 * softmax over rows and its backward pass, batch normalisation forward
 * (training and evaluation) and backward, the VAE's latent layer, the
 * sparse code's activity penalty. Shapes are odd on purpose;
 * CLAE_TEST_SMALL=1 shrinks them for the Oclgrind run. */
#include "test_util.h"
#include "ref/ref.h"

static size_t rows_, cols_;

/* softmax_rows normalises each row; its backward is y * (g - sum(g y)). */
static void test_softmax(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n = rows_ * cols_;
    float *a = malloc(n * 4), *g = malloc(n * 4), *got = malloc(n * 4),
          *want = malloc(n * 4);
    double *ref = malloc(n * sizeof *ref);
    test_fill(a, n, 81, -20.0f, 20.0f); /* exp overflows without the max */
    test_fill(g, n, 82, -1.0f, 1.0f);
    for (size_t i = 0; i < n; i++) ref[i] = a[i];
    ref_softmax_rows(ref, rows_, cols_);
    for (size_t i = 0; i < n; i++) want[i] = (float)ref[i];
    cl_mem da = test_upload(ctx, a, n * 4), dg = test_upload(ctx, g, n * 4);
    assert_int_equal(clae__softmax_rows(ctx, da, rows_, cols_), CLAE_SUCCESS);
    test_download(ctx, da, got, n * 4);
    test_assert_close("softmax", got, want, n, 1e-7f, 1e-5f);

    /* The backward pass from the device's own y. */
    assert_int_equal(clae__softmax_backward_rows(ctx, dg, da, rows_, cols_),
                     CLAE_SUCCESS);
    ref_softmax_backward_rows(g, got, rows_, cols_);
    test_download(ctx, dg, want, n * 4);
    test_assert_close("softmax backward", want, g, n, 1e-8f, 1e-5f);
    clReleaseMemObject(da);
    clReleaseMemObject(dg);
    free(a); free(g); free(got); free(want); free(ref);
}

/* Buffers of one batch-norm case: x at an offset, gamma/beta at an offset
 * of the parameters, running statistics at an offset of the state. */
typedef struct {
    float *x, *params, *state;
    clae_batchnorm_launch launch;
} bn_case;

enum { X_OFF = 3, GAMMA_OFF = 5, STATE_OFF = 2, GRAD_OFF = 4 };

static bn_case bn_make(clae_context *ctx, clae_act act, int training)
{
    size_t n = rows_ * cols_;
    bn_case c = {malloc((X_OFF + n) * 4), malloc((GAMMA_OFF + 2 * cols_) * 4),
                 malloc((STATE_OFF + 2 * cols_) * 4), {0}};
    test_fill(c.x, X_OFF + n, 83, -2.0f, 3.0f);
    test_fill(c.params, GAMMA_OFF + 2 * cols_, 84, 0.5f, 1.5f);
    test_fill(c.state, STATE_OFF + 2 * cols_, 85, 0.2f, 1.0f);
    c.launch = (clae_batchnorm_launch){
        .x = test_upload(ctx, c.x, (X_OFF + n) * 4),
        .xhat = test_upload(ctx, NULL, n * 4),
        .a = test_upload(ctx, NULL, n * 4),
        .params = test_upload(ctx, c.params, (GAMMA_OFF + 2 * cols_) * 4),
        .state = test_upload(ctx, c.state, (STATE_OFF + 2 * cols_) * 4),
        .invstd = test_upload(ctx, NULL, cols_ * 4),
        .x_off = X_OFF, .gamma_off = GAMMA_OFF, .state_off = STATE_OFF,
        .grad_off = GRAD_OFF, .rows = rows_, .cols = cols_,
        .training = training, .momentum = 0.1f, .eps = 1e-5f, .act = act,
    };
    return c;
}

static void bn_free(bn_case *c)
{
    cl_mem *mems[] = {&c->launch.x, &c->launch.xhat, &c->launch.a,
                      &c->launch.params, &c->launch.state, &c->launch.invstd,
                      &c->launch.g, &c->launch.grads, &c->launch.dx};
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (*mems[i]) clReleaseMemObject(*mems[i]);
    free(c->x); free(c->params); free(c->state);
}

/* Training: a against ref_batchnorm; running statistics moved by 0.1 of
 * the batch's mean and unbiased variance. */
static void test_batchnorm_forward_training(void **state)
{
    clae_context *ctx = test_context(state);
    const clae_act act = {CLAE_ACT_LEAKY_RELU, 0.1f};
    size_t n = rows_ * cols_;
    bn_case c = bn_make(ctx, act, 1);
    assert_int_equal(clae__batchnorm_forward(ctx, &c.launch), CLAE_SUCCESS);
    double *ref = malloc(n * sizeof *ref);
    float *want = malloc(n * 4), *got = malloc(n * 4),
          *got_state = malloc((STATE_OFF + 2 * cols_) * 4),
          *want_state = malloc(2 * cols_ * 4);
    for (size_t i = 0; i < n; i++) ref[i] = c.x[X_OFF + i];
    ref_batchnorm(ref, rows_, cols_, c.params + GAMMA_OFF,
                  c.params + GAMMA_OFF + cols_, act);
    for (size_t i = 0; i < n; i++) want[i] = (float)ref[i];
    test_download(ctx, c.launch.a, got, n * 4);
    test_assert_close("a", got, want, n, 1e-5f, 1e-5f);
    for (size_t col = 0; col < cols_; col++) {
        double mean = 0.0, var = 0.0;
        for (size_t r = 0; r < rows_; r++) mean += c.x[X_OFF + r * cols_ + col];
        mean /= (double)rows_;
        for (size_t r = 0; r < rows_; r++) {
            double d = c.x[X_OFF + r * cols_ + col] - mean;
            var += d * d;
        }
        var /= (double)(rows_ - 1);
        want_state[col] = (float)(0.9 * c.state[STATE_OFF + col] + 0.1 * mean);
        want_state[cols_ + col] =
            (float)(0.9 * c.state[STATE_OFF + cols_ + col] + 0.1 * var);
    }
    test_download(ctx, c.launch.state, got_state, (STATE_OFF + 2 * cols_) * 4);
    test_assert_close("running statistics", got_state + STATE_OFF, want_state,
                      2 * cols_, 1e-6f, 1e-5f);
    bn_free(&c);
    free(ref); free(want); free(got); free(got_state); free(want_state);
}

/* Evaluation normalises by the running statistics and leaves them. */
static void test_batchnorm_forward_eval(void **state)
{
    clae_context *ctx = test_context(state);
    const clae_act act = {CLAE_ACT_SIGMOID, 0.0f};
    size_t n = rows_ * cols_;
    bn_case c = bn_make(ctx, act, 0);
    assert_int_equal(clae__batchnorm_forward(ctx, &c.launch), CLAE_SUCCESS);
    float *want = malloc(n * 4), *got = malloc(n * 4);
    const float *gamma = c.params + GAMMA_OFF, *beta = gamma + cols_,
                *mean = c.state + STATE_OFF, *var = mean + cols_;
    for (size_t i = 0; i < n; i++) {
        size_t col = i % cols_;
        double h = (c.x[X_OFF + i] - mean[col]) / sqrt(var[col] + 1e-5);
        want[i] = (float)ref_activate(act, gamma[col] * h + beta[col]);
    }
    test_download(ctx, c.launch.a, got, n * 4);
    test_assert_close("a", got, want, n, 1e-6f, 1e-5f);
    float *got_state = malloc((STATE_OFF + 2 * cols_) * 4);
    test_download(ctx, c.launch.state, got_state, (STATE_OFF + 2 * cols_) * 4);
    test_assert_close("running statistics", got_state, c.state,
                      STATE_OFF + 2 * cols_, 0.0f, 0.0f);
    bn_free(&c);
    free(want); free(got); free(got_state);
}

/* Backward after a training forward: gamma's and beta's gradients and dx
 * against the closed form in double (from the device's own xhat and a). */
static void test_batchnorm_backward(void **state)
{
    clae_context *ctx = test_context(state);
    const clae_act act = {CLAE_ACT_TANH, 0.0f};
    size_t n = rows_ * cols_;
    bn_case c = bn_make(ctx, act, 1);
    float *g = malloc(n * 4), *xhat = malloc(n * 4), *a = malloc(n * 4),
          *invstd = malloc(cols_ * 4), *got = malloc(n * 4),
          *want = malloc(n * 4), *got_grads = malloc((GRAD_OFF + 2 * cols_) * 4),
          *want_grads = malloc(2 * cols_ * 4);
    test_fill(g, n, 86, -1.0f, 1.0f);
    assert_int_equal(clae__batchnorm_forward(ctx, &c.launch), CLAE_SUCCESS);
    c.launch.g = test_upload(ctx, g, n * 4);
    c.launch.grads = test_upload(ctx, NULL, (GRAD_OFF + 2 * cols_) * 4);
    c.launch.dx = test_upload(ctx, NULL, n * 4);
    assert_int_equal(clae__batchnorm_backward(ctx, &c.launch), CLAE_SUCCESS);
    test_download(ctx, c.launch.xhat, xhat, n * 4);
    test_download(ctx, c.launch.a, a, n * 4);
    test_download(ctx, c.launch.invstd, invstd, cols_ * 4);
    for (size_t col = 0; col < cols_; col++) {
        double sum_dy = 0.0, sum_dy_xhat = 0.0, gamma = c.params[GAMMA_OFF + col];
        for (size_t r = 0; r < rows_; r++) {
            size_t i = r * cols_ + col;
            double dy = g[i] * ref_act_derivative(act, a[i]);
            sum_dy += dy;
            sum_dy_xhat += dy * xhat[i];
        }
        want_grads[col] = (float)sum_dy_xhat;
        want_grads[cols_ + col] = (float)sum_dy;
        for (size_t r = 0; r < rows_; r++) {
            size_t i = r * cols_ + col;
            double dy = g[i] * ref_act_derivative(act, a[i]);
            want[i] = (float)(gamma * invstd[col] / (double)rows_ *
                              ((double)rows_ * dy - sum_dy - xhat[i] * sum_dy_xhat));
        }
    }
    test_download(ctx, c.launch.grads, got_grads, (GRAD_OFF + 2 * cols_) * 4);
    test_assert_close("gamma, beta grads", got_grads + GRAD_OFF, want_grads,
                      2 * cols_, 1e-5f, 1e-5f);
    test_download(ctx, c.launch.dx, got, n * 4);
    test_assert_close("dx", got, want, n, 1e-5f, 1e-4f);
    bn_free(&c);
    free(g); free(xhat); free(a); free(invstd); free(got); free(want);
    free(got_grads); free(want_grads);
}

/* latent_forward (sampled and not) and latent_backward against the
 * reference, over k = 19 latent units (a full chunk and a partial one),
 * the bias at an offset of the parameters and the KL at an offset. */
static void test_latent(void **state)
{
    clae_context *ctx = test_context(state);
    enum { K = 19, BIAS_OFF = 3, KL_OFF = 2 };
    const size_t rows = rows_, n = rows * K;
    float *stats = malloc(2 * n * 4), *want_stats = malloc(2 * n * 4),
          *params = malloc((BIAS_OFF + 2 * K) * 4), *eps = malloc(n * 4),
          *g = malloc(n * 4), *z = malloc(n * 4), *want_z = malloc(n * 4),
          *kl = malloc((KL_OFF + rows) * 4), *want_kl = malloc(rows * 4);
    test_fill(params, BIAS_OFF + 2 * K, 71, -1.0f, 1.0f);
    test_fill(eps, n, 72, -2.5f, 2.5f);
    test_fill(g, n, 73, -1.0f, 1.0f);
    cl_mem dp = test_upload(ctx, params, (BIAS_OFF + 2 * K) * 4),
           de = test_upload(ctx, eps, n * 4), dg = test_upload(ctx, g, n * 4),
           dz = test_upload(ctx, NULL, n * 4),
           dkl = test_upload(ctx, NULL, (KL_OFF + rows) * 4);
    for (int sample = 0; sample <= 1; sample++) {
        test_fill(stats, 2 * n, 74, -3.0f, 3.0f);
        memcpy(want_stats, stats, 2 * n * 4);
        cl_mem ds = test_upload(ctx, stats, 2 * n * 4);
        assert_int_equal(clae__latent_forward(ctx, ds, dp, BIAS_OFF, de, dz,
                                              dkl, KL_OFF, rows, K, sample),
                         CLAE_SUCCESS);
        ref_latent_forward(want_stats, params + BIAS_OFF, eps, want_z, want_kl,
                           rows, K, sample);
        test_download(ctx, ds, stats, 2 * n * 4);
        test_download(ctx, dz, z, n * 4);
        test_download(ctx, dkl, kl, (KL_OFF + rows) * 4);
        test_assert_close("latent stats", stats, want_stats, 2 * n, 0.0f, 0.0f);
        test_assert_close("latent z", z, want_z, n, 1e-6f, 1e-5f);
        test_assert_close("latent kl", kl + KL_OFF, want_kl, rows, 1e-5f, 1e-5f);
        if (sample) {
            assert_int_equal(clae__latent_backward(ctx, ds, de, dg, rows, K,
                                                   0.37f),
                             CLAE_SUCCESS);
            ref_latent_backward(want_stats, eps, g, rows, K, 0.37f);
            test_download(ctx, ds, stats, 2 * n * 4);
            test_assert_close("latent backward", stats, want_stats, 2 * n,
                              1e-6f, 1e-5f);
        }
        clReleaseMemObject(ds);
    }
    clReleaseMemObject(dp); clReleaseMemObject(de); clReleaseMemObject(dg);
    clReleaseMemObject(dz); clReleaseMemObject(dkl);
    free(stats); free(want_stats); free(params); free(eps); free(g); free(z);
    free(want_z); free(kl); free(want_kl);
}

/* activity_penalty adds the sparse code's penalty gradient to g and each
 * chunk's penalty after an offset, with l1 only, the KL term only, and
 * both; column 0's mean is below 0, which the KL term clamps. */
static void test_activity_penalty(void **state)
{
    clae_context *ctx = test_context(state);
    enum { OFF = 3 };
    const struct { float l1, rho, beta; } cases[] = {
        {0.3f, 0.05f, 0.0f}, {0.0f, 0.05f, 3.0f}, {0.3f, 0.05f, 3.0f}};
    const size_t n = rows_ * cols_, chunks = clae__chunks(cols_);
    float *a = malloc(n * 4), *g = malloc(n * 4), *want = malloc(n * 4),
          *sums = malloc((OFF + chunks) * 4), *want_sums = malloc(chunks * 4);
    double *ad = malloc(n * sizeof *ad);
    test_fill(a, n, 87, -0.1f, 0.5f);
    for (size_t r = 0; r < rows_; r++) a[r * cols_] = -0.25f;
    for (size_t i = 0; i < n; i++) ad[i] = a[i];
    cl_mem da = test_upload(ctx, a, n * 4);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        test_fill(g, n, 88, -1.0f, 1.0f);
        test_fill(sums, OFF + chunks, 89, -1.0f, 1.0f);
        cl_mem dg = test_upload(ctx, g, n * 4),
               ds = test_upload(ctx, sums, (OFF + chunks) * 4);
        assert_int_equal(clae__activity_penalty(ctx, da, dg, rows_, cols_,
                                                cases[k].l1, cases[k].rho,
                                                cases[k].beta, ds, OFF),
                         CLAE_SUCCESS);
        ref_activity_penalty(ad, rows_, cols_, cases[k].l1, cases[k].rho,
                             cases[k].beta, g, want_sums);
        test_download(ctx, dg, want, n * 4);
        test_assert_close("penalty gradient", want, g, n, 1e-6f, 1e-5f);
        float before[OFF];
        memcpy(before, sums, sizeof before);
        test_download(ctx, ds, sums, (OFF + chunks) * 4);
        test_assert_close("before the offset", sums, before, OFF, 0.0f, 0.0f);
        test_assert_close("penalty sums", sums + OFF, want_sums, chunks, 1e-6f,
                          1e-5f);
        clReleaseMemObject(dg);
        clReleaseMemObject(ds);
    }
    clReleaseMemObject(da);
    free(a); free(g); free(want); free(sums); free(want_sums); free(ad);
}

int main(void)
{
    int small = getenv("CLAE_TEST_SMALL") != NULL;
    rows_ = small ? 5 : 67;
    cols_ = small ? 37 : 301;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_batchnorm_forward_training),
        cmocka_unit_test(test_batchnorm_forward_eval),
        cmocka_unit_test(test_batchnorm_backward),
        cmocka_unit_test(test_latent),
        cmocka_unit_test(test_activity_penalty),
    };
    return cmocka_run_group_tests_name("layer kernels", tests,
                                       test_open_context, test_close_context);
}
