/* Spec text -> clae_spec. One layer a line, '#' starts a comment:
 *   input 784 | input 28x28x1
 *   dense UNITS [ACTIVATION] [slope=S | alpha=A] [init=INIT] [tied]
 *   batchnorm [ACTIVATION]
 *   dropout RATE
 *   noise gaussian STD | noise mask P | noise salt_pepper P
 *   code [l1=L] [rho=R beta=B]  (marks the layer above as the code)
 *   loss bce|mse|mae|cce
 * INIT is glorot_uniform (the default), glorot_normal, he_uniform,
 * he_normal, normal(STD) or uniform(LIMIT). The last layer must reconstruct
 * the input (same width). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "spec.h"

float clae__act_default_param(clae_activation act)
{
    return act == CLAE_ACT_LEAKY_RELU ? 0.01f : act == CLAE_ACT_ELU ? 1.0f : 0.0f;
}

/* A positive size below 2^31 (layers and inputs are far smaller). */
static int parse_size(const char *word, size_t *out)
{
    char *end;
    if (!word || !isdigit((unsigned char)*word)) return 0;
    unsigned long long v = strtoull(word, &end, 10);
    if (*end || v == 0 || v > 0x7fffffffULL) return 0;
    *out = (size_t)v;
    return 1;
}

/* A finite number in [lo, hi]. */
static int parse_number(const char *word, float lo, float hi, float *out)
{
    char *end;
    errno = 0;
    float v = strtof(word, &end);
    if (end == word || *end || errno || !isfinite(v) || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static int parse_shape(const char *word, clae_spec *spec)
{
    unsigned h, w, c;
    char tail;
    if (sscanf(word, "%ux%ux%u%c", &h, &w, &c, &tail) != 3 || !h || !w || !c ||
        (unsigned long long)h * w * c > 0x7fffffffULL)
        return 0;
    spec->height = h;
    spec->width = w;
    spec->channels = c;
    spec->input = (size_t)h * w * c;
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
        return parse_number(number, 1e-30f, 1e3f, &layer->init_scale);
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
} parser;

static size_t current_width(const clae_spec *spec)
{
    return spec->count ? spec->layers[spec->count - 1].units : spec->input;
}

static clae_status add_layer(parser *p, clae_spec *spec, clae_layer_spec layer)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    if (!spec->input)
        SPEC_ERROR("spec line %d: no 'input' line before the layers", p->lineno);
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

static clae_status parse_dense(parser *p, char **w, int n, clae_spec *spec)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    clae_layer_spec layer = {.kind = CLAE_LAYER_DENSE};
    if (n < 2 || !parse_size(w[1], &layer.units))
        SPEC_ERROR("spec line %d: expected 'dense UNITS [ACTIVATION] "
                   "[options]'", p->lineno);
    int i = 2;
    if (n > 2 && !strchr(w[2], '=') && strcmp(w[2], "tied") != 0)
        CLAE_TRY(parse_activation(p, w[i++], &layer.act));
    for (; i < n; i++) {
        const char *v;
        if (strcmp(w[i], "tied") == 0) {
            layer.tied = 1;
        } else if ((v = option_value(w[i], "init"))) {
            if (!clae__spec_parse_init(v, &layer))
                SPEC_ERROR("spec line %d: unknown initialiser '%s' ("
                           CLAE_INIT_NAMES ")", p->lineno, v);
        } else if ((v = option_value(w[i], "slope")) &&
                   layer.act.kind == CLAE_ACT_LEAKY_RELU) {
            if (!parse_number(v, 0.0f, 1.0f, &layer.act.param))
                SPEC_ERROR("spec line %d: slope must be in [0, 1]", p->lineno);
        } else if ((v = option_value(w[i], "alpha")) &&
                   layer.act.kind == CLAE_ACT_ELU) {
            if (!parse_number(v, 1e-6f, 1e3f, &layer.act.param))
                SPEC_ERROR("spec line %d: alpha must be positive", p->lineno);
        } else {
            SPEC_ERROR("spec line %d: unknown dense option '%s' (init=, tied, "
                       "slope= for leaky_relu, alpha= for elu)", p->lineno, w[i]);
        }
    }
    status = add_layer(p, spec, layer);
fail:
    return status;
}

static clae_status parse_batchnorm(parser *p, char **w, int n, clae_spec *spec)
{
    clae_context *ctx = p->ctx;
    clae_status status = CLAE_SUCCESS;
    clae_layer_spec layer = {.kind = CLAE_LAYER_BATCHNORM,
                             .units = current_width(spec)};
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
    clae_layer_spec layer = {.kind = CLAE_LAYER_DROPOUT,
                             .units = current_width(spec)};
    if (n != 2 || !parse_number(w[1], 0.0f, 0.99f, &layer.rate))
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
    clae_layer_spec layer = {.kind = CLAE_LAYER_NOISE,
                             .units = current_width(spec)};
    if (spec->count)
        SPEC_ERROR("spec line %d: 'noise' corrupts the input: it goes first, "
                   "right after 'input'", p->lineno);
    if (n != 3 || clae__noise_parse(w[1], &layer.noise) != CLAE_SUCCESS ||
        !parse_number(w[2], 0.0f, layer.noise == CLAE_NOISE_KERNEL_GAUSSIAN ? 1e3f : 1.0f,
                      &layer.rate))
        SPEC_ERROR("spec line %d: expected 'noise gaussian STD', 'noise mask P' "
                   "or 'noise salt_pepper P' (P in [0, 1])", p->lineno);
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
        if (!out || !parse_number(v, 0.0f, 1e6f, out))
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
    } else if (strcmp(w[0], "dense") == 0) {
        status = parse_dense(p, w, n, spec);
    } else if (strcmp(w[0], "batchnorm") == 0) {
        status = parse_batchnorm(p, w, n, spec);
    } else if (strcmp(w[0], "dropout") == 0) {
        status = parse_dropout(p, w, n, spec);
    } else if (strcmp(w[0], "noise") == 0) {
        status = parse_noise(p, w, n, spec);
    } else if (strcmp(w[0], "code") == 0) {
        status = parse_code(p, w, n, spec);
    } else if (strcmp(w[0], "loss") == 0) {
        if (n != 2 || clae_loss_parse(w[1], &spec->loss) != CLAE_SUCCESS)
            SPEC_ERROR("spec line %d: expected 'loss bce|mse|mae|cce'", p->lineno);
    } else {
        SPEC_ERROR("spec line %d: unknown layer '%s' (input, dense, batchnorm, "
                   "dropout, noise, code, loss)", p->lineno, w[0]);
    }
fail:
    return status;
}

/* The narrowest hidden dense layer, the first of equals: the default code
 * (an overcomplete model's too); the output layer only when it is the
 * only dense layer (there is one: the last layer is dense). */
static size_t narrowest_layer(const clae_spec *spec)
{
    const size_t last = spec->count - 1;
    size_t best = last;
    for (size_t i = 0; i < last; i++)
        if (spec->layers[i].kind == CLAE_LAYER_DENSE &&
            (best == last || spec->layers[i].units < spec->layers[best].units))
            best = i;
    return best;
}

size_t clae__spec_default_code(const clae_spec *spec)
{
    return narrowest_layer(spec);
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

static clae_status check_spec(clae_context *ctx, clae_spec *spec, int code_marked)
{
    clae_status status = CLAE_SUCCESS;
    if (!spec->input) SPEC_ERROR("spec: no 'input' line");
    if (!spec->count) SPEC_ERROR("spec: no layers");
    const clae_layer_spec *last = &spec->layers[spec->count - 1];
    if (last->units != spec->input)
        SPEC_ERROR("spec: the last layer has %zu units but the input has %zu; "
                   "an autoencoder reconstructs its input",
                   last->units, spec->input);
    if (last->kind != CLAE_LAYER_DENSE)
        SPEC_ERROR("spec: the last layer must be dense (the loss kernel does "
                   "its backward pass)");
    if (spec->loss == CLAE_LOSS_CCE && last->act.kind != CLAE_ACT_SOFTMAX)
        SPEC_ERROR("spec: loss cce needs a softmax output layer");
    if (!code_marked) spec->code_layer = narrowest_layer(spec);
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
    CLAE_TRY(check_spec(ctx, spec, p.code_marked));
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
    return CLAE_SUCCESS;
}
