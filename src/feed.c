/* Batches from a resident or a streamed data set (see feed.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "kernels.h"

uint64_t clae__data_budget(const clae_context *ctx)
{
    return ctx->device_memory ? ctx->device_memory
                              : ctx->info.global_mem_bytes / 2;
}

static size_t row_bytes(const clae__feed *f)
{
    return f->data->d * sizeof(float);
}

/* Rows each chunk buffer holds: a chunk, or the whole set if smaller. */
static size_t chunk_buffer_rows(const clae__feed *f)
{
    return f->chunk_rows < f->data->n ? f->chunk_rows : f->data->n;
}

/* The set's values as byte codes (n * d bytes, malloc'ed) when each is
 * exactly what clae__gather_codes decodes from one; else NULL. */
static unsigned char *byte_codes(const clae_data *data)
{
    float table[256];
    if (!(data->scale > 0.0f) || !clae__codes_exact(data->scale, table))
        return NULL;
    size_t count = data->n * data->d;
    unsigned char *codes = malloc(count);
    for (size_t i = 0; codes && i < count; i++) {
        float code = rintf(data->x[i] * data->scale);
        if (!(code >= 0.0f && code <= 255.0f) ||
            memcmp(&table[(int)code], &data->x[i], sizeof(float)) != 0) {
            free(codes);
            return NULL;
        }
        codes[i] = (unsigned char)code;
    }
    return codes;
}

static clae_status create_resident(clae__feed *f, int shuffled)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = f->ctx;
    unsigned char *codes = shuffled ? byte_codes(f->data) : NULL;
    size_t count = f->data->n * f->data->d;
    size_t bytes = codes ? count : count * sizeof(float);
    if (codes) f->code_scale = f->data->scale;
    CLAE_TRY(clae__buffer(ctx, bytes, "data set", &f->resident));
    CL_CHECK(ctx, clEnqueueWriteBuffer(ctx->queue, f->resident, CL_TRUE, 0,
                                       bytes,
                                       codes ? (void *)codes : f->data->x, 0,
                                       NULL, NULL));
    if (shuffled) {
        CLAE_TRY(clae__buffer(ctx, f->data->n * sizeof(uint32_t),
                              "permutation", &f->order));
        CLAE_TRY(clae__buffer(ctx, f->batch * row_bytes(f), "batch",
                              &f->gathered));
    }
fail:
    free(codes);
    return status;
}

static clae_status create_streamed(clae__feed *f, uint64_t budget,
                                   int shuffled)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = f->ctx;
    uint64_t chunk_bytes = budget / 2;
    if (chunk_bytes > ctx->info.max_alloc_bytes)
        chunk_bytes = ctx->info.max_alloc_bytes;
    size_t batches = (size_t)(chunk_bytes / (f->batch * row_bytes(f)));
    f->chunk_rows = (batches ? batches : 1) * f->batch;
    size_t rows = chunk_buffer_rows(f);
    const clae_data *data = f->data;
    clae__inform(ctx,
                 "streaming %s (%.1f MiB) in chunks of %zu rows (%.1f MiB): "
                 "it does not fit the %.1f MiB of the device-memory budget "
                 "left for it",
                 data->source ? data->source : "the data",
                 (double)data->n * row_bytes(f) / 1048576.0, f->chunk_rows,
                 (double)f->chunk_rows * row_bytes(f) / 1048576.0,
                 budget / 1048576.0);
    for (int i = 0; i < 2; i++) {
        CLAE_TRY(clae__buffer(ctx, rows * row_bytes(f), "data chunk",
                              &f->chunk[i]));
        /* An ordered pass uploads straight from the data set. */
        if (shuffled && !(f->staging[i] = malloc(rows * row_bytes(f))))
            return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    }
fail:
    return status;
}

clae_status clae__feed_create(clae_context *ctx, const clae_data *data,
                              size_t batch, uint64_t budget, int shuffled,
                              clae__feed *f)
{
    memset(f, 0, sizeof *f);
    f->ctx = ctx;
    f->data = data;
    f->batch = batch;
    uint64_t bytes = (uint64_t)data->n * row_bytes(f);
    if (bytes <= budget && bytes <= ctx->info.max_alloc_bytes)
        return create_resident(f, shuffled);
    return create_streamed(f, budget, shuffled);
}

uint64_t clae__feed_bytes(const clae__feed *f)
{
    if (f->resident)
        return (uint64_t)f->data->n * f->data->d *
                   (f->code_scale ? 1 : sizeof(float)) +
               (f->order ? f->data->n * sizeof(uint32_t) : 0) +
               (f->gathered ? f->batch * row_bytes(f) : 0);
    return 2 * (uint64_t)chunk_buffer_rows(f) * row_bytes(f);
}

static void release_event(cl_event *e)
{
    if (*e) clReleaseEvent(*e);
    *e = NULL;
}

/* Starts copying chunk c into its buffer once the batches that read that
 * buffer last are done; the staging array it fills must first be free of
 * the upload before. */
static clae_status upload_chunk(clae__feed *f, size_t c)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = f->ctx;
    int slot = (int)(c % 2);
    size_t first = c * f->chunk_rows, d = f->data->d;
    size_t rows = f->data->n - first < f->chunk_rows ? f->data->n - first
                                                     : f->chunk_rows;
    const float *source = f->data->x + first * d;
    if (f->host_order) {
        if (f->uploaded[slot])
            CL_CHECK(ctx, clWaitForEvents(1, &f->uploaded[slot]));
        for (size_t r = 0; r < rows; r++)
            memcpy(f->staging[slot] + r * d,
                   f->data->x + (size_t)f->host_order[first + r] * d,
                   row_bytes(f));
        source = f->staging[slot];
    }
    release_event(&f->uploaded[slot]);
    cl_uint waits = f->consumed[slot] ? 1 : 0;
    CL_CHECK(ctx, clEnqueueWriteBuffer(ctx->uploads, f->chunk[slot], CL_FALSE,
                                       0, rows * row_bytes(f), source, waits,
                                       waits ? &f->consumed[slot] : NULL,
                                       &f->uploaded[slot]));
    cl_event *timed = clae__profile_event(ctx, CLAE_PROFILE_TRANSFER);
    if (timed) {
        CL_CHECK(ctx, clRetainEvent(f->uploaded[slot]));
        *timed = f->uploaded[slot];
    }
    CL_CHECK(ctx, clFlush(ctx->uploads));
fail:
    return status;
}

/* Marks the chunk being read as done once its batches are: its buffer may
 * then take another upload. */
static clae_status leave_chunk(clae__feed *f)
{
    clae_status status = CLAE_SUCCESS;
    if (!f->current) return CLAE_SUCCESS;
    int slot = (int)((f->current - 1) % 2);
    release_event(&f->consumed[slot]);
    CL_CHECK(f->ctx, clEnqueueMarkerWithWaitList(f->ctx->queue, 0, NULL,
                                                 &f->consumed[slot]));
    /* The upload queue waits on this marker: it must reach the device. */
    CL_CHECK(f->ctx, clFlush(f->ctx->queue));
    f->current = 0;
fail:
    return status;
}

/* The batches of chunk c wait for its upload; the next chunk's upload
 * starts now, to overlap them. */
static clae_status enter_chunk(clae__feed *f, size_t c)
{
    clae_status status = CLAE_SUCCESS;
    CLAE_TRY(leave_chunk(f));
    CL_CHECK(f->ctx, clEnqueueBarrierWithWaitList(f->ctx->queue, 1,
                                                  &f->uploaded[c % 2], NULL));
    f->current = c + 1;
    if ((c + 1) * f->chunk_rows < f->data->n)
        CLAE_TRY(upload_chunk(f, c + 1));
fail:
    return status;
}

clae_status clae__feed_begin(clae__feed *f, const uint32_t *order)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = f->ctx;
    if (f->resident) {
        if (f->order)
            CL_CHECK(ctx, clEnqueueWriteBuffer(
                              ctx->queue, f->order, CL_TRUE, 0,
                              f->data->n * sizeof(uint32_t), order, 0, NULL,
                              clae__profile_event(ctx, CLAE_PROFILE_TRANSFER)));
        return CLAE_SUCCESS;
    }
    f->host_order = f->staging[0] ? order : NULL;
    CLAE_TRY(leave_chunk(f));
    CLAE_TRY(upload_chunk(f, 0));
fail:
    return status;
}

clae_status clae__feed_batch(clae__feed *f, size_t start, size_t rows,
                             cl_mem *x, size_t *offset)
{
    clae_status status = CLAE_SUCCESS;
    size_t d = f->data->d;
    if (f->gathered) {
        *x = f->gathered;
        *offset = 0;
        return f->code_scale
                   ? clae__gather_codes(f->ctx, f->gathered, f->resident,
                                        f->order, start, rows, d,
                                        f->code_scale)
                   : clae__gather_rows(f->ctx, f->gathered, f->resident,
                                       f->order, start, rows, d);
    }
    if (f->resident) {
        *x = f->resident;
        *offset = start * d;
        return CLAE_SUCCESS;
    }
    size_t c = start / f->chunk_rows;
    if (f->current != c + 1) CLAE_TRY(enter_chunk(f, c));
    *x = f->chunk[c % 2];
    *offset = (start - c * f->chunk_rows) * d;
fail:
    return status;
}

void clae__feed_release(clae__feed *f)
{
    /* Uploads may still read the staging arrays. */
    if (f->chunk[0]) {
        clae__finish_before_release(f->ctx, f->ctx->queue);
        clae__finish_before_release(f->ctx, f->ctx->uploads);
    }
    for (int i = 0; i < 2; i++) {
        release_event(&f->uploaded[i]);
        release_event(&f->consumed[i]);
        clae__release_mem(&f->chunk[i]);
        free(f->staging[i]);
        f->staging[i] = NULL;
    }
    clae__release_mem(&f->resident);
    clae__release_mem(&f->order);
    clae__release_mem(&f->gathered);
}
