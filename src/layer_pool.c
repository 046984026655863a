/* Pooling and upsampling layers on rows of channels-last images, without
 * parameters (cl/conv.cl's pool kernels).
 *
 * maxpool and avgpool: each window of the input pooled per channel into
 * ws->a; max keeps the winners in ws->aux for the backward pass.
 * upsample: nearest neighbour by a factor f, which is the backward pass of
 * a sum over f x f windows of the output (the layer's geometry runs from
 * the output back to the input), and its backward pass that sum. */
#include "model.h"

static clae_pool pool_kind(const clae_layer *l)
{
    return l->spec->kind == CLAE_LAYER_MAXPOOL ? CLAE_POOL_MAX : CLAE_POOL_AVG;
}

/* maxpool's winners: an index per output value. */
static size_t pool_aux_count(const clae_layer *l, size_t batch)
{
    return pool_kind(l) == CLAE_POOL_MAX ? batch * l->out : 0;
}

static clae_status pool_forward(clae_model *m, const clae_layer *l,
                                clae_workspace *ws, cl_mem input,
                                size_t in_off, size_t rows)
{
    return clae__pool_forward(m->ctx, &l->geometry, pool_kind(l), input,
                              in_off, rows, ws->a[l->index], ws->aux[l->index]);
}

static clae_status pool_backward(clae_model *m, const clae_layer *l,
                                 clae_workspace *ws, cl_mem input,
                                 size_t in_off, size_t rows)
{
    (void)input;
    (void)in_off;
    if (!l->index) return CLAE_SUCCESS;
    return clae__pool_backward(m->ctx, &l->geometry, pool_kind(l),
                               ws->g[l->index], 0, ws->aux[l->index], rows,
                               ws->g[l->index - 1]);
}

static clae_status upsample_forward(clae_model *m, const clae_layer *l,
                                    clae_workspace *ws, cl_mem input,
                                    size_t in_off, size_t rows)
{
    return clae__pool_backward(m->ctx, &l->geometry, CLAE_POOL_SUM, input,
                               in_off, NULL, rows, ws->a[l->index]);
}

static clae_status upsample_backward(clae_model *m, const clae_layer *l,
                                     clae_workspace *ws, cl_mem input,
                                     size_t in_off, size_t rows)
{
    (void)input;
    (void)in_off;
    if (!l->index) return CLAE_SUCCESS;
    return clae__pool_forward(m->ctx, &l->geometry, CLAE_POOL_SUM,
                              ws->g[l->index], 0, rows, ws->g[l->index - 1],
                              NULL);
}

/* maxpool and avgpool alike. */
const clae_layer_ops clae__pool_ops = {
    .param_count = clae__no_params,
    .aux_count = pool_aux_count,
    .forward = pool_forward,
    .backward = pool_backward,
    .tensors = clae__no_tensors,
};

const clae_layer_ops clae__upsample_ops = {
    .param_count = clae__no_params,
    .forward = upsample_forward,
    .backward = upsample_backward,
    .tensors = clae__no_tensors,
};
