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
        return CLAE_FAIL(ctx, rc, "CLBlastSgemm(%c%c, m=%zu n=%zu k=%zu): %s",
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

void clae__blas_clear_cache(void) { CLBlastClearCache(); }

size_t clae__conv_out_h(const clae_conv_shape *s)
{
    return (s->height + 2 * s->pad_h - s->kernel_h) / s->stride_h + 1;
}

size_t clae__conv_out_w(const clae_conv_shape *s)
{
    return (s->width + 2 * s->pad_w - s->kernel_w) / s->stride_w + 1;
}

#define CONV_GEOMETRY(s)                                                     \
    (s)->channels, (s)->height, (s)->width, (s)->kernel_h, (s)->kernel_w,    \
        (s)->pad_h, (s)->pad_w, (s)->stride_h, (s)->stride_w, 1, 1

static clae_status conv_failed(clae_context *ctx, CLBlastStatusCode rc,
                               const char *call, const clae_conv_shape *s)
{
    return CLAE_FAIL(ctx, rc,
                     "%s(%zux%zux%zu, kernel %zux%zu, pad %zux%zu, stride "
                     "%zux%zu): %s",
                     call, s->channels, s->height, s->width, s->kernel_h,
                     s->kernel_w, s->pad_h, s->pad_w, s->stride_h, s->stride_w,
                     clae_strerror(rc));
}

clae_status clae__im2col(clae_context *ctx, const clae_conv_shape *s,
                         cl_mem im, size_t im_off, cl_mem col, size_t col_off)
{
    CLBlastStatusCode rc = CLBlastSim2col(
        CLBlastKernelModeCrossCorrelation, CONV_GEOMETRY(s), im, im_off, col,
        col_off, &ctx->queue, NULL);
    return rc == CLBlastSuccess ? CLAE_SUCCESS
                                : conv_failed(ctx, rc, "CLBlastSim2col", s);
}

clae_status clae__col2im(clae_context *ctx, const clae_conv_shape *s,
                         cl_mem col, size_t col_off, cl_mem im, size_t im_off)
{
    CLBlastStatusCode rc = CLBlastScol2im(
        CLBlastKernelModeCrossCorrelation, CONV_GEOMETRY(s), col, col_off, im,
        im_off, &ctx->queue, NULL);
    return rc == CLBlastSuccess ? CLAE_SUCCESS
                                : conv_failed(ctx, rc, "CLBlastScol2im", s);
}

clae_status clae__convgemm(clae_context *ctx, const clae_conv_shape *s,
                           size_t kernels, size_t batch, cl_mem im,
                           size_t im_off, cl_mem w, size_t w_off, cl_mem out,
                           size_t out_off)
{
    CLBlastStatusCode rc = CLBlastSconvgemm(
        CLBlastKernelModeCrossCorrelation, CONV_GEOMETRY(s), kernels, batch, im,
        im_off, w, w_off, out, out_off, &ctx->queue, NULL);
    return rc == CLBlastSuccess ? CLAE_SUCCESS
                                : conv_failed(ctx, rc, "CLBlastSconvgemm", s);
}
