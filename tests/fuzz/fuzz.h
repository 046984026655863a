/* Shared by the fuzz targets (tests/fuzz/fuzz_*.c): each defines
 * LLVMFuzzerTestOneInput, built with libFuzzer (make fuzz) or with
 * replay.c's main (make valgrind, which runs them over the corpora).
 *
 * The readers take a path, not bytes, so an input is written to a file in
 * a directory of this process's own (under /dev/shm when there is one)
 * and read back from there. Errors land in a context that has no device:
 * the readers need none, and their messages are formatted all the same. */
#ifndef CLAE_FUZZ_H
#define CLAE_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[256];

static inline void fuzz_remove_dir(void)
{
    char path[512];
    static const char *const names[] = {
        "input.idx", "input.idx.gz", "input.npy", "input.csv",
        "input.safetensors", "saved.safetensors",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path, sizeof path, "%s/%s", fuzz_dir, names[i]);
        unlink(path);
    }
    rmdir(fuzz_dir);
}

/* fuzz_dir/name into out; makes the directory on first use. */
static inline void fuzz_path(char *out, size_t size, const char *name)
{
    if (!fuzz_dir[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                           : getenv("TMPDIR")            ? getenv("TMPDIR")
                                                         : "/tmp";
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/clae-fuzz-%ld", base,
                 (long)getpid());
        if (mkdir(fuzz_dir, 0700) != 0 && access(fuzz_dir, W_OK) != 0) {
            perror(fuzz_dir);
            abort();
        }
        atexit(fuzz_remove_dir);
    }
    snprintf(out, size, "%s/%s", fuzz_dir, name);
}

/* Writes the input to fuzz_dir/name and returns that path (static). */
static inline const char *fuzz_write(const uint8_t *data, size_t size,
                              const char *name)
{
    static char path[512];
    fuzz_path(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

/* A context without a device, for the host-only readers' messages. */
static inline clae_context *fuzz_host_context(void)
{
    static clae_context *ctx;
    if (!ctx && !(ctx = calloc(1, sizeof *ctx))) abort();
    ctx->last_error[0] = '\0';
    return ctx;
}

/* Every failure must say something: an error without a message is a bug
 * (the CLI prints the message as the one line naming the problem). */
static inline void fuzz_expect_message(const clae_context *ctx, clae_status status,
                                const char *call)
{
    if (status != CLAE_SUCCESS && !ctx->last_error[0]) {
        fprintf(stderr, "%s failed with %s but left no message\n", call,
                clae_strerror(status));
        abort();
    }
}

#endif
