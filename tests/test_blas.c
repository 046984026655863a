/* clae's CLBlast wrapper against the reference GEMM: every transpose
 * combination, offsets and leading dimensions larger than the matrix, with
 * and without the preallocated scratch buffer, and the training shapes. */
#include "blas.h"
#include "test_util.h"
#include "ref/ref.h"

/* Runs one GEMM on the device and on the host and compares them. The sums
 * run over k float products: 1e-4 relative plus 1e-5 absolute. */
static void check_gemm(clae_context *ctx, int ta, int tb, size_t m, size_t n,
                       size_t k, size_t pad, int with_temp)
{
    size_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    size_t a_rows = ta ? k : m, b_rows = tb ? n : k;
    size_t a_off = 3, b_off = 5, c_off = 7;
    size_t a_len = a_off + a_rows * lda, b_len = b_off + b_rows * ldb,
           c_len = c_off + m * ldc;
    float *a = malloc(a_len * 4), *b = malloc(b_len * 4), *c = malloc(c_len * 4);
    float *want = malloc(c_len * 4), *got = malloc(c_len * 4);
    test_fill(a, a_len, 81, -1.0f, 1.0f);
    test_fill(b, b_len, 82, -1.0f, 1.0f);
    test_fill(c, c_len, 83, -1.0f, 1.0f);
    memcpy(want, c, c_len * 4);
    cl_mem da = test_upload(ctx, a, a_len * 4), db = test_upload(ctx, b, b_len * 4);
    cl_mem dc = test_upload(ctx, c, c_len * 4), temp = NULL;
    clae_gemm g = {.trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k,
                   .alpha = 0.75f, .beta = 0.5f,
                   .a = da, .a_off = a_off, .lda = lda,
                   .b = db, .b_off = b_off, .ldb = ldb,
                   .c = dc, .c_off = c_off, .ldc = ldc};
    if (with_temp) {
        size_t bytes = 0;
        assert_int_equal(clae__gemm_temp_bytes(ctx, &g, &bytes), CLAE_SUCCESS);
        temp = test_upload(ctx, NULL, bytes);
    }
    assert_int_equal(clae__gemm(ctx, &g, temp), CLAE_SUCCESS);
    ref_gemm(ta, tb, m, n, k, 0.75f, a + a_off, lda, b + b_off, ldb, 0.5f,
             want + c_off, ldc);
    test_download(ctx, dc, got, c_len * 4);
    char what[64];
    snprintf(what, sizeof what, "C(%c%c %zux%zux%zu)", ta ? 'T' : 'N',
             tb ? 'T' : 'N', m, n, k);
    test_assert_close(what, got, want, c_len, 1e-5f, 1e-4f);
    if (temp) clReleaseMemObject(temp);
    clReleaseMemObject(da); clReleaseMemObject(db); clReleaseMemObject(dc);
    free(a); free(b); free(c); free(want); free(got);
}

/* All four transpose combinations on odd shapes with padded rows. */
static void test_gemm_transposes(void **state)
{
    clae_context *ctx = test_context(state);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check_gemm(ctx, ta, tb, 37, 29, 53, 3, 0);
            check_gemm(ctx, ta, tb, 37, 29, 53, 0, 1);
        }
}

/* The three GEMMs of a dense layer at the reference model's shapes,
 * including the partial last batch of 96 rows. */
static void test_gemm_training_shapes(void **state)
{
    clae_context *ctx = test_context(state);
    check_gemm(ctx, 0, 1, 96, 128, 784, 0, 1);  /* forward */
    check_gemm(ctx, 1, 0, 784, 128, 96, 0, 1);  /* weight gradient */
    check_gemm(ctx, 0, 0, 96, 128, 784, 0, 1);  /* input gradient */
}

/* A failing call reports CLBlast's status and names it in the message. */
static void test_gemm_error_is_named(void **state)
{
    clae_context *ctx = test_context(state);
    cl_mem small = test_upload(ctx, NULL, 16);
    clae_gemm g = {.m = 8, .n = 8, .k = 8, .alpha = 1.0f, .a = small, .lda = 8,
                   .b = small, .ldb = 8, .c = small, .ldc = 8};
    clae_status status = clae__gemm(ctx, &g, NULL);
    assert_int_equal(status, -1011 /* CLBlastInsufficientMemoryA */);
    assert_non_null(strstr(clae_last_error(ctx), "CLBlastInsufficientMemoryA"));
    assert_non_null(strstr(clae_last_error(ctx), "blas.c:"));
    clReleaseMemObject(small);
}

/* On PoCL's CPU device one of the built-in GEMM entries (pocl-cpu, or
 * pocl-cpu-avx512 by the CPU) is applied and passes its start-up check
 * (the tests below then run with it). */
static void test_builtin_tuning_applied(void **state)
{
    clae_context *ctx = test_context(state);
    if (!strstr(ctx->info.platform_name, "Portable Computing Language") ||
        strcmp(ctx->info.type, "CPU") != 0)
        skip();
    assert_true(strncmp(ctx->gemm_tuning, "pocl-cpu", 8) == 0);
}

/* Convolution geometries: odd sizes, 1x1, padding, strides, a kernel
 * larger than its stride, several channels. */
static const clae_conv_shape conv_cases[] = {
    {1, 5, 7, 3, 3, 1, 1, 1, 1},  {3, 8, 6, 3, 3, 1, 1, 2, 2},
    {2, 9, 9, 1, 1, 0, 0, 1, 1},  {4, 7, 5, 5, 3, 2, 1, 2, 1},
    {2, 6, 6, 2, 2, 0, 0, 2, 2},  {3, 11, 4, 4, 4, 1, 0, 3, 1},
};

/* convgemm, im2col and col2im against direct loops (tests/ref). */
static void test_convolutions(void **state)
{
    clae_context *ctx = test_context(state);
    enum { BATCH = 3, KERNELS = 5 };
    for (size_t t = 0; t < sizeof conv_cases / sizeof *conv_cases; t++) {
        const clae_conv_shape *s = &conv_cases[t];
        const size_t oh = clae__conv_out_h(s), ow = clae__conv_out_w(s),
                     image = s->channels * s->height * s->width,
                     patch = s->channels * s->kernel_h * s->kernel_w,
                     out_n = BATCH * KERNELS * oh * ow, col_n = patch * oh * ow;
        float *x = malloc(BATCH * image * sizeof *x),
              *w = malloc(KERNELS * patch * sizeof *w),
              *got = malloc((out_n > col_n ? out_n : col_n) * sizeof *got),
              *want = malloc((out_n > col_n ? out_n : col_n) * sizeof *want);
        test_fill(x, BATCH * image, 11 + (uint32_t)t, -1.0f, 1.0f);
        test_fill(w, KERNELS * patch, 29 + (uint32_t)t, -1.0f, 1.0f);
        cl_mem dx = test_upload(ctx, x, BATCH * image * sizeof *x),
               dw = test_upload(ctx, w, KERNELS * patch * sizeof *w),
               dout = test_upload(ctx, NULL, out_n * sizeof *got),
               dcol = test_upload(ctx, NULL, col_n * sizeof *got);
        char what[64];
        snprintf(what, sizeof what, "conv case %zu", t);
        assert_int_equal(clae__convgemm(ctx, s, KERNELS, BATCH, dx, 0, dw, 0,
                                        dout, 0),
                         CLAE_SUCCESS);
        test_download(ctx, dout, got, out_n * sizeof *got);
        ref_conv2d(s, KERNELS, BATCH, x, w, want);
        test_assert_close(what, got, want, out_n, 1e-5f, 1e-4f);

        /* The second image's patches. */
        assert_int_equal(clae__im2col(ctx, s, dx, image, dcol, 0), CLAE_SUCCESS);
        test_download(ctx, dcol, got, col_n * sizeof *got);
        ref_im2col(s, x + image, want);
        snprintf(what, sizeof what, "im2col case %zu", t);
        test_assert_close(what, got, want, col_n, 0.0f, 0.0f);

        /* col2im is im2col's adjoint: <im2col(x), y> = <x, col2im(y)>,
         * and it adds onto what the image held. */
        float *y = malloc(col_n * sizeof *y), *back = malloc(image * sizeof *back);
        test_fill(y, col_n, 41 + (uint32_t)t, -1.0f, 1.0f);
        cl_mem dy = test_upload(ctx, y, col_n * sizeof *y),
               dim = test_upload(ctx, x, image * sizeof *x);
        assert_int_equal(clae__col2im(ctx, s, dy, 0, dim, 0), CLAE_SUCCESS);
        test_download(ctx, dim, back, image * sizeof *back);
        double lhs = 0.0, rhs = 0.0;
        ref_im2col(s, x, want);
        for (size_t i = 0; i < col_n; i++) lhs += (double)want[i] * y[i];
        for (size_t i = 0; i < image; i++) rhs += (double)x[i] * (back[i] - x[i]);
        if (fabs(lhs - rhs) > 1e-4 * (fabs(lhs) + 1.0))
            fail_msg("col2im case %zu: <im2col(x), y> = %g, <x, col2im(y)> = %g",
                     t, lhs, rhs);
        free(y);
        free(back);
        clReleaseMemObject(dy);
        clReleaseMemObject(dim);
        clReleaseMemObject(dx);
        clReleaseMemObject(dw);
        clReleaseMemObject(dout);
        clReleaseMemObject(dcol);
        free(x);
        free(w);
        free(got);
        free(want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_tuning_applied),
        cmocka_unit_test(test_gemm_transposes),
        cmocka_unit_test(test_gemm_training_shapes),
        cmocka_unit_test(test_gemm_error_is_named),
        cmocka_unit_test(test_convolutions),
    };
    return cmocka_run_group_tests_name("blas", tests, test_open_context,
                                       test_close_context);
}
