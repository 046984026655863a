/* The dense layer: a = act(input W^T + b).
 * input is (B, I), W is (O, I) at param_off, b is (O) after W; z and a are
 * (B, O). Backward: dz = da * act'(z); dW = dz^T input (O, I);
 * db = column sums of dz; d input = dz W (B, I). */
#include <math.h>

#include "model.h"
#include "philox.h"

static size_t weight_count(const clae_layer *l) { return l->out * l->in; }

static size_t dense_param_count(const clae_layer *l)
{
    return weight_count(l) + l->out;
}

/* Glorot-uniform weights (limit sqrt(6 / (I + O)), as Keras), zero biases. */
static void dense_init(const clae_layer *l, float *params, uint64_t seed,
                       uint32_t layer_index)
{
    float limit = sqrtf(6.0f / (float)(l->in + l->out));
    clae__random_uniform(params, weight_count(l), seed, CLAE_STREAM_INIT,
                         layer_index, -limit, limit);
    for (size_t i = 0; i < l->out; i++) params[weight_count(l) + i] = 0.0f;
}

/* The step's GEMMs: z = input W^T; dW = dz^T input; and, below the first
 * layer, d input = dz W into the gradient buffer of the layer below. */
enum { FORWARD, WEIGHT_GRAD, INPUT_GRAD };

static size_t dense_gemms(const clae_model *m, const clae_layer *l,
                          const clae_workspace *ws, cl_mem input, size_t in_off,
                          size_t rows, clae_gemm out[CLAE_MAX_LAYER_GEMMS])
{
    cl_mem z = ws ? ws->z[l->index] : NULL, dz = ws ? ws->g[l->index] : NULL;
    out[FORWARD] = (clae_gemm){
        .trans_a = 0, .trans_b = 1, .m = rows, .n = l->out, .k = l->in,
        .alpha = 1.0f, .beta = 0.0f,
        .a = input, .a_off = in_off, .lda = l->in,
        .b = m->params, .b_off = l->param_off, .ldb = l->in,
        .c = z, .c_off = 0, .ldc = l->out,
    };
    out[WEIGHT_GRAD] = (clae_gemm){
        .trans_a = 1, .trans_b = 0, .m = l->out, .n = l->in, .k = rows,
        .alpha = 1.0f, .beta = 0.0f,
        .a = dz, .a_off = 0, .lda = l->out,
        .b = input, .b_off = in_off, .ldb = l->in,
        .c = ws ? ws->grads : NULL, .c_off = l->param_off, .ldc = l->in,
    };
    if (l->index == 0) return 2;
    out[INPUT_GRAD] = (clae_gemm){
        .trans_a = 0, .trans_b = 0, .m = rows, .n = l->in, .k = l->out,
        .alpha = 1.0f, .beta = 0.0f,
        .a = dz, .a_off = 0, .lda = l->out,
        .b = m->params, .b_off = l->param_off, .ldb = l->in,
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
     * nothing reads a. */
    if (!l->loss_through_activation)
        CLAE_TRY(clae__bias_act_forward(m->ctx, ws->z[l->index],
                                        ws->a[l->index], m->params,
                                        l->param_off + weight_count(l), rows,
                                        l->out, l->activation));
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
    /* The loss kernel has done the last layer's activation and bias. */
    if (l->index + 1 < m->count)
        CLAE_TRY(clae__bias_act_backward(m->ctx, ws->g[l->index],
                                         ws->a[l->index], ws->grads,
                                         l->param_off + weight_count(l), rows,
                                         l->out, l->activation));
    CLAE_TRY(clae__gemm(m->ctx, &g[WEIGHT_GRAD], ws->temp));
    if (count > INPUT_GRAD)
        CLAE_TRY(clae__gemm(m->ctx, &g[INPUT_GRAD], ws->temp));
fail:
    return status;
}

const clae_layer_ops clae__dense_ops = {
    .param_count = dense_param_count,
    .init = dense_init,
    .forward = dense_forward,
    .backward = dense_backward,
    .gemms = dense_gemms,
};
