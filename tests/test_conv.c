/* The window kernels of cl/conv.cl (im2col, col2im, patch sums and their
 * spread, pooling both ways, per-channel sums) against the direct loops of tests/ref/ref_conv.c, over
 * odd sizes, 1x1 and rectangular kernels, padding, strides larger and
 * smaller than the kernel, and windows cut off at the image's edge.
 * CLAE_TEST_SMALL=1 shrinks the batch for the Oclgrind run. */
#include "test_util.h"
#include "ref/ref.h"

static size_t rows_;

/* {in h, w, c}, {out h, w}, {kernel h, w, stride, pad h, w} */
static const clae_geometry cases[] = {
    {{5, 7, 1}, {5, 7, 0}, {3, 3, 1, 1, 1}},
    {{8, 6, 3}, {4, 3, 0}, {3, 3, 2, 1, 1}},
    {{9, 9, 2}, {9, 9, 0}, {1, 1, 1, 0, 0}},
    {{7, 5, 4}, {4, 3, 0}, {5, 3, 2, 2, 1}},
    {{6, 6, 2}, {3, 3, 0}, {2, 2, 2, 0, 0}},
    {{11, 4, 3}, {4, 1, 0}, {4, 4, 3, 1, 0}},
    {{7, 7, 2}, {4, 4, 0}, {2, 2, 2, 0, 0}}, /* the last windows cut off */
    {{7, 6, 3}, {4, 3, 0}, {3, 3, 2, 1, 1}},
    /* strides past the kernel; whole and part chunks of channels */
    {{7, 8, 21}, {3, 3, 0}, {1, 2, 3, 0, 0}},
    {{6, 6, 9}, {3, 3, 0}, {2, 2, 3, 1, 1}},
    {{5, 5, 16}, {5, 5, 0}, {3, 3, 1, 1, 1}},
};
#define CASES (sizeof cases / sizeof *cases)

static size_t image(const clae_shape *s)
{
    return s->height * s->width * s->channels;
}

static size_t col_width(const clae_geometry *g)
{
    return g->in.channels * g->window.kernel_h * g->window.kernel_w;
}

static size_t col_count(const clae_geometry *g)
{
    return rows_ * g->out.height * g->out.width * col_width(g);
}

static void to_float(const double *x, float *out, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)x[i];
}

/* im2col_rows copies each patch exactly, reading x at an offset. */
static void test_im2col_rows(void **state)
{
    clae_context *ctx = test_context(state);
    for (size_t t = 0; t < CASES; t++) {
        const clae_geometry *g = &cases[t];
        size_t off = 3, n = rows_ * image(&g->in), cols = col_count(g);
        float *x = malloc((off + n) * 4), *want = malloc(cols * 4),
              *got = malloc(cols * 4);
        test_fill(x, off + n, 11 + (uint32_t)t, -1.0f, 1.0f);
        cl_mem dx = test_upload(ctx, x, (off + n) * 4),
               dcol = test_upload(ctx, NULL, cols * 4);
        assert_int_equal(clae__im2col_rows(ctx, g, dx, off, rows_, dcol),
                         CLAE_SUCCESS);
        ref_im2col_rows(g, x + off, rows_, want);
        test_download(ctx, dcol, got, cols * 4);
        test_assert_close("col", got, want, cols, 0.0f, 0.0f);
        clReleaseMemObject(dx);
        clReleaseMemObject(dcol);
        free(x); free(want); free(got);
    }
}

/* col2im_rows gathers what the reference scatters back. */
static void test_col2im_rows(void **state)
{
    clae_context *ctx = test_context(state);
    for (size_t t = 0; t < CASES; t++) {
        const clae_geometry *g = &cases[t];
        size_t n = rows_ * image(&g->in), cols = col_count(g);
        float *col = malloc(cols * 4), *want = malloc(n * 4),
              *got = malloc(n * 4);
        double *sums = malloc(n * sizeof *sums);
        test_fill(col, cols, 21 + (uint32_t)t, -1.0f, 1.0f);
        cl_mem dcol = test_upload(ctx, col, cols * 4),
               dx = test_upload(ctx, NULL, n * 4);
        assert_int_equal(clae__col2im_rows(ctx, g, dcol, rows_, dx),
                         CLAE_SUCCESS);
        ref_col2im_rows(g, col, rows_, sums);
        to_float(sums, want, n);
        test_download(ctx, dx, got, n * 4);
        test_assert_close("image", got, want, n, 1e-6f, 1e-5f);
        clReleaseMemObject(dcol);
        clReleaseMemObject(dx);
        free(col); free(want); free(got); free(sums);
    }
}

/* patch_sums sums each window's diagonal of y; patch_spread is its
 * adjoint. */
static void test_patch_sums_spread(void **state)
{
    clae_context *ctx = test_context(state);
    for (size_t t = 0; t < CASES; t++) {
        const clae_geometry *g = &cases[t];
        size_t area = g->window.kernel_h * g->window.kernel_w,
               ny = rows_ * g->in.height * g->in.width * area,
               nz = rows_ * g->out.height * g->out.width;
        float *y = malloc(ny * 4), *dz = malloc(nz * 4), *want = malloc(ny * 4),
              *got = malloc(ny * 4);
        double *sums = malloc(nz * sizeof *sums);
        test_fill(y, ny, 61 + (uint32_t)t, -1.0f, 1.0f);
        test_fill(dz, nz, 71 + (uint32_t)t, -1.0f, 1.0f);
        cl_mem d_y = test_upload(ctx, y, ny * 4), d_z = test_upload(ctx, NULL, nz * 4),
               d_dz = test_upload(ctx, dz, nz * 4),
               d_dy = test_upload(ctx, NULL, ny * 4);
        assert_int_equal(clae__patch_sums(ctx, g, d_y, rows_, d_z), CLAE_SUCCESS);
        ref_patch_sums(g, y, rows_, sums);
        to_float(sums, want, nz);
        test_download(ctx, d_z, got, nz * 4);
        test_assert_close("patch sums", got, want, nz, 1e-6f, 1e-5f);
        assert_int_equal(clae__patch_spread(ctx, g, d_dz, rows_, d_dy),
                         CLAE_SUCCESS);
        ref_patch_spread(g, dz, rows_, want);
        test_download(ctx, d_dy, got, ny * 4);
        test_assert_close("patch spread", got, want, ny, 0.0f, 0.0f);
        clReleaseMemObject(d_y); clReleaseMemObject(d_z);
        clReleaseMemObject(d_dz); clReleaseMemObject(d_dy);
        free(y); free(dz); free(want); free(got); free(sums);
    }
}

/* Each pool kind forward (x at an offset; max's winners used by its
 * backward pass) and backward (dy at an offset). */
static void test_pools(void **state)
{
    clae_context *ctx = test_context(state);
    const clae_pool kinds[] = {CLAE_POOL_MAX, CLAE_POOL_AVG, CLAE_POOL_SUM};
    for (size_t t = 0; t < CASES; t++)
        for (size_t k = 0; k < 3; k++) {
            /* Same pools: ceil(side / stride) windows, what they lack at
             * the end half before the image (the spec's rule), so some
             * windows are cut at both edges. */
            clae_geometry g = cases[t];
            clae_window *w = &g.window;
            g.out.height = (g.in.height + w->stride - 1) / w->stride;
            g.out.width = (g.in.width + w->stride - 1) / w->stride;
            size_t need_h = (g.out.height - 1) * w->stride + w->kernel_h,
                   need_w = (g.out.width - 1) * w->stride + w->kernel_w;
            w->pad_h = need_h > g.in.height ? (need_h - g.in.height) / 2 : 0;
            w->pad_w = need_w > g.in.width ? (need_w - g.in.width) / 2 : 0;
            size_t off = 5, n = rows_ * image(&g.in),
                   m = rows_ * g.out.height * g.out.width * g.in.channels;
            float *x = malloc((off + n) * 4), *dy = malloc((off + m) * 4),
                  *want = malloc((n > m ? n : m) * 4),
                  *got = malloc((n > m ? n : m) * 4);
            double *xd = malloc(n * sizeof *xd),
                   *ref = malloc((n > m ? n : m) * sizeof *ref);
            test_fill(x, off + n, 31 + (uint32_t)t, -1.0f, 1.0f);
            test_fill(dy, off + m, 41 + (uint32_t)t, -1.0f, 1.0f);
            for (size_t i = 0; i < n; i++) xd[i] = x[off + i];
            cl_mem dx = test_upload(ctx, x, (off + n) * 4),
                   ddy = test_upload(ctx, dy, (off + m) * 4),
                   dout = test_upload(ctx, NULL, m * 4),
                   dback = test_upload(ctx, NULL, n * 4),
                   darg = kinds[k] == CLAE_POOL_MAX ? test_upload(ctx, NULL, m * 4)
                                                    : NULL;
            assert_int_equal(clae__pool_forward(ctx, &g, kinds[k], dx, off,
                                                rows_, dout, darg),
                             CLAE_SUCCESS);
            ref_pool(&g, kinds[k], xd, rows_, ref);
            to_float(ref, want, m);
            test_download(ctx, dout, got, m * 4);
            test_assert_close("pooled", got, want, m, 1e-6f, 1e-5f);
            assert_int_equal(clae__pool_backward(ctx, &g, kinds[k], ddy, off,
                                                 darg, rows_, dback),
                             CLAE_SUCCESS);
            ref_pool_backward(&g, kinds[k], x + off, dy + off, rows_, ref);
            to_float(ref, want, n);
            test_download(ctx, dback, got, n * 4);
            test_assert_close("pool gradient", got, want, n, 1e-6f, 1e-5f);
            clReleaseMemObject(dx); clReleaseMemObject(ddy);
            clReleaseMemObject(dout); clReleaseMemObject(dback);
            if (darg) clReleaseMemObject(darg);
            free(x); free(dy); free(want); free(got); free(xd); free(ref);
        }
}

/* channel_sums folds column sums per channel, between offsets. */
static void test_channel_sums(void **state)
{
    clae_context *ctx = test_context(state);
    enum { PIXELS = 13, CHANNELS = 5, S_OFF = 7, G_OFF = 3 };
    float sums[S_OFF + PIXELS * CHANNELS], got[G_OFF + CHANNELS],
          want[CHANNELS];
    test_fill(sums, S_OFF + PIXELS * CHANNELS, 51, -1.0f, 1.0f);
    for (int k = 0; k < CHANNELS; k++) {
        double sum = 0.0;
        for (int p = 0; p < PIXELS; p++) sum += sums[S_OFF + p * CHANNELS + k];
        want[k] = (float)sum;
    }
    cl_mem ds = test_upload(ctx, sums, sizeof sums),
           dg = test_upload(ctx, NULL, sizeof got);
    assert_int_equal(clae__channel_sums(ctx, ds, S_OFF, dg, G_OFF, PIXELS,
                                        CHANNELS),
                     CLAE_SUCCESS);
    test_download(ctx, dg, got, sizeof got);
    test_assert_close("channel sums", got + G_OFF, want, CHANNELS, 1e-6f, 1e-5f);
    clReleaseMemObject(ds);
    clReleaseMemObject(dg);
}

int main(void)
{
    rows_ = getenv("CLAE_TEST_SMALL") ? 2 : 9;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_im2col_rows),
        cmocka_unit_test(test_col2im_rows),
        cmocka_unit_test(test_patch_sums_spread),
        cmocka_unit_test(test_pools),
        cmocka_unit_test(test_channel_sums),
    };
    return cmocka_run_group_tests_name("conv", tests, test_open_context,
                                       test_close_context);
}
