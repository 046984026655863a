/* Where the time of an epoch goes, from OpenCL profiling events.
 *
 * With profiling on (clae_context_options.profile), every command clae
 * enqueues gets an event tagged with its part (GEMM, a kernel family, a
 * transfer); clae__profile_collect turns them into seconds once the queue
 * has drained. A GEMM is timed from a marker enqueued just before CLBlast's
 * call to the end of CLBlast's last kernel, so the helper kernels CLBlast
 * may run around its GEMM kernel count as GEMM time. */
#ifndef CLAE_PROFILE_H
#define CLAE_PROFILE_H

#include <CL/cl.h>

#include "clae.h"

typedef struct {
    cl_event begin; /* marker before the command, or NULL */
    cl_event end;   /* the command's (last) event */
    clae_profile_part part;
} clae_profile_record;

typedef struct {
    clae_profile_record *records;
    size_t count, capacity;
    int recording; /* set around what is being profiled (an epoch) */
} clae_profiler;

/* The event slot for the next command of `part`, or NULL when not
 * recording (pass it straight to clEnqueue*). The record array grows only in
 * the first epoch; later epochs reuse it. */
cl_event *clae__profile_event(clae_context *ctx, clae_profile_part part);

/* Enqueues the marker that opens a GEMM and returns the slot for CLBlast's
 * event; NULL when not recording. */
clae_status clae__profile_gemm(clae_context *ctx, cl_event **slot);

/* Starts recording when the context profiles. */
void clae__profile_start(clae_context *ctx);

/* Stops recording, waits for the recorded commands, adds their seconds into
 * out's device parts, releases their events and empties the record list. */
clae_status clae__profile_collect(clae_context *ctx, clae_profile *out);

/* Releases the recorded events (after a failure, or at the end). */
void clae__profile_release_events(clae_profiler *p);
void clae__profile_release(clae_profiler *p);

#endif
