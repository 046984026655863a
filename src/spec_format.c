/* clae_spec -> its canonical text, and the text of a dense spec from flags.
 * Options equal to their defaults are left out, so the text is what a user
 * would write. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "spec.h"

typedef struct {
    char *text;
    size_t len, cap;
    int failed;
} builder;

static void append(builder *b, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char piece[256];
    int n = vsnprintf(piece, sizeof piece, format, args);
    va_end(args);
    if (b->failed || n < 0) return;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = 2 * (b->len + (size_t)n + 1);
        char *grown = realloc(b->text, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->text = grown;
        b->cap = cap;
    }
    snprintf(b->text + b->len, b->cap - b->len, "%s", piece);
    b->len += (size_t)n;
}

static void append_act(builder *b, clae_act act)
{
    append(b, " %s", clae_activation_name(act.kind));
    if (act.param == clae__act_default_param(act.kind)) return;
    append(b, act.kind == CLAE_ACT_LEAKY_RELU ? " slope=%g" : " alpha=%g",
           act.param);
}

static void append_init(builder *b, const clae_layer_spec *l)
{
    if (l->init == CLAE_INIT_NORMAL || l->init == CLAE_INIT_UNIFORM)
        append(b, " init=%s(%g)", clae__init_name(l->init), l->init_scale);
    else if (l->init != CLAE_INIT_GLOROT_UNIFORM)
        append(b, " init=%s", clae__init_name(l->init));
}

static void append_dense(builder *b, const clae_layer_spec *l)
{
    append(b, "dense %zu", l->units);
    append_act(b, l->act);
    if (l->tied) append(b, " tied");
    else append_init(b, l);
}

/* A window's stride unless it is the default (1 for convolutions, the
 * size for pools), and same padding (valid is the default). */
static void append_window(builder *b, const clae_layer_spec *l,
                          size_t default_stride)
{
    if (l->window.stride != default_stride)
        append(b, " stride=%zu", l->window.stride);
    if (l->same) append(b, " same");
}

static void append_conv(builder *b, const clae_layer_spec *l)
{
    append(b, "%s %zu %zux%zu", l->kind == CLAE_LAYER_CONV ? "conv" : "deconv",
           l->out.shape.channels, l->window.kernel_h, l->window.kernel_w);
    append_act(b, l->act);
    append_window(b, l, 1);
    append_init(b, l);
}

static int same_flow(const clae_flow *a, const clae_flow *b)
{
    return a->shape.height == b->shape.height &&
           a->shape.width == b->shape.width &&
           a->shape.channels == b->shape.channels && a->image == b->image &&
           a->spatial == b->spatial;
}

/* The flatten or reshape line that makes what flows into a layer, when it
 * is not what the layer before gives. */
static void append_reshape(builder *b, const clae_flow *given,
                           const clae_flow *taken)
{
    if (same_flow(given, taken)) return;
    if (!taken->image)
        append(b, "flatten\n");
    else
        append(b, "reshape %zux%zux%zu\n", taken->shape.height,
               taken->shape.width, taken->shape.channels);
}

static void append_layer(builder *b, const clae_layer_spec *l)
{
    switch (l->kind) {
    case CLAE_LAYER_DENSE: append_dense(b, l); break;
    case CLAE_LAYER_CONV:
    case CLAE_LAYER_DECONV: append_conv(b, l); break;
    case CLAE_LAYER_MAXPOOL:
    case CLAE_LAYER_AVGPOOL:
        append(b, "%s %zu", l->kind == CLAE_LAYER_MAXPOOL ? "maxpool" : "avgpool",
               l->window.kernel_h);
        append_window(b, l, l->window.kernel_h);
        break;
    case CLAE_LAYER_UPSAMPLE: append(b, "upsample %zu", l->window.stride); break;
    case CLAE_LAYER_BATCHNORM:
        append(b, "batchnorm");
        if (l->act.kind != CLAE_ACT_LINEAR) append_act(b, l->act);
        break;
    case CLAE_LAYER_DROPOUT: append(b, "dropout %g", l->rate); break;
    case CLAE_LAYER_NOISE:
        append(b, "noise %s %g", clae__noise_name(l->noise), l->rate);
        break;
    case CLAE_LAYER_LATENT:
        append(b, "latent %zu gaussian", l->units);
        if (l->beta != 1.0f) append(b, " beta=%g", l->beta);
        append_init(b, l);
        break;
    }
    append(b, "\n");
}

/* "code" after the code layer, unless it is the output layer by default
 * and without penalties. */
static void append_code(builder *b, const clae_spec *spec)
{
    int penalties = spec->code_l1 > 0.0f || spec->sparsity_beta > 0.0f;
    if (!penalties && spec->code_layer + 1 == spec->count &&
        spec->code_layer == clae__spec_default_code(spec))
        return;
    append(b, "code");
    if (spec->code_l1 > 0.0f) append(b, " l1=%g", spec->code_l1);
    if (spec->sparsity_beta > 0.0f)
        append(b, " rho=%g beta=%g", spec->sparsity_rho, spec->sparsity_beta);
    append(b, "\n");
}

char *clae__spec_format(const clae_spec *spec)
{
    builder b = {0};
    clae_flow given = {.shape = {1, 1, spec->input}};
    if (spec->height) {
        append(&b, "input %ux%ux%u\n", spec->height, spec->width, spec->channels);
        given = (clae_flow){.shape = {spec->height, spec->width, spec->channels},
                            .image = 1};
    } else {
        append(&b, "input %zu\n", spec->input);
    }
    for (size_t i = 0; i < spec->count; i++) {
        append_reshape(&b, &given, &spec->layers[i].in);
        append_layer(&b, &spec->layers[i]);
        given = spec->layers[i].out;
        if (i == spec->code_layer) append_code(&b, spec);
    }
    append(&b, "loss %s\n", clae_loss_name(spec->loss));
    if (b.failed) {
        free(b.text);
        return NULL;
    }
    return b.text;
}

clae_status clae_spec_dense(clae_context *ctx, const clae_dense_spec *d,
                            char **out)
{
    clae_spec spec = {.latent = SIZE_MAX};
    spec.input = d->input;
    spec.loss = d->loss;
    spec.count = d->hidden_count + 1;
    spec.layers = calloc(spec.count, sizeof *spec.layers);
    if (!spec.layers)
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    for (size_t i = 0; i < spec.count; i++) {
        clae_activation act =
            i < d->hidden_count ? d->activation : d->output_activation;
        size_t in = i ? spec.layers[i - 1].units : d->input,
               units = i < d->hidden_count ? d->hidden[i] : d->input;
        spec.layers[i] = (clae_layer_spec){
            .kind = CLAE_LAYER_DENSE,
            .units = units,
            .in = {.shape = {1, 1, in}},
            .out = {.shape = {1, 1, units}},
            .act = {act, clae__act_default_param(act)},
        };
        if (d->init && !clae__spec_parse_init(d->init, &spec.layers[i])) {
            clae__spec_free(&spec);
            return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                             "unknown initialiser '%s' (" CLAE_INIT_NAMES ")",
                             d->init);
        }
    }
    spec.code_layer = clae__spec_default_code(&spec);
    *out = clae__spec_format(&spec);
    clae__spec_free(&spec);
    if (!*out) return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    return CLAE_SUCCESS;
}
