/* Data files: the readers behind clae_data_load (IDX, .npy, CSV). Readers
 * return the file's values as floats, unscaled, with value_bytes set; a
 * value_bytes of 1 (uint8) makes the default scale 255. */
#ifndef CLAE_DATA_H
#define CLAE_DATA_H

#include <stdint.h>

#include "context.h"

enum { CLAE_NPY_MAX_DIMS = 8 };

/* A .npy array as read: its shape and its values as floats (malloc'ed). */
typedef struct {
    int dims;
    uint64_t shape[CLAE_NPY_MAX_DIMS];
    float *values;
    unsigned value_bytes; /* 1: the file held uint8; 4 or 8: floats */
} clae_npy_array;

clae_status clae__npy_read(clae_context *ctx, const char *path,
                           clae_npy_array *array);

/* Whether path starts with the .npy magic; whether s ends with suffix. */
int clae__is_npy(const char *path);
int clae__ends_with(const char *s, const char *suffix);

/* Each reader allocates *data with its values unscaled. */
/* IDX files of min_dims to 4 dimensions: 3 for images, 1 for labels. */
clae_status clae__idx_read(clae_context *ctx, const char *path,
                           unsigned min_dims, clae_data **data);
/* empty_is_nan: empty fields (after the header) read as NaN. */
clae_status clae__csv_read(clae_context *ctx, const char *path,
                           int empty_is_nan, clae_data **data);

#endif
