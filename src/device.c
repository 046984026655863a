/* Platforms and devices: listing, choosing, opening a context and queue. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CL/cl_ext.h>

#include "blas.h"
#include "gemm_tuning.h"
#include "context.h"
#include "numbers.h"

/* Device queries record the first that fails and go on, so that a series
 * of them (a device's description) reports one error at its end. */
typedef struct {
    cl_int err;
    const char *what; /* e.g. "clGetDeviceInfo(CL_DEVICE_NAME)" */
} query_error;

static void note(query_error *q, cl_int err, const char *what)
{
    if (err != CL_SUCCESS && q->err == CL_SUCCESS) {
        q->err = err;
        q->what = what;
    }
}

static clae_status query_failed(clae_context *ctx, const query_error *q)
{
    return CLAE_FAIL(ctx, q->err, "%s: %s", q->what, clae_strerror(q->err));
}

#define DEVICE_INFO(q, d, name, out, size) \
    note((q), clGetDeviceInfo((d), (name), (size), (out), NULL), \
         "clGetDeviceInfo(" #name ")")

/* Strings are read whole, then cut to the field's size. */
#define STRING_INFO(q, get, object, name, field)                             \
    do {                                                                     \
        char text_[1024] = "";                                               \
        note((q), get((object), (name), sizeof text_, text_, NULL),          \
             #get "(" #name ")");                                            \
        snprintf((field), sizeof(field), "%s", text_);                       \
    } while (0)

static const char *type_name(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU) return "GPU";
    if (type & CL_DEVICE_TYPE_CPU) return "CPU";
    if (type & CL_DEVICE_TYPE_ACCELERATOR) return "ACCELERATOR";
    return "OTHER";
}

static void describe(cl_platform_id p, cl_device_id d, unsigned pi,
                     unsigned di, clae_device_info *info, query_error *q)
{
    memset(info, 0, sizeof *info);
    info->platform_index = pi;
    info->device_index = di;
    STRING_INFO(q, clGetPlatformInfo, p, CL_PLATFORM_NAME, info->platform_name);
    STRING_INFO(q, clGetPlatformInfo, p, CL_PLATFORM_VERSION,
                info->platform_version);
    STRING_INFO(q, clGetDeviceInfo, d, CL_DEVICE_NAME, info->name);
    STRING_INFO(q, clGetDeviceInfo, d, CL_DEVICE_VENDOR, info->vendor);
    STRING_INFO(q, clGetDeviceInfo, d, CL_DEVICE_VERSION, info->opencl_version);
    STRING_INFO(q, clGetDeviceInfo, d, CL_DRIVER_VERSION, info->driver_version);
    cl_device_type type = 0;
    cl_uint units = 0, clock = 0;
    cl_ulong global = 0, local = 0, max_alloc = 0;
    DEVICE_INFO(q, d, CL_DEVICE_TYPE, &type, sizeof type);
    DEVICE_INFO(q, d, CL_DEVICE_MAX_COMPUTE_UNITS, &units, sizeof units);
    DEVICE_INFO(q, d, CL_DEVICE_MAX_CLOCK_FREQUENCY, &clock, sizeof clock);
    DEVICE_INFO(q, d, CL_DEVICE_GLOBAL_MEM_SIZE, &global, sizeof global);
    DEVICE_INFO(q, d, CL_DEVICE_LOCAL_MEM_SIZE, &local, sizeof local);
    DEVICE_INFO(q, d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, &max_alloc,
                sizeof max_alloc);
    snprintf(info->type, sizeof info->type, "%s", type_name(type));
    info->compute_units = units;
    info->clock_mhz = clock;
    info->global_mem_bytes = global;
    info->local_mem_bytes = local;
    info->max_alloc_bytes = max_alloc;
}

/* Calls visit for every device of every platform until it returns nonzero
 * or records a failure in *q. Returns CLAE_ERR_NO_PLATFORM when there is no
 * platform or no device; a failed query is recorded in *q. */
typedef int (*device_visitor)(void *user, cl_platform_id p, cl_device_id d,
                              unsigned pi, unsigned di, query_error *q);

static clae_status for_each_device(device_visitor visit, void *user,
                                   query_error *q)
{
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    /* The ICD loader's word for "no driver installed". */
    if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && np == 0))
        return CLAE_ERR_NO_PLATFORM;
    note(q, err, "clGetPlatformIDs");
    cl_platform_id platforms[64];
    if (np > 64) np = 64;
    if (q->err == CL_SUCCESS)
        note(q, clGetPlatformIDs(np, platforms, NULL), "clGetPlatformIDs");
    if (q->err != CL_SUCCESS) return CLAE_SUCCESS;
    unsigned seen = 0;
    for (unsigned pi = 0; pi < np; pi++) {
        cl_uint nd = 0;
        err = clGetDeviceIDs(platforms[pi], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
        if (err == CL_DEVICE_NOT_FOUND || (err == CL_SUCCESS && nd == 0))
            continue;
        cl_device_id devices[64];
        if (nd > 64) nd = 64;
        note(q, err, "clGetDeviceIDs");
        if (q->err == CL_SUCCESS)
            note(q,
                 clGetDeviceIDs(platforms[pi], CL_DEVICE_TYPE_ALL, nd, devices,
                                NULL),
                 "clGetDeviceIDs");
        if (q->err != CL_SUCCESS) return CLAE_SUCCESS;
        for (unsigned di = 0; di < nd; di++, seen++)
            if (visit(user, platforms[pi], devices[di], pi, di, q) ||
                q->err != CL_SUCCESS)
                return CLAE_SUCCESS;
    }
    return seen ? CLAE_SUCCESS : CLAE_ERR_NO_PLATFORM;
}

struct device_list { clae_device_info *items; size_t count, cap; int oom; };

static int append_device(void *user, cl_platform_id p, cl_device_id d,
                         unsigned pi, unsigned di, query_error *q)
{
    struct device_list *list = user;
    if (list->count == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 8;
        clae_device_info *grown = realloc(list->items, cap * sizeof *grown);
        if (!grown) { list->oom = 1; return 1; }
        list->items = grown;
        list->cap = cap;
    }
    describe(p, d, pi, di, &list->items[list->count++], q);
    return 0;
}

clae_status clae_devices_list(clae_device_info **devices, size_t *count)
{
    struct device_list list = {0};
    query_error q = {CL_SUCCESS, NULL};
    clae_status status = for_each_device(append_device, &list, &q);
    if (status == CLAE_SUCCESS && q.err != CL_SUCCESS) status = q.err;
    if (status == CLAE_SUCCESS && list.oom) status = CLAE_ERR_HOST_MEMORY;
    if (status != CLAE_SUCCESS) {
        free(list.items);
        return status;
    }
    *devices = list.items;
    *count = list.count;
    return CLAE_SUCCESS;
}

const char *clae_opencl_platform_version(char *buffer, size_t size)
{
    cl_platform_id p;
    cl_uint n = 0;
    if (clGetPlatformIDs(1, &p, &n) != CL_SUCCESS || n == 0 ||
        clGetPlatformInfo(p, CL_PLATFORM_VERSION, size, buffer, NULL) !=
            CL_SUCCESS)
        snprintf(buffer, size, "none");
    return buffer;
}

/* The device search: by P:D when index_p >= 0, else the first of `type`. */
struct device_choice {
    int index_p, index_d;
    cl_device_type type;
    cl_platform_id platform;
    cl_device_id device;
    unsigned pi, di;
    int found;
};

static int choose_device(void *user, cl_platform_id p, cl_device_id d,
                         unsigned pi, unsigned di, query_error *q)
{
    struct device_choice *c = user;
    if (c->index_p >= 0) {
        if ((int)pi != c->index_p || (int)di != c->index_d) return 0;
    } else {
        cl_device_type type = 0;
        DEVICE_INFO(q, d, CL_DEVICE_TYPE, &type, sizeof type);
        if (!(type & c->type)) return 0;
    }
    c->platform = p;
    c->device = d;
    c->pi = pi;
    c->di = di;
    c->found = 1;
    return 1;
}

static int parse_index_pair(const char *text, int *p, int *d)
{
    unsigned long pi, di;
    const char *colon = clae__parse_uint(text, ':', INT_MAX, &pi);
    if (!colon || !clae__parse_uint(colon + 1, '\0', INT_MAX, &di)) return 0;
    *p = (int)pi;
    *d = (int)di;
    return 1;
}

static clae_status find_device(clae_context *ctx, const char *spec,
                               clae_device_type type,
                               struct device_choice *c)
{
    clae_status status = CLAE_SUCCESS;
    query_error q = {CL_SUCCESS, NULL};
    memset(c, 0, sizeof *c);
    c->index_p = -1;
    if (spec) {
        if (!parse_index_pair(spec, &c->index_p, &c->index_d))
            return CLAE_FAIL(ctx, CLAE_ERR_NO_DEVICE,
                             "device '%s': expected P:D, e.g. 0:0", spec);
        status = for_each_device(choose_device, c, &q);
    } else if (type == CLAE_DEVICE_DEFAULT) {
        c->type = CL_DEVICE_TYPE_GPU;
        status = for_each_device(choose_device, c, &q);
        if (status == CLAE_SUCCESS && q.err == CL_SUCCESS && !c->found) {
            c->type = CL_DEVICE_TYPE_ALL;
            status = for_each_device(choose_device, c, &q);
        }
    } else {
        c->type = type == CLAE_DEVICE_GPU   ? CL_DEVICE_TYPE_GPU
                  : type == CLAE_DEVICE_CPU ? CL_DEVICE_TYPE_CPU
                                            : CL_DEVICE_TYPE_ALL;
        status = for_each_device(choose_device, c, &q);
    }
    if (q.err != CL_SUCCESS) return query_failed(ctx, &q);
    if (status == CLAE_ERR_NO_PLATFORM)
        return CLAE_FAIL(ctx, status,
                         "no OpenCL platform found: install an OpenCL driver "
                         "(on Debian: apt-get install ocl-icd-libopencl1 "
                         "pocl-opencl-icd, or your GPU vendor's ICD)");
    if (!c->found)
        return CLAE_FAIL(ctx, CLAE_ERR_NO_DEVICE,
                         spec ? "device '%s' names no device (see clae-devices)"
                              : "no OpenCL device of the requested type%s",
                         spec ? spec : "");
    return CLAE_SUCCESS;
}

/* NVIDIA's driver keeps a binary cache of its own, which ours would only
 * duplicate (program.c says why PoCL, which has one too, still uses ours). */
static int driver_has_build_cache(const clae_device_info *info)
{
    return strstr(info->vendor, "NVIDIA") != NULL;
}

/* A context's start common to both ways of making one: its fields from
 * options, with the kernel directory. */
static clae_status context_start(const clae_context_options *options,
                                 clae_context **out)
{
    clae_context *ctx = calloc(1, sizeof *ctx);
    *out = ctx;
    if (!ctx) return CLAE_ERR_HOST_MEMORY;
    ctx->log = options->log;
    ctx->log_user = options->log_user;
    ctx->profiling = options->profile != 0;
    ctx->device_memory = options->device_memory;
    const char *dir = options->kernel_dir ? options->kernel_dir
                                          : getenv("CLAE_KERNEL_DIR");
    if (dir && *dir && !(ctx->kernel_dir = strdup(dir)))
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    return CLAE_SUCCESS;
}

/* Once the context has its device, OpenCL context and main queue: the
 * description, the uploads' queue, the kernels and the GEMM parameters. */
static clae_status context_finish(clae_context *ctx, unsigned pi, unsigned di)
{
    clae_status status = CLAE_SUCCESS;
    query_error q = {CL_SUCCESS, NULL};
    describe(ctx->platform, ctx->device, pi, di, &ctx->info, &q);
    if (q.err != CL_SUCCESS) return query_failed(ctx, &q);
    ctx->driver_caches_builds = driver_has_build_cache(&ctx->info);
    cl_int err;
    ctx->uploads = clCreateCommandQueue(
        ctx->cl, ctx->device, ctx->profiling ? CL_QUEUE_PROFILING_ENABLE : 0,
        &err);
    CL_CHECK_ERR(ctx, "clCreateCommandQueue(uploads)", err);
    CLAE_TRY(clae__kernels_create(ctx, &ctx->kernels));
    CLAE_TRY(clae__gemm_tune(ctx));
fail:
    return status;
}

clae_status clae_context_create(const clae_context_options *options,
                                clae_context **out)
{
    clae_status status = CLAE_SUCCESS;
    clae_context_options defaults = {0};
    if (!options) options = &defaults;
    CLAE_TRY(context_start(options, out));
    clae_context *ctx = *out;
    const char *spec = options->device ? options->device : getenv("CLAE_DEVICE");
    if (spec && !*spec) spec = NULL;
    struct device_choice choice;
    CLAE_TRY(find_device(ctx, spec, options->device_type, &choice));
    ctx->platform = choice.platform;
    ctx->device = choice.device;
    cl_int err;
    ctx->cl = clCreateContext(NULL, 1, &ctx->device, NULL, NULL, &err);
    CL_CHECK_ERR(ctx, "clCreateContext", err);
    ctx->queue = clCreateCommandQueue(
        ctx->cl, ctx->device, ctx->profiling ? CL_QUEUE_PROFILING_ENABLE : 0,
        &err);
    CL_CHECK_ERR(ctx, "clCreateCommandQueue", err);
    CLAE_TRY(context_finish(ctx, choice.pi, choice.di));
fail:
    return status;
}

/* The P:D indices of device d as clae-devices numbers them (0:0 if it is
 * not among them, as a device a host application made itself can be). */
struct device_search {
    cl_device_id device;
    unsigned pi, di;
};

static int match_device(void *user, cl_platform_id p, cl_device_id d,
                        unsigned pi, unsigned di, query_error *q)
{
    (void)p, (void)q;
    struct device_search *s = user;
    if (d != s->device) return 0;
    s->pi = pi;
    s->di = di;
    return 1;
}

#define QUEUE_INFO(ctx, queue, name, out)                                    \
    CL_CHECK((ctx), clGetCommandQueueInfo((queue), (name), sizeof *(out),    \
                                          (out), NULL))

clae_status clae_context_create_from_queue(cl_command_queue queue,
                                           const clae_context_options *options,
                                           clae_context **out)
{
    clae_status status = CLAE_SUCCESS;
    clae_context_options defaults = {0};
    if (!options) options = &defaults;
    CLAE_TRY(context_start(options, out));
    clae_context *ctx = *out;
    cl_command_queue_properties properties = 0;
    cl_context cl;
    cl_device_id device;
    cl_platform_id platform;
    QUEUE_INFO(ctx, queue, CL_QUEUE_CONTEXT, &cl);
    QUEUE_INFO(ctx, queue, CL_QUEUE_DEVICE, &device);
    QUEUE_INFO(ctx, queue, CL_QUEUE_PROPERTIES, &properties);
    CL_CHECK(ctx, clGetDeviceInfo(device, CL_DEVICE_PLATFORM, sizeof platform,
                                  &platform, NULL));
    /* Held from here on, so that destroying the context releases them as
     * it does those clae makes. */
    CL_CHECK(ctx, clRetainContext(cl));
    ctx->cl = cl;
    CL_CHECK(ctx, clRetainCommandQueue(queue));
    ctx->queue = queue;
    ctx->device = device;
    ctx->platform = platform;
    if (properties & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE)
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "the command queue is out of order: clae needs an "
                         "in-order queue");
    if (ctx->profiling && !(properties & CL_QUEUE_PROFILING_ENABLE))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "profiling needs a queue made with "
                         "CL_QUEUE_PROFILING_ENABLE");
    struct device_search found = {ctx->device, 0, 0};
    query_error q = {CL_SUCCESS, NULL};
    if (for_each_device(match_device, &found, &q) == CLAE_SUCCESS &&
        q.err != CL_SUCCESS)
        return query_failed(ctx, &q);
    CLAE_TRY(context_finish(ctx, found.pi, found.di));
fail:
    return status;
}

void clae__finish_before_release(clae_context *ctx, cl_command_queue queue)
{
    cl_int err = clFinish(queue);
    if (err != CL_SUCCESS)
        clae__warn(ctx, "clFinish before releasing the queue's objects: %s",
                   clae_strerror(err));
}

void clae_context_destroy(clae_context *ctx)
{
    if (!ctx) return;
    clae__kernels_release(&ctx->kernels);
    if (ctx->queue) {
        clae__finish_before_release(ctx, ctx->queue);
        /* CLBlast keeps programs per context; drop them before it goes. */
        clae_status err = clae__blas_clear_cache();
        if (err != CLAE_SUCCESS)
            clae__warn(ctx, "CLBlastClearCache: %s", clae_strerror(err));
        clReleaseCommandQueue(ctx->queue);
    }
    if (ctx->uploads) {
        clae__finish_before_release(ctx, ctx->uploads);
        clReleaseCommandQueue(ctx->uploads);
    }
    clae__profile_release(&ctx->profiler);
    if (ctx->cl) clReleaseContext(ctx->cl);
    free(ctx->kernel_dir);
    free(ctx);
}

const clae_device_info *clae_context_device(const clae_context *ctx)
{
    return &ctx->info;
}

/* What buffer_freed takes off the context's count of device bytes. */
typedef struct {
    _Atomic uint64_t *held;
    uint64_t bytes;
} buffer_bytes;

/* Runs when the driver frees a buffer clae made (on any thread). */
static void CL_CALLBACK buffer_freed(cl_mem mem, void *user)
{
    (void)mem;
    buffer_bytes *b = user;
    atomic_fetch_sub(b->held, b->bytes);
    free(b);
}

clae_status clae__buffer(clae_context *ctx, size_t bytes, const char *what,
                         cl_mem *out)
{
    cl_int err;
    if (!bytes) bytes = 1;
    *out = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS)
        return CLAE_FAIL(ctx, err, "clCreateBuffer(%s, %zu bytes): %s", what,
                         bytes, clae_strerror(err));
    buffer_bytes *freed = malloc(sizeof *freed);
    if (!freed) {
        clae__release_mem(out);
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    }
    *freed = (buffer_bytes){&ctx->device_bytes, bytes};
    err = clSetMemObjectDestructorCallback(*out, buffer_freed, freed);
    if (err != CL_SUCCESS) {
        free(freed);
        clae__release_mem(out);
        return CLAE_FAIL(ctx, err, "clSetMemObjectDestructorCallback: %s",
                         clae_strerror(err));
    }
    uint64_t held = atomic_fetch_add(&ctx->device_bytes, (uint64_t)bytes) + bytes;
    if (held > ctx->device_bytes_peak) ctx->device_bytes_peak = held;
    return CLAE_SUCCESS;
}

uint64_t clae_device_memory_peak(const clae_context *ctx)
{
    return ctx->device_bytes_peak;
}

void clae__release_mem(cl_mem *mem)
{
    if (*mem) clReleaseMemObject(*mem);
    *mem = NULL;
}
