/* How the rows of a data set reach the device, one batch at a time.
 *
 * Resident: the whole set is one device buffer, uploaded once. A shuffled
 * pass gathers each batch on the device from the pass's order; an ordered
 * pass (evaluation) reads the batches in place. A shuffled pass over a set
 * whose values are all k / scale for bytes k (images read from uint8 files)
 * keeps the bytes and decodes them as it gathers: the gather reads a
 * quarter of the bytes, and the set takes a quarter of the memory.
 *
 * Streamed, when the set does not fit the budget it is given: the host
 * copies the rows of the next chunk (a whole number of batches, in the
 * pass's order) into a staging array and uploads it on the context's
 * upload queue while the device trains on the current chunk; two chunk
 * buffers alternate. Either way a batch holds the same rows in the same
 * order, so a streamed run computes what a resident one does. */
#ifndef CLAE_FEED_H
#define CLAE_FEED_H

#include "context.h"

typedef struct {
    clae_context *ctx;
    const clae_data *data;
    size_t batch;
    cl_mem resident;       /* the whole set; NULL when streamed */
    float code_scale;      /* resident as byte codes k of k / code_scale
                              (shuffled passes of a uint8 file's values);
                              0: as floats */
    cl_mem order, gathered; /* resident shuffled passes: order and batch */
    const uint32_t *host_order; /* this pass's order; NULL: in file order */
    /* Streamed only. */
    size_t chunk_rows;     /* a multiple of batch */
    cl_mem chunk[2];
    float *staging[2];
    cl_event uploaded[2];  /* the upload into chunk[i] */
    cl_event consumed[2];  /* after the last batch that read chunk[i] */
    size_t current;        /* the chunk the batches read now, 1-based; 0:
                              none yet this pass */
} clae__feed;

/* Bytes data sets may take on the device: the context's device_memory
 * option, else half the device's global memory. */
uint64_t clae__data_budget(const clae_context *ctx);

/* Makes the feed for `data`, resident when it fits `budget` bytes and the
 * device's largest buffer as floats (even when it will be held as bytes),
 * else streamed through two chunks of at most
 * budget / 2 bytes each (at least one batch), which it tells the context's
 * log. `shuffled` passes take an order (training); others read the set in
 * file order. */
clae_status clae__feed_create(clae_context *ctx, const clae_data *data,
                              size_t batch, uint64_t budget, int shuffled,
                              clae__feed *feed);

/* Device bytes the feed holds. */
uint64_t clae__feed_bytes(const clae__feed *feed);

/* Starts a pass over the set; order (n indices, kept by the caller until
 * the pass ends) is required for shuffled feeds and ignored otherwise. */
clae_status clae__feed_begin(clae__feed *feed, const uint32_t *order);

/* The rows [start, start + rows) of the pass as (*x, *offset in floats).
 * Batches are asked for in order, start a multiple of the batch size. */
clae_status clae__feed_batch(clae__feed *feed, size_t start, size_t rows,
                             cl_mem *x, size_t *offset);

void clae__feed_release(clae__feed *feed);

#endif
