/* Convolutional layers on rows of channels-last images (cl/conv.cl).
 * Their weights lie on the device with the channels last too, (K, kh, kw,
 * C) for a conv and (C, kh, kw, K) for a deconv, so that im2col copies and
 * col2im sums runs of channels; model files hold PyTorch's orders (the
 * tensors say how to permute).
 *
 * conv: K kernels over C channels, the weight W (K, kh kw C) at param_off,
 * then the bias (K). col (B P, kh kw C) = im2col of the input, a row per
 * output pixel; z = col W^T is (B P, K), which as rows of images is (B,
 * OH, OW, K): a dense layer over pixels. a = act(z + b). Backward: dz
 * through the activation; the bias gradient sums dz per channel; dW = dz^T
 * col; d input = col2im(dz W).
 *
 * deconv, the transposed convolution (torch.nn.ConvTranspose2d): the
 * weight W (C, kh kw K), the bias (K). col (B P_in, kh kw K) = input W,
 * and z = col2im(col) over the output image, which the window pass of
 * a conv from the output back to the input describes. Backward: dcol =
 * im2col(dz); dW = input^T dcol; d input = dcol W^T.
 *
 * A conv to one channel whose input has fewer pixels than its col would
 * have values per channel (the last layer of an image autoencoder) runs
 * the same way round: its weight (1, kh kw, C) is (kh kw, C), col (B
 * P_in, kh kw) = input W^T, and z sums over each output pixel's window
 * (patch_sums); backward dcol = patch_spread(dz). The col is C P_out /
 * P_in times smaller than im2col's.
 *
 * ws->aux holds col, then the column sums of dz (out floats). */
#include "model.h"

static int is_deconv(const clae_layer *l)
{
    return l->spec->kind == CLAE_LAYER_DECONV;
}

static size_t pixels(const clae_shape *s) { return s->height * s->width; }

static size_t kernel_area(const clae_layer *l)
{
    return l->geometry.window.kernel_h * l->geometry.window.kernel_w;
}

static size_t in_channels(const clae_layer *l)
{
    return l->spec->in.shape.channels;
}

static size_t weight_count(const clae_layer *l)
{
    return in_channels(l) * l->channels * kernel_area(l);
}

static size_t conv_param_count(const clae_layer *l)
{
    return weight_count(l) + l->channels;
}

/* The GEMM comes first (from the input's pixels), then the window pass:
 * deconv, and a conv to one channel where that makes the smaller col. */
static int gemm_first(const clae_layer *l)
{
    return is_deconv(l) ||
           (l->channels == 1 && pixels(&l->spec->in.shape) <
                                    pixels(&l->spec->out.shape) * in_channels(l));
}

/* col's values per row, and its rows per sample: a row per input pixel
 * when the GEMM comes first, else per output pixel. */
static size_t col_width(const clae_layer *l)
{
    return (gemm_first(l) ? l->channels : in_channels(l)) * kernel_area(l);
}

static size_t col_rows(const clae_layer *l)
{
    return pixels(gemm_first(l) ? &l->spec->in.shape : &l->spec->out.shape);
}

static size_t conv_aux_count(const clae_layer *l, size_t batch)
{
    return batch * col_rows(l) * col_width(l) + l->out;
}

static void conv_bias_sums(const clae_layer *l, const clae_workspace *ws,
                           cl_mem *buf, size_t *off)
{
    *buf = ws->aux[l->index];
    *off = ws->batch * col_rows(l) * col_width(l);
}

/* Weights from the initialiser with the fans of Keras's and PyTorch's
 * layers (kernel area times the channels in, and out), zero biases. */
static void conv_init(const clae_layer *l, float *params, float *state,
                      uint64_t seed)
{
    (void)state;
    const size_t area = kernel_area(l), in = in_channels(l) * area,
                 out = l->channels * area;
    clae__init_weights(l, params + l->param_off, weight_count(l),
                       is_deconv(l) ? out : in, is_deconv(l) ? in : out, seed);
    for (size_t i = 0; i < l->channels; i++)
        params[clae__bias_off(l) + i] = 0.0f;
}

static clae_matmul conv_matmul(const clae_layer *l, const clae_workspace *ws,
                               cl_mem input, size_t in_off, size_t rows)
{
    cl_mem col = ws ? ws->aux[l->index] : NULL;
    const size_t i = l->index;
    if (gemm_first(l))
        return (clae_matmul){
            .input = input, .in_off = in_off, .rows = rows * col_rows(l),
            .in = in_channels(l), .out = col_width(l), .w_off = l->param_off,
            .transposed = is_deconv(l), .z = col, .dz = col,
            .dinput = ws && i ? ws->g[i - 1] : NULL};
    return (clae_matmul){
        .input = col, .rows = rows * col_rows(l), .in = col_width(l),
        .out = l->channels, .w_off = l->param_off,
        .z = ws ? ws->z[i] : NULL, .dz = ws ? ws->g[i] : NULL, .dinput = col};
}

/* The first layer has no input gradient to compute. */
static size_t conv_gemms(const clae_model *m, const clae_layer *l,
                         const clae_workspace *ws, cl_mem input, size_t in_off,
                         size_t rows, clae_gemm out[CLAE_MAX_LAYER_GEMMS])
{
    clae_matmul mm = conv_matmul(l, ws, input, in_off, rows);
    clae__matmul_gemms(m, ws, &mm, out);
    return l->index ? 3 : 2;
}

static clae_status conv_forward(clae_model *m, const clae_layer *l,
                                clae_workspace *ws, cl_mem input,
                                size_t in_off, size_t rows)
{
    clae_status status = CLAE_SUCCESS;
    clae_gemm g[CLAE_MAX_LAYER_GEMMS];
    const size_t i = l->index;
    conv_gemms(m, l, ws, input, in_off, rows, g);
    if (gemm_first(l)) {
        CLAE_TRY(clae__gemm(m->ctx, &g[CLAE_GEMM_FORWARD], ws->temp));
        CLAE_TRY(is_deconv(l) ? clae__col2im_rows(m->ctx, &l->geometry,
                                                  ws->aux[i], rows, ws->z[i])
                              : clae__patch_sums(m->ctx, &l->geometry,
                                                 ws->aux[i], rows, ws->z[i]));
    } else {
        CLAE_TRY(clae__im2col_rows(m->ctx, &l->geometry, input, in_off, rows,
                                   ws->aux[i]));
        CLAE_TRY(clae__gemm(m->ctx, &g[CLAE_GEMM_FORWARD], ws->temp));
    }
    /* As a dense layer's: a loss that reads z adds the bias itself. */
    if (l->loss_through_activation && !ws->outputs) return CLAE_SUCCESS;
    status = clae__bias_act_forward(m->ctx, ws->z[i], ws->a[i], m->params,
                                    clae__bias_off(l), l->channels, rows,
                                    l->out, l->act);
fail:
    return status;
}

static clae_status conv_backward(clae_model *m, const clae_layer *l,
                                 clae_workspace *ws, cl_mem input,
                                 size_t in_off, size_t rows)
{
    clae_status status = CLAE_SUCCESS;
    clae_gemm g[CLAE_MAX_LAYER_GEMMS];
    const size_t i = l->index;
    size_t count = conv_gemms(m, l, ws, input, in_off, rows, g), sums_off;
    cl_mem sums;
    conv_bias_sums(l, ws, &sums, &sums_off);
    /* The loss kernel has done the output layer's activation and sums. */
    if (i + 1 < m->count)
        CLAE_TRY(clae__bias_act_backward(m->ctx, ws->g[i], ws->a[i], sums,
                                         sums_off, rows, l->out, l->act));
    CLAE_TRY(clae__channel_sums(m->ctx, sums, sums_off, ws->grads,
                                clae__bias_off(l), l->out / l->channels,
                                l->channels));
    if (is_deconv(l))
        CLAE_TRY(clae__im2col_rows(m->ctx, &l->geometry, ws->g[i], 0, rows,
                                   ws->aux[i]));
    else if (gemm_first(l))
        CLAE_TRY(clae__patch_spread(m->ctx, &l->geometry, ws->g[i], rows,
                                    ws->aux[i]));
    CLAE_TRY(clae__gemm(m->ctx, &g[CLAE_GEMM_WEIGHT_GRAD], ws->temp));
    if (count <= CLAE_GEMM_INPUT_GRAD) return CLAE_SUCCESS;
    CLAE_TRY(clae__gemm(m->ctx, &g[CLAE_GEMM_INPUT_GRAD], ws->temp));
    if (!gemm_first(l))
        CLAE_TRY(clae__col2im_rows(m->ctx, &l->geometry, ws->aux[i], rows,
                                   ws->g[i - 1]));
fail:
    return status;
}

/* The weight in PyTorch's order, Conv2d's (K, C, kh, kw) or
 * ConvTranspose2d's (C, K, kh, kw), which the device holds with the second
 * dimension last; and the bias. */
static size_t conv_tensors(const clae_model *m, const clae_layer *l,
                           clae_tensor out[CLAE_MAX_LAYER_TENSORS])
{
    (void)m;
    const size_t c = in_channels(l), k = l->channels,
                 kh = l->geometry.window.kernel_h,
                 kw = l->geometry.window.kernel_w;
    out[0] = (clae_tensor){.name = "weight",
                           .shape = {is_deconv(l) ? c : k, is_deconv(l) ? k : c,
                                     kh, kw},
                           .dims = 4, .off = l->param_off, .channels_last = 1};
    out[1] = (clae_tensor){.name = "bias", .shape = {k}, .dims = 1,
                           .off = clae__bias_off(l)};
    return 2;
}

/* conv and deconv alike. */
const clae_layer_ops clae__conv_ops = {
    .param_count = conv_param_count,
    .aux_count = conv_aux_count,
    .init = conv_init,
    .forward = conv_forward,
    .backward = conv_backward,
    .gemms = conv_gemms,
    .tensors = conv_tensors,
    .bias_sums = conv_bias_sums,
};
