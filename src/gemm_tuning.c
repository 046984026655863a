/* The GEMM tuning table and its verification. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_tuning.h"
#include "philox.h"

/* PoCL on Intel x86 CPUs with AVX-512 (32 vector registers of 16 floats):
 * one work-item per 16x16 tile of C with 16-wide vectors, measured at
 * 145-180 GFLOPS on the training shapes of the reference model on 2 cores
 * (the machine). Not on AMD's: Zen 4 runs 512-bit operations as
 * two 256-bit halves, and on 2 cores of an AMD EPYC with AVX-512 (which
 * PoCL 3.1 names skylake-avx512) the 8x8 tile of pocl-cpu below ran the
 * reference job's GEMMs 1.3x faster (0.56-0.61 s against 0.68-0.95 s an
 * epoch, interleaved runs of 2026-12-06). */
static const char *const avx512_targets[] = {
    "avx512", "cascadelake", "cooperlake", "icelake", "tigerlake",
    "rocketlake", "sapphirerapids", "emeraldrapids", "graniterapids", NULL};
static const char *const amd[] = {"AMD", NULL};

static const clae_gemm_tuning pocl_cpu_avx512 = {
    "pocl-cpu-avx512", "Portable Computing Language", "CPU", avx512_targets,
    amd, 2,
    {{"Xgemm", 16, CLAE_XGEMM_NAMES,
      {1, 16, 1, 1, 1, 1, 16, 1, 1, 16, 0, 0, 0, 0, 16, 16}},
     {"GemmRoutine", 1, {"XGEMM_MIN_INDIRECT_SIZE"}, {1}}},
};

/* Any other x86 CPU (AVX2: 16 registers of 8 floats, where the tile above
 * spills; AMD's AVX-512): an 8x8 tile of C per work-item, 8-wide, two k
 * steps per load. clae tune found it 1.2-1.3x faster than the 16x16 tile
 * on 2 AVX2 cores (tiles with MWG != NWG computed wrong results there). */
static const clae_gemm_tuning pocl_cpu = {
    "pocl-cpu", "Portable Computing Language", "CPU", NULL, NULL, 2,
    {{"Xgemm", 16, CLAE_XGEMM_NAMES,
      {1, 2, 1, 1, 1, 1, 8, 1, 1, 8, 0, 0, 0, 0, 8, 1}},
     {"GemmRoutine", 1, {"XGEMM_MIN_INDIRECT_SIZE"}, {1}}},
};

/* What a failed check falls back to: CLBlast's own generic parameters
 * (its database's default entry) and direct GEMM below size 384. */
static const clae_gemm_tuning generic = {
    "generic", "", "", NULL, NULL, 2,
    {{"Xgemm", 16, CLAE_XGEMM_NAMES,
      {0, 1, 32, 2, 8, 8, 32, 16, 16, 32, 1, 1, 0, 0, 4, 2}},
     {"GemmRoutine", 1, {"XGEMM_MIN_INDIRECT_SIZE"}, {384}}},
};

/* First match wins. */
static const clae_gemm_tuning *const table[] = {&pocl_cpu_avx512, &pocl_cpu};

/* C = op(A) op(B), row-major, in double: the check's reference. */
static void host_gemm(int ta, int tb, size_t m, size_t n, size_t k,
                      const float *a, const float *b, float *c)
{
    size_t lda = ta ? m : k, ldb = tb ? k : n;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double sum = 0.0;
            for (size_t p = 0; p < k; p++)
                sum += (double)(ta ? a[p * lda + i] : a[i * lda + p]) *
                       (double)(tb ? b[j * ldb + p] : b[p * ldb + j]);
            c[i * n + j] = (float)sum;
        }
}

/* Odd sizes, so padding and every tile edge are exercised. */
enum { CHECK_M = 40, CHECK_N = 24, CHECK_K = 56, CHECK_OFF = 3 };

/* Runs the four transpose combinations on the device and compares them
 * with host_gemm (1e-4 relative + 1e-5 absolute: sums of 56 products). */
static clae_status verify(clae_context *ctx, int *ok)
{
    clae_status status = CLAE_SUCCESS;
    const size_t m = CHECK_M, n = CHECK_N, k = CHECK_K, off = CHECK_OFF;
    float a[CHECK_OFF + CHECK_M * CHECK_K], b[CHECK_M * CHECK_K > CHECK_K * CHECK_N
                                               ? CHECK_M * CHECK_K
                                               : CHECK_K * CHECK_N];
    float c[CHECK_M * CHECK_N], want[CHECK_M * CHECK_N];
    cl_mem da = NULL, db = NULL, dc = NULL, temp = NULL;
    clae__random_uniform(a, sizeof a / sizeof *a, 1, CLAE_STREAM_INIT, 901, -1, 1);
    clae__random_uniform(b, sizeof b / sizeof *b, 1, CLAE_STREAM_INIT, 902, -1, 1);
    CLAE_TRY(clae__buffer(ctx, sizeof a, "GEMM check A", &da));
    CLAE_TRY(clae__buffer(ctx, sizeof b, "GEMM check B", &db));
    CLAE_TRY(clae__buffer(ctx, sizeof c, "GEMM check C", &dc));
    CL_CHECK(ctx, clEnqueueWriteBuffer(ctx->queue, da, CL_TRUE, 0, sizeof a, a,
                                       0, NULL, NULL));
    CL_CHECK(ctx, clEnqueueWriteBuffer(ctx->queue, db, CL_TRUE, 0, sizeof b, b,
                                       0, NULL, NULL));
    *ok = 1;
    for (int t = 0; t < 4 && *ok; t++) {
        int ta = t & 1, tb = t >> 1;
        clae_gemm g = {.trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k,
                       .alpha = 1.0f, .beta = 0.0f,
                       .a = da, .a_off = off, .lda = ta ? m : k,
                       .b = db, .b_off = 0, .ldb = tb ? k : n,
                       .c = dc, .c_off = 0, .ldc = n};
        size_t bytes = 0;
        CLAE_TRY(clae__gemm_temp_bytes(ctx, &g, &bytes));
        if (bytes) CLAE_TRY(clae__buffer(ctx, bytes, "GEMM check scratch", &temp));
        CLAE_TRY(clae__gemm(ctx, &g, temp));
        clae__release_mem(&temp);
        CL_CHECK(ctx, clEnqueueReadBuffer(ctx->queue, dc, CL_TRUE, 0, sizeof c,
                                          c, 0, NULL, NULL));
        host_gemm(ta, tb, m, n, k, a + off, b, want);
        for (size_t i = 0; i < m * n; i++)
            if (!(fabsf(c[i] - want[i]) <= 1e-5f + 1e-4f * fabsf(want[i])))
                *ok = 0;
    }
fail:
    clae__release_mem(&temp);
    clae__release_mem(&da);
    clae__release_mem(&db);
    clae__release_mem(&dc);
    return status;
}

clae_status clae__gemm_apply(clae_context *ctx,
                             const clae_gemm_tuning *tuning, int *ok)
{
    clae_status status = CLAE_SUCCESS;
    for (size_t i = 0; i < tuning->count; i++)
        CLAE_TRY(clae__blas_override(ctx, &tuning->kernels[i]));
    CLAE_TRY(verify(ctx, ok));
    ctx->gemm_tuning = *ok ? tuning->name : "";
fail:
    return status;
}

/* Whether the device name contains any of names (NULL: none given). */
static int name_has_any(const clae_context *ctx, const char *const *names)
{
    for (; names && *names; names++)
        if (strstr(ctx->info.name, *names)) return 1;
    return 0;
}

static const clae_gemm_tuning *find_entry(const clae_context *ctx)
{
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (strstr(ctx->info.platform_name, table[i]->platform_contains) &&
            strcmp(ctx->info.type, table[i]->type) == 0 &&
            (!table[i]->device_contains ||
             name_has_any(ctx, table[i]->device_contains)) &&
            !name_has_any(ctx, table[i]->device_lacks))
            return table[i];
    return NULL;
}

clae_status clae__gemm_tune(clae_context *ctx)
{
    clae_status status = CLAE_SUCCESS;
    const clae_gemm_tuning *entry = find_entry(ctx);
    int ok = 1;
    ctx->gemm_tuning = "";
    if (!entry) return CLAE_SUCCESS;
    CLAE_TRY(clae__gemm_apply(ctx, entry, &ok));
    if (ok) return CLAE_SUCCESS;
    clae__warn(ctx, "the built-in GEMM parameters '%s' compute wrong results "
                    "on %s; using CLBlast's generic ones (slower)",
               entry->name, ctx->info.name);
    CLAE_TRY(clae__gemm_apply(ctx, &generic, &ok));
    if (!ok)
        status = CLAE_FAIL(ctx, CL_INVALID_VALUE, "CLBlast's GEMM computes "
                                                  "wrong results on %s",
                           ctx->info.name);
fail:
    return status;
}

const clae_gemm_tuning *clae__gemm_builtin(const clae_context *ctx)
{
    return strcmp(ctx->gemm_tuning, generic.name) == 0 ? &generic
                                                      : find_entry(ctx);
}
