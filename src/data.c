/* clae_data_load: picks the reader by the file's magic or name, scales the
 * values and refuses values that are not finite. */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

static const char npy_magic[6] = "\x93NUMPY";

int clae__ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int clae__is_npy(const char *path)
{
    char magic[sizeof npy_magic];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int yes = fread(magic, 1, sizeof magic, f) == sizeof magic &&
              memcmp(magic, npy_magic, sizeof magic) == 0;
    fclose(f);
    return yes;
}

/* A .npy array as a data set: the first dimension counts samples; 3 and 4
 * dimensions are images (N x H x W [x C]). */
static clae_status npy_read(clae_context *ctx, const char *path,
                            clae_data **out)
{
    clae_npy_array a;
    clae_status status = clae__npy_read(ctx, path, &a);
    if (status != CLAE_SUCCESS) return status;
    if (a.dims < 2 || a.dims > 4) {
        free(a.values);
        return CLAE_FAIL(ctx, CLAE_ERR_INPUT,
                         "%s: a .npy array of %d dimensions; expected N x D, "
                         "N x H x W or N x H x W x C", path, a.dims);
    }
    clae_data *data = calloc(1, sizeof *data);
    if (!data || !(data->source = strdup(path))) {
        free(data);
        free(a.values);
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "%s: out of host memory",
                         path);
    }
    data->n = (size_t)a.shape[0];
    data->d = 1;
    for (int i = 1; i < a.dims; i++) data->d *= (size_t)a.shape[i];
    if (a.dims >= 3) {
        data->height = (unsigned)a.shape[1];
        data->width = (unsigned)a.shape[2];
        data->channels = a.dims == 4 ? (unsigned)a.shape[3] : 1;
    }
    data->x = a.values;
    data->value_bytes = a.value_bytes;
    *out = data;
    return CLAE_SUCCESS;
}

/* Data from `source` (a file, "the array") holds only finite values. */
static clae_status check_finite(clae_context *ctx, const clae_data *data,
                                const char *source)
{
    const size_t count = data->n * data->d;
    for (size_t i = 0; i < count; i++)
        if (!isfinite(data->x[i]))
            return CLAE_FAIL(ctx, CLAE_ERR_INPUT,
                             "%s: sample %zu, feature %zu is %s", source,
                             i / data->d, i % data->d,
                             isnan(data->x[i]) ? "NaN" : "infinite");
    return CLAE_SUCCESS;
}

clae_status clae_data_load(clae_context *ctx, const char *path,
                           const clae_data_options *options, clae_data **out)
{
    clae_status status;
    clae_data *data = NULL;
    float scale = options ? options->scale : 0.0f;
    *out = NULL;
    if (!(scale >= 0.0f) || !isfinite(scale))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "scale %g is negative or not a number",
                         (double)scale);
    /* A .npy without its magic is a bad .npy, not an IDX file. */
    if (clae__is_npy(path) || clae__ends_with(path, ".npy"))
        status = npy_read(ctx, path, &data);
    else if (clae__ends_with(path, ".csv")) status = clae__csv_read(ctx, path, 0, &data);
    else status = clae__idx_read(ctx, path, 3, &data);
    if (status != CLAE_SUCCESS) return status;

    if ((status = check_finite(ctx, data, path)) != CLAE_SUCCESS) {
        clae_data_free(data);
        return status;
    }
    if (scale == 0.0f) scale = data->value_bytes == 1 ? 255.0f : 1.0f;
    data->scale = scale;
    const size_t count = data->n * data->d;
    for (size_t i = 0; i < count; i++) data->x[i] /= scale;
    *out = data;
    return CLAE_SUCCESS;
}

clae_status clae_data_from_array(clae_context *ctx, const float *x, size_t n,
                                 size_t d, clae_data **out)
{
    clae_status status;
    *out = NULL;
    if (n == 0 || d == 0 || n > SIZE_MAX / sizeof(float) / d)
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "an array of %zu x %zu values", n, d);
    clae_data *data = calloc(1, sizeof *data);
    if (!data || !(data->x = malloc(n * d * sizeof *data->x))) {
        free(data);
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    }
    memcpy(data->x, x, n * d * sizeof *data->x);
    data->n = n;
    data->d = d;
    data->scale = 1.0f;
    data->value_bytes = sizeof(float);
    if ((status = check_finite(ctx, data, "the array")) != CLAE_SUCCESS) {
        clae_data_free(data);
        return status;
    }
    *out = data;
    return CLAE_SUCCESS;
}

void clae_data_free(clae_data *data)
{
    if (!data) return;
    free(data->x);
    free(data->source);
    free(data);
}
