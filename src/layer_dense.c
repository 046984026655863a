/* The dense layer: a = act(input W^T + b).
 * input is (B, I), W is (O, I) at param_off, b is (O) after W; z and a are
 * (B, O). Backward: dz = da * act'(z); dW = dz^T input (O, I);
 * db = column sums of dz; d input = dz W (B, I).
 * A tied layer has only b and uses its mirror's weight M = (I, O) as W^T:
 * z = input M, dM += input^T dz, d input = dz M^T. Backward runs from the
 * last layer down, so the tied layer writes dM first and the mirror adds
 * its own gradient to it. */
#include <math.h>

#include "model.h"
#include "philox.h"

static size_t own_weights(const clae_layer *l)
{
    return l->spec->tied ? 0 : l->out * l->in;
}

static size_t dense_param_count(const clae_layer *l)
{
    return own_weights(l) + l->out;
}

static size_t bias_off(const clae_layer *l)
{
    return l->param_off + own_weights(l);
}

int clae__layer_weights(const clae_layer *l, size_t *off, size_t *count)
{
    if (l->spec->kind != CLAE_LAYER_DENSE || l->spec->tied) return 0;
    *off = l->param_off;
    *count = own_weights(l);
    return 1;
}

/* The initialisers of spec.h, as Keras defines them; zero biases. */
static void dense_init(const clae_layer *l, float *params, float *state,
                       uint64_t seed)
{
    (void)state;
    float *w = params + l->param_off, fan_in = (float)l->in,
          fans = (float)(l->in + l->out);
    uint32_t substream = (uint32_t)l->index;
    size_t n = own_weights(l);
    float limit = 0.0f;
    switch (l->spec->init) {
    case CLAE_INIT_GLOROT_UNIFORM: limit = sqrtf(6.0f / fans); break;
    case CLAE_INIT_HE_UNIFORM: limit = sqrtf(6.0f / fan_in); break;
    case CLAE_INIT_UNIFORM: limit = l->spec->init_scale; break;
    case CLAE_INIT_GLOROT_NORMAL:
        clae__random_normal(w, n, seed, CLAE_STREAM_INIT, substream, 0.0f,
                            sqrtf(2.0f / fans));
        break;
    case CLAE_INIT_HE_NORMAL:
        clae__random_normal(w, n, seed, CLAE_STREAM_INIT, substream, 0.0f,
                            sqrtf(2.0f / fan_in));
        break;
    case CLAE_INIT_NORMAL:
        clae__random_normal(w, n, seed, CLAE_STREAM_INIT, substream, 0.0f,
                            l->spec->init_scale);
        break;
    }
    if (limit > 0.0f)
        clae__random_uniform(w, n, seed, CLAE_STREAM_INIT, substream, -limit,
                             limit);
    for (size_t i = 0; i < l->out; i++) params[bias_off(l) + i] = 0.0f;
}

/* The step's GEMMs: z = input W^T; dW = dz^T input; and, below the first
 * layer, d input = dz W into the gradient buffer of the layer below (each
 * with W's transposes swapped for a tied layer). */
enum { FORWARD, WEIGHT_GRAD, INPUT_GRAD };

static size_t dense_gemms(const clae_model *m, const clae_layer *l,
                          const clae_workspace *ws, cl_mem input, size_t in_off,
                          size_t rows, clae_gemm out[CLAE_MAX_LAYER_GEMMS])
{
    cl_mem z = ws ? ws->z[l->index] : NULL, dz = ws ? ws->g[l->index] : NULL;
    cl_mem grads = ws ? ws->grads : NULL;
    const int tied = l->spec->tied;
    const size_t w_off = tied ? m->layers[l->spec->mirror].param_off
                              : l->param_off,
                 ldw = tied ? l->out : l->in;
    out[FORWARD] = (clae_gemm){
        .trans_a = 0, .trans_b = !tied, .m = rows, .n = l->out, .k = l->in,
        .alpha = 1.0f, .beta = 0.0f,
        .a = input, .a_off = in_off, .lda = l->in,
        .b = m->params, .b_off = w_off, .ldb = ldw,
        .c = z, .c_off = 0, .ldc = l->out,
    };
    if (tied)
        out[WEIGHT_GRAD] = (clae_gemm){
            .trans_a = 1, .trans_b = 0, .m = l->in, .n = l->out, .k = rows,
            .alpha = 1.0f, .beta = 0.0f,
            .a = input, .a_off = in_off, .lda = l->in,
            .b = dz, .b_off = 0, .ldb = l->out,
            .c = grads, .c_off = w_off, .ldc = l->out,
        };
    else
        out[WEIGHT_GRAD] = (clae_gemm){
            .trans_a = 1, .trans_b = 0, .m = l->out, .n = l->in, .k = rows,
            .alpha = 1.0f, .beta = l->weights_shared ? 1.0f : 0.0f,
            .a = dz, .a_off = 0, .lda = l->out,
            .b = input, .b_off = in_off, .ldb = l->in,
            .c = grads, .c_off = w_off, .ldc = l->in,
        };
    if (l->index == 0) return 2;
    out[INPUT_GRAD] = (clae_gemm){
        .trans_a = 0, .trans_b = tied, .m = rows, .n = l->in, .k = l->out,
        .alpha = 1.0f, .beta = 0.0f,
        .a = dz, .a_off = 0, .lda = l->out,
        .b = m->params, .b_off = w_off, .ldb = ldw,
        .c = ws ? ws->g[l->index - 1] : NULL, .c_off = 0, .ldc = l->in,
    };
    return 3;
}

static clae_status dense_forward(clae_model *m, const clae_layer *l,
                                 clae_workspace *ws, cl_mem input,
                                 size_t in_off, size_t rows)
{
    clae_status status = CLAE_SUCCESS;
    clae_gemm g[CLAE_MAX_LAYER_GEMMS];
    dense_gemms(m, l, ws, input, in_off, rows, g);
    CLAE_TRY(clae__gemm(m->ctx, &g[FORWARD], ws->temp));
    /* When the loss reads z (BCE on logits), it adds the bias itself and
     * nothing but inference reads a. */
    if (l->loss_through_activation && !ws->outputs) return CLAE_SUCCESS;
    CLAE_TRY(clae__bias_act_forward(m->ctx, ws->z[l->index], ws->a[l->index],
                                    m->params, bias_off(l), rows, l->out,
                                    l->act));
    if (l->act.kind == CLAE_ACT_SOFTMAX)
        CLAE_TRY(clae__softmax_rows(m->ctx, ws->a[l->index], rows, l->out));
fail:
    return status;
}

static clae_status dense_backward(clae_model *m, const clae_layer *l,
                                  clae_workspace *ws, cl_mem input,
                                  size_t in_off, size_t rows)
{
    clae_status status = CLAE_SUCCESS;
    clae_gemm g[CLAE_MAX_LAYER_GEMMS];
    size_t count = dense_gemms(m, l, ws, input, in_off, rows, g);
    cl_mem dz = ws->g[l->index], a = ws->a[l->index];
    /* The loss kernel has done the last layer's activation and bias,
     * except a softmax's, which needs whole rows. */
    int softmax = l->act.kind == CLAE_ACT_SOFTMAX;
    if (softmax)
        CLAE_TRY(clae__softmax_backward_rows(m->ctx, dz, a, rows, l->out));
    const clae_act act = softmax ? (clae_act){CLAE_ACT_LINEAR, 0.0f} : l->act;
    if (softmax || l->index + 1 < m->count)
        CLAE_TRY(clae__bias_act_backward(m->ctx, dz, a, ws->grads, bias_off(l),
                                         rows, l->out, act));
    CLAE_TRY(clae__gemm(m->ctx, &g[WEIGHT_GRAD], ws->temp));
    if (count > INPUT_GRAD)
        CLAE_TRY(clae__gemm(m->ctx, &g[INPUT_GRAD], ws->temp));
fail:
    return status;
}

static size_t dense_tensors(const clae_model *m, const clae_layer *l,
                            clae_tensor out[CLAE_MAX_LAYER_TENSORS])
{
    (void)m;
    size_t n = 0;
    if (!l->spec->tied)
        out[n++] = (clae_tensor){"weight", {l->out, l->in}, 2, 0, l->param_off};
    out[n++] = (clae_tensor){"bias", {l->out}, 1, 0, bias_off(l)};
    return n;
}

const clae_layer_ops clae__dense_ops = {
    .param_count = dense_param_count,
    .init = dense_init,
    .forward = dense_forward,
    .backward = dense_backward,
    .gemms = dense_gemms,
    .tensors = dense_tensors,
};
