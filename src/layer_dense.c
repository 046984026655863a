/* The dense layer: a = act(input W^T + b).
 * input is (B, I), W is (O, I) at param_off, b is (O) after W; z and a are
 * (B, O). Backward: dz = da * act'(z); dW = dz^T input (O, I);
 * db = column sums of dz; d input = dz W (B, I). */
#include <math.h>

#include "blas.h"
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

/* z = input W^T */
static clae_gemm forward_gemm(const clae_model *m, const clae_layer *l,
                              const clae_workspace *ws, cl_mem input,
                              size_t in_off, size_t rows)
{
    return (clae_gemm){
        .trans_a = 0, .trans_b = 1, .m = rows, .n = l->out, .k = l->in,
        .alpha = 1.0f, .beta = 0.0f,
        .a = input, .a_off = in_off, .lda = l->in,
        .b = m->params, .b_off = l->param_off, .ldb = l->in,
        .c = ws ? ws->z[l->index] : NULL, .c_off = 0, .ldc = l->out,
    };
}

/* dW = dz^T input */
static clae_gemm weight_grad_gemm(const clae_layer *l, const clae_workspace *ws,
                                  cl_mem input, size_t in_off, size_t rows)
{
    return (clae_gemm){
        .trans_a = 1, .trans_b = 0, .m = l->out, .n = l->in, .k = rows,
        .alpha = 1.0f, .beta = 0.0f,
        .a = ws ? ws->g[l->index] : NULL, .a_off = 0, .lda = l->out,
        .b = input, .b_off = in_off, .ldb = l->in,
        .c = ws ? ws->grads : NULL, .c_off = l->param_off, .ldc = l->in,
    };
}

/* d input = dz W, into the gradient buffer of the layer below. */
static clae_gemm input_grad_gemm(const clae_model *m, const clae_layer *l,
                                 const clae_workspace *ws, size_t rows)
{
    return (clae_gemm){
        .trans_a = 0, .trans_b = 0, .m = rows, .n = l->in, .k = l->out,
        .alpha = 1.0f, .beta = 0.0f,
        .a = ws ? ws->g[l->index] : NULL, .a_off = 0, .lda = l->out,
        .b = m->params, .b_off = l->param_off, .ldb = l->in,
        .c = ws && l->index ? ws->g[l->index - 1] : NULL, .c_off = 0,
        .ldc = l->in,
    };
}

static clae_status dense_forward(clae_model *m, const clae_layer *l,
                                 clae_workspace *ws, cl_mem input,
                                 size_t in_off, size_t rows)
{
    clae_status status = CLAE_SUCCESS;
    clae_gemm gemm = forward_gemm(m, l, ws, input, in_off, rows);
    CLAE_TRY(clae__gemm(m->ctx, &gemm, ws->temp));
    CLAE_TRY(clae__bias_act_forward(m->ctx, ws->z[l->index], ws->a[l->index],
                                    m->params, l->param_off + weight_count(l),
                                    rows, l->out, l->activation));
fail:
    return status;
}

static clae_status dense_backward(clae_model *m, const clae_layer *l,
                                  clae_workspace *ws, cl_mem input,
                                  size_t in_off, size_t rows)
{
    clae_status status = CLAE_SUCCESS;
    if (!l->loss_through_activation)
        CLAE_TRY(clae__act_backward(m->ctx, ws->g[l->index], ws->a[l->index],
                                    rows * l->out, l->activation));
    clae_gemm dw = weight_grad_gemm(l, ws, input, in_off, rows);
    CLAE_TRY(clae__gemm(m->ctx, &dw, ws->temp));
    CLAE_TRY(clae__bias_grad(m->ctx, ws->g[l->index], ws->grads,
                             l->param_off + weight_count(l), rows, l->out));
    if (l->index > 0) {
        clae_gemm dx = input_grad_gemm(m, l, ws, rows);
        CLAE_TRY(clae__gemm(m->ctx, &dx, ws->temp));
    }
fail:
    return status;
}

static clae_status dense_temp_bytes(clae_model *m, const clae_layer *l,
                                    size_t rows, size_t *bytes)
{
    clae_status status = CLAE_SUCCESS;
    /* The input's offset only matters for the first layer's GEMMs, where it
     * is a multiple of I; 0 is the case CLBlast sizes for. */
    clae_gemm gemms[3] = {forward_gemm(m, l, NULL, NULL, 0, rows),
                          weight_grad_gemm(l, NULL, NULL, 0, rows),
                          input_grad_gemm(m, l, NULL, rows)};
    *bytes = 0;
    for (int i = 0; i < 3; i++) {
        size_t need;
        CLAE_TRY(clae__gemm_temp_bytes(m->ctx, &gemms[i], &need));
        if (need > *bytes) *bytes = need;
    }
fail:
    return status;
}

const clae_layer_ops clae__dense_ops = {
    .param_count = dense_param_count,
    .init = dense_init,
    .forward = dense_forward,
    .backward = dense_backward,
    .temp_bytes = dense_temp_bytes,
};
