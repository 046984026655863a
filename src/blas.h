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

/* Sets one CLBlast kernel's parameters for the context's device (for the
 * whole process: CLBlast keeps them per device). */
struct clae_kernel_params_;
clae_status clae__blas_override(clae_context *ctx,
                                const struct clae_kernel_params_ *params);

/* Drops CLBlast's process-wide program cache. */
void clae__blas_clear_cache(void);

#endif
