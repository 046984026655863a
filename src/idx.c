/* IDX files (the MNIST family), plain or gzip, through zlib: a 4-byte magic
 * (0, 0, type, number of dimensions), the dimensions as big-endian uint32,
 * then the values. clae reads uint8 images (N x H x W or N x H x W x C). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data.h"

#define IDX_TYPE_UBYTE 0x08
#define IDX_MAX_BYTES (16ull << 30) /* refuse headers that ask for more */

#define INPUT_ERROR(...)                                                     \
    do {                                                                     \
        status = CLAE_FAIL(ctx, CLAE_ERR_INPUT, __VA_ARGS__);                \
        goto fail;                                                           \
    } while (0)

/* zlib's message for the last error, without the "path: " it prefixes. */
static const char *gz_message(gzFile f, const char *path, int *zerr)
{
    const char *msg = gzerror(f, zerr);
    size_t len = strlen(path);
    if (strncmp(msg, path, len) == 0 && msg[len] == ':' && msg[len + 1] == ' ')
        msg += len + 2;
    return msg;
}

/* Reads exactly n bytes; a short read is a truncated or corrupt file. */
static clae_status read_exact(clae_context *ctx, gzFile f, const char *path,
                              void *out, size_t n, const char *what)
{
    clae_status status = CLAE_SUCCESS;
    unsigned char *p = out;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(f, p, chunk);
        if (got <= 0) {
            int zerr = 0;
            const char *msg = gz_message(f, path, &zerr);
            if (zerr != Z_OK && zerr != Z_STREAM_END)
                INPUT_ERROR("%s: %s while reading the %s", path, msg, what);
            INPUT_ERROR("%s: truncated: the file ends inside the %s", path, what);
        }
        p += got;
        n -= (size_t)got;
    }
fail:
    return status;
}

/* Reads the `total` bytes the header declares into a buffer that grows as
 * data arrives, so a header that lies about its size costs no more memory
 * than the file really holds before the truncation is found. */
static clae_status read_data(clae_context *ctx, gzFile f, const char *path,
                             size_t total, unsigned char **out)
{
    clae_status status = CLAE_SUCCESS;
    unsigned char *buf = NULL;
    size_t have = 0;
    while (have < total) {
        size_t cap = have ? 2 * have : (size_t)1 << 20;
        if (cap > total) cap = total;
        unsigned char *grown = realloc(buf, cap);
        if (!grown)
            INPUT_ERROR("%s: not enough host memory for %zu bytes", path, cap);
        buf = grown;
        CLAE_TRY(read_exact(ctx, f, path, buf + have, cap - have, "image data"));
        have = cap;
    }
    *out = buf;
    return CLAE_SUCCESS;
fail:
    free(buf);
    return status;
}

clae_status clae__idx_read(clae_context *ctx, const char *path,
                           unsigned min_dims, clae_data **out)
{
    clae_status status = CLAE_SUCCESS;
    unsigned char *bytes = NULL;
    clae_data *data = NULL;
    *out = NULL;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return CLAE_FAIL(ctx, CLAE_ERR_INPUT, "%s: %s", path,
                         errno ? strerror(errno) : "cannot open");

    unsigned char magic[4];
    CLAE_TRY(read_exact(ctx, f, path, magic, 4, "header"));
    if (magic[0] != 0 || magic[1] != 0)
        INPUT_ERROR("%s: not an IDX file (bad magic %02x %02x)", path, magic[0],
                    magic[1]);
    if (magic[2] != IDX_TYPE_UBYTE)
        INPUT_ERROR("%s: IDX value type 0x%02x is not supported (uint8 "
                    "only)", path, magic[2]);
    unsigned ndims = magic[3];
    if (ndims < min_dims || ndims > 4)
        INPUT_ERROR("%s: IDX file has %u dimensions; expected %s", path, ndims,
                    min_dims == 1 ? "1 to 4"
                                  : "images (N x H x W or N x H x W x C)");

    uint32_t dims[4] = {0, 0, 0, 1};
    unsigned char raw[16];
    CLAE_TRY(read_exact(ctx, f, path, raw, 4 * ndims, "header"));
    unsigned long long total = 1;
    for (unsigned i = 0; i < ndims; i++) {
        dims[i] = (uint32_t)raw[4 * i] << 24 | (uint32_t)raw[4 * i + 1] << 16 |
                  (uint32_t)raw[4 * i + 2] << 8 | raw[4 * i + 3];
        if (dims[i] == 0)
            INPUT_ERROR("%s: dimension %u is zero%s", path, i,
                        i == 0 ? " (no images)" : "");
        total *= dims[i];
        if (total > IDX_MAX_BYTES)
            INPUT_ERROR("%s: header declares more than %llu bytes of data",
                        path, IDX_MAX_BYTES);
    }

    size_t n = dims[0], d = (size_t)(total / n);
    CLAE_TRY(read_data(ctx, f, path, (size_t)total, &bytes));
    data = calloc(1, sizeof *data);
    if (!data || !(data->x = malloc(total * sizeof(float))) ||
        !(data->source = strdup(path)))
        INPUT_ERROR("%s: not enough host memory for %llu values", path, total);
    unsigned char extra;
    int more = gzread(f, &extra, 1), zerr = Z_OK;
    const char *zmsg = gz_message(f, path, &zerr);
    /* gzread returns 0, not -1, for a gzip stream cut short (Z_BUF_ERROR,
     * "unexpected end of file"), e.g. in its CRC and length trailer. */
    if (more < 0 || (more == 0 && zerr != Z_OK))
        INPUT_ERROR("%s: %s after the image data", path, zmsg);
    if (more > 0)
        INPUT_ERROR("%s: data continues past the %llu values the header "
                    "declares", path, total);

    data->n = n;
    data->d = d;
    if (ndims >= 3) {
        data->height = dims[1];
        data->width = dims[2];
        data->channels = dims[3];
    }
    for (size_t i = 0; i < total; i++) data->x[i] = bytes[i];
    free(bytes);
    gzclose(f);
    data->value_bytes = 1;
    *out = data;
    return CLAE_SUCCESS;
fail:
    free(bytes);
    clae_data_free(data);
    gzclose(f);
    return status;
}
