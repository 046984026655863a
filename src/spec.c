/* Spec text <-> clae_spec. One layer a line, '#' starts a comment:
 *   input 784 | input 28x28x1
 *   dense UNITS ACTIVATION
 *   code                      (marks the layer above as the code)
 *   loss bce|mse
 * The last layer must reconstruct the input (same width). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "spec.h"

static const char *const activation_names[] = {"linear", "relu", "sigmoid",
                                               "tanh"};
static const char *const loss_names[] = {"bce", "mse"};

static int find_name(const char *const *names, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0) return (int)i;
    return -1;
}

#define COUNT(a) (sizeof(a) / sizeof *(a))

/* Sets *out to the index of name in names (an enum's order), or fails. */
#define PARSE_NAME(names, name, out, type)                                   \
    do {                                                                     \
        int i_ = find_name((names), COUNT(names), (name));                   \
        if (i_ < 0) return CLAE_ERR_USAGE;                                   \
        *(out) = (type)i_;                                                   \
        return CLAE_SUCCESS;                                                 \
    } while (0)

static const char *const optimizer_names[] = {"adam", "sgd", "adamw",
                                              "rmsprop"};
static const char *const lr_schedule_names[] = {"constant", "step", "cosine"};
static const char *const device_type_names[] = {"default", "gpu", "cpu", "any"};

const char *clae_activation_name(clae_activation act)
{
    return (size_t)act < COUNT(activation_names) ? activation_names[act] : "?";
}

const char *clae_loss_name(clae_loss loss)
{
    return (size_t)loss < COUNT(loss_names) ? loss_names[loss] : "?";
}

clae_status clae_activation_parse(const char *name, clae_activation *out)
{
    PARSE_NAME(activation_names, name, out, clae_activation);
}

clae_status clae_loss_parse(const char *name, clae_loss *out)
{
    PARSE_NAME(loss_names, name, out, clae_loss);
}

clae_status clae_optimizer_parse(const char *name, clae_optimizer *out)
{
    PARSE_NAME(optimizer_names, name, out, clae_optimizer);
}

clae_status clae_lr_schedule_parse(const char *name, clae_lr_schedule *out)
{
    PARSE_NAME(lr_schedule_names, name, out, clae_lr_schedule);
}

clae_status clae_device_type_parse(const char *name, clae_device_type *out)
{
    PARSE_NAME(device_type_names, name, out, clae_device_type);
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

#define SPEC_ERROR(...)                                                      \
    do {                                                                     \
        status = CLAE_FAIL(ctx, CLAE_ERR_SPEC, __VA_ARGS__);                 \
        goto fail;                                                           \
    } while (0)

static clae_status parse_line(clae_context *ctx, int lineno, char **w, int n,
                              clae_spec *spec, int *code_marked)
{
    clae_status status = CLAE_SUCCESS;
    if (strcmp(w[0], "input") == 0) {
        if (spec->count)
            SPEC_ERROR("spec line %d: 'input' must come before the layers", lineno);
        if (spec->input)
            SPEC_ERROR("spec line %d: a second 'input' line", lineno);
        if (n != 2 || (!parse_size(w[1], &spec->input) && !parse_shape(w[1], spec)))
            SPEC_ERROR("spec line %d: expected 'input N' or 'input HxWxC'", lineno);
    } else if (strcmp(w[0], "dense") == 0) {
        clae_layer_spec layer = {CLAE_LAYER_DENSE, 0, CLAE_ACT_LINEAR};
        if (n < 2 || n > 3 || !parse_size(w[1], &layer.units))
            SPEC_ERROR("spec line %d: expected 'dense UNITS [ACTIVATION]'", lineno);
        if (n == 3 && clae_activation_parse(w[2], &layer.activation) != CLAE_SUCCESS)
            SPEC_ERROR("spec line %d: unknown activation '%s' (linear, relu, "
                       "sigmoid, tanh)", lineno, w[2]);
        clae_layer_spec *grown =
            realloc(spec->layers, (spec->count + 1) * sizeof *grown);
        if (!grown) SPEC_ERROR("out of host memory");
        spec->layers = grown;
        spec->layers[spec->count++] = layer;
    } else if (strcmp(w[0], "code") == 0) {
        if (n != 1 || spec->count == 0 || *code_marked)
            SPEC_ERROR("spec line %d: 'code' goes once, after a layer", lineno);
        spec->code_layer = spec->count - 1;
        *code_marked = 1;
    } else if (strcmp(w[0], "loss") == 0) {
        if (n != 2 || clae_loss_parse(w[1], &spec->loss) != CLAE_SUCCESS)
            SPEC_ERROR("spec line %d: expected 'loss bce' or 'loss mse'", lineno);
    } else {
        SPEC_ERROR("spec line %d: unknown layer '%s' (input, dense, code, loss)",
                   lineno, w[0]);
    }
fail:
    return status;
}

/* The narrowest layer, the first of equals: the default code. */
static size_t narrowest_layer(const clae_spec *spec)
{
    size_t best = 0;
    for (size_t i = 1; i < spec->count; i++)
        if (spec->layers[i].units < spec->layers[best].units) best = i;
    return best;
}

clae_status clae__spec_parse(clae_context *ctx, const char *text,
                             clae_spec *spec)
{
    clae_status status = CLAE_SUCCESS;
    memset(spec, 0, sizeof *spec);
    spec->loss = CLAE_LOSS_BCE;
    char *copy = strdup(text);
    if (!copy) return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    int code_marked = 0, lineno = 0;
    for (char *line = copy, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        lineno++;
        char *words[MAX_WORDS];
        int n = split_words(line, words);
        if (n > 0) CLAE_TRY(parse_line(ctx, lineno, words, n, spec, &code_marked));
    }
    if (!spec->input) SPEC_ERROR("spec: no 'input' line");
    if (!spec->count) SPEC_ERROR("spec: no layers");
    if (spec->layers[spec->count - 1].units != spec->input)
        SPEC_ERROR("spec: the last layer has %zu units but the input has %zu; "
                   "an autoencoder reconstructs its input",
                   spec->layers[spec->count - 1].units, spec->input);
    if (!code_marked) spec->code_layer = narrowest_layer(spec);
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

char *clae__spec_format(const clae_spec *spec)
{
    size_t cap = 64 + 48 * (spec->count + 1), len = 0;
    char *text = malloc(cap);
    if (!text) return NULL;
    if (spec->height)
        len += snprintf(text + len, cap - len, "input %ux%ux%u\n", spec->height,
                        spec->width, spec->channels);
    else
        len += snprintf(text + len, cap - len, "input %zu\n", spec->input);
    for (size_t i = 0; i < spec->count; i++) {
        len += snprintf(text + len, cap - len, "dense %zu %s\n",
                        spec->layers[i].units,
                        clae_activation_name(spec->layers[i].activation));
        if (i == spec->code_layer &&
            (i + 1 < spec->count || narrowest_layer(spec) != i))
            len += snprintf(text + len, cap - len, "code\n");
    }
    snprintf(text + len, cap - len, "loss %s\n", clae_loss_name(spec->loss));
    return text;
}

clae_status clae_spec_dense(clae_context *ctx, const clae_dense_spec *d,
                            char **out)
{
    clae_spec spec = {0};
    spec.input = d->input;
    spec.loss = d->loss;
    spec.count = d->hidden_count + 1;
    spec.layers = calloc(spec.count, sizeof *spec.layers);
    if (!spec.layers)
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    for (size_t i = 0; i < d->hidden_count; i++)
        spec.layers[i] = (clae_layer_spec){CLAE_LAYER_DENSE, d->hidden[i],
                                           d->activation};
    spec.layers[d->hidden_count] = (clae_layer_spec){
        CLAE_LAYER_DENSE, d->input, d->output_activation};
    spec.code_layer = narrowest_layer(&spec);
    *out = clae__spec_format(&spec);
    clae__spec_free(&spec);
    if (!*out) return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    return CLAE_SUCCESS;
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
