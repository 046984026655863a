/* A whole model's forward pass and loss in double, from its spec. */
#include <math.h>
#include <stdlib.h>

#include "philox.h"
#include "ref.h"

void ref_batchnorm(double *x, size_t rows, size_t cols, const float *gamma,
                   const float *beta, clae_act act)
{
    for (size_t c = 0; c < cols; c++) {
        double mean = 0.0, var = 0.0;
        for (size_t r = 0; r < rows; r++) mean += x[r * cols + c];
        mean /= (double)rows;
        for (size_t r = 0; r < rows; r++)
            var += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
        var /= (double)rows;
        for (size_t r = 0; r < rows; r++) {
            double h = (x[r * cols + c] - mean) / sqrt(var + 1e-5);
            x[r * cols + c] = ref_activate(act, gamma[c] * h + beta[c]);
        }
    }
}

/* Batch norm's channels: an image's from a convolutional layer, else
 * every feature. */
static size_t norm_channels(const clae_layer_spec *l)
{
    return l->out.spatial ? l->out.shape.channels : l->units;
}

/* conv's and deconv's weight count: kernel area times channels in and out. */
static size_t kernel_weights(const clae_layer_spec *l)
{
    return l->window.kernel_h * l->window.kernel_w * l->in.shape.channels *
           l->out.shape.channels;
}

/* The parameter offset of each layer: dense W (O, I) then b (O), a tied
 * dense b only, conv and deconv their kernels then b (channels out),
 * batchnorm gamma then beta. */
static void param_offsets(const clae_spec *spec, size_t *offs)
{
    size_t off = 0;
    for (size_t i = 0; i < spec->count; i++) {
        const clae_layer_spec *l = &spec->layers[i];
        size_t in = clae__spec_layer_input(spec, i);
        offs[i] = off;
        if (l->kind == CLAE_LAYER_DENSE)
            off += (l->tied ? 0 : l->units * in) + l->units;
        else if (l->kind == CLAE_LAYER_CONV || l->kind == CLAE_LAYER_DECONV)
            off += kernel_weights(l) + l->out.shape.channels;
        else if (l->kind == CLAE_LAYER_BATCHNORM)
            off += 2 * norm_channels(l);
        else if (l->kind == CLAE_LAYER_LATENT)
            off += 2 * l->units * (in + 1);
    }
}

/* out (rows, O) = x W^T + b, or x M + b for a tied layer with its mirror's
 * weight M (I, O). */
static void dense(const clae_layer_spec *l, const float *w, const float *b,
                  const double *x, size_t rows, size_t in, double *out)
{
    size_t o_count = l->units;
    for (size_t r = 0; r < rows; r++)
        for (size_t o = 0; o < o_count; o++) {
            double z = b[o];
            for (size_t i = 0; i < in; i++)
                z += (l->tied ? w[i * o_count + o] : w[o * in + i]) * x[r * in + i];
            out[r * o_count + o] = z;
        }
}

/* next (rows, units) = dense layer i over cur (rows, in), activated (softmax
 * over each row) unless as_logits. */
static void dense_layer(const clae_spec *spec, const float *params,
                        const size_t *offs, size_t i, const double *cur,
                        size_t rows, size_t in, int as_logits, double *next)
{
    const clae_layer_spec *l = &spec->layers[i];
    const float *p = params + offs[i];
    const float *w = l->tied ? params + offs[l->mirror] : p,
                *b = l->tied ? p : p + l->units * in;
    dense(l, w, b, cur, rows, in, next);
    if (as_logits) return;
    for (size_t k = 0; k < rows * l->units; k++)
        next[k] = ref_activate(l->act, next[k]);
    if (l->act.kind == CLAE_ACT_SOFTMAX) ref_softmax_rows(next, rows, l->units);
}

/* next (rows, K) = the latent layer i over cur (rows, in): its means,
 * or when training a sample mu + exp(logvar / 2) eps with the device's
 * draws of eps (the host's Philox normals under the same key: seed 0, draw
 * 0, as the gradient check's workspace). Adds the rows' KL divergences
 * from N(0, I) to *kl. */
static void latent(const clae_spec *spec, const float *params,
                   const size_t *offs, size_t i, const double *cur,
                   size_t rows, size_t in, int training, double *next,
                   double *kl)
{
    const clae_layer_spec *l = &spec->layers[i];
    const size_t k = l->units;
    const float *w = params + offs[i], *b = w + 2 * k * in;
    float *eps = malloc(rows * k * sizeof *eps);
    clae__random_normal(eps, rows * k, 0x9E3779B97F4A7C15ull * (uint64_t)i,
                        CLAE_STREAM_LATENT, 0, 0.0f, 1.0f);
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < k; j++) {
            double mu = b[j], lv = b[k + j];
            for (size_t c = 0; c < in; c++) {
                mu += w[j * in + c] * cur[r * in + c];
                lv += w[(k + j) * in + c] * cur[r * in + c];
            }
            next[r * k + j] = training ? mu + exp(lv / 2) * eps[r * k + j] : mu;
            *kl += -0.5 * (1.0 + lv - mu * mu - exp(lv));
        }
    free(eps);
}

/* out = nearest-neighbour upsampling of x by the layer's factor. */
static void upsample(const clae_layer_spec *l, const double *x, size_t rows,
                     double *out)
{
    const clae_shape *o = &l->out.shape;
    const size_t f = l->window.stride, c_n = o->channels;
    for (size_t b = 0; b < rows; b++)
        for (size_t y = 0; y < o->height; y++)
            for (size_t xx = 0; xx < o->width; xx++)
                for (size_t c = 0; c < c_n; c++)
                    out[((b * o->height + y) * o->width + xx) * c_n + c] =
                        x[((b * (o->height / f) + y / f) * (o->width / f) + xx / f) *
                              c_n + c];
}

/* Layer i over cur (rows of its input) into next, activated unless
 * as_logits; batch norm (on the batch's statistics, when training) works
 * in place in cur, and dropout and noise are the identity. Returns 1 when
 * next holds the output, 0 when cur does. */
static int layer_step(const clae_spec *spec, const float *params,
                      const size_t *offs, size_t i, double *cur, size_t rows,
                      int as_logits, int training, double *next, double *kl)
{
    const clae_layer_spec *l = &spec->layers[i];
    const float *p = params + offs[i];
    const clae_geometry g = clae__layer_geometry(l);
    size_t in = clae__spec_layer_input(spec, i), c = norm_channels(l);
    switch (l->kind) {
    case CLAE_LAYER_DENSE:
        dense_layer(spec, params, offs, i, cur, rows, in, as_logits, next);
        return 1;
    case CLAE_LAYER_CONV:
        ref_conv(&g, l->out.shape.channels, p, p + kernel_weights(l), cur, rows,
                 next);
        break;
    case CLAE_LAYER_DECONV:
        ref_deconv(&g, l->in.shape.channels, p, p + kernel_weights(l), cur,
                   rows, next);
        break;
    case CLAE_LAYER_MAXPOOL:
    case CLAE_LAYER_AVGPOOL:
        ref_pool(&g, l->kind == CLAE_LAYER_MAXPOOL ? CLAE_POOL_MAX : CLAE_POOL_AVG,
                 cur, rows, next);
        return 1;
    case CLAE_LAYER_UPSAMPLE:
        upsample(l, cur, rows, next);
        return 1;
    case CLAE_LAYER_LATENT:
        latent(spec, params, offs, i, cur, rows, in, training, next, kl);
        return 1;
    case CLAE_LAYER_BATCHNORM:
        if (training)
            ref_batchnorm(cur, rows * (l->units / c), c, p, p + c, l->act);
        return 0;
    default:
        return 0;
    }
    if (!as_logits)
        for (size_t k = 0; k < rows * l->units; k++)
            next[k] = ref_activate(l->act, next[k]);
    return 1;
}

/* Room for any layer's activations: the widest layer, input included. */
static size_t widest_layer(const clae_spec *spec)
{
    size_t widest = spec->input;
    for (size_t l = 0; l < spec->count; l++)
        if (spec->layers[l].units > widest) widest = spec->layers[l].units;
    return widest;
}

static clae_loss_kernel kernel_of(const clae_spec *spec, int logits)
{
    if (logits) return CLAE_LOSS_KERNEL_BCE_LOGITS;
    switch (spec->loss) {
    case CLAE_LOSS_MSE: return CLAE_LOSS_KERNEL_MSE;
    case CLAE_LOSS_MAE: return CLAE_LOSS_KERNEL_MAE;
    case CLAE_LOSS_CCE: return CLAE_LOSS_KERNEL_CCE;
    default: return CLAE_LOSS_KERNEL_BCE;
    }
}

double ref_model_loss(const clae_spec *spec, const float *params,
                      const float *x, size_t rows)
{
    double penalty = 0.0, kl = 0.0;
    size_t widest = widest_layer(spec), offs[64];
    param_offsets(spec, offs);
    double *cur = malloc(rows * widest * sizeof *cur);
    double *next = malloc(rows * widest * sizeof *next);
    for (size_t i = 0; i < rows * spec->input; i++) cur[i] = x[i];
    int logits = 0;
    for (size_t i = 0; i < spec->count; i++) {
        const clae_layer_spec *l = &spec->layers[i];
        /* A sigmoid output feeding BCE stays as logits, as on the device. */
        logits = i + 1 == spec->count && spec->loss == CLAE_LOSS_BCE &&
                 l->act.kind == CLAE_ACT_SIGMOID;
        if (layer_step(spec, params, offs, i, cur, rows, logits, 1, next,
                       &kl)) {
            double *t = cur;
            cur = next;
            next = t;
        }
        if (i == spec->code_layer && i + 1 < spec->count)
            penalty = ref_activity_penalty(cur, rows, l->units, spec->code_l1,
                                           spec->sparsity_rho,
                                           spec->sparsity_beta, NULL, NULL);
    }
    clae_loss_kernel kind = kernel_of(spec, logits);
    double sum = 0.0, dy;
    for (size_t i = 0; i < rows * spec->input; i++)
        sum += ref_element_loss(kind, cur[i], x[i], &dy);
    free(cur);
    free(next);
    if (clae__spec_is_variational(spec))
        return (sum + spec->layers[spec->latent].beta * kl) / (double)rows;
    return sum / (double)(spec->loss == CLAE_LOSS_CCE ? rows
                                                      : rows * spec->input) +
           penalty;
}

void ref_model_forward(const clae_spec *spec, const float *params,
                       const float *x, size_t rows, size_t first, size_t end,
                       float *out)
{
    size_t widest = widest_layer(spec), offs[64],
           width = clae__spec_layer_input(spec, first);
    param_offsets(spec, offs);
    double *cur = malloc(rows * widest * sizeof *cur);
    double *next = malloc(rows * widest * sizeof *next);
    for (size_t i = 0; i < rows * width; i++) cur[i] = x[i];
    for (size_t i = first; i < end; i++) {
        width = spec->layers[i].units;
        double kl = 0.0;
        if (layer_step(spec, params, offs, i, cur, rows, 0, 0, next, &kl)) {
            double *t = cur;
            cur = next;
            next = t;
        }
    }
    for (size_t i = 0; i < rows * width; i++) out[i] = (float)cur[i];
    free(cur);
    free(next);
}

double ref_weight_penalty(const clae_spec *spec, const float *params, float l1,
                          float l2)
{
    size_t offs[64];
    double sum = 0.0;
    param_offsets(spec, offs);
    for (size_t l = 0; l < spec->count; l++) {
        const clae_layer_spec *layer = &spec->layers[l];
        size_t n = layer->units * clae__spec_layer_input(spec, l);
        if (layer->kind == CLAE_LAYER_CONV || layer->kind == CLAE_LAYER_DECONV)
            n = kernel_weights(layer);
        else if (layer->kind != CLAE_LAYER_DENSE || layer->tied)
            continue;
        for (size_t i = 0; i < n; i++) {
            double w = params[offs[l] + i];
            sum += l1 * fabs(w) + l2 * w * w;
        }
    }
    return sum;
}
