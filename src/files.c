#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"

char *clae__read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)n + 1)) &&
        fread(text, 1, (size_t)n, f) == (size_t)n) {
        text[n] = '\0';
        *size = (size_t)n;
    } else {
        free(text);
        text = NULL;
        errno = n < 0 ? errno : EIO;
    }
    fclose(f);
    return text;
}

clae_status clae__atomic_begin(clae_context *ctx, const char *path,
                               clae_atomic_file *af)
{
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path)
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "%s: path too long", path);
    snprintf(af->path, sizeof af->path, "%s", path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(af->tmp);
    if (fd < 0)
        return CLAE_FAIL(ctx, CLAE_ERR_IO, "%s: %s", path, strerror(errno));
    if (!(af->f = fdopen(fd, "wb"))) {
        int e = errno;
        close(fd);
        unlink(af->tmp);
        return CLAE_FAIL(ctx, CLAE_ERR_IO, "%s: %s", path, strerror(e));
    }
    return CLAE_SUCCESS;
}

clae_status clae__atomic_commit(clae_context *ctx, clae_atomic_file *af)
{
    int e = 0;
    if (fflush(af->f) != 0 || fsync(fileno(af->f)) != 0) e = errno;
    if (fclose(af->f) != 0 && !e) e = errno;
    af->f = NULL;
    if (!e && rename(af->tmp, af->path) != 0) e = errno;
    if (!e) {
        af->tmp[0] = '\0'; /* renamed: nothing left to remove */
        return CLAE_SUCCESS;
    }
    unlink(af->tmp);
    return CLAE_FAIL(ctx, CLAE_ERR_IO, "%s: %s", af->path, strerror(e));
}

void clae__atomic_abort(clae_atomic_file *af)
{
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->tmp[0]) unlink(af->tmp);
}

clae_status clae_file_write_atomic(clae_context *ctx, const char *path,
                                   const void *data, size_t size)
{
    clae_atomic_file af;
    clae_status status = clae__atomic_begin(ctx, path, &af);
    if (status != CLAE_SUCCESS) return status;
    if (fwrite(data, 1, size, af.f) != size) {
        status = CLAE_FAIL(ctx, CLAE_ERR_IO, "%s: %s", path, strerror(errno));
        clae__atomic_abort(&af);
        return status;
    }
    return clae__atomic_commit(ctx, &af);
}
