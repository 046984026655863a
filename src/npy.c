/* NumPy .npy files (format versions 1-3): the magic "\x93NUMPY", a version,
 * a little-endian header length, then a Python dict literal naming the
 * dtype ('descr'), the order and the shape, then the values. clae reads
 * float32, float64 and uint8 arrays in C order with 2 to 4 dimensions
 * (N x D, N x H x W, N x H x W x C) and writes float32 ones. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "files.h"

#define NPY_MAX_HEADER (1u << 20)
#define NPY_MAX_VALUES (4ull << 30) /* refuse headers that ask for more */
#define NPY_ALIGN 64                /* numpy pads headers to this */

static const char npy_magic[6] = "\x93NUMPY";

#define INPUT_ERROR(...)                                                     \
    do {                                                                     \
        status = CLAE_FAIL(ctx, CLAE_ERR_INPUT, __VA_ARGS__);                \
        goto fail;                                                           \
    } while (0)

typedef enum { DTYPE_F4, DTYPE_F8, DTYPE_U1 } npy_dtype;

static const struct {
    const char *descr;
    npy_dtype dtype;
    size_t size;
} dtypes[] = {
    {"<f4", DTYPE_F4, 4}, {"<f8", DTYPE_F8, 8}, {"|u1", DTYPE_U1, 1},
    {"<u1", DTYPE_U1, 1},
};

/* The text after `'key':` in the header dict, blanks skipped; NULL when
 * the key is missing. */
static const char *dict_value(const char *header, const char *key)
{
    char quoted[32];
    snprintf(quoted, sizeof quoted, "'%s'", key);
    const char *p = strstr(header, quoted);
    if (!p) return NULL;
    p += strlen(quoted);
    while (*p == ' ') p++;
    if (*p++ != ':') return NULL;
    while (*p == ' ') p++;
    return p;
}

/* Parses "(N, D)" or "(N,)" into shape; returns the dimension count, or -1
 * for anything that is not a tuple of non-negative integers. */
static int parse_shape(const char *p, uint64_t shape[CLAE_NPY_MAX_DIMS])
{
    if (*p++ != '(') return -1;
    int dims = 0;
    for (;;) {
        while (*p == ' ') p++;
        if (*p == ')') return dims;
        if (*p < '0' || *p > '9' || dims == CLAE_NPY_MAX_DIMS) return -1;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno) return -1;
        shape[dims++] = v;
        p = end;
        while (*p == ' ') p++;
        if (*p == ',') p++;
        else if (*p != ')') return -1;
    }
}

/* Reads and checks the header; leaves f at the first value. */
static clae_status read_header(clae_context *ctx, FILE *f, const char *path,
                               npy_dtype *dtype, size_t *value_size,
                               uint64_t shape[CLAE_NPY_MAX_DIMS], int *dims)
{
    clae_status status = CLAE_SUCCESS;
    unsigned char pre[12];
    char *header = NULL;
    size_t got = fread(pre, 1, 10, f);
    if (got != 10 && ferror(f)) INPUT_ERROR("%s: %s", path, strerror(errno));
    if (got != 10 || memcmp(pre, npy_magic, 6) != 0)
        INPUT_ERROR("%s: not a .npy file (bad magic)", path);
    unsigned major = pre[6];
    uint32_t len = pre[8] | (uint32_t)pre[9] << 8;
    if (major == 2 || major == 3) {
        if (fread(pre + 10, 1, 2, f) != 2)
            INPUT_ERROR("%s: truncated .npy header", path);
        len |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
    } else if (major != 1) {
        INPUT_ERROR("%s: .npy format version %u is not supported", path, major);
    }
    if (len > NPY_MAX_HEADER)
        INPUT_ERROR("%s: .npy header of %u bytes is too large", path, len);
    if (!(header = malloc(len + 1)))
        INPUT_ERROR("%s: not enough host memory", path);
    if (fread(header, 1, len, f) != len)
        INPUT_ERROR("%s: truncated .npy header", path);
    header[len] = '\0';

    const char *descr = dict_value(header, "descr"),
               *order = dict_value(header, "fortran_order"),
               *shape_text = dict_value(header, "shape");
    if (!descr || !order || !shape_text)
        INPUT_ERROR("%s: .npy header lacks descr, fortran_order or shape",
                    path);
    size_t i = 0, n_dtypes = sizeof dtypes / sizeof *dtypes;
    while (i < n_dtypes && !(descr[0] == '\'' &&
                             strncmp(descr + 1, dtypes[i].descr, 3) == 0 &&
                             descr[4] == '\''))
        i++;
    if (i == n_dtypes) {
        int n = (int)strcspn(descr, ",}");
        INPUT_ERROR("%s: .npy dtype %.*s is not supported (float32, float64 "
                    "or uint8, little-endian)", path, n, descr);
    }
    if (strncmp(order, "False", 5) != 0)
        INPUT_ERROR("%s: .npy array in Fortran order is not supported (save "
                    "it with numpy.ascontiguousarray)", path);
    *dims = parse_shape(shape_text, shape);
    if (*dims < 0) INPUT_ERROR("%s: .npy shape is malformed", path);
    *dtype = dtypes[i].dtype;
    *value_size = dtypes[i].size;
fail:
    free(header);
    return status;
}

/* Converts count values of the given dtype at raw to float. */
static void to_float(npy_dtype dtype, const unsigned char *raw, size_t count,
                     float *out)
{
    for (size_t i = 0; i < count; i++) {
        if (dtype == DTYPE_U1) {
            out[i] = raw[i];
        } else if (dtype == DTYPE_F4) {
            memcpy(&out[i], raw + 4 * i, 4);
        } else {
            double v;
            memcpy(&v, raw + 8 * i, 8);
            out[i] = (float)v;
        }
    }
}

clae_status clae__npy_read(clae_context *ctx, const char *path,
                           clae_npy_array *array)
{
    clae_status status = CLAE_SUCCESS;
    unsigned char *raw = NULL;
    memset(array, 0, sizeof *array);
    FILE *f = fopen(path, "rb");
    if (!f)
        return CLAE_FAIL(ctx, CLAE_ERR_INPUT, "%s: %s", path, strerror(errno));
    npy_dtype dtype = DTYPE_F4;
    size_t value_size = 4;
    CLAE_TRY(read_header(ctx, f, path, &dtype, &value_size, array->shape,
                         &array->dims));
    uint64_t count = 1;
    for (int i = 0; i < array->dims; i++) {
        if (array->shape[i] == 0)
            INPUT_ERROR("%s: .npy dimension %d is zero", path, i);
        /* Checked before multiplying, which could wrap around. */
        if (array->shape[i] > NPY_MAX_VALUES / count ||
            (count *= array->shape[i]) > NPY_MAX_VALUES)
            INPUT_ERROR("%s: .npy shape declares more than %llu values", path,
                        NPY_MAX_VALUES);
    }
    /* The data must be exactly what the shape says: compare with the file
     * size before allocating, so a lying header costs nothing. */
    long start = ftell(f);
    if (start < 0 || fseek(f, 0, SEEK_END) != 0)
        INPUT_ERROR("%s: %s", path, strerror(errno));
    uint64_t have = (uint64_t)ftell(f) - (uint64_t)start,
             want = count * value_size;
    if (have < want)
        INPUT_ERROR("%s: truncated: the shape needs %llu bytes of data, the "
                    "file has %llu", path, (unsigned long long)want,
                    (unsigned long long)have);
    if (have > want)
        INPUT_ERROR("%s: %llu bytes past the data the shape declares", path,
                    (unsigned long long)(have - want));
    if (fseek(f, start, SEEK_SET) != 0 || !(raw = malloc(want)) ||
        !(array->values = malloc(count * sizeof(float))))
        INPUT_ERROR("%s: not enough host memory for %llu values", path,
                    (unsigned long long)count);
    if (fread(raw, 1, want, f) != want)
        INPUT_ERROR("%s: read error: %s", path, strerror(errno));
    to_float(dtype, raw, count, array->values);
    array->value_bytes = (unsigned)value_size;
    free(raw);
    fclose(f);
    return CLAE_SUCCESS;
fail:
    free(raw);
    free(array->values);
    array->values = NULL;
    fclose(f);
    return status;
}

clae_status clae_npy_write(clae_context *ctx, const char *path,
                           const float *values, int dims,
                           const uint64_t *shape)
{
    char header[384], shape_text[256] = "";
    if (dims < 1 || dims > CLAE_NPY_MAX_DIMS)
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "%s: %d dimensions (1 to %d)",
                         path, dims, CLAE_NPY_MAX_DIMS);
    uint64_t count = 1;
    size_t used = 0;
    for (int i = 0; i < dims; i++) {
        used += (size_t)snprintf(shape_text + used, sizeof shape_text - used,
                                 i ? " %llu," : "%llu,",
                                 (unsigned long long)shape[i]);
        count *= shape[i];
    }
    if (dims > 1) shape_text[used - 1] = '\0'; /* (N,) keeps its comma */
    int len = snprintf(header, sizeof header,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': "
                       "(%s), }", shape_text);
    /* Pad with spaces and end with a newline so that the data starts at a
     * multiple of NPY_ALIGN (10 bytes of magic, version and length). */
    size_t total = (size_t)len + 1 + 10;
    size_t padded = (total + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    memset(header + len, ' ', padded - total);
    header[padded - 11] = '\n';
    uint16_t header_len = (uint16_t)(padded - 10);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                             (unsigned char)(header_len & 0xff),
                             (unsigned char)(header_len >> 8)};

    clae_atomic_file af;
    clae_status status = clae__atomic_begin(ctx, path, &af);
    if (status != CLAE_SUCCESS) return status;
    /* Little-endian hosts only, as the rest of clae's file formats. */
    if (fwrite(pre, 1, 10, af.f) != 10 ||
        fwrite(header, 1, header_len, af.f) != header_len ||
        fwrite(values, sizeof *values, count, af.f) != count) {
        status = CLAE_FAIL(ctx, CLAE_ERR_IO, "%s: %s", path, strerror(errno));
        clae__atomic_abort(&af);
        return status;
    }
    return clae__atomic_commit(ctx, &af);
}
