/* Putting a trained model to work, in evaluation mode: encode (the code
 * layer's output), decode (the layers after it, from codes), reconstruct
 * (the whole model's activated output) and score (each sample's loss).
 * Batches come from a feed, as in evaluation; each batch's result is read
 * back into the caller's array. */
#include <math.h>
#include <stdlib.h>

#include "feed.h"
#include "model.h"

/* With a noise, the model's noise layer (the first layer) corrupts the
 * inputs, its draws keyed by seed; *inputs gets what it made. */
typedef struct {
    uint64_t seed;
    float **inputs;
} noise;

/* out (n x the width of layer end - 1) = layers first .. end - 1 over the
 * data, whose width must be layer first's input. */
static clae_status run_layers(clae_model *m, const clae_data *data,
                              size_t batch, size_t first, size_t end,
                              const char *what, const noise *noisy,
                              float **out)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    clae_workspace *ws = NULL;
    clae__feed feed = {0};
    const size_t width = m->layers[end - 1].out, d = m->layers[first].in;
    float *result = NULL, *inputs = NULL;
    clae_data *copy = NULL;
    *out = NULL;
    if (batch == 0)
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "batch size must be positive");
    CLAE_TRY(clae__check_width(m, data, m->layers[first].in, what));
    /* Data in, data out: in the units the model standardises. */
    if (first == 0) CLAE_TRY(clae__standardized(m, data, &data, &copy));
    if (data->n > SIZE_MAX / sizeof(float) / (width > d ? width : d) ||
        !(result = malloc(data->n * width * sizeof(float))) ||
        (noisy && !(inputs = malloc(data->n * d * sizeof(float))))) {
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY,
                           "out of host memory for %zu x %zu outputs", data->n,
                           width);
        goto fail;
    }
    CLAE_TRY(clae__workspace_create(m, batch, &ws));
    ws->outputs = 1;
    ws->noisy = noisy != NULL;
    ws->seed = noisy ? noisy->seed : 0;
    CLAE_TRY(clae__feed_create(ctx, data, batch, clae__data_budget(ctx), 0,
                               &feed));
    CLAE_TRY(clae__feed_begin(&feed, NULL));
    for (size_t start = 0; start < data->n; start += batch) {
        size_t rows = data->n - start < batch ? data->n - start : batch;
        cl_mem x;
        size_t off;
        CLAE_TRY(clae__feed_batch(&feed, start, rows, &x, &off));
        ws->draw = (uint32_t)(start / batch); /* as evaluation draws */
        CLAE_TRY(clae__model_forward_layers(m, ws, first, end, x, off, rows));
        CL_CHECK(ctx, clEnqueueReadBuffer(ctx->queue, ws->a[end - 1], CL_TRUE,
                                          0, rows * width * sizeof(float),
                                          result + start * width, 0, NULL,
                                          NULL));
        if (noisy)
            CL_CHECK(ctx, clEnqueueReadBuffer(ctx->queue, ws->a[0], CL_TRUE, 0,
                                              rows * d * sizeof(float),
                                              inputs + start * d, 0, NULL,
                                              NULL));
    }
    if (end == m->count) clae__unstandardize(m, result, data->n);
    if (noisy) {
        clae__unstandardize(m, inputs, data->n);
        *noisy->inputs = inputs;
        inputs = NULL;
    }
    *out = result;
    result = NULL;
fail:
    free(result);
    free(inputs);
    clae_data_free(copy);
    clae__feed_release(&feed);
    clae__workspace_destroy(ws);
    return status;
}

size_t clae_model_code_width(const clae_model *m)
{
    return m->layers[m->spec.code_layer].out;
}

clae_status clae_encode(clae_model *m, const clae_data *data, size_t batch,
                        float **codes)
{
    return run_layers(m, data, batch, 0, m->spec.code_layer + 1, "the data",
                      NULL, codes);
}

clae_status clae_decode(clae_model *m, const clae_data *codes, size_t batch,
                        float **out)
{
    *out = NULL;
    if (m->spec.code_layer + 1 == m->count)
        return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE,
                         "the model's code is its output: nothing to decode");
    return run_layers(m, codes, batch, m->spec.code_layer + 1, m->count,
                      "the codes", NULL, out);
}

clae_status clae_reconstruct(clae_model *m, const clae_data *data,
                             size_t batch, float **out)
{
    return run_layers(m, data, batch, 0, m->count, "the data", NULL, out);
}

clae_status clae_reconstruct_noisy(clae_model *m, const clae_data *data,
                                   size_t batch, uint64_t seed, float **inputs,
                                   float **out)
{
    *inputs = *out = NULL;
    if (m->layers[0].spec->kind != CLAE_LAYER_NOISE)
        return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE,
                         "the model has no noise layer to corrupt its inputs");
    const noise noisy = {seed, inputs};
    return run_layers(m, data, batch, 0, m->count, "the data", &noisy, out);
}

clae_status clae_image_shape_of(clae_model *m, const clae_data *data,
                                clae_image_shape *shape)
{
    const size_t d = m->spec.input;
    const size_t side = (size_t)llround(sqrt((double)d));
    if (m->spec.height)
        *shape = (clae_image_shape){m->spec.height, m->spec.width,
                                    m->spec.channels};
    else if (m->train_height)
        *shape = (clae_image_shape){m->train_height, m->train_width,
                                    m->train_channels};
    else if (data && data->height && data->d == d)
        *shape = (clae_image_shape){data->height, data->width, data->channels};
    else if (side * side == d)
        *shape = (clae_image_shape){(unsigned)side, (unsigned)side, 1};
    else
        return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE,
                         "the model's %zu inputs are not images of a known "
                         "shape (give the spec an `input HxWxC` line)", d);
    return CLAE_SUCCESS;
}
