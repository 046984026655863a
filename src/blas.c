/* CLBlast calls; the only file that includes clblast_c.h. */
#include <clblast_c.h>

#include "blas.h"

static CLBlastTranspose transpose(int t)
{
    return t ? CLBlastTransposeYes : CLBlastTransposeNo;
}

clae_status clae__gemm(clae_context *ctx, const clae_gemm *g, cl_mem temp)
{
    CLBlastStatusCode rc;
    cl_event *event;
    clae_status status = clae__profile_gemm(ctx, &event);
    if (status != CLAE_SUCCESS) return status;
    if (temp)
        rc = CLBlastSgemmWithTempBuffer(
            CLBlastLayoutRowMajor, transpose(g->trans_a), transpose(g->trans_b),
            g->m, g->n, g->k, g->alpha, g->a, g->a_off, g->lda, g->b, g->b_off,
            g->ldb, g->beta, g->c, g->c_off, g->ldc, &ctx->queue, event, temp);
    else
        rc = CLBlastSgemm(CLBlastLayoutRowMajor, transpose(g->trans_a),
                          transpose(g->trans_b), g->m, g->n, g->k, g->alpha,
                          g->a, g->a_off, g->lda, g->b, g->b_off, g->ldb,
                          g->beta, g->c, g->c_off, g->ldc, &ctx->queue, event);
    if (rc != CLBlastSuccess)
        return CLAE_FAIL(ctx, rc, "%s(%c%c, m=%zu n=%zu k=%zu): %s",
                         temp ? "CLBlastSgemmWithTempBuffer" : "CLBlastSgemm",
                         g->trans_a ? 'T' : 'N', g->trans_b ? 'T' : 'N', g->m,
                         g->n, g->k, clae_strerror(rc));
    return CLAE_SUCCESS;
}

clae_status clae__gemm_temp_bytes(clae_context *ctx, const clae_gemm *g,
                                  size_t *bytes)
{
    CLBlastStatusCode rc = CLBlastSGemmTempBufferSize(
        CLBlastLayoutRowMajor, transpose(g->trans_a), transpose(g->trans_b),
        g->m, g->n, g->k, g->a_off, g->lda, g->b_off, g->ldb, g->c_off, g->ldc,
        &ctx->queue, bytes);
    if (rc != CLBlastSuccess)
        return CLAE_FAIL(ctx, rc, "CLBlastSGemmTempBufferSize: %s",
                         clae_strerror(rc));
    return CLAE_SUCCESS;
}

clae_status clae__blas_override(clae_context *ctx,
                                const clae_kernel_params *p)
{
    CLBlastStatusCode rc = CLBlastOverrideParameters(
        ctx->device, p->kernel, CLBlastPrecisionSingle, p->count,
        (const char **)p->names, /* CLBlast only reads them */
        p->values);
    if (rc != CLBlastSuccess)
        return CLAE_FAIL(ctx, rc, "CLBlastOverrideParameters(%s): %s", p->kernel,
                         clae_strerror(rc));
    return CLAE_SUCCESS;
}

clae_status clae__blas_clear_cache(void) { return CLBlastClearCache(); }
