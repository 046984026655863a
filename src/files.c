#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "files.h"

char *clae__read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = NULL;
    long n = -1;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f); /* its size would be the directory's */
        errno = EISDIR;
        return NULL;
    }
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

int clae__cache_dir(char *dir, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) snprintf(dir, size, "%s/clae", xdg);
    else if (home && *home) snprintf(dir, size, "%s/.cache/clae", home);
    else return 0;
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    *strrchr(parent, '/') = '\0';
    mkdir(parent, 0755);
    return mkdir(dir, 0755) == 0 || errno == EEXIST;
}

clae_status clae__atomic_begin(clae_context *ctx, const char *path,
                               clae_atomic_file *af)
{
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path)
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "%s: path too long", path);
    snprintf(af->path, sizeof af->path, "%s", path);
    /* Not mkstemp: its 0600 would become the target's mode. open() with
     * 0666 gives what fopen(path, "w") would (0666 less the umask). */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned salt = (unsigned)ts.tv_nsec ^ (unsigned)getpid() << 12;
    int fd = -1;
    for (unsigned attempt = 0; fd < 0 && attempt < 100; attempt++) {
        snprintf(af->tmp, sizeof af->tmp, "%s.tmp-%08x", path,
                 salt + attempt * 2654435761u);
        fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        af->tmp[0] = '\0'; /* nothing of ours to remove */
        return CLAE_FAIL(ctx, CLAE_ERR_IO, "%s: %s", path, strerror(errno));
    }
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
