/* Device-tuned GEMM parameters for CLBlast: data in a table keyed by
 * platform and device type, applied once per context before the first GEMM
 * and verified against a host GEMM. CLBlast 1.5.3 does not know many
 * devices (PoCL's CPU among them) and falls back to generic parameters
 * that are several times slower there. */
#ifndef CLAE_GEMM_TUNING_H
#define CLAE_GEMM_TUNING_H

#include "blas.h"

typedef struct {
    const char *name;              /* shown in messages */
    const char *platform_contains; /* matched against the platform name */
    const char *type;              /* "CPU", "GPU", ... */
    /* Any of these in the device name (PoCL names its CPU devices after
     * LLVM's CPU target: "pthread-skylake-avx512-..."); NULL: any device. */
    const char *const *device_contains;
    size_t count;
    clae_kernel_params kernels[2];
} clae_gemm_tuning;

/* Applies the table's entry for the context's device, if any, and checks
 * a GEMM of each transpose combination against the host. When the check
 * fails the generic parameters are applied instead, with a warning. Sets
 * ctx->gemm_tuning to the entry's name ("" without one). */
clae_status clae__gemm_tune(clae_context *ctx);

#endif
