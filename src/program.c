/* Program building. Sources come embedded in the library (so the binaries
 * work from any directory) or from $CLAE_KERNEL_DIR. Built binaries are
 * cached under $XDG_CACHE_HOME/clae keyed by device, driver, options and
 * source, except on NVIDIA, whose driver caches builds itself.
 * PoCL caches builds too, and asking it for binaries costs extra work on
 * the first start (measured: 2.7 s -> 3.6 s for our five programs with an
 * empty cache), but every later start loads our binaries in 0.08 s where
 * PoCL's own cache lookup takes 0.36 s, so our cache stays on for PoCL.
 * CLAE_BINARY_CACHE=0/1 forces it off/on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "program.h"

/* A malloc'ed copy of the source of cl/<name>. */
static clae_status load_source(clae_context *ctx, const char *name,
                               char **text)
{
    if (ctx->kernel_dir) {
        char path[4096];
        size_t size;
        snprintf(path, sizeof path, "%s/%s", ctx->kernel_dir, name);
        if (!(*text = clae__read_file(path, &size)))
            return CLAE_FAIL(ctx, CLAE_ERR_INPUT, "kernel source %s: %s", path,
                             strerror(errno));
        return CLAE_SUCCESS;
    }
    for (size_t i = 0; i < clae_cl_source_count; i++)
        if (strcmp(clae_cl_sources[i].name, name) == 0) {
            if (!(*text = strdup(clae_cl_sources[i].text)))
                return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of memory");
            return CLAE_SUCCESS;
        }
    return CLAE_FAIL(ctx, CLAE_ERR_INPUT, "no embedded kernel source %s", name);
}

/* common.cl, then cl/<name> from its first line (so build logs cite the
 * file's own line numbers). */
static clae_status program_source(clae_context *ctx, const char *name,
                                  char **text)
{
    clae_status status = CLAE_SUCCESS;
    char *common = NULL, *own = NULL;
    *text = NULL;
    CLAE_TRY(load_source(ctx, CLAE_COMMON_SOURCE, &common));
    CLAE_TRY(load_source(ctx, name, &own));
    size_t size = strlen(common) + strlen(own) + strlen(name) + 32;
    if (!(*text = malloc(size))) {
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of memory");
        goto fail;
    }
    snprintf(*text, size, "%s\n#line 1 \"%s\"\n%s", common, name, own);
fail:
    free(common);
    free(own);
    return status;
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL; /* separates consecutive fields */
}

static int cache_enabled(const clae_context *ctx)
{
    const char *force = getenv("CLAE_BINARY_CACHE");
    if (force && *force) return strcmp(force, "0") != 0;
    return !ctx->driver_caches_builds;
}

/* $XDG_CACHE_HOME/clae/<key>.bin, creating the directory; 0 if no home. */
static int cache_path(const clae_context *ctx, const char *source,
                      const char *options, char *path, size_t size)
{
    char dir[3072];
    if (!clae__cache_dir(dir, sizeof dir)) return 0;
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv1a(h, ctx->info.name);
    h = fnv1a(h, ctx->info.driver_version);
    h = fnv1a(h, ctx->info.platform_version);
    h = fnv1a(h, options);
    h = fnv1a(h, source);
    snprintf(path, size, "%s/%016llx.bin", dir, (unsigned long long)h);
    return 1;
}

/* Builds `program`; on failure records the device's full build log. */
static clae_status build(clae_context *ctx, const char *name, cl_program program,
                         const char *options)
{
    cl_int rc = clBuildProgram(program, 1, &ctx->device, options, NULL, NULL);
    if (rc == CL_SUCCESS) return CLAE_SUCCESS;
    size_t size = 0;
    char *log = NULL;
    if (clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, 0,
                              NULL, &size) == CL_SUCCESS &&
        (log = calloc(1, size + 1)))
        clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, size,
                              log, NULL);
    clae_status status = CLAE_FAIL(
        ctx, rc, "clBuildProgram(%s) for %s with options '%s': %s\n%s", name,
        ctx->info.name, options, clae_strerror(rc), log ? log : "(no log)");
    free(log);
    return status;
}

static cl_program load_cached(clae_context *ctx, const char *path,
                              const char *name, const char *options)
{
    size_t size = 0;
    unsigned char *binary = (unsigned char *)clae__read_file(path, &size);
    if (!binary) return NULL;
    const unsigned char *binaries[1] = {binary};
    cl_int err, binary_status;
    cl_program program = clCreateProgramWithBinary(
        ctx->cl, 1, &ctx->device, &size, binaries, &binary_status, &err);
    free(binary);
    if (err != CL_SUCCESS || binary_status != CL_SUCCESS) {
        if (program) clReleaseProgram(program);
        return NULL;
    }
    char saved[sizeof ctx->last_error];
    memcpy(saved, ctx->last_error, sizeof saved);
    if (build(ctx, name, program, options) != CLAE_SUCCESS) {
        /* A stale or foreign binary: fall back to the source quietly. */
        memcpy(ctx->last_error, saved, sizeof saved);
        clReleaseProgram(program);
        return NULL;
    }
    return program;
}

/* Best effort: a cache that cannot be written only costs a rebuild. */
static void store_cached(clae_context *ctx, cl_program program,
                         const char *path)
{
    size_t size = 0;
    cl_int err = clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size,
                                  &size, NULL);
    if (err != CL_SUCCESS)
        clae__warn(ctx, "not caching kernels in %s: "
                        "clGetProgramInfo(CL_PROGRAM_BINARY_SIZES): %s",
                   path, clae_strerror(err));
    if (err != CL_SUCCESS || size == 0) return;
    unsigned char *binary = malloc(size);
    if (!binary) return;
    unsigned char *binaries[1] = {binary};
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f;
    err = clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binaries,
                           binaries, NULL);
    if (err != CL_SUCCESS)
        clae__warn(ctx, "not caching kernels in %s: "
                        "clGetProgramInfo(CL_PROGRAM_BINARIES): %s",
                   path, clae_strerror(err));
    else if ((f = fopen(tmp, "wb"))) {
        int ok = fwrite(binary, 1, size, f) == size;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, path) != 0) {
            unlink(tmp);
            clae__warn(ctx, "could not write the kernel cache %s", path);
        }
    }
    free(binary);
}

clae_status clae__program_build(clae_context *ctx, const char *name,
                                const char *options, cl_program *out)
{
    clae_status status = CLAE_SUCCESS;
    char *source = NULL;
    cl_program program = NULL;
    char path[4096];
    *out = NULL;
    CLAE_TRY(program_source(ctx, name, &source));

    int cached = cache_enabled(ctx) &&
                 cache_path(ctx, source, options, path, sizeof path);
    if (cached && (program = load_cached(ctx, path, name, options))) {
        *out = program;
        free(source);
        return CLAE_SUCCESS;
    }
    cl_int err;
    const char *sources[1] = {source};
    program = clCreateProgramWithSource(ctx->cl, 1, sources, NULL, &err);
    CL_CHECK_ERR(ctx, "clCreateProgramWithSource", err);
    CLAE_TRY(build(ctx, name, program, options));
    ctx->source_builds++;
    if (cached) store_cached(ctx, program, path);
    *out = program;
    free(source);
    return CLAE_SUCCESS;
fail:
    if (program) clReleaseProgram(program);
    free(source);
    return status;
}
