/* Device-tuned GEMM parameters for CLBlast: data in a table keyed by
 * platform and device type, applied once per context before the first GEMM
 * and verified against a host GEMM. CLBlast 1.5.3 does not know many
 * devices (PoCL's CPU among them) and falls back to generic parameters
 * that are several times slower there. */
#ifndef CLAE_GEMM_TUNING_H
#define CLAE_GEMM_TUNING_H

#include "blas.h"

/* The parameters of CLBlast's GEMM kernels, in the order entries list
 * their values. */
#define CLAE_XGEMM_NAMES                                                     \
    {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",        \
     "NDIMC", "NWG", "SA", "SB", "STRM", "STRN", "VWM", "VWN"}
#define CLAE_XGEMM_DIRECT_NAMES                                              \
    {"KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB", "VWMD", \
     "VWND", "WGD"}

typedef struct {
    const char *name;              /* shown in messages */
    const char *platform_contains; /* matched against the platform name */
    const char *type;              /* "CPU", "GPU", ... */
    /* Any of these in the device name (PoCL names its CPU devices after
     * LLVM's CPU target: "pthread-skylake-avx512-..."); NULL: any device. */
    const char *const *device_contains;
    /* None of these in the device name; NULL: no exclusions. */
    const char *const *device_lacks;
    size_t count;
    clae_kernel_params kernels[2];
} clae_gemm_tuning;

/* Applies the table's entry for the context's device, if any, and checks
 * a GEMM of each transpose combination against the host. When the check
 * fails the generic parameters are applied instead, with a warning. Sets
 * ctx->gemm_tuning to the entry's name ("" without one). */
clae_status clae__gemm_tune(clae_context *ctx);

/* Applies one entry and checks it: *ok = 0 when the GEMMs compute wrong
 * results (the entry stays applied; apply another); the status is that of
 * the OpenCL and CLBlast calls. Sets ctx->gemm_tuning to its name. */
clae_status clae__gemm_apply(clae_context *ctx, const clae_gemm_tuning *tuning,
                             int *ok);

/* The entry clae__gemm_tune chose for the context's device (the built-in
 * one, or the generic fallback); NULL when none applies. */
const clae_gemm_tuning *clae__gemm_builtin(const clae_context *ctx);

/* Applies the entry clae tune stored for the device, its driver version and
 * the shape class of the model's GEMMs at this batch size, if there is one
 * (verified; a failing entry is replaced by the built-in one, with a
 * warning). Cheap when the class is the one already applied. */
clae_status clae__gemm_use_stored(clae_model *model, size_t batch);

#endif
