/* The layers that draw random numbers on the device.
 *
 * Dropout (training only): a = x * mask / (1 - rate), the mask drawn on
 * the device from the workspace's draw counter; ws->z keeps the
 * multipliers for the backward pass. Outside training a = x. Its gradient
 * is computed in place: ws->g of this layer is the layer below's. */
#include "model.h"
#include "philox.h"

/* Each layer draws with a key of its own: the seed moved by the layer's
 * index times the 64-bit golden ratio (SplitMix64's increment). */
uint64_t clae__layer_key(const clae_workspace *ws, const clae_layer *l)
{
    return ws->seed + 0x9E3779B97F4A7C15ull * (uint64_t)l->index;
}

/* a = rows of x at x_off. */
static clae_status copy_rows(clae_model *m, cl_mem a, cl_mem x, size_t x_off,
                            size_t rows, size_t cols)
{
    clae_status status = CLAE_SUCCESS;
    CL_CHECK(m->ctx, clEnqueueCopyBuffer(m->ctx->queue, x, a,
                                         x_off * sizeof(float), 0,
                                         rows * cols * sizeof(float), 0, NULL,
                                         NULL));
fail:
    return status;
}

static clae_status dropout_forward(clae_model *m, const clae_layer *l,
                                   clae_workspace *ws, cl_mem input,
                                   size_t in_off, size_t rows)
{
    if (!ws->training)
        return copy_rows(m, ws->a[l->index], input, in_off, rows, l->out);
    return clae__dropout_forward(m->ctx, ws->a[l->index], ws->z[l->index],
                                 input, in_off, rows, l->out, l->spec->rate,
                                 clae__layer_key(ws, l), ws->draw);
}

static clae_status dropout_backward(clae_model *m, const clae_layer *l,
                                    clae_workspace *ws, cl_mem input,
                                    size_t in_off, size_t rows)
{
    (void)input;
    (void)in_off;
    if (l->index == 0) return CLAE_SUCCESS;
    return clae__dropout_backward(m->ctx, ws->g[l->index], ws->z[l->index],
                                  rows, l->out);
}

const clae_layer_ops clae__dropout_ops = {
    .param_count = clae__no_params,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .tensors = clae__no_tensors,
    .gradient_in_place = 1,
};

/* Input corruption (the denoising autoencoder's): the first layer, so it
 * passes no gradient on. It acts in training, and in evaluation when the
 * workspace asks for noisy inputs; the loss still compares with the clean
 * input. */
static clae_status noise_forward(clae_model *m, const clae_layer *l,
                                 clae_workspace *ws, cl_mem input,
                                 size_t in_off, size_t rows)
{
    if (!ws->training && !ws->noisy)
        return copy_rows(m, ws->a[l->index], input, in_off, rows, l->out);
    return clae__corrupt(m->ctx, ws->a[l->index], input, in_off, rows, l->out,
                         l->spec->noise, l->spec->rate, clae__layer_key(ws, l),
                         ws->draw);
}

static clae_status noise_backward(clae_model *m, const clae_layer *l,
                                  clae_workspace *ws, cl_mem input,
                                  size_t in_off, size_t rows)
{
    (void)m;
    (void)l;
    (void)ws;
    (void)input;
    (void)in_off;
    (void)rows;
    return CLAE_SUCCESS;
}

const clae_layer_ops clae__noise_ops = {
    .param_count = clae__no_params,
    .forward = noise_forward,
    .backward = noise_backward,
    .tensors = clae__no_tensors,
};
