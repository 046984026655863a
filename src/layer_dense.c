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

size_t clae__bias_off(const clae_layer *l)
{
    return l->param_off + l->ops->param_count(l) - l->channels;
}

int clae__layer_weights(const clae_layer *l, size_t *off, size_t *count)
{
    const clae_layer_kind kind = l->spec->kind;
    if ((kind != CLAE_LAYER_DENSE && kind != CLAE_LAYER_CONV &&
         kind != CLAE_LAYER_DECONV) || l->spec->tied)
        return 0;
    *off = l->param_off;
    *count = clae__bias_off(l) - l->param_off;
    return 1;
}

/* The initialisers of spec.h, as Keras defines them. */
void clae__init_weights(const clae_layer *l, float *w, size_t n, size_t fan_in,
                        size_t fan_out, uint64_t seed)
{
    float fans = (float)(fan_in + fan_out);
    uint32_t substream = (uint32_t)l->index;
    float limit = 0.0f;
    switch (l->spec->init) {
    case CLAE_INIT_GLOROT_UNIFORM: limit = sqrtf(6.0f / fans); break;
    case CLAE_INIT_HE_UNIFORM: limit = sqrtf(6.0f / (float)fan_in); break;
    case CLAE_INIT_UNIFORM: limit = l->spec->init_scale; break;
    case CLAE_INIT_GLOROT_NORMAL:
        clae__random_normal(w, n, seed, CLAE_STREAM_INIT, substream, 0.0f,
                            sqrtf(2.0f / fans));
        break;
    case CLAE_INIT_HE_NORMAL:
        clae__random_normal(w, n, seed, CLAE_STREAM_INIT, substream, 0.0f,
                            sqrtf(2.0f / (float)fan_in));
        break;
    case CLAE_INIT_NORMAL:
        clae__random_normal(w, n, seed, CLAE_STREAM_INIT, substream, 0.0f,
                            l->spec->init_scale);
        break;
    }
    if (limit > 0.0f)
        clae__random_uniform(w, n, seed, CLAE_STREAM_INIT, substream, -limit,
                             limit);
}

/* Weights from the initialiser, zero biases. */
static void dense_init(const clae_layer *l, float *params, float *state,
                       uint64_t seed)
{
    (void)state;
    clae__init_weights(l, params + l->param_off, own_weights(l), l->in, l->out,
                       seed);
    for (size_t i = 0; i < l->out; i++) params[clae__bias_off(l) + i] = 0.0f;
}

void clae__matmul_gemms(const clae_model *m, const clae_workspace *ws,
                          const clae_matmul *mm,
                          clae_gemm out[CLAE_MAX_LAYER_GEMMS])
{
    cl_mem grads = ws ? ws->grads : NULL;
    const int t = mm->transposed;
    const size_t ldw = t ? mm->out : mm->in;
    out[CLAE_GEMM_FORWARD] = (clae_gemm){
        .trans_a = 0, .trans_b = !t, .m = mm->rows, .n = mm->out, .k = mm->in,
        .alpha = 1.0f, .beta = 0.0f,
        .a = mm->input, .a_off = mm->in_off, .lda = mm->in,
        .b = m->params, .b_off = mm->w_off, .ldb = ldw,
        .c = mm->z, .c_off = 0, .ldc = mm->out,
    };
    const float beta = mm->accumulate ? 1.0f : 0.0f;
    if (t) /* dW (in, out) = input^T dz */
        out[CLAE_GEMM_WEIGHT_GRAD] = (clae_gemm){
            .trans_a = 1, .trans_b = 0, .m = mm->in, .n = mm->out, .k = mm->rows,
            .alpha = 1.0f, .beta = beta,
            .a = mm->input, .a_off = mm->in_off, .lda = mm->in,
            .b = mm->dz, .b_off = 0, .ldb = mm->out,
            .c = grads, .c_off = mm->w_off, .ldc = mm->out,
        };
    else /* dW (out, in) = dz^T input */
        out[CLAE_GEMM_WEIGHT_GRAD] = (clae_gemm){
            .trans_a = 1, .trans_b = 0, .m = mm->out, .n = mm->in, .k = mm->rows,
            .alpha = 1.0f, .beta = beta,
            .a = mm->dz, .a_off = 0, .lda = mm->out,
            .b = mm->input, .b_off = mm->in_off, .ldb = mm->in,
            .c = grads, .c_off = mm->w_off, .ldc = mm->in,
        };
    out[CLAE_GEMM_INPUT_GRAD] = (clae_gemm){
        .trans_a = 0, .trans_b = t, .m = mm->rows, .n = mm->in, .k = mm->out,
        .alpha = 1.0f, .beta = 0.0f,
        .a = mm->dz, .a_off = 0, .lda = mm->out,
        .b = m->params, .b_off = mm->w_off, .ldb = ldw,
        .c = mm->dinput, .c_off = 0, .ldc = mm->in,
    };
}

/* z = input W^T (a tied layer: input M with its mirror's weight M); the
 * input gradient goes to the layer below's gradient buffer. */
static clae_matmul dense_matmul(const clae_model *m, const clae_layer *l,
                                const clae_workspace *ws, cl_mem input,
                                size_t in_off, size_t rows)
{
    const int tied = l->spec->tied;
    return (clae_matmul){
        .input = input, .in_off = in_off, .rows = rows, .in = l->in,
        .out = l->out,
        .w_off = tied ? m->layers[l->spec->mirror].param_off : l->param_off,
        .transposed = tied, .accumulate = l->weights_shared,
        .z = ws ? ws->z[l->index] : NULL, .dz = ws ? ws->g[l->index] : NULL,
        .dinput = ws && l->index ? ws->g[l->index - 1] : NULL,
    };
}

static size_t dense_gemms(const clae_model *m, const clae_layer *l,
                          const clae_workspace *ws, cl_mem input, size_t in_off,
                          size_t rows, clae_gemm out[CLAE_MAX_LAYER_GEMMS])
{
    clae_matmul mm = dense_matmul(m, l, ws, input, in_off, rows);
    clae__matmul_gemms(m, ws, &mm, out);
    return l->index ? 3 : 2;
}

static clae_status dense_forward(clae_model *m, const clae_layer *l,
                                 clae_workspace *ws, cl_mem input,
                                 size_t in_off, size_t rows)
{
    clae_status status = CLAE_SUCCESS;
    clae_gemm g[CLAE_MAX_LAYER_GEMMS];
    dense_gemms(m, l, ws, input, in_off, rows, g);
    CLAE_TRY(clae__gemm(m->ctx, &g[CLAE_GEMM_FORWARD], ws->temp));
    /* When the loss reads z (BCE on logits), it adds the bias itself and
     * nothing but inference reads a. */
    if (l->loss_through_activation && !ws->outputs) return CLAE_SUCCESS;
    CLAE_TRY(clae__bias_act_forward(m->ctx, ws->z[l->index], ws->a[l->index],
                                    m->params, clae__bias_off(l), l->out, rows,
                                    l->out, l->act));
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
        CLAE_TRY(clae__bias_act_backward(m->ctx, dz, a, ws->grads,
                                         clae__bias_off(l), rows, l->out, act));
    CLAE_TRY(clae__gemm(m->ctx, &g[CLAE_GEMM_WEIGHT_GRAD], ws->temp));
    if (count > CLAE_GEMM_INPUT_GRAD)
        CLAE_TRY(clae__gemm(m->ctx, &g[CLAE_GEMM_INPUT_GRAD], ws->temp));
fail:
    return status;
}

static size_t dense_tensors(const clae_model *m, const clae_layer *l,
                            clae_tensor out[CLAE_MAX_LAYER_TENSORS])
{
    (void)m;
    size_t n = 0;
    if (!l->spec->tied)
        out[n++] = (clae_tensor){.name = "weight", .shape = {l->out, l->in},
                                 .dims = 2, .off = l->param_off};
    out[n++] = (clae_tensor){.name = "bias", .shape = {l->out}, .dims = 1,
                             .off = clae__bias_off(l)};
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
