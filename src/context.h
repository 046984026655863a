/* The context: one device, its queue, its kernels and the last error. */
#ifndef CLAE_CONTEXT_H
#define CLAE_CONTEXT_H

#include <CL/cl.h>
#include <stdatomic.h>

#include "clae.h"
#include "clae_opencl.h"
#include "kernels.h"
#include "profile.h"

struct clae_context {
    clae_device_info info;
    cl_platform_id platform;
    cl_device_id device;
    cl_context cl;
    cl_command_queue queue;
    cl_command_queue uploads; /* streamed data chunks, beside the kernels */
    uint64_t device_memory;   /* the data budget asked for; 0: default */
    clae_kernels kernels;
    int driver_caches_builds; /* NVIDIA keeps its own binary cache */
    unsigned source_builds;   /* programs compiled from source, not cache */
    const char *gemm_tuning;  /* the GEMM parameters applied, "" for none */
    char gemm_class[64];      /* the shape class stored entries were sought
                                 for, "" before the first workspace */
    int profiling;            /* the queue records profiling events */
    /* Bytes of clae's buffers on the device now (the driver's destructor
     * callbacks subtract, from any thread) and at most so far. */
    _Atomic uint64_t device_bytes;
    uint64_t device_bytes_peak;
    clae_profiler profiler;
    char *kernel_dir;         /* NULL: the embedded sources */
    void (*log)(void *user, clae_log_level level, const char *message);
    void *log_user;
    char last_error[4096];
};

/* Records a failure in the context: the message says what failed;
 * file:line is appended. ctx may be NULL (nothing is recorded). */
void clae__fail(clae_context *ctx, const char *file, int line,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records the failure and is status, visibly: a static analyzer that sees
 * one file at a time then knows a failure never returns success. status
 * is evaluated after the message (whose arguments often name it again):
 * pass a constant or a variable, not a call. */
#define CLAE_FAIL(ctx, status, ...) \
    (clae__fail((ctx), __FILE__, __LINE__, __VA_ARGS__), (status))

/* Puts "what: " (a file's name, say) before the message of the failure
 * just recorded, which keeps its own call site; returns status. */
clae_status clae__fail_within(clae_context *ctx, clae_status status,
                              const char *what);

/* Checks a call that returns a cl_int (or CLBlast code): on failure records
 * "call: CL_NAME" and jumps to the cleanup label `fail` with `status` set. */
#define CL_CHECK(ctx, call)                                                  \
    do {                                                                     \
        cl_int cl_check_rc_ = (call);                                        \
        if (cl_check_rc_ != CL_SUCCESS) {                                    \
            status = CLAE_FAIL((ctx), cl_check_rc_, "%s: %s", #call,         \
                               clae_strerror(cl_check_rc_));                 \
            goto fail;                                                       \
        }                                                                    \
    } while (0)

/* For calls that report through an out-parameter: `err` must have been
 * passed as the last argument. */
#define CL_CHECK_ERR(ctx, what, err)                                         \
    do {                                                                     \
        if ((err) != CL_SUCCESS) {                                           \
            status = CLAE_FAIL((ctx), (err), "%s: %s", (what),               \
                               clae_strerror(err));                          \
            goto fail;                                                       \
        }                                                                    \
    } while (0)

/* Same for status-returning clae functions: propagate without a message. */
#define CLAE_TRY(call)                                                       \
    do {                                                                     \
        status = (call);                                                     \
        if (status != CLAE_SUCCESS) goto fail;                               \
    } while (0)

void clae__warn(clae_context *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void clae__inform(clae_context *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Waits for queue's commands before the objects they use are released;
 * a failure there is only warned about, as nothing is left to return it
 * to. */
void clae__finish_before_release(clae_context *ctx, cl_command_queue queue);

/* Creates a device buffer of `bytes` (at least 1) or fails with its name. */
clae_status clae__buffer(clae_context *ctx, size_t bytes, const char *what,
                         cl_mem *out);
void clae__release_mem(cl_mem *mem); /* NULL-safe, clears the handle */

#endif
