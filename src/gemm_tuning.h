/* Device-tuned GEMM parameters for CLBlast: data in a table keyed by
 * platform and device type, applied once per context before the first GEMM
 * and verified against a host GEMM. CLBlast 1.5.3 does not know many
 * devices (PoCL's CPU among them) and falls back to generic parameters
 * that are several times slower there. */
#ifndef CLAE_GEMM_TUNING_H
#define CLAE_GEMM_TUNING_H

#include "context.h"

enum { CLAE_TUNING_MAX_PARAMS = 16 };

/* One CLBlast kernel's parameters, as CLBlastOverrideParameters takes
 * them; every parameter of the kernel must be given. */
typedef struct clae_kernel_params_ {
    const char *kernel; /* "Xgemm", "GemmRoutine", ... */
    size_t count;
    const char *names[CLAE_TUNING_MAX_PARAMS];
    size_t values[CLAE_TUNING_MAX_PARAMS];
} clae_kernel_params;

typedef struct {
    const char *name;              /* shown in messages */
    const char *platform_contains; /* matched against the platform name */
    const char *type;              /* "CPU", "GPU", ... */
    size_t count;
    clae_kernel_params kernels[2];
} clae_gemm_tuning;

/* Applies the table's entry for the context's device, if any, and checks
 * a GEMM of each transpose combination against the host. When the check
 * fails the generic parameters are applied instead, with a warning. Sets
 * ctx->gemm_tuning to the entry's name ("" without one). */
clae_status clae__gemm_tune(clae_context *ctx);

/* Applies one entry and checks it: *ok = 0 when the GEMMs compute wrong
 * results; the status is that of the OpenCL and CLBlast calls. */
clae_status clae__gemm_tuning_apply(clae_context *ctx,
                                    const clae_gemm_tuning *tuning, int *ok);

#endif
