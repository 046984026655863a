/* The single CLBlast wrapper: every matrix multiply of clae goes here. */
#ifndef CLAE_BLAS_H
#define CLAE_BLAS_H

#include "context.h"

/* C = alpha * op(A) * op(B) + beta * C, row-major; op(A) is m x k, op(B) is
 * k x n, C is m x n; offsets and leading dimensions count floats. */
typedef struct {
    int trans_a, trans_b;
    size_t m, n, k;
    float alpha, beta;
    cl_mem a; size_t a_off, lda;
    cl_mem b; size_t b_off, ldb;
    cl_mem c; size_t c_off, ldc;
} clae_gemm;

/* Enqueues the GEMM on the context's queue. temp is CLBlast's scratch buffer
 * of at least clae__gemm_temp_bytes bytes (made once per workspace, so that
 * CLBlast allocates nothing inside the training loop), or NULL. */
clae_status clae__gemm(clae_context *ctx, const clae_gemm *gemm, cl_mem temp);

/* The scratch bytes CLBlast needs for this GEMM's shape and offsets. */
clae_status clae__gemm_temp_bytes(clae_context *ctx, const clae_gemm *gemm,
                                  size_t *bytes);

/* A 2-D convolution's geometry over NCHW images (dilation 1): each image
 * is channels x height x width; kernels are kernel_h x kernel_w over all
 * channels, moved by stride over the image padded with pad zeros. */
typedef struct {
    size_t channels, height, width;
    size_t kernel_h, kernel_w, pad_h, pad_w, stride_h, stride_w;
} clae_conv_shape;

size_t clae__conv_out_h(const clae_conv_shape *shape);
size_t clae__conv_out_w(const clae_conv_shape *shape);

/* col ((channels kernel_h kernel_w) x (out_h out_w), row-major) = the
 * patches of the image at im_off: column p holds the patch under output
 * pixel p, row (c, i, j) its channel c pixel (i, j). */
clae_status clae__im2col(clae_context *ctx, const clae_conv_shape *shape,
                         cl_mem im, size_t im_off, cl_mem col, size_t col_off);

/* im at im_off += col2im(col): each patch element added back onto the
 * pixel it came from (the adjoint of clae__im2col), for gradients. */
clae_status clae__col2im(clae_context *ctx, const clae_conv_shape *shape,
                         cl_mem col, size_t col_off, cl_mem im, size_t im_off);

/* out (batch, kernels, out_h, out_w) = cross-correlation of the batch of
 * images at im_off with the kernels (kernels, channels, kernel_h,
 * kernel_w) at w_off, as torch.nn.functional.conv2d without bias. */
clae_status clae__convgemm(clae_context *ctx, const clae_conv_shape *shape,
                           size_t kernels, size_t batch, cl_mem im,
                           size_t im_off, cl_mem w, size_t w_off, cl_mem out,
                           size_t out_off);

enum { CLAE_TUNING_MAX_PARAMS = 16 };

/* One CLBlast kernel's parameters, as CLBlastOverrideParameters takes
 * them; every parameter of the kernel must be given. */
typedef struct {
    const char *kernel; /* "Xgemm", "GemmRoutine", ... */
    size_t count;
    const char *names[CLAE_TUNING_MAX_PARAMS];
    size_t values[CLAE_TUNING_MAX_PARAMS];
} clae_kernel_params;

/* Sets one CLBlast kernel's parameters for the context's device (for the
 * whole process: CLBlast keeps them per device). */
clae_status clae__blas_override(clae_context *ctx,
                                const clae_kernel_params *params);

/* Drops CLBlast's process-wide program cache. */
void clae__blas_clear_cache(void);

#endif
