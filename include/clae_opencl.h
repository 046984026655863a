/* clae on a host application's own OpenCL objects, for programs that
 * already hold an OpenCL context and command queue and want clae to work
 * on them. The one public header that includes OpenCL's (clae.h does not
 * need them). */
#ifndef CLAE_OPENCL_H
#define CLAE_OPENCL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#ifdef __APPLE__
#include <OpenCL/cl.h>
#else
#include <CL/cl.h>
#endif

#include "clae.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Makes a context on queue's device and OpenCL context, with queue as the
 * queue clae enqueues its work on (plus one of its own for uploads). queue
 * must execute in order, and have CL_QUEUE_PROFILING_ENABLE when
 * options->profile is set. clae retains the queue and its context and
 * releases them in clae_context_destroy; the caller keeps its own
 * references. options->device and device_type are not used. Otherwise as
 * clae_context_create: *context is set even on failure, when memory
 * allows, so that clae_last_error can say why; destroy it in every case. */
clae_status clae_context_create_from_queue(cl_command_queue queue,
                                           const clae_context_options *options,
                                           clae_context **context);

#ifdef __cplusplus
}
#endif

#endif
