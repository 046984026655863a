/* Data files: the readers behind clae_data_load (IDX, .npy, CSV) and the
 * .npy writer. Readers return the file's values as floats, unscaled, and
 * say whether the file held integers (uint8), which the default scaling
 * divides by 255. */
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
    int integer; /* the file held uint8 */
} clae_npy_array;

clae_status clae__npy_read(clae_context *ctx, const char *path,
                           clae_npy_array *array);
/* Writes a float32 array of the given shape, atomically. */
clae_status clae__npy_write(clae_context *ctx, const char *path,
                            const float *values, int dims,
                            const uint64_t *shape);

/* Each reader allocates *data with its values unscaled. */
clae_status clae__idx_read(clae_context *ctx, const char *path,
                           clae_data **data, int *integer);
clae_status clae__csv_read(clae_context *ctx, const char *path,
                           clae_data **data, int *integer);

#endif
