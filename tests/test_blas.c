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
 * pocl-cpu-avx512 on Intel CPUs with AVX-512) is applied and passes its
 * start-up check (the tests below then run with it); AMD CPUs get
 * pocl-cpu, AVX-512 or not. */
static void test_builtin_tuning_applied(void **state)
{
    clae_context *ctx = test_context(state);
    if (!strstr(ctx->info.platform_name, "Portable Computing Language") ||
        strcmp(ctx->info.type, "CPU") != 0)
        skip();
    assert_true(strncmp(ctx->gemm_tuning, "pocl-cpu", 8) == 0);
    if (strstr(ctx->info.name, "AMD"))
        assert_string_equal(ctx->gemm_tuning, "pocl-cpu");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_tuning_applied),
        cmocka_unit_test(test_gemm_transposes),
        cmocka_unit_test(test_gemm_training_shapes),
        cmocka_unit_test(test_gemm_error_is_named),
    };
    return cmocka_run_group_tests_name("blas", tests, test_open_context,
                                       test_close_context);
}
