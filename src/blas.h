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
clae_status clae__blas_clear_cache(void); /* CLBlast's status */

#endif
