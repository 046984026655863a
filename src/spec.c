/* Spec text -> clae_spec. One layer a line, '#' starts a comment:
 *   input 784 | input 28x28x1
 *   dense UNITS [ACTIVATION] [slope=S | alpha=A] [init=INIT] [tied]
 *   conv K KHxKW [ACTIVATION] [stride=S] [same|valid] [init=INIT]
 *   deconv K KHxKW [ACTIVATION] [stride=S] [same|valid] [init=INIT]
 *   maxpool N [stride=S] [same|valid] | avgpool N [stride=S] [same|valid]
 *   upsample F
 *   flatten | reshape HxWxC
 *   batchnorm [ACTIVATION]
 *   dropout RATE
 *   noise gaussian STD | noise mask P | noise salt_pepper P
 *   code [l1=L] [rho=R beta=B]  (marks the layer above as the code)
 *   loss bce|mse|mae|cce
 * INIT is glorot_uniform (the default), glorot_normal, he_uniform,
 * he_normal, normal(STD) or uniform(LIMIT). Images are H x W x C, channels
 * last. Convolutions default to stride 1 and valid padding, pools to a
 * stride of their size and valid; same padding keeps ceil(side / stride)
 * pixels (deconv: side * stride) and takes odd kernels for conv and
 * deconv. A dense layer flattens an image; flatten and reshape change
 * what the next layer sees without a layer of their own. The last layer
 * must reconstruct the input (same width). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "model.h"
#include "numbers.h"
#include "spec.h"

float clae__act_default_param(clae_activation act)
{
    return act == CLAE_ACT_LEAKY_RELU ? 0.01f : act == CLAE_ACT_ELU ? 1.0f : 0.0f;
}

/* A positive size below 2^31 (layers and inputs are far smaller). */
static int parse_size(const char *word, size_t *out)
{
    unsigned long v;
    if (!word || !clae__parse_uint(word, '\0', 0x7fffffff, &v) || v == 0)
        return 0;
    *out = v;
    return 1;
}

static int parse_shape(const char *word, clae_spec *spec)
{
    clae_image_shape shape;
    if (!clae__parse_shape(word, 0x7fffffff, &shape)) return 0;
    spec->height = shape.height;
    spec->width = shape.width;
    spec->channels = shape.channels;
    spec->input = (size_t)shape.height * shape.width * shape.channels;
    return 1;
}

/* "he_normal", "normal(0.05)", "uniform(0.1)". */
int clae__spec_parse_init(const char *word, clae_layer_spec *layer)
{
    char name[32], number[32], tail;
    if (sscanf(word, "%31[a-z_](%31[^)])%c", name, number, &tail) == 2) {
        if (clae__init_parse(name, &layer->init) != CLAE_SUCCESS ||
            (layer->init != CLAE_INIT_NORMAL && layer->init != CLAE_INIT_UNIFORM))
            return 0;
        return clae__parse_float(number, 1e-30f, 1e3f, &layer->init_scale);
    }
    return clae__init_parse(word, &layer->init) == CLAE_SUCCESS &&
           layer->init != CLAE_INIT_NORMAL && layer->init != CLAE_INIT_UNIFORM;
}

clae_status clae_init_check(const char *name)
{
    clae_layer_spec layer;
    return clae__spec_parse_init(name, &layer) ? CLAE_SUCCESS : CLAE_ERR_USAGE;
}

#define MAX_WORDS 8

/* Splits a line (comment removed) into words in place. */
static int split_words(char *line, char **words)
{
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    int n = 0;
    for (char *tok = strtok(line, " \t\r"); tok && n < MAX_WORDS;
         tok = strtok(NULL, " \t\r"))
        words[n++] = tok;
    return n;
}

/* The value of a "key=value" word, or NULL when word is not that key's. */
static const char *option_value(const char *word, const char *key)
{
    size_t len = strlen(key);
    return strncmp(word, key, len) == 0 && word[len] == '=' ? word + len + 1
                                                            : NULL;
}

#define SPEC_ERROR(...)                                                      \
    do {                                                                     \
        status = CLAE_FAIL(ctx, CLAE_ERR_SPEC, __VA_ARGS__);                 \
        goto fail;                                                           \
    } while (0)

/* The parser's state besides the spec. */
typedef struct {
    clae_context *ctx;
    int lineno;
    int code_marked;
    clae_flow flow;  /* what the next layer takes */
    int reshaped;    /* a flatten or reshape line waits for its layer */
} parser;

static size_t flow_width(const clae_flow *f)
{
    return f->shape.height * f->shape.width * f->shape.channels;
}

static clae_flow flat(size_t units)
{
    return (clae_flow){.shape = {1, 1, units}};
}

static size_t current_width(const parser *p) { return flow_width(&p->flow); }

/* Nonzero when an image of this shape (no side 0) holds more than 2^31 - 1
 * values, checked without overflowing on the way. */
static int too_large(const clae_shape *s)
{
    const size_t limit = 0x7fffffff;
    return s->height > limit || s->width > limit / s->height ||
           s->channels > limit / (s->height * s->width);
}

int clae__layer_is_spatial(clae_layer_kind kind)
{
    return kind == CLAE_LAYER_CONV || kind == CLAE_LAYER_DECONV ||
           kind == CLAE_LAYER_MAXPOOL || kind == CLAE_LAYER_AVGPOOL ||
           kind == CLAE_LAYER_UPSAMPLE;
}

clae_geometry clae__layer_geometry(const clae_layer_spec *l)
{
    int reverse = l->kind == CLAE_LAYER_DECONV || l->kind == CLAE_LAYER_UPSAMPLE;
    return (clae_geometry){.in = reverse ? l->out.shape : l->in.shape,
                           .out = reverse ? l->in.shape : l->out.shape,
                           .window = l->window};
}

/* Adds the layer, which takes what flows now; layers that keep the width
 * (out unset) pass it on unchanged. */
static clae_status add_layer(parser *p, clae_spec *spec, clae_layer_spec layer)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    if (!spec->input)
        SPEC_ERROR("spec line %d: no 'input' line before the layers", p->lineno);
    layer.in = p->flow;
    if (!layer.out.shape.channels) layer.out = p->flow;
    layer.units = flow_width(&layer.out);
    p->flow = layer.out;
    p->reshaped = 0;
    clae_layer_spec *grown =
        realloc(spec->layers, (spec->count + 1) * sizeof *grown);
    if (!grown) SPEC_ERROR("out of host memory");
    spec->layers = grown;
    spec->layers[spec->count++] = layer;
fail:
    return status;
}

/* An activation word, with its parameter from a later slope= or alpha=. */
static clae_status parse_activation(parser *p, const char *word, clae_act *act)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    if (clae_activation_parse(word, &act->kind) != CLAE_SUCCESS)
        SPEC_ERROR("spec line %d: unknown activation '%s' (linear, relu, "
                   "leaky_relu, elu, sigmoid, tanh, softmax)", p->lineno, word);
    act->param = clae__act_default_param(act->kind);
fail:
    return status;
}

/* The options dense, conv and deconv share: init=, and slope= or alpha=
 * for the activation that has one. 0: the word is none of them. */
static int parse_weighted_option(parser *p, const char *word,
                                 clae_layer_spec *layer, clae_status *status)
{
    clae_context *ctx = p->ctx;
    const char *v;
    if ((v = option_value(word, "init"))) {
        if (!clae__spec_parse_init(v, layer))
            *status = CLAE_FAIL(ctx, CLAE_ERR_SPEC, "spec line %d: unknown "
                                "initialiser '%s' (" CLAE_INIT_NAMES ")",
                                p->lineno, v);
    } else if ((v = option_value(word, "slope")) &&
               layer->act.kind == CLAE_ACT_LEAKY_RELU) {
        if (!clae__parse_float(v, 0.0f, 1.0f, &layer->act.param))
            *status = CLAE_FAIL(ctx, CLAE_ERR_SPEC,
                                "spec line %d: slope must be in [0, 1]", p->lineno);
    } else if ((v = option_value(word, "alpha")) &&
               layer->act.kind == CLAE_ACT_ELU) {
        if (!clae__parse_float(v, 1e-6f, 1e3f, &layer->act.param))
            *status = CLAE_FAIL(ctx, CLAE_ERR_SPEC,
                                "spec line %d: alpha must be positive", p->lineno);
    } else {
        return 0;
    }
    return 1;
}

/* An activation word at w[i] unless it is an option or a keyword. */
static int is_activation_word(const char *word)
{
    return !strchr(word, '=') && strcmp(word, "tied") != 0 &&
           strcmp(word, "same") != 0 && strcmp(word, "valid") != 0;
}

static clae_status parse_dense(parser *p, char **w, int n, clae_spec *spec)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    clae_layer_spec layer = {.kind = CLAE_LAYER_DENSE};
    size_t units;
    if (n < 2 || !parse_size(w[1], &units))
        SPEC_ERROR("spec line %d: expected 'dense UNITS [ACTIVATION] "
                   "[options]'", p->lineno);
    layer.out = flat(units);
    int i = 2;
    if (n > 2 && is_activation_word(w[2]))
        CLAE_TRY(parse_activation(p, w[i++], &layer.act));
    for (; i < n; i++) {
        if (strcmp(w[i], "tied") == 0) {
            layer.tied = 1;
        } else if (!parse_weighted_option(p, w[i], &layer, &status)) {
            SPEC_ERROR("spec line %d: unknown dense option '%s' (init=, tied, "
                       "slope= for leaky_relu, alpha= for elu)", p->lineno, w[i]);
        }
        CLAE_TRY(status);
    }
    status = add_layer(p, spec, layer);
fail:
    return status;
}

/* "3x5" or "3" (square) into *h and *w. */
static int parse_kernel(const char *word, size_t *h, size_t *w)
{
    unsigned long a, b;
    const char *end = clae__parse_uint(word, strchr(word, 'x') ? 'x' : '\0',
                                       1024, &a);
    if (!end) return 0;
    b = a;
    if (*end == 'x' && !clae__parse_uint(end + 1, '\0', 1024, &b)) return 0;
    if (!a || !b) return 0;
    *h = a;
    *w = b;
    return 1;
}

/* A side of n pixels through a window: the output side, 0 when the window
 * does not fit; *pad the padding before the first pixel. */
static size_t window_side(size_t n, size_t kernel, size_t stride, int same,
                          int pool, size_t *pad)
{
    *pad = 0;
    if (!same) return n >= kernel ? (n - kernel) / stride + 1 : 0;
    size_t out = (n + stride - 1) / stride;
    if (pool) { /* Keras's: what the window lacks at the end, half before */
        size_t need = (out - 1) * stride + kernel;
        *pad = need > n ? (need - n) / 2 : 0;
    } else {
        *pad = (kernel - 1) / 2;
    }
    return out;
}

/* The options of conv, deconv and the pools: stride=, same or valid. */
static int parse_window_option(parser *p, const char *word,
                               clae_layer_spec *layer, clae_status *status)
{
    const char *v;
    size_t stride;
    if (strcmp(word, "same") == 0 || strcmp(word, "valid") == 0) {
        layer->same = word[0] == 's';
    } else if ((v = option_value(word, "stride"))) {
        if (parse_size(v, &stride) && stride <= 1024)
            layer->window.stride = stride;
        else
            *status = CLAE_FAIL(p->ctx, CLAE_ERR_SPEC, "spec line %d: stride "
                                "must be a whole number from 1 to 1024",
                                p->lineno);
    } else {
        return 0;
    }
    return 1;
}

/* The output image of a conv, deconv or pool layer (its spec word name)
 * over what flows in. */
static clae_status shape_window(parser *p, const char *name,
                                clae_layer_spec *l, size_t channels)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    clae_window *w = &l->window;
    const clae_shape in = p->flow.shape;
    const int pool = l->kind == CLAE_LAYER_MAXPOOL || l->kind == CLAE_LAYER_AVGPOOL;
    if (!p->flow.image)
        SPEC_ERROR("spec line %d: '%s' takes an image: give the input as "
                   "'input HxWxC' or 'reshape HxWxC' before it", p->lineno, name);
    if (!pool && l->same && (w->kernel_h % 2 == 0 || w->kernel_w % 2 == 0))
        SPEC_ERROR("spec line %d: same padding takes an odd kernel", p->lineno);
    l->out = (clae_flow){.shape = {0, 0, channels}, .image = 1, .spatial = 1};
    if (l->kind == CLAE_LAYER_DECONV) {
        w->pad_h = l->same ? (w->kernel_h - 1) / 2 : 0;
        w->pad_w = l->same ? (w->kernel_w - 1) / 2 : 0;
        l->out.shape.height = l->same ? in.height * w->stride
                                      : (in.height - 1) * w->stride + w->kernel_h;
        l->out.shape.width = l->same ? in.width * w->stride
                                     : (in.width - 1) * w->stride + w->kernel_w;
    } else {
        l->out.shape.height = window_side(in.height, w->kernel_h, w->stride,
                                          l->same, pool, &w->pad_h);
        l->out.shape.width = window_side(in.width, w->kernel_w, w->stride,
                                         l->same, pool, &w->pad_w);
    }
    if (!l->out.shape.height || !l->out.shape.width)
        SPEC_ERROR("spec line %d: a %zux%zu window does not fit the %zux%zu "
                   "image", p->lineno, w->kernel_h, w->kernel_w, in.height,
                   in.width);
    if (too_large(&l->out.shape))
        SPEC_ERROR("spec line %d: the layer's output is too large", p->lineno);
fail:
    return status;
}

static clae_status parse_conv(parser *p, char **w, int n, clae_spec *spec,
                              clae_layer_kind kind)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    const char *name = kind == CLAE_LAYER_CONV ? "conv" : "deconv";
    clae_layer_spec layer = {.kind = kind, .window.stride = 1};
    size_t channels;
    if (n < 3 || !parse_size(w[1], &channels) || channels > 65536 ||
        !parse_kernel(w[2], &layer.window.kernel_h, &layer.window.kernel_w))
        SPEC_ERROR("spec line %d: expected '%s CHANNELS KHxKW [ACTIVATION] "
                   "[stride=S] [same|valid] [init=INIT]'", p->lineno, name);
    int i = 3;
    if (n > 3 && is_activation_word(w[3]))
        CLAE_TRY(parse_activation(p, w[i++], &layer.act));
    if (layer.act.kind == CLAE_ACT_SOFTMAX)
        SPEC_ERROR("spec line %d: %s takes an element-wise activation",
                   p->lineno, name);
    for (; i < n; i++) {
        if (!parse_window_option(p, w[i], &layer, &status) &&
            !parse_weighted_option(p, w[i], &layer, &status))
            SPEC_ERROR("spec line %d: unknown %s option '%s' (stride=, same, "
                       "valid, init=, slope= for leaky_relu, alpha= for elu)",
                       p->lineno, name, w[i]);
        CLAE_TRY(status);
    }
    CLAE_TRY(shape_window(p, name, &layer, channels));
    status = add_layer(p, spec, layer);
fail:
    return status;
}

static clae_status parse_pool(parser *p, char **w, int n, clae_spec *spec,
                              clae_layer_kind kind)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    const char *name = kind == CLAE_LAYER_MAXPOOL ? "maxpool" : "avgpool";
    clae_layer_spec layer = {.kind = kind};
    size_t size;
    if (n < 2 || !parse_size(w[1], &size) || size > 1024)
        SPEC_ERROR("spec line %d: expected '%s SIZE [stride=S] [same|valid]'",
                   p->lineno, name);
    layer.window = (clae_window){.kernel_h = size, .kernel_w = size, .stride = size};
    for (int i = 2; i < n; i++) {
        if (!parse_window_option(p, w[i], &layer, &status))
            SPEC_ERROR("spec line %d: unknown %s option '%s' (stride=, same, "
                       "valid)", p->lineno, name, w[i]);
        CLAE_TRY(status);
    }
    CLAE_TRY(shape_window(p, name, &layer, p->flow.shape.channels));
    status = add_layer(p, spec, layer);
fail:
    return status;
}

static clae_status parse_upsample(parser *p, char **w, int n, clae_spec *spec)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    size_t f;
    if (n != 2 || !parse_size(w[1], &f) || f > 1024)
        SPEC_ERROR("spec line %d: expected 'upsample FACTOR'", p->lineno);
    if (!p->flow.image)
        SPEC_ERROR("spec line %d: 'upsample' takes an image: give the input as "
                   "'input HxWxC' or 'reshape HxWxC' before it", p->lineno);
    clae_shape in = p->flow.shape;
    clae_layer_spec layer = {
        .kind = CLAE_LAYER_UPSAMPLE,
        .window = {.kernel_h = f, .kernel_w = f, .stride = f},
        .out = {.shape = {in.height * f, in.width * f, in.channels},
                .image = 1, .spatial = 1}};
    if (too_large(&layer.out.shape))
        SPEC_ERROR("spec line %d: the layer's output is too large", p->lineno);
    status = add_layer(p, spec, layer);
fail:
    return status;
}

/* flatten: what flows becomes a plain width; reshape HxWxC: an image of
 * the same width. */
static clae_status parse_reshape(parser *p, char **w, int n)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    clae_spec shape = {0};
    if (!p->flow.shape.channels)
        SPEC_ERROR("spec line %d: no 'input' line before '%s'", p->lineno, w[0]);
    if (strcmp(w[0], "flatten") == 0) {
        if (n != 1) SPEC_ERROR("spec line %d: 'flatten' takes nothing", p->lineno);
        p->flow = flat(current_width(p));
    } else {
        if (n != 2 || !parse_shape(w[1], &shape))
            SPEC_ERROR("spec line %d: expected 'reshape HxWxC'", p->lineno);
        if (shape.input != current_width(p))
            SPEC_ERROR("spec line %d: reshape to %s (%zu values) but %zu flow "
                       "in", p->lineno, w[1], shape.input, current_width(p));
        p->flow = (clae_flow){.shape = {shape.height, shape.width, shape.channels},
                              .image = 1, .spatial = 1};
    }
    p->reshaped = 1;
fail:
    return status;
}

static clae_status parse_batchnorm(parser *p, char **w, int n, clae_spec *spec)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    clae_layer_spec layer = {.kind = CLAE_LAYER_BATCHNORM};
    if (n > 2) SPEC_ERROR("spec line %d: expected 'batchnorm [ACTIVATION]'", p->lineno);
    if (n == 2) CLAE_TRY(parse_activation(p, w[1], &layer.act));
    if (layer.act.kind == CLAE_ACT_SOFTMAX)
        SPEC_ERROR("spec line %d: batchnorm takes an element-wise activation",
                   p->lineno);
    status = add_layer(p, spec, layer);
fail:
    return status;
}

static clae_status parse_dropout(parser *p, char **w, int n, clae_spec *spec)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    clae_layer_spec layer = {.kind = CLAE_LAYER_DROPOUT};
    if (n != 2 || !clae__parse_float(w[1], 0.0f, 0.99f, &layer.rate))
        SPEC_ERROR("spec line %d: expected 'dropout RATE', RATE in [0, 0.99]",
                   p->lineno);
    status = add_layer(p, spec, layer);
fail:
    return status;
}

static clae_status parse_noise(parser *p, char **w, int n, clae_spec *spec)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    clae_layer_spec layer = {.kind = CLAE_LAYER_NOISE};
    if (spec->count)
        SPEC_ERROR("spec line %d: 'noise' corrupts the input: it goes first, "
                   "right after 'input'", p->lineno);
    if (n != 3 || clae__noise_parse(w[1], &layer.noise) != CLAE_SUCCESS ||
        !clae__parse_float(w[2], 0.0f,
                           layer.noise == CLAE_NOISE_KERNEL_GAUSSIAN ? 1e3f : 1.0f,
                           &layer.rate))
        SPEC_ERROR("spec line %d: expected 'noise gaussian STD', 'noise mask P' "
                   "or 'noise salt_pepper P' (P in [0, 1])", p->lineno);
    status = add_layer(p, spec, layer);
fail:
    return status;
}

/* latent K gaussian [beta=B] [init=I]: its input is projected to K means
 * and K log-variances (as Keras's VAE example does with two dense layers). */
static clae_status parse_latent(parser *p, char **w, int n, clae_spec *spec)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    clae_layer_spec layer = {.kind = CLAE_LAYER_LATENT, .beta = 1.0f};
    size_t units;
    if (n < 3 || !parse_size(w[1], &units) || strcmp(w[2], "gaussian") != 0)
        SPEC_ERROR("spec line %d: expected 'latent K gaussian [beta=B] "
                   "[init=I]'", p->lineno);
    if (spec->latent < spec->count)
        SPEC_ERROR("spec line %d: a second 'latent' layer", p->lineno);
    layer.out = flat(units);
    for (int i = 3; i < n; i++) {
        const char *v = option_value(w[i], "beta");
        if (v) {
            if (!clae__parse_float(v, 0.0f, 1e6f, &layer.beta))
                SPEC_ERROR("spec line %d: beta must be in [0, 1e6]", p->lineno);
        } else if (!parse_weighted_option(p, w[i], &layer, &status)) {
            SPEC_ERROR("spec line %d: unknown latent option '%s' (beta=, "
                       "init=)", p->lineno, w[i]);
        }
        CLAE_TRY(status);
    }
    spec->latent = spec->count;
    status = add_layer(p, spec, layer);
fail:
    return status;
}

static clae_status parse_code(parser *p, char **w, int n, clae_spec *spec)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    if (spec->count == 0 || p->code_marked)
        SPEC_ERROR("spec line %d: 'code' goes once, after a layer", p->lineno);
    spec->code_layer = spec->count - 1;
    p->code_marked = 1;
    for (int i = 1; i < n; i++) {
        const char *v;
        float *out = (v = option_value(w[i], "l1"))     ? &spec->code_l1
                     : (v = option_value(w[i], "rho"))  ? &spec->sparsity_rho
                     : (v = option_value(w[i], "beta")) ? &spec->sparsity_beta
                                                        : NULL;
        if (!out || !clae__parse_float(v, 0.0f, 1e6f, out))
            SPEC_ERROR("spec line %d: expected 'code [l1=L] [rho=R beta=B]' "
                       "with values >= 0", p->lineno);
    }
    if ((spec->sparsity_rho > 0.0f) != (spec->sparsity_beta > 0.0f) ||
        spec->sparsity_rho >= 1.0f)
        SPEC_ERROR("spec line %d: the sparsity penalty takes both rho (in (0, "
                   "1)) and beta", p->lineno);
fail:
    return status;
}

static clae_status parse_line(parser *p, char **w, int n, clae_spec *spec)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    if (strcmp(w[0], "input") == 0) {
        if (spec->count)
            SPEC_ERROR("spec line %d: 'input' must come before the layers", p->lineno);
        if (spec->input)
            SPEC_ERROR("spec line %d: a second 'input' line", p->lineno);
        if (n != 2 || (!parse_size(w[1], &spec->input) && !parse_shape(w[1], spec)))
            SPEC_ERROR("spec line %d: expected 'input N' or 'input HxWxC'", p->lineno);
        p->flow = spec->height ? (clae_flow){.shape = {spec->height, spec->width,
                                                       spec->channels},
                                             .image = 1}
                               : flat(spec->input);
    } else if (strcmp(w[0], "dense") == 0) {
        status = parse_dense(p, w, n, spec);
    } else if (strcmp(w[0], "conv") == 0) {
        status = parse_conv(p, w, n, spec, CLAE_LAYER_CONV);
    } else if (strcmp(w[0], "deconv") == 0) {
        status = parse_conv(p, w, n, spec, CLAE_LAYER_DECONV);
    } else if (strcmp(w[0], "maxpool") == 0) {
        status = parse_pool(p, w, n, spec, CLAE_LAYER_MAXPOOL);
    } else if (strcmp(w[0], "avgpool") == 0) {
        status = parse_pool(p, w, n, spec, CLAE_LAYER_AVGPOOL);
    } else if (strcmp(w[0], "upsample") == 0) {
        status = parse_upsample(p, w, n, spec);
    } else if (strcmp(w[0], "flatten") == 0 || strcmp(w[0], "reshape") == 0) {
        status = parse_reshape(p, w, n);
    } else if (strcmp(w[0], "batchnorm") == 0) {
        status = parse_batchnorm(p, w, n, spec);
    } else if (strcmp(w[0], "dropout") == 0) {
        status = parse_dropout(p, w, n, spec);
    } else if (strcmp(w[0], "noise") == 0) {
        status = parse_noise(p, w, n, spec);
    } else if (strcmp(w[0], "latent") == 0) {
        status = parse_latent(p, w, n, spec);
    } else if (strcmp(w[0], "code") == 0) {
        status = parse_code(p, w, n, spec);
    } else if (strcmp(w[0], "loss") == 0) {
        if (n != 2 || clae_loss_parse(w[1], &spec->loss) != CLAE_SUCCESS)
            SPEC_ERROR("spec line %d: expected 'loss bce|mse|mae|cce'", p->lineno);
    } else {
        SPEC_ERROR("spec line %d: unknown layer '%s' (input, dense, conv, "
                   "deconv, maxpool, avgpool, upsample, flatten, reshape, "
                   "batchnorm, dropout, noise, latent, code, loss)", p->lineno, w[0]);
    }
fail:
    return status;
}

/* Layers that make a new width: dense and the spatial ones. */
static int reshapes_width(clae_layer_kind kind)
{
    return kind == CLAE_LAYER_DENSE || kind == CLAE_LAYER_LATENT ||
           clae__layer_is_spatial(kind);
}

/* The narrowest hidden dense or spatial layer, the first of equals: the
 * default code (an overcomplete model's too; a conv model's pooled
 * image); the output layer only when there is no other. */
static size_t narrowest_layer(const clae_spec *spec)
{
    const size_t last = spec->count - 1;
    size_t best = last;
    for (size_t i = 0; i < last; i++)
        if (reshapes_width(spec->layers[i].kind) &&
            (best == last || spec->layers[i].units < spec->layers[best].units))
            best = i;
    return best;
}

size_t clae__spec_default_code(const clae_spec *spec)
{
    return clae__spec_is_variational(spec) ? spec->latent
                                           : narrowest_layer(spec);
}

int clae__spec_is_variational(const clae_spec *spec)
{
    return spec->latent < spec->count;
}

/* The index of the dense layer number j (from 0), or count. */
static size_t dense_layer(const clae_spec *spec, size_t j)
{
    for (size_t i = 0; i < spec->count; i++)
        if (spec->layers[i].kind == CLAE_LAYER_DENSE && j-- == 0) return i;
    return spec->count;
}

/* A tied layer's mirror: the dense layer as far from the first dense layer
 * as it is from the last. It must be untied, before it, and of the
 * transposed shape. */
static clae_status find_mirrors(clae_context *ctx, clae_spec *spec)
{
    clae_status status = CLAE_SUCCESS;
    size_t dense_count = 0;
    while (dense_layer(spec, dense_count) < spec->count) dense_count++;
    for (size_t j = 0; j < dense_count; j++) {
        size_t index = dense_layer(spec, j);
        clae_layer_spec *l = &spec->layers[index];
        if (!l->tied) continue;
        size_t mirror = dense_layer(spec, dense_count - 1 - j);
        const clae_layer_spec *m = &spec->layers[mirror];
        size_t in = clae__spec_layer_input(spec, index);
        if (mirror >= index || m->tied ||
            clae__spec_layer_input(spec, mirror) != l->units || m->units != in)
            SPEC_ERROR("spec: dense layer %zu (%zu -> %zu) is tied but has no "
                       "untied mirror layer of %zu -> %zu before it",
                       index + 1, in, l->units, l->units, in);
        l->mirror = mirror;
    }
fail:
    return status;
}

int clae__spec_has_activity_penalty(const clae_spec *spec)
{
    return spec->code_l1 > 0.0f || spec->sparsity_beta > 0.0f;
}

size_t clae__spec_layer_input(const clae_spec *spec, size_t index)
{
    return index ? spec->layers[index - 1].units : spec->input;
}

static clae_status check_spec(clae_context *ctx, clae_spec *spec,
                              const parser *p)
{
    clae_status status = CLAE_SUCCESS;
    const int code_marked = p->code_marked;
    if (!spec->input) SPEC_ERROR("spec: no 'input' line");
    if (!spec->count) SPEC_ERROR("spec: no layers");
    if (p->reshaped)
        SPEC_ERROR("spec: a flatten or reshape line after the last layer");
    const clae_layer_spec *last = &spec->layers[spec->count - 1];
    if (last->units != spec->input)
        SPEC_ERROR("spec: the last layer has %zu units but the input has %zu; "
                   "an autoencoder reconstructs its input",
                   last->units, spec->input);
    if (last->kind != CLAE_LAYER_DENSE && last->kind != CLAE_LAYER_CONV &&
        last->kind != CLAE_LAYER_DECONV)
        SPEC_ERROR("spec: the last layer must be dense, conv or deconv (the "
                   "loss kernel does its backward pass)");
    if (spec->loss == CLAE_LOSS_CCE && last->act.kind != CLAE_ACT_SOFTMAX)
        SPEC_ERROR("spec: loss cce needs a softmax output layer");
    if (clae__spec_is_variational(spec)) {
        if (code_marked && spec->code_layer != spec->latent)
            SPEC_ERROR("spec: a variational model's code is its latent layer");
        if (clae__spec_has_activity_penalty(spec))
            SPEC_ERROR("spec: a latent layer takes no activity penalties (its "
                       "KL term is one)");
        if (spec->loss != CLAE_LOSS_BCE && spec->loss != CLAE_LOSS_MSE)
            SPEC_ERROR("spec: a variational model's loss is bce or mse");
    }
    if (!code_marked) spec->code_layer = clae__spec_default_code(spec);
    if (clae__spec_has_activity_penalty(spec) &&
        spec->code_layer + 1 == spec->count)
        SPEC_ERROR("spec: activity penalties need a code layer below the output");
    status = find_mirrors(ctx, spec);
fail:
    return status;
}

clae_status clae__spec_parse(clae_context *ctx, const char *text,
                             clae_spec *spec)
{
    clae_status status = CLAE_SUCCESS;
    memset(spec, 0, sizeof *spec);
    spec->loss = CLAE_LOSS_BCE;
    spec->latent = SIZE_MAX; /* none */
    char *copy = strdup(text);
    if (!copy) return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    parser p = {.ctx = ctx};
    for (char *line = copy, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        p.lineno++;
        char *words[MAX_WORDS];
        int n = split_words(line, words);
        if (n > 0) CLAE_TRY(parse_line(&p, words, n, spec));
    }
    CLAE_TRY(check_spec(ctx, spec, &p));
    free(copy);
    return CLAE_SUCCESS;
fail:
    free(copy);
    clae__spec_free(spec);
    return status;
}

void clae__spec_free(clae_spec *spec)
{
    free(spec->layers);
    spec->layers = NULL;
    spec->count = 0;
}

clae_status clae_spec_load(clae_context *ctx, const char *path, char **out)
{
    size_t size;
    if (!(*out = clae__read_file(path, &size)))
        return CLAE_FAIL(ctx, CLAE_ERR_INPUT, "%s: %s", path, strerror(errno));
    if (strlen(*out) != size) {
        free(*out);
        *out = NULL;
        return CLAE_FAIL(ctx, CLAE_ERR_INPUT, "%s: not a text file", path);
    }
    /* Parsed here too, so that what is wrong with it names the file. */
    clae_spec spec;
    clae_status status = clae__spec_parse(ctx, *out, &spec);
    if (status == CLAE_SUCCESS && clae__spec_floats(&spec) > CLAE_MAX_MODEL_FLOATS)
        status = CLAE_FAIL(ctx, CLAE_ERR_SPEC, "the layers hold more than %zu "
                           "parameters", CLAE_MAX_MODEL_FLOATS);
    clae__spec_free(&spec);
    if (status == CLAE_SUCCESS) return CLAE_SUCCESS;
    free(*out);
    *out = NULL;
    return clae__fail_within(ctx, status, path);
}
