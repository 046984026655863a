/* Whole-file reads, and atomic writes: a temporary file in the target's
 * directory, fsynced and renamed over the target, so a target is never seen
 * half-written. */
#ifndef CLAE_FILES_H
#define CLAE_FILES_H

#include <stdio.h>

#include "context.h"

/* The whole file, malloc'ed and NUL-terminated; NULL with errno set. */
char *clae__read_file(const char *path, size_t *size);

/* clae's cache directory, $XDG_CACHE_HOME/clae (default ~/.cache/clae),
 * created when missing; 0 when there is no home to put it in. */
int clae__cache_dir(char *dir, size_t size);

typedef struct {
    FILE *f;
    char path[4096];
    char tmp[4200];
} clae_atomic_file;

clae_status clae__atomic_begin(clae_context *ctx, const char *path,
                               clae_atomic_file *af);
/* Flushes, fsyncs and renames; on any failure removes the temporary. */
clae_status clae__atomic_commit(clae_context *ctx, clae_atomic_file *af);
void clae__atomic_abort(clae_atomic_file *af); /* removes the temporary */

#endif
