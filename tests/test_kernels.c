/* Each own kernel of cl/ against its plain-C reference in tests/ref, on
 * random inputs. Shapes are odd on purpose (not multiples of any work-group
 * size). CLAE_TEST_SMALL=1 shrinks them for the Oclgrind run. */
#include "test_util.h"
#include "optim.h"
#include "ref/ref.h"

static size_t rows_, cols_;

/* Elementwise float32 kernels differ from the double reference by a few
 * ulps of exp/log/tanh: 1e-6 absolute plus 1e-5 relative. */
#define ATOL 1e-6f
#define RTOL 1e-5f

/* The element-wise activations, with parameters off their defaults. */
static const clae_act all_activations[] = {
    {CLAE_ACT_LINEAR, 0.0f},     {CLAE_ACT_RELU, 0.0f},
    {CLAE_ACT_SIGMOID, 0.0f},    {CLAE_ACT_TANH, 0.0f},
    {CLAE_ACT_LEAKY_RELU, 0.2f}, {CLAE_ACT_ELU, 0.7f}};
#define ACTIVATIONS (sizeof all_activations / sizeof *all_activations)

/* bias_act_forward adds the bias in place and applies each activation;
 * the bias has an entry per column (dense) or repeats every 3 or 24
 * columns (a convolution's channels; 24 makes some chunks of 16 straddle
 * a repeat and some not). */
static void test_bias_act_forward(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n = rows_ * cols_, bias_off = 7;
    float *z = malloc(n * 4), *params = malloc((bias_off + cols_) * 4);
    float *zr = malloc(n * 4), *ar = malloc(n * 4), *got = malloc(n * 4);
    test_fill(z, n, 11, -4.0f, 4.0f);
    test_fill(params, bias_off + cols_, 12, -1.0f, 1.0f);
    const size_t periods[3] = {cols_, 3, 24};
    for (size_t k = 0; k < 3 * ACTIVATIONS; k++) {
        clae_act act = all_activations[k % ACTIVATIONS];
        size_t period = periods[k / ACTIVATIONS];
        cl_mem dz = test_upload(ctx, z, n * 4), da = test_upload(ctx, NULL, n * 4);
        cl_mem dp = test_upload(ctx, params, (bias_off + cols_) * 4);
        assert_int_equal(clae__bias_act_forward(ctx, dz, da, dp, bias_off,
                                                period, rows_, cols_, act),
                         CLAE_SUCCESS);
        memcpy(zr, z, n * 4);
        ref_bias_act_forward(zr, ar, params + bias_off, period, rows_, cols_,
                             act);
        test_download(ctx, dz, got, n * 4);
        test_assert_close("z", got, zr, n, ATOL, RTOL);
        test_download(ctx, da, got, n * 4);
        test_assert_close(clae_activation_name(act.kind), got, ar, n, ATOL, RTOL);
        clReleaseMemObject(dz);
        clReleaseMemObject(da);
        clReleaseMemObject(dp);
    }
    free(z); free(params); free(zr); free(ar); free(got);
}

/* bias_act_backward multiplies by each activation's derivative from its
 * output (linear: a is not read) and sums the columns into the offset
 * slice. */
static void test_bias_act_backward(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n = rows_ * cols_, off = 9;
    float *g = malloc(n * 4), *z = malloc(n * 4), *a = malloc(n * 4);
    float *want = malloc(n * 4), *got = malloc(n * 4);
    float *want_bias = malloc(cols_ * 4), *got_bias = malloc((off + cols_) * 4);
    test_fill(g, n, 21, -1.0f, 1.0f);
    test_fill(z, n, 22, -3.0f, 3.0f);
    for (size_t k = 0; k < ACTIVATIONS; k++) {
        clae_act act = all_activations[k];
        for (size_t i = 0; i < n; i++) a[i] = (float)ref_activate(act, z[i]);
        cl_mem dg = test_upload(ctx, g, n * 4);
        cl_mem da = act.kind == CLAE_ACT_LINEAR ? NULL : test_upload(ctx, a, n * 4);
        cl_mem db = test_upload(ctx, NULL, (off + cols_) * 4);
        assert_int_equal(clae__bias_act_backward(ctx, dg, da, db, off, rows_,
                                                 cols_, act),
                         CLAE_SUCCESS);
        memcpy(want, g, n * 4);
        ref_bias_act_backward(want, a, rows_, cols_, act, want_bias);
        test_download(ctx, dg, got, n * 4);
        test_assert_close(clae_activation_name(act.kind), got, want, n, ATOL, RTOL);
        test_download(ctx, db, got_bias, (off + cols_) * 4);
        /* A column sums rows_ terms in float. */
        test_assert_close("bias grad", got_bias + off, want_bias, cols_, 1e-5f,
                          1e-5f);
        clReleaseMemObject(dg);
        if (da) clReleaseMemObject(da);
        clReleaseMemObject(db);
    }
    free(g); free(z); free(a); free(want); free(got); free(want_bias);
    free(got_bias);
}

/* The loss kinds, each over the outputs it is used with. */
static const struct {
    clae_loss_kernel kind;
    float lo, hi;
    clae_act act; /* of the output the backward pass goes through */
    size_t bias_period; /* of a bias (logits only), 0 for one per column */
} loss_cases[] = {
    {CLAE_LOSS_KERNEL_BCE_LOGITS, -30.0f, 30.0f, {CLAE_ACT_LINEAR, 0.0f}, 0}, /* large |z| */
    {CLAE_LOSS_KERNEL_BCE_LOGITS, -3.0f, 3.0f, {CLAE_ACT_LINEAR, 0.0f}, 3},
    {CLAE_LOSS_KERNEL_BCE, 0.0f, 1.0f, {CLAE_ACT_SIGMOID, 0.0f}, 0},
    {CLAE_LOSS_KERNEL_MSE, -1.0f, 1.0f, {CLAE_ACT_TANH, 0.0f}, 0},
    {CLAE_LOSS_KERNEL_MSE, -2.0f, 2.0f, {CLAE_ACT_LINEAR, 0.0f}, 0},
    {CLAE_LOSS_KERNEL_MAE, -0.6f, 2.0f, {CLAE_ACT_ELU, 0.7f}, 0},
    {CLAE_LOSS_KERNEL_CCE, 0.0f, 1.0f, {CLAE_ACT_LINEAR, 0.0f}, 0},
};
#define LOSS_CASES (sizeof loss_cases / sizeof *loss_cases)

/* Device buffers of one loss case: out, a bias at an offset (BCE on logits
 * only), a target at an offset. */
typedef struct {
    float *out, *params, *target;
    cl_mem d_out, d_params, d_target;
    ref_loss_input in;
    size_t bias_off, target_off;
} loss_case;

static loss_case loss_case_make(clae_context *ctx, size_t k)
{
    loss_case c = {.bias_off = 5, .target_off = 3 * cols_};
    size_t n = rows_ * cols_;
    c.out = malloc(n * 4);
    c.params = malloc((c.bias_off + cols_) * 4);
    c.target = malloc((c.target_off + n) * 4);
    test_fill(c.out, n, 32 + (uint32_t)k, loss_cases[k].lo, loss_cases[k].hi);
    if (loss_cases[k].kind == CLAE_LOSS_KERNEL_BCE ||
        loss_cases[k].kind == CLAE_LOSS_KERNEL_CCE)
        c.out[0] = 0.0f; /* clipped */
    test_fill(c.params, c.bias_off + cols_, 33, -1.0f, 1.0f);
    test_fill(c.target, c.target_off + n, 31, 0.0f, 1.0f);
    c.d_out = test_upload(ctx, c.out, n * 4);
    c.d_params = test_upload(ctx, c.params, (c.bias_off + cols_) * 4);
    c.d_target = test_upload(ctx, c.target, (c.target_off + n) * 4);
    int biased = loss_cases[k].kind == CLAE_LOSS_KERNEL_BCE_LOGITS;
    size_t period = loss_cases[k].bias_period;
    c.in = (ref_loss_input){.out = c.out,
                            .bias = biased ? c.params + c.bias_off : NULL,
                            .bias_period = period ? period : cols_,
                            .target = c.target + c.target_off,
                            .rows = rows_, .cols = cols_,
                            .kind = loss_cases[k].kind};
    return c;
}

static clae_loss_launch loss_case_launch(const loss_case *c)
{
    return (clae_loss_launch){
        .out = c->d_out, .bias = c->in.bias ? c->d_params : NULL,
        .bias_off = c->bias_off, .bias_period = c->in.bias_period,
        .target = c->d_target,
        .target_off = c->target_off, .rows = rows_, .cols = cols_,
        .kind = c->in.kind};
}

static void loss_case_free(loss_case *c)
{
    clReleaseMemObject(c->d_out);
    clReleaseMemObject(c->d_params);
    clReleaseMemObject(c->d_target);
    free(c->out); free(c->params); free(c->target);
}

/* loss_rows: per-row sums of every loss kind at an offset, with one item
 * per row (CPUs) and with several sharing a row (other devices). */
static void test_loss_rows(void **state)
{
    clae_context *ctx = test_context(state);
    size_t l_off = 5, saved_group = ctx->kernels.loss_group;
    float *want = malloc(rows_ * 4), *got = malloc((l_off + rows_) * 4);
    for (size_t k = 0; k < LOSS_CASES; k++)
        for (size_t group = 1; group <= 4; group *= 4) {
            loss_case c = loss_case_make(ctx, k);
            clae_loss_launch l = loss_case_launch(&c);
            l.loss = test_upload(ctx, NULL, (l_off + rows_) * 4);
            l.loss_off = l_off;
            ctx->kernels.loss_group = group;
            assert_int_equal(clae__loss_rows(ctx, &l), CLAE_SUCCESS);
            ctx->kernels.loss_group = saved_group;
            ref_loss_rows(&c.in, want);
            test_download(ctx, l.loss, got, (l_off + rows_) * 4);
            /* A row sums cols_ terms in float. */
            test_assert_close("sample_loss", got + l_off, want, rows_, 1e-5f,
                              1e-5f);
            clReleaseMemObject(l.loss);
            loss_case_free(&c);
        }
    free(want); free(got);
}

/* loss_backward: dz through the output's activation, the bias gradient at
 * an offset and the loss per chunk of columns at an offset. */
static void test_loss_backward(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n = rows_ * cols_, chunks = clae__chunks(cols_), l_off = 7,
           g_off = 11;
    float *grad = malloc(n * 4), *bias_grad = malloc(cols_ * 4),
          *chunk_loss = malloc(chunks * 4), *got = malloc(n * 4),
          *got_bias = malloc((g_off + cols_) * 4),
          *got_loss = malloc((l_off + chunks) * 4);
    float scale = 1.0f / (float)n;
    for (size_t k = 0; k < LOSS_CASES; k++) {
        loss_case c = loss_case_make(ctx, k);
        clae_loss_launch l = loss_case_launch(&c);
        l.act = loss_cases[k].act;
        l.loss = test_upload(ctx, NULL, (l_off + chunks) * 4);
        l.loss_off = l_off;
        l.grad = test_upload(ctx, NULL, n * 4);
        l.bias_grad = test_upload(ctx, NULL, (g_off + cols_) * 4);
        l.bias_grad_off = g_off;
        l.grad_scale = scale;
        assert_int_equal(clae__loss_backward(ctx, &l), CLAE_SUCCESS);
        ref_loss_backward(&c.in, l.act, scale, grad, bias_grad, chunk_loss);
        test_download(ctx, l.grad, got, n * 4);
        test_assert_close("grad", got, grad, n, 1e-9f, RTOL);
        test_download(ctx, l.bias_grad, got_bias, (g_off + cols_) * 4);
        test_assert_close("bias grad", got_bias + g_off, bias_grad, cols_,
                          1e-9f, 1e-5f);
        test_download(ctx, l.loss, got_loss, (l_off + chunks) * 4);
        test_assert_close("chunk loss", got_loss + l_off, chunk_loss, chunks,
                          1e-5f, 1e-5f);
        clReleaseMemObject(l.loss);
        clReleaseMemObject(l.grad);
        clReleaseMemObject(l.bias_grad);
        loss_case_free(&c);
    }
    free(grad); free(bias_grad); free(chunk_loss); free(got); free(got_bias);
    free(got_loss);
}

/* gather_rows copies the indexed rows of a larger data set, in order. */
static void test_gather_rows(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n_src = 3 * rows_ + 1, index_off = 4;
    float *src = malloc(n_src * cols_ * 4), *want = malloc(rows_ * cols_ * 4);
    float *got = malloc(rows_ * cols_ * 4);
    unsigned *index = malloc((index_off + rows_) * sizeof *index);
    test_fill(src, n_src * cols_, 51, -1.0f, 1.0f);
    for (size_t i = 0; i < index_off + rows_; i++)
        index[i] = (unsigned)((i * 7919) % n_src);
    cl_mem d_src = test_upload(ctx, src, n_src * cols_ * 4);
    cl_mem d_idx = test_upload(ctx, index, (index_off + rows_) * sizeof *index);
    cl_mem d_dst = test_upload(ctx, NULL, rows_ * cols_ * 4);
    assert_int_equal(clae__gather_rows(ctx, d_dst, d_src, d_idx, index_off,
                                       rows_, cols_), CLAE_SUCCESS);
    ref_gather_rows(want, src, index + index_off, rows_, cols_);
    test_download(ctx, d_dst, got, rows_ * cols_ * 4);
    test_assert_close("gathered", got, want, rows_ * cols_, 0.0f, 0.0f);
    clReleaseMemObject(d_src);
    clReleaseMemObject(d_idx);
    clReleaseMemObject(d_dst);
    free(src); free(want); free(got); free(index);
}

/* gather_codes decodes byte code k to k / scale exactly as the host's
 * float division does, for every code, at scales with inexact inverses;
 * a scale whose inverse overflows is refused. */
static void test_gather_codes(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n_src = 2 * rows_ + 3, index_off = 5, n = rows_ * cols_;
    unsigned char *codes = malloc(n_src * cols_);
    float *src = malloc(n_src * cols_ * 4), *want = malloc(n * 4);
    float *got = malloc(n * 4), table[256];
    unsigned *index = malloc((index_off + rows_) * sizeof *index);
    for (size_t i = 0; i < n_src * cols_; i++) codes[i] = (unsigned char)(i * 37);
    for (size_t i = 0; i < index_off + rows_; i++)
        index[i] = (unsigned)((i * 7919) % n_src);
    cl_mem d_codes = test_upload(ctx, codes, n_src * cols_);
    cl_mem d_idx = test_upload(ctx, index, (index_off + rows_) * sizeof *index);
    cl_mem d_dst = test_upload(ctx, NULL, n * 4);
    const float scales[] = {255.0f, 100.0f, 7.0f, 0.3f};
    for (size_t k = 0; k < sizeof scales / sizeof *scales; k++) {
        assert_true(clae__codes_exact(scales[k], table));
        for (size_t i = 0; i < n_src * cols_; i++)
            src[i] = (float)codes[i] / scales[k];
        assert_int_equal(clae__gather_codes(ctx, d_dst, d_codes, d_idx,
                                            index_off, rows_, cols_,
                                            scales[k]),
                         CLAE_SUCCESS);
        ref_gather_rows(want, src, index + index_off, rows_, cols_);
        test_download(ctx, d_dst, got, n * 4);
        assert_memory_equal(got, want, n * 4);
    }
    assert_false(clae__codes_exact(1e-39f, table));
    clReleaseMemObject(d_codes);
    clReleaseMemObject(d_idx);
    clReleaseMemObject(d_dst);
    free(codes); free(src); free(want); free(got); free(index);
}

/* Uploads host into an existing buffer (blocking). */
static void test_write(clae_context *ctx, cl_mem mem, const float *host,
                       size_t n)
{
    assert_int_equal(clEnqueueWriteBuffer(ctx->queue, mem, CL_TRUE, 0, n * 4,
                                          host, 0, NULL, NULL), CL_SUCCESS);
}

/* adam_update over three steps matches the paper's formulation, and with a
 * decay torch.optim.AdamW's (decay = lr * weight_decay). */
static void test_adam_update(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n = rows_ * cols_;
    const float lr = 1e-2f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
    const float weight_decays[] = {0.0f, 0.1f};
    for (size_t k = 0; k < 2; k++) {
        float wd = weight_decays[k];
        float *p = malloc(n * 4), *g = malloc(n * 4), *m = calloc(n, 4),
              *v = calloc(n, 4), *got = malloc(n * 4);
        test_fill(p, n, 61, -1.0f, 1.0f);
        cl_mem dp = test_upload(ctx, p, n * 4), dg = test_upload(ctx, NULL, n * 4);
        cl_mem dm = test_upload(ctx, m, n * 4), dv = test_upload(ctx, v, n * 4);
        for (unsigned t = 1; t <= 3; t++) {
            test_fill(g, n, 62 + t, -0.1f, 0.1f);
            test_write(ctx, dg, g, n);
            float step = (float)(lr / (1.0 - pow(b1, t)));
            float v_scale = (float)(1.0 / sqrt(1.0 - pow(b2, t)));
            assert_int_equal(clae__adam_update(ctx, dp, dg, dm, dv, n, step, b1,
                                               b2, eps, v_scale, lr * wd),
                             CLAE_SUCCESS);
            ref_adamw(p, g, m, v, n, lr, b1, b2, eps, wd, t);
        }
        test_download(ctx, dp, got, n * 4);
        test_assert_close("params", got, p, n, 1e-6f, 1e-5f);
        test_download(ctx, dm, got, n * 4);
        test_assert_close("m", got, m, n, 1e-9f, 1e-5f);
        test_download(ctx, dv, got, n * 4);
        test_assert_close("v", got, v, n, 1e-12f, 1e-5f);
        clReleaseMemObject(dp); clReleaseMemObject(dg);
        clReleaseMemObject(dm); clReleaseMemObject(dv);
        free(p); free(g); free(m); free(v); free(got);
    }
}

/* sgd_update is p -= lr g. */
static void test_sgd_update(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n = rows_ * cols_;
    float *p = malloc(n * 4), *g = malloc(n * 4), *got = malloc(n * 4);
    test_fill(p, n, 71, -1.0f, 1.0f);
    test_fill(g, n, 72, -1.0f, 1.0f);
    cl_mem dp = test_upload(ctx, p, n * 4), dg = test_upload(ctx, g, n * 4);
    assert_int_equal(clae__sgd_update(ctx, dp, dg, n, 0.05f), CLAE_SUCCESS);
    ref_sgd(p, g, n, 0.05f);
    test_download(ctx, dp, got, n * 4);
    test_assert_close("params", got, p, n, 1e-7f, 1e-6f);
    clReleaseMemObject(dp);
    clReleaseMemObject(dg);
    free(p); free(g); free(got);
}

/* sgd_momentum_update over three steps, with and without Nesterov,
 * matches torch.optim.SGD's formulation. */
static void test_sgd_momentum_update(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n = rows_ * cols_;
    for (int nesterov = 0; nesterov <= 1; nesterov++) {
        float *p = malloc(n * 4), *g = malloc(n * 4), *buf = calloc(n, 4),
              *got = malloc(n * 4);
        test_fill(p, n, 81, -1.0f, 1.0f);
        cl_mem dp = test_upload(ctx, p, n * 4), dg = test_upload(ctx, NULL, n * 4);
        cl_mem db = test_upload(ctx, buf, n * 4);
        for (uint32_t t = 1; t <= 3; t++) {
            test_fill(g, n, 82 + t, -1.0f, 1.0f);
            test_write(ctx, dg, g, n);
            assert_int_equal(clae__sgd_momentum_update(ctx, dp, dg, db, n, 0.05f,
                                                       0.9f, nesterov),
                             CLAE_SUCCESS);
            ref_sgd_momentum(p, g, buf, n, 0.05f, 0.9f, nesterov);
        }
        test_download(ctx, dp, got, n * 4);
        test_assert_close("params", got, p, n, 1e-6f, 1e-5f);
        test_download(ctx, db, got, n * 4);
        test_assert_close("momentum buffer", got, buf, n, 1e-6f, 1e-5f);
        clReleaseMemObject(dp); clReleaseMemObject(dg); clReleaseMemObject(db);
        free(p); free(g); free(buf); free(got);
    }
}

/* rmsprop_update over three steps. */
static void test_rmsprop_update(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n = rows_ * cols_;
    float *p = malloc(n * 4), *g = malloc(n * 4), *v = calloc(n, 4),
          *got = malloc(n * 4);
    test_fill(p, n, 91, -1.0f, 1.0f);
    cl_mem dp = test_upload(ctx, p, n * 4), dg = test_upload(ctx, NULL, n * 4);
    cl_mem dv = test_upload(ctx, v, n * 4);
    for (uint32_t t = 1; t <= 3; t++) {
        test_fill(g, n, 92 + t, -0.1f, 0.1f);
        test_write(ctx, dg, g, n);
        assert_int_equal(clae__rmsprop_update(ctx, dp, dg, dv, n, 1e-3f, 0.9f,
                                              1e-7f), CLAE_SUCCESS);
        ref_rmsprop(p, g, v, n, 1e-3f, 0.9f, 1e-7f);
    }
    test_download(ctx, dp, got, n * 4);
    test_assert_close("params", got, p, n, 1e-6f, 1e-5f);
    test_download(ctx, dv, got, n * 4);
    test_assert_close("v", got, v, n, 1e-12f, 1e-5f);
    clReleaseMemObject(dp); clReleaseMemObject(dg); clReleaseMemObject(dv);
    free(p); free(g); free(v); free(got);
}

/* penalty_sums over a slice at an offset (several blocks, a partial last
 * chunk, an exact zero whose sign is 0) into sums at an offset, without and
 * with adding the gradient; floats before the slice stay untouched. */
static void test_penalty_sums(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n = 2 * CLAE_SUM_BLOCK + 13, off = 5, sums_off = 3;
    if (rows_ * cols_ > n) n = rows_ * cols_;
    size_t blocks = clae__sum_blocks(n);
    const float l1 = 0.01f, l2 = 0.02f;
    float *x = malloc((off + n) * 4), *grads = malloc((off + n) * 4),
          *want = malloc((off + n) * 4), *got = malloc((off + n) * 4),
          *want_sums = malloc(blocks * 4), *got_sums = malloc((sums_off + blocks) * 4);
    test_fill(x, off + n, 101, -1.0f, 1.0f);
    x[off + 17] = 0.0f;
    test_fill(grads, off + n, 102, -0.1f, 0.1f);
    for (int with_grad = 0; with_grad <= 1; with_grad++) {
        cl_mem dx = test_upload(ctx, x, (off + n) * 4);
        cl_mem dg = test_upload(ctx, grads, (off + n) * 4);
        cl_mem ds = test_upload(ctx, NULL, (sums_off + blocks) * 4);
        assert_int_equal(clae__penalty_sums(ctx, dx, off, n, l1, l2,
                                            with_grad ? dg : NULL, ds, sums_off),
                         CLAE_SUCCESS);
        memcpy(want, grads, (off + n) * 4);
        ref_penalty_sums(x + off, n, CLAE_SUM_BLOCK, l1, l2,
                         with_grad ? want + off : NULL, want_sums);
        test_download(ctx, ds, got_sums, (sums_off + blocks) * 4);
        /* A block adds 1024 terms in float, 8 lanes then across. */
        test_assert_close("sums", got_sums + sums_off, want_sums, blocks, 1e-6f,
                          1e-5f);
        test_download(ctx, dg, got, (off + n) * 4);
        test_assert_close("grads", got, want, off + n, 1e-7f, 1e-6f);
        clReleaseMemObject(dx); clReleaseMemObject(dg); clReleaseMemObject(ds);
    }
    free(x); free(grads); free(want); free(got); free(want_sums); free(got_sums);
}

static double norm_of(const float *x, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)x[i] * x[i];
    return sqrt(sum);
}

/* Clipping by global norm (penalty_sums, clip_scale, scale_by): gradients
 * of a known norm above C come out with norm C (to float rounding and the
 * 1e-6 of torch's formula), as ref_clip_grad_norm's; below C they come out
 * bit for bit unchanged. */
static void test_clip_grad_norm(void **state)
{
    clae_context *ctx = test_context(state);
    size_t n = 2 * CLAE_SUM_BLOCK + 13;
    if (rows_ * cols_ > n) n = rows_ * cols_;
    size_t blocks = clae__sum_blocks(n);
    float *g = malloc(n * 4), *want = malloc(n * 4), *got = malloc(n * 4);
    test_fill(g, n, 111, -1.0f, 1.0f);
    double norm = norm_of(g, n);
    const double max_norms[] = {norm / 4, 2 * norm};
    for (size_t k = 0; k < 2; k++) {
        float c = (float)max_norms[k], scale;
        cl_mem dg = test_upload(ctx, g, n * 4);
        cl_mem ds = test_upload(ctx, NULL, blocks * 4);
        cl_mem dscale = test_upload(ctx, NULL, 4);
        assert_int_equal(clae__clip_grad_norm(ctx, dg, n, c, ds, dscale),
                         CLAE_SUCCESS);
        test_download(ctx, dg, got, n * 4);
        test_download(ctx, dscale, &scale, 4);
        memcpy(want, g, n * 4);
        ref_clip_grad_norm(want, n, c);
        if (c < norm) {
            assert_float_equal(norm_of(got, n), c, 1e-5 * c);
            assert_float_equal(scale, c / (norm + 1e-6), 1e-5 * scale);
            test_assert_close("clipped", got, want, n, 1e-7f, 1e-5f);
        } else {
            assert_true(scale == 1.0f);
            assert_memory_equal(got, g, n * 4);
        }
        clReleaseMemObject(dg); clReleaseMemObject(ds); clReleaseMemObject(dscale);
    }
    free(g); free(want); free(got);
}

int main(void)
{
    int small = getenv("CLAE_TEST_SMALL") != NULL;
    rows_ = small ? 5 : 67;
    cols_ = small ? 37 : 301;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bias_act_forward),
        cmocka_unit_test(test_bias_act_backward),
        cmocka_unit_test(test_loss_rows),
        cmocka_unit_test(test_loss_backward),
        cmocka_unit_test(test_gather_rows),
        cmocka_unit_test(test_gather_codes),
        cmocka_unit_test(test_adam_update),
        cmocka_unit_test(test_sgd_update),
        cmocka_unit_test(test_sgd_momentum_update),
        cmocka_unit_test(test_rmsprop_update),
        cmocka_unit_test(test_penalty_sums),
        cmocka_unit_test(test_clip_grad_norm),
    };
    return cmocka_run_group_tests_name("kernels", tests, test_open_context,
                                       test_close_context);
}
