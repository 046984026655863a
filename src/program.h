/* Building OpenCL programs from cl/ sources, with an on-disk binary cache. */
#ifndef CLAE_PROGRAM_H
#define CLAE_PROGRAM_H

#include "context.h"

/* The helpers every program is built with, in front of its own file. */
#define CLAE_COMMON_SOURCE "common.cl"

/* Builds cl/<name> (e.g. "loss.cl"), after cl/common.cl, for the context's
 * device with the given options. On a build failure the last error holds the full build log. */
clae_status clae__program_build(clae_context *ctx, const char *name,
                                const char *options, cl_program *program);

/* The embedded kernel sources, generated from cl/ at build time. */
struct clae_cl_source { const char *name; const char *text; };
extern const struct clae_cl_source clae_cl_sources[];
extern const size_t clae_cl_source_count;

#endif
