/* Profiling events: recording, and turning them into seconds. */
#include <stdlib.h>

#include "context.h"
#include "profile.h"

static const char *const part_names[CLAE_PROFILE_PARTS] = {
    "gemm",   "bias_act",  "loss",     "bias_act_backward",
    "gather", "optimizer", "transfer", "host", "noise", "window",
};

const char *clae_profile_part_name(clae_profile_part part)
{
    return (unsigned)part < CLAE_PROFILE_PARTS ? part_names[part] : "?";
}

static clae_profile_record *next_record(clae_profiler *p)
{
    if (p->count == p->capacity) {
        size_t capacity = p->capacity ? 2 * p->capacity : 1024;
        clae_profile_record *r = realloc(p->records, capacity * sizeof *r);
        if (!r) return NULL;
        p->records = r;
        p->capacity = capacity;
    }
    clae_profile_record *r = &p->records[p->count++];
    r->begin = r->end = NULL;
    return r;
}

/* Without room for a record the command simply goes untimed: profiling
 * must not make training fail. */
cl_event *clae__profile_event(clae_context *ctx, clae_profile_part part)
{
    if (!ctx->profiler.recording) return NULL;
    clae_profile_record *r = next_record(&ctx->profiler);
    if (!r) return NULL;
    r->part = part;
    return &r->end;
}

clae_status clae__profile_gemm(clae_context *ctx, cl_event **slot)
{
    clae_status status = CLAE_SUCCESS;
    *slot = clae__profile_event(ctx, CLAE_PROFILE_GEMM);
    if (!*slot) return CLAE_SUCCESS;
    clae_profile_record *r = &ctx->profiler.records[ctx->profiler.count - 1];
    CL_CHECK(ctx, clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &r->begin));
fail:
    return status;
}

static clae_status event_time(clae_context *ctx, cl_event event,
                              cl_profiling_info which, cl_ulong *ns)
{
    clae_status status = CLAE_SUCCESS;
    CL_CHECK(ctx, clGetEventProfilingInfo(event, which, sizeof *ns, ns, NULL));
fail:
    return status;
}

void clae__profile_start(clae_context *ctx)
{
    ctx->profiler.recording = ctx->profiling;
}

clae_status clae__profile_collect(clae_context *ctx, clae_profile *out)
{
    clae_status status = CLAE_SUCCESS;
    clae_profiler *p = &ctx->profiler;
    p->recording = 0;
    CL_CHECK(ctx, clFinish(ctx->queue));
    for (size_t i = 0; i < p->count; i++) {
        clae_profile_record *r = &p->records[i];
        cl_ulong start = 0, end = 0;
        if (!r->end) continue; /* a launch that enqueued nothing */
        CLAE_TRY(event_time(ctx, r->end, CL_PROFILING_COMMAND_END, &end));
        if (r->begin)
            CLAE_TRY(event_time(ctx, r->begin, CL_PROFILING_COMMAND_END, &start));
        else
            CLAE_TRY(event_time(ctx, r->end, CL_PROFILING_COMMAND_START, &start));
        if (end > start) out->seconds[r->part] += 1e-9 * (double)(end - start);
    }
fail:
    clae__profile_release_events(p);
    return status;
}

void clae__profile_release_events(clae_profiler *p)
{
    p->recording = 0;
    for (size_t i = 0; i < p->count; i++) {
        if (p->records[i].begin) clReleaseEvent(p->records[i].begin);
        if (p->records[i].end) clReleaseEvent(p->records[i].end);
    }
    p->count = 0;
}

void clae__profile_release(clae_profiler *p)
{
    clae__profile_release_events(p);
    free(p->records);
    p->records = NULL;
    p->capacity = 0;
}
