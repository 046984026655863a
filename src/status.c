/* Status names, the last-error record and version strings. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "context.h"

#ifndef CLAE_CLBLAST_VERSION
#define CLAE_CLBLAST_VERSION "unknown"
#endif

const char *clae_version(void) { return CLAE_VERSION_STRING; }
const char *clae_clblast_version(void) { return CLAE_CLBLAST_VERSION; }

#define NAME(code) { code, #code }

/* OpenCL's, CLBlast's and clae's codes live in disjoint ranges, so one table
 * names them all. CLBlast's codes that equal an OpenCL code are covered by
 * the OpenCL entry. */
static const struct { clae_status code; const char *name; } status_names[] = {
    NAME(CL_SUCCESS),
    NAME(CL_DEVICE_NOT_FOUND),
    NAME(CL_DEVICE_NOT_AVAILABLE),
    NAME(CL_COMPILER_NOT_AVAILABLE),
    NAME(CL_MEM_OBJECT_ALLOCATION_FAILURE),
    NAME(CL_OUT_OF_RESOURCES),
    NAME(CL_OUT_OF_HOST_MEMORY),
    NAME(CL_PROFILING_INFO_NOT_AVAILABLE),
    NAME(CL_MEM_COPY_OVERLAP),
    NAME(CL_IMAGE_FORMAT_MISMATCH),
    NAME(CL_IMAGE_FORMAT_NOT_SUPPORTED),
    NAME(CL_BUILD_PROGRAM_FAILURE),
    NAME(CL_MAP_FAILURE),
    NAME(CL_MISALIGNED_SUB_BUFFER_OFFSET),
    NAME(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST),
    NAME(CL_COMPILE_PROGRAM_FAILURE),
    NAME(CL_LINKER_NOT_AVAILABLE),
    NAME(CL_LINK_PROGRAM_FAILURE),
    NAME(CL_DEVICE_PARTITION_FAILED),
    NAME(CL_KERNEL_ARG_INFO_NOT_AVAILABLE),
    NAME(CL_INVALID_VALUE),
    NAME(CL_INVALID_DEVICE_TYPE),
    NAME(CL_INVALID_PLATFORM),
    NAME(CL_INVALID_DEVICE),
    NAME(CL_INVALID_CONTEXT),
    NAME(CL_INVALID_QUEUE_PROPERTIES),
    NAME(CL_INVALID_COMMAND_QUEUE),
    NAME(CL_INVALID_HOST_PTR),
    NAME(CL_INVALID_MEM_OBJECT),
    NAME(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR),
    NAME(CL_INVALID_IMAGE_SIZE),
    NAME(CL_INVALID_SAMPLER),
    NAME(CL_INVALID_BINARY),
    NAME(CL_INVALID_BUILD_OPTIONS),
    NAME(CL_INVALID_PROGRAM),
    NAME(CL_INVALID_PROGRAM_EXECUTABLE),
    NAME(CL_INVALID_KERNEL_NAME),
    NAME(CL_INVALID_KERNEL_DEFINITION),
    NAME(CL_INVALID_KERNEL),
    NAME(CL_INVALID_ARG_INDEX),
    NAME(CL_INVALID_ARG_VALUE),
    NAME(CL_INVALID_ARG_SIZE),
    NAME(CL_INVALID_KERNEL_ARGS),
    NAME(CL_INVALID_WORK_DIMENSION),
    NAME(CL_INVALID_WORK_GROUP_SIZE),
    NAME(CL_INVALID_WORK_ITEM_SIZE),
    NAME(CL_INVALID_GLOBAL_OFFSET),
    NAME(CL_INVALID_EVENT_WAIT_LIST),
    NAME(CL_INVALID_EVENT),
    NAME(CL_INVALID_OPERATION),
    NAME(CL_INVALID_GL_OBJECT),
    NAME(CL_INVALID_BUFFER_SIZE),
    NAME(CL_INVALID_MIP_LEVEL),
    NAME(CL_INVALID_GLOBAL_WORK_SIZE),
    NAME(CL_INVALID_PROPERTY),
    NAME(CL_INVALID_IMAGE_DESCRIPTOR),
    NAME(CL_INVALID_COMPILER_OPTIONS),
    NAME(CL_INVALID_LINKER_OPTIONS),
    NAME(CL_INVALID_DEVICE_PARTITION_COUNT),
    { -1024, "CLBlastNotImplemented" },
    { -1022, "CLBlastInvalidMatrixA" },
    { -1021, "CLBlastInvalidMatrixB" },
    { -1020, "CLBlastInvalidMatrixC" },
    { -1019, "CLBlastInvalidVectorX" },
    { -1018, "CLBlastInvalidVectorY" },
    { -1017, "CLBlastInvalidDimension" },
    { -1016, "CLBlastInvalidLeadDimA" },
    { -1015, "CLBlastInvalidLeadDimB" },
    { -1014, "CLBlastInvalidLeadDimC" },
    { -1013, "CLBlastInvalidIncrementX" },
    { -1012, "CLBlastInvalidIncrementY" },
    { -1011, "CLBlastInsufficientMemoryA" },
    { -1010, "CLBlastInsufficientMemoryB" },
    { -1009, "CLBlastInsufficientMemoryC" },
    { -1008, "CLBlastInsufficientMemoryX" },
    { -1007, "CLBlastInsufficientMemoryY" },
    { -2050, "CLBlastInsufficientMemoryTemp" },
    { -2049, "CLBlastInvalidBatchCount" },
    { -2048, "CLBlastInvalidOverrideKernel" },
    { -2047, "CLBlastMissingOverrideParameter" },
    { -2046, "CLBlastInvalidLocalMemUsage" },
    { -2045, "CLBlastNoHalfPrecision" },
    { -2044, "CLBlastNoDoublePrecision" },
    { -2043, "CLBlastInvalidVectorScalar" },
    { -2042, "CLBlastInsufficientMemoryScalar" },
    { -2041, "CLBlastDatabaseError" },
    { -2040, "CLBlastUnknownError" },
    { -2039, "CLBlastUnexpectedError" },
    NAME(CLAE_ERR_NO_PLATFORM),
    NAME(CLAE_ERR_NO_DEVICE),
    NAME(CLAE_ERR_USAGE),
    NAME(CLAE_ERR_INPUT),
    NAME(CLAE_ERR_IO),
    NAME(CLAE_ERR_HOST_MEMORY),
    NAME(CLAE_ERR_SPEC),
    NAME(CLAE_ERR_DIVERGED),
    NAME(CLAE_ERR_INTERRUPTED),
    NAME(CLAE_ERR_REPLICAS),
};

const char *clae_strerror(clae_status status)
{
    for (size_t i = 0; i < sizeof status_names / sizeof *status_names; i++)
        if (status_names[i].code == status) return status_names[i].name;
    return "unknown status";
}

int clae_status_is_user_error(clae_status status)
{
    return status == CLAE_ERR_NO_DEVICE || status == CLAE_ERR_USAGE ||
           status == CLAE_ERR_INPUT || status == CLAE_ERR_SPEC;
}

void clae__fail(clae_context *ctx, const char *file, int line,
                const char *fmt, ...)
{
    if (!ctx) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(ctx->last_error, sizeof ctx->last_error, fmt, ap);
    va_end(ap);
    size_t used = n < 0 ? 0 : (size_t)n;
    if (used < sizeof ctx->last_error)
        snprintf(ctx->last_error + used, sizeof ctx->last_error - used,
                 " (%s:%d)", file, line);
}

clae_status clae__fail_within(clae_context *ctx, clae_status status,
                              const char *what)
{
    if (!ctx) return status;
    /* A message too long for the record is cut, as clae__fail cuts it. */
    char joined[sizeof ctx->last_error];
    if (snprintf(joined, sizeof joined, "%s: %s", what, ctx->last_error) >= 0)
        memcpy(ctx->last_error, joined, sizeof joined);
    return status;
}

static void log_message(clae_context *ctx, clae_log_level level,
                        const char *fmt, va_list ap)
{
    if (!ctx || !ctx->log) return;
    char message[1024];
    vsnprintf(message, sizeof message, fmt, ap);
    ctx->log(ctx->log_user, level, message);
}

void clae__warn(clae_context *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_message(ctx, CLAE_LOG_WARNING, fmt, ap);
    va_end(ap);
}

void clae__inform(clae_context *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_message(ctx, CLAE_LOG_INFO, fmt, ap);
    va_end(ap);
}

const char *clae_last_error(const clae_context *ctx)
{
    return ctx ? ctx->last_error : "";
}
