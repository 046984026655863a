/* The batch normalisation layer (torch.nn.BatchNorm1d's math and names:
 * momentum 0.1, eps 1e-5), with an activation after it: a = act(gamma *
 * (x - mean) / sqrt(var + eps) + beta). Training normalises by the batch's
 * statistics and moves the running ones; evaluation uses the running ones.
 * Per feature, or per channel of the images of a convolutional layer
 * (BatchNorm2d): channels-last rows of pixels make that the same kernels
 * over B * pixels rows of C channels. Parameters: gamma (C) then beta (C);
 * state: running mean then running variance (C each); ws->z holds the
 * normalised x and ws->aux the batch's inverse deviations for the
 * backward pass. */
#include "model.h"

#define MOMENTUM 0.1f
#define EPS 1e-5f

static size_t batchnorm_param_count(const clae_layer *l)
{
    return 2 * l->channels;
}

static size_t batchnorm_aux_count(const clae_layer *l, size_t batch)
{
    (void)batch;
    return l->channels;
}

/* gamma 1, beta 0; running mean 0, running variance 1. */
static void batchnorm_init(const clae_layer *l, float *params, float *state,
                           uint64_t seed)
{
    (void)seed;
    const size_t c = l->channels;
    for (size_t i = 0; i < c; i++) {
        params[l->param_off + i] = 1.0f;
        params[l->param_off + c + i] = 0.0f;
        state[l->state_off + i] = 0.0f;
        state[l->state_off + c + i] = 1.0f;
    }
}

static clae_batchnorm_launch batchnorm_launch(const clae_model *m,
                                              const clae_layer *l,
                                              const clae_workspace *ws,
                                              size_t rows)
{
    size_t i = l->index;
    return (clae_batchnorm_launch){
        .xhat = ws->z[i], .a = ws->a[i], .params = m->params,
        .state = m->state, .invstd = ws->aux[i], .g = ws->g[i],
        .grads = ws->grads, .gamma_off = l->param_off,
        .state_off = l->state_off, .grad_off = l->param_off,
        .rows = rows * (l->out / l->channels), .cols = l->channels,
        .training = ws->training, .momentum = MOMENTUM, .eps = EPS,
        .act = l->act,
    };
}

static clae_status batchnorm_forward(clae_model *m, const clae_layer *l,
                                     clae_workspace *ws, cl_mem input,
                                     size_t in_off, size_t rows)
{
    clae_batchnorm_launch b = batchnorm_launch(m, l, ws, rows);
    b.x = input;
    b.x_off = in_off;
    return clae__batchnorm_forward(m->ctx, &b);
}

static clae_status batchnorm_backward(clae_model *m, const clae_layer *l,
                                      clae_workspace *ws, cl_mem input,
                                      size_t in_off, size_t rows)
{
    (void)input;
    (void)in_off;
    clae_batchnorm_launch b = batchnorm_launch(m, l, ws, rows);
    b.dx = l->index ? ws->g[l->index - 1] : NULL;
    return clae__batchnorm_backward(m->ctx, &b);
}

static size_t batchnorm_tensors(const clae_model *m, const clae_layer *l,
                                clae_tensor out[CLAE_MAX_LAYER_TENSORS])
{
    (void)m;
    const size_t c = l->channels;
    out[0] = (clae_tensor){.name = "weight", .shape = {c}, .dims = 1,
                           .off = l->param_off};
    out[1] = (clae_tensor){.name = "bias", .shape = {c}, .dims = 1,
                           .off = l->param_off + c};
    out[2] = (clae_tensor){.name = "running_mean", .shape = {c}, .dims = 1,
                           .in_state = 1, .off = l->state_off};
    out[3] = (clae_tensor){.name = "running_var", .shape = {c}, .dims = 1,
                           .in_state = 1, .off = l->state_off + c};
    return 4;
}

const clae_layer_ops clae__batchnorm_ops = {
    .param_count = batchnorm_param_count,
    .state_count = batchnorm_param_count,
    .aux_count = batchnorm_aux_count,
    .init = batchnorm_init,
    .forward = batchnorm_forward,
    .backward = batchnorm_backward,
    .tensors = batchnorm_tensors,
};
