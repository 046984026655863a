/* The Gaussian latent layer of a variational autoencoder (Kingma and
 * Welling, "Auto-Encoding Variational Bayes").
 *
 * Its dense projection (W (2K, I), then b (2K)) gives each row K means and
 * K log-variances, the "stats" (B, 2K), kept in ws->aux. In training the
 * output is a sample z = mu + exp(logvar / 2) eps, with eps ~ N(0, 1)
 * drawn on the device into ws->z (the reparameterisation trick); elsewhere
 * it is mu, so encode returns the means. Each row's KL(q(z|x) || N(0, I))
 * goes to ws->kl at ws->kl_off when the caller counts it, else to scratch
 * after the stats. Backward adds the KL term's gradient, weighted by
 * ws->kl_weight / rows (the loss is a mean over samples), to the
 * sample's, turning the stats into their gradient in place. */
#include "model.h"
#include "philox.h"

static size_t stats_width(const clae_layer *l) { return 2 * l->out; }

static size_t weight_count(const clae_layer *l)
{
    return stats_width(l) * l->in;
}

static size_t latent_param_count(const clae_layer *l)
{
    return weight_count(l) + stats_width(l);
}

static size_t bias_off(const clae_layer *l)
{
    return l->param_off + weight_count(l);
}

/* The stats, then room for the KL of each row. */
static size_t latent_aux_count(const clae_layer *l, size_t batch)
{
    return batch * stats_width(l) + batch;
}

/* Weights as Keras's two dense layers of K units (mean and log-variance)
 * would have them; zero biases, so every variance starts at 1. */
static void latent_init(const clae_layer *l, float *params, float *state,
                        uint64_t seed)
{
    (void)state;
    clae__init_weights(l, params + l->param_off, weight_count(l), l->in,
                       l->out, seed);
    for (size_t i = 0; i < stats_width(l); i++) params[bias_off(l) + i] = 0.0f;
}

static clae_matmul latent_matmul(const clae_layer *l, const clae_workspace *ws,
                                 cl_mem input, size_t in_off, size_t rows)
{
    cl_mem stats = ws ? ws->aux[l->index] : NULL;
    return (clae_matmul){
        .input = input, .in_off = in_off, .rows = rows, .in = l->in,
        .out = stats_width(l), .w_off = l->param_off, .z = stats, .dz = stats,
        .dinput = ws && l->index ? ws->g[l->index - 1] : NULL,
    };
}

static size_t latent_gemms(const clae_model *m, const clae_layer *l,
                           const clae_workspace *ws, cl_mem input,
                           size_t in_off, size_t rows,
                           clae_gemm out[CLAE_MAX_LAYER_GEMMS])
{
    clae_matmul mm = latent_matmul(l, ws, input, in_off, rows);
    clae__matmul_gemms(m, ws, &mm, out);
    return l->index ? 3 : 2;
}

static clae_status latent_forward(clae_model *m, const clae_layer *l,
                                  clae_workspace *ws, cl_mem input,
                                  size_t in_off, size_t rows)
{
    clae_status status = CLAE_SUCCESS;
    clae_gemm g[CLAE_MAX_LAYER_GEMMS];
    cl_mem stats = ws->aux[l->index], eps = ws->z[l->index];
    latent_gemms(m, l, ws, input, in_off, rows, g);
    CLAE_TRY(clae__gemm(m->ctx, &g[CLAE_GEMM_FORWARD], ws->temp));
    if (ws->training)
        CLAE_TRY(clae__random_normal_device(m->ctx, eps, rows * l->out,
                                            clae__layer_key(ws, l),
                                            CLAE_STREAM_LATENT, ws->draw,
                                            0.0f, 1.0f));
    const int counted = ws->kl != NULL;
    CLAE_TRY(clae__latent_forward(
        m->ctx, stats, m->params, bias_off(l), eps, ws->a[l->index],
        counted ? ws->kl : stats, counted ? ws->kl_off : ws->batch * stats_width(l),
        rows, l->out, ws->training));
fail:
    return status;
}

static clae_status latent_backward(clae_model *m, const clae_layer *l,
                                   clae_workspace *ws, cl_mem input,
                                   size_t in_off, size_t rows)
{
    clae_status status = CLAE_SUCCESS;
    clae_gemm g[CLAE_MAX_LAYER_GEMMS];
    cl_mem stats = ws->aux[l->index];
    const clae_act linear = {CLAE_ACT_LINEAR, 0.0f};
    size_t count = latent_gemms(m, l, ws, input, in_off, rows, g);
    CLAE_TRY(clae__latent_backward(m->ctx, stats, ws->z[l->index],
                                   ws->g[l->index], rows, l->out,
                                   ws->kl_weight /
                                       (float)clae__mean_rows(ws, rows)));
    CLAE_TRY(clae__bias_act_backward(m->ctx, stats, stats, ws->grads,
                                     bias_off(l), rows, stats_width(l), linear));
    CLAE_TRY(clae__gemm(m->ctx, &g[CLAE_GEMM_WEIGHT_GRAD], ws->temp));
    if (count > CLAE_GEMM_INPUT_GRAD)
        CLAE_TRY(clae__gemm(m->ctx, &g[CLAE_GEMM_INPUT_GRAD], ws->temp));
fail:
    return status;
}

static size_t latent_tensors(const clae_model *m, const clae_layer *l,
                             clae_tensor out[CLAE_MAX_LAYER_TENSORS])
{
    (void)m;
    out[0] = (clae_tensor){.name = "weight", .shape = {stats_width(l), l->in},
                           .dims = 2, .off = l->param_off};
    out[1] = (clae_tensor){.name = "bias", .shape = {stats_width(l)},
                           .dims = 1, .off = bias_off(l)};
    return 2;
}

const clae_layer_ops clae__latent_ops = {
    .param_count = latent_param_count,
    .aux_count = latent_aux_count,
    .init = latent_init,
    .forward = latent_forward,
    .backward = latent_backward,
    .gemms = latent_gemms,
    .tensors = latent_tensors,
};
