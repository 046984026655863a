/* Model files in the safetensors format: an 8-byte little-endian header
 * size, a JSON header (cJSON) naming each float32 tensor's shape and byte
 * range, then the data. Tensors are each layer's, named as torch.nn's:
 * layers.<i>.weight [O, I] and layers.<i>.bias [O] of a dense layer,
 * layers.<i>.weight [K, C, KH, KW] (Conv2d's; a deconv's [C, K, KH, KW],
 * ConvTranspose2d's) and .bias [K] of a convolution,
 * layers.<i>.weight, .bias, .running_mean, .running_var of a batchnorm;
 * a model trained on standardised data adds normalization.mean and
 * normalization.std [input features], and a checkpoint the optimizer's
 * moments, optimizer.moment1 and optimizer.moment2 [parameters], when
 * an epoch stopped part-way training.partial_sums, and under early
 * stopping training.best_weights (see clae_model).
 * __metadata__ holds the spec text and what src/model_meta.c writes. The
 * data section is the flat parameter buffer, the state buffer, then those
 * in that order, except that convolution weights (and their moments),
 * which the device holds channels last, are in PyTorch's order there. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "model.h"
#include "model_meta.h"

#define MAX_HEADER_BYTES (64u << 20)

/* A tensor as the file holds it: its name, shape and where its data
 * begins in the data section, in floats. */
typedef struct {
    char name[64];
    size_t shape[CLAE_MAX_TENSOR_DIMS];
    int dims;
    size_t begin;
    int channels_last; /* see clae_tensor */
} file_tensor;

static size_t count_of(const file_tensor *t)
{
    size_t count = 1;
    for (int i = 0; i < t->dims; i++) count *= t->shape[i];
    return count;
}

/* A stretch of the data section: a device buffer or a host array. */
typedef struct {
    const char *name; /* the tensor of the model's own (not a layer's) */
    cl_mem mem;
    float *host;
    size_t count; /* floats; 0 when the model has none */
} section;

enum { SECTIONS = 8, OWN_TENSORS_FROM = 2 };

/* The data section's stretches in order: parameters, state, the input
 * standardisation (host), and with the optimizer its moments, a part-way
 * epoch's sums and early stopping's best weights (host). Returns the
 * floats of them all. */
static size_t sections_of(const clae_model *m, int with_optimizer,
                          section s[SECTIONS])
{
    const size_t d = m->norm_mean ? m->spec.input : 0;
    cl_mem m1 = with_optimizer ? m->moment1 : NULL,
           m2 = with_optimizer ? m->moment2 : NULL;
    s[0] = (section){NULL, m->params, NULL, m->param_count};
    s[1] = (section){NULL, m->state, NULL, m->state ? m->state_count : 0};
    s[2] = (section){"normalization.mean", NULL, m->norm_mean, d};
    s[3] = (section){"normalization.std", NULL, m->norm_std, d};
    s[4] = (section){"optimizer.moment1", m1, NULL, m1 ? m->param_count : 0};
    s[5] = (section){"optimizer.moment2", m2, NULL, m2 ? m->param_count : 0};
    s[6] = (section){"training.partial_sums", NULL, m->partial_sums,
                     with_optimizer ? m->partial_count : 0};
    s[7] = (section){"training.best_weights", NULL, m->best_weights,
                     with_optimizer && m->best_weights ? clae__model_weights(m)
                                                       : 0};
    size_t total = 0;
    for (int k = 0; k < SECTIONS; k++) total += s[k].count;
    return total;
}

/* Every tensor of the file, malloc'ed: the layers', then the moments. */
static file_tensor *file_tensors(const clae_model *m, int with_optimizer,
                                 size_t *count)
{
    file_tensor *out = calloc(m->count * CLAE_MAX_LAYER_TENSORS +
                                  SECTIONS - OWN_TENSORS_FROM,
                              sizeof *out);
    size_t n = 0;
    if (!out) return NULL;
    for (size_t i = 0; i < m->count; i++) {
        clae_tensor t[CLAE_MAX_LAYER_TENSORS];
        size_t k = m->layers[i].ops->tensors(m, &m->layers[i], t);
        for (size_t j = 0; j < k; j++, n++) {
            snprintf(out[n].name, sizeof out[n].name, "layers.%zu.%s", i, t[j].name);
            memcpy(out[n].shape, t[j].shape, sizeof out[n].shape);
            out[n].dims = t[j].dims;
            out[n].channels_last = t[j].channels_last;
            out[n].begin = t[j].in_state ? m->param_count + t[j].off : t[j].off;
        }
    }
    section s[SECTIONS];
    sections_of(m, with_optimizer, s);
    size_t begin = s[0].count + s[1].count;
    for (int k = OWN_TENSORS_FROM; k < SECTIONS; begin += s[k++].count)
        if (s[k].count) {
            snprintf(out[n].name, sizeof out[n].name, "%s", s[k].name);
            out[n].shape[0] = s[k].count;
            out[n].dims = 1;
            out[n].begin = begin;
            n++;
        }
    *count = n;
    return out;
}

/* A channels-last tensor (a, h, w, b) at x into the file's order (a, b,
 * h, w), or back. */
static clae_status permute(clae_context *ctx, const file_tensor *t, float *x,
                           int to_file)
{
    const size_t a = t->shape[0], b = t->shape[1],
                 hw = t->shape[2] * t->shape[3], n = a * b * hw;
    float *copy = malloc(n * sizeof *copy);
    if (!copy) return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    memcpy(copy, x, n * sizeof *copy);
    for (size_t i = 0; i < a; i++)
        for (size_t j = 0; j < b; j++)
            for (size_t p = 0; p < hw; p++) {
                size_t file = (i * b + j) * hw + p, device = (i * hw + p) * b + j;
                x[to_file ? file : device] = copy[to_file ? device : file];
            }
    free(copy);
    return CLAE_SUCCESS;
}

/* The arena's channels-last tensors, and their optimizer moments, into
 * the file's order or back (the moments keep the parameters' layout). */
static clae_status relayout(const clae_model *m, const file_tensor *tensors,
                            size_t count, const section s[SECTIONS],
                            float *arena, int to_file)
{
    clae_status status = CLAE_SUCCESS;
    const size_t moments_at = s[0].count + s[1].count + s[2].count + s[3].count;
    for (size_t t = 0; t < count; t++) {
        if (!tensors[t].channels_last) continue;
        CLAE_TRY(permute(m->ctx, &tensors[t], arena + tensors[t].begin, to_file));
        for (size_t k = 4, at = moments_at; k < SECTIONS; at += s[k++].count)
            if (s[k].count)
                CLAE_TRY(permute(m->ctx, &tensors[t],
                                 arena + at + tensors[t].begin, to_file));
    }
fail:
    return status;
}

static int add_tensor(cJSON *root, const file_tensor *tensor)
{
    size_t begin = tensor->begin, count = count_of(tensor);
    cJSON *t = cJSON_AddObjectToObject(root, tensor->name);
    cJSON *s = t ? cJSON_AddArrayToObject(t, "shape") : NULL;
    cJSON *o = t ? cJSON_AddArrayToObject(t, "data_offsets") : NULL;
    if (!o || !cJSON_AddStringToObject(t, "dtype", "F32")) return 0;
    for (int i = 0; i < tensor->dims; i++)
        cJSON_AddItemToArray(s, cJSON_CreateNumber((double)tensor->shape[i]));
    cJSON_AddItemToArray(o, cJSON_CreateNumber((double)(begin * 4)));
    cJSON_AddItemToArray(o, cJSON_CreateNumber((double)((begin + count) * 4)));
    return cJSON_GetArraySize(s) == tensor->dims && cJSON_GetArraySize(o) == 2;
}

/* The JSON header of the file's count tensors, padded with spaces to a
 * multiple of 8 bytes. */
static char *make_header(const clae_model *m, int with_optimizer,
                         const file_tensor *tensors, size_t count,
                         size_t *size)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
    int ok = meta &&
             cJSON_AddStringToObject(meta, "format", "clae") &&
             cJSON_AddStringToObject(meta, "clae_version", clae_version()) &&
             cJSON_AddStringToObject(meta, "spec", m->spec_text) &&
             clae__meta_write(meta, m, with_optimizer);
    for (size_t t = 0; ok && t < count; t++) ok = add_tensor(root, &tensors[t]);
    char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!json) return NULL;
    size_t len = strlen(json), padded = (len + 7) / 8 * 8;
    char *header = realloc(json, padded + 1);
    if (!header) {
        free(json);
        return NULL;
    }
    memset(header + len, ' ', padded - len);
    header[padded] = '\0';
    *size = padded;
    return header;
}

static clae_status save(clae_model *m, const char *path, int with_optimizer)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    clae_atomic_file af = {0};
    section s[SECTIONS];
    size_t header_size = 0, count = 0;
    const size_t bytes = sections_of(m, with_optimizer, s) * sizeof(float);
    file_tensor *tensors = file_tensors(m, with_optimizer, &count);
    char *header = tensors ? make_header(m, with_optimizer, tensors, count,
                                         &header_size)
                           : NULL;
    float *data = malloc(bytes), *at = data;
    if (!header || !data) {
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    for (int k = 0; k < SECTIONS; at += s[k++].count) {
        if (s[k].host) memcpy(at, s[k].host, s[k].count * sizeof(float));
        else if (s[k].count)
            CL_CHECK(ctx, clEnqueueReadBuffer(ctx->queue, s[k].mem, CL_TRUE, 0,
                                              s[k].count * sizeof(float), at, 0,
                                              NULL, NULL));
    }
    CLAE_TRY(relayout(m, tensors, count, s, data, 1));
    unsigned char size_le[8];
    for (int i = 0; i < 8; i++)
        size_le[i] = (unsigned char)((uint64_t)header_size >> (8 * i));
    CLAE_TRY(clae__atomic_begin(ctx, path, &af));
    if (fwrite(size_le, 1, 8, af.f) != 8 ||
        fwrite(header, 1, header_size, af.f) != header_size ||
        fwrite(data, 1, bytes, af.f) != bytes) {
        status = CLAE_FAIL(ctx, CLAE_ERR_IO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    CLAE_TRY(clae__atomic_commit(ctx, &af));
fail:
    clae__atomic_abort(&af);
    free(header);
    free(data);
    free(tensors);
    return status;
}

clae_status clae_model_save(clae_model *m, const char *path)
{
    return save(m, path, 0);
}

clae_status clae_model_save_checkpoint(clae_model *m, const char *path)
{
    return save(m, path, 1);
}

#define BAD_MODEL(...)                                                       \
    do {                                                                     \
        status = CLAE_FAIL(ctx, CLAE_ERR_INPUT, __VA_ARGS__);                \
        goto fail;                                                           \
    } while (0)

#define OUT_OF_MEMORY()                                                      \
    do {                                                                     \
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory"); \
        goto fail;                                                           \
    } while (0)

/* Checks one tensor's entry and copies its data into dst. */
static clae_status read_tensor(clae_context *ctx, const char *path,
                               const cJSON *root, const file_tensor *tensor,
                               const unsigned char *data, size_t data_size,
                               float *dst)
{
    clae_status status = CLAE_SUCCESS;
    const char *name = tensor->name;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!cJSON_IsObject(t)) BAD_MODEL("%s: tensor %s is missing", path, name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(t, "dtype");
    if (!cJSON_IsString(dtype) || strcmp(dtype->valuestring, "F32") != 0)
        BAD_MODEL("%s: tensor %s is not F32", path, name);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(t, "shape");
    const size_t count = count_of(tensor);
    int ok = cJSON_IsArray(s) && cJSON_GetArraySize(s) == tensor->dims;
    for (int i = 0; ok && i < tensor->dims; i++) {
        const cJSON *v = cJSON_GetArrayItem(s, i);
        ok = cJSON_IsNumber(v) && v->valuedouble == (double)tensor->shape[i];
    }
    if (!ok)
        BAD_MODEL("%s: tensor %s does not have the shape the spec implies",
                  path, name);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
    const cJSON *b = cJSON_GetArrayItem(o, 0), *e = cJSON_GetArrayItem(o, 1);
    if (!cJSON_IsArray(o) || cJSON_GetArraySize(o) != 2 || !cJSON_IsNumber(b) ||
        !cJSON_IsNumber(e) || b->valuedouble < 0 ||
        e->valuedouble > (double)data_size ||
        e->valuedouble - b->valuedouble != (double)(count * sizeof(float)))
        BAD_MODEL("%s: tensor %s has bad data offsets", path, name);
    memcpy(dst, data + (size_t)b->valuedouble, count * sizeof(float));
fail:
    return status;
}

/* A layer's tensor, as read, must hold numbers: a NaN weight would only
 * show later as a loss of NaN, or not at all. */
static clae_status check_finite(clae_context *ctx, const char *path,
                                const file_tensor *tensor, const float *x)
{
    const size_t count = count_of(tensor);
    for (size_t i = 0; i < count; i++)
        if (!isfinite(x[i]))
            return CLAE_FAIL(ctx, CLAE_ERR_INPUT, "%s: tensor %s holds %s at "
                             "%zu", path, tensor->name,
                             isnan(x[i]) ? "NaN" : "an infinite value", i);
    return CLAE_SUCCESS;
}

/* Room for the model's own tensors the file holds: the standardisation,
 * and a checkpoint's moments of the optimizer its metadata names. */
static clae_status make_own_tensors(clae_context *ctx, const char *path,
                                    const cJSON *root, const cJSON *meta,
                                    clae_model *m)
{
    clae_status status = CLAE_SUCCESS;
    if (cJSON_GetObjectItemCaseSensitive(root, "normalization.mean") &&
        !(m->norm_mean = calloc(2 * m->spec.input, sizeof(float))))
        OUT_OF_MEMORY();
    if (m->norm_mean) m->norm_std = m->norm_mean + m->spec.input;
    const char *name = clae__meta_string(meta, "optimizer");
    if (!name) return CLAE_SUCCESS; /* a model file, not a checkpoint */
    if (clae_optimizer_parse(name, &m->moments_of))
        BAD_MODEL("%s: unknown optimizer '%s' in __metadata__", path, name);
    m->optimizer_known = 1;
    const cJSON *partial = cJSON_GetObjectItemCaseSensitive(root, "training.partial_sums");
    if (partial) {
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(partial, "shape");
        const cJSON *count = cJSON_GetArrayItem(shape, 0);
        if (cJSON_GetArraySize(shape) != 1 || !cJSON_IsNumber(count) ||
            !(count->valuedouble >= 1.0 && count->valuedouble <= 1e9))
            BAD_MODEL("%s: tensor training.partial_sums has a bad shape", path);
        m->partial_count = (size_t)count->valuedouble;
        if (!(m->partial_sums = malloc(m->partial_count * sizeof(float))))
            OUT_OF_MEMORY();
    }
    /* Its presence must agree with best_epoch's (clae__meta_read). */
    if (cJSON_GetObjectItemCaseSensitive(root, "training.best_weights") &&
        !(m->best_weights = malloc(clae__model_weights(m) * sizeof(float))))
        OUT_OF_MEMORY();
    cl_mem *moments[2] = {&m->moment1, &m->moment2};
    for (int k = 0; k < 2; k++) {
        char tensor[32];
        snprintf(tensor, sizeof tensor, "optimizer.moment%d", k + 1);
        if (cJSON_GetObjectItemCaseSensitive(root, tensor))
            CLAE_TRY(clae__buffer(ctx, m->param_count * sizeof(float),
                                  "optimizer moments", moments[k]));
    }
fail:
    return status;
}

clae_status clae_model_load(clae_context *ctx, const char *path,
                            clae_model **out)
{
    clae_status status = CLAE_SUCCESS;
    cJSON *root = NULL;
    float *values = NULL;
    file_tensor *tensors = NULL;
    clae_spec spec = {0};
    clae_model *m = NULL;
    size_t size = 0;
    *out = NULL;
    errno = 0;
    unsigned char *file = (unsigned char *)clae__read_file(path, &size);
    if (!file)
        return CLAE_FAIL(ctx, CLAE_ERR_INPUT, "%s: %s", path, strerror(errno));
    if (size < 8) BAD_MODEL("%s: too short for a safetensors file", path);
    uint64_t header_size = 0;
    for (int i = 0; i < 8; i++) header_size |= (uint64_t)file[i] << (8 * i);
    if (header_size > size - 8 || header_size > MAX_HEADER_BYTES)
        BAD_MODEL("%s: header size %" PRIu64 " exceeds the file", path,
                  header_size);
    root = cJSON_ParseWithLength((const char *)file + 8, (size_t)header_size);
    if (!cJSON_IsObject(root))
        BAD_MODEL("%s: the header is not valid JSON", path);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    const char *spec_text = clae__meta_string(meta, "spec");
    if (!spec_text) BAD_MODEL("%s: no model spec in __metadata__", path);
    if (clae__spec_parse(ctx, spec_text, &spec) != CLAE_SUCCESS) {
        char what[4200];
        snprintf(what, sizeof what, "%s: the spec in __metadata__ is invalid",
                 path);
        status = clae__fail_within(ctx, CLAE_ERR_INPUT, what);
        goto fail;
    }
    const unsigned char *data = file + 8 + header_size;
    const size_t data_size = size - 8 - (size_t)header_size;
    /* Checked before building, which allocates what the spec asks for. */
    if (clae__spec_floats(&spec) > data_size / sizeof(float))
        BAD_MODEL("%s: the spec in __metadata__ has more parameters than the "
                  "file's %zu bytes of data hold", path, data_size);
    /* The spec gives the layout; the tensors then overwrite the arena. */
    CLAE_TRY(clae__model_build(ctx, &spec, 0, &m));
    CLAE_TRY(make_own_tensors(ctx, path, root, meta, m));
    section s[SECTIONS];
    size_t count = 0;
    const size_t floats = sections_of(m, 1, s);
    if (!(values = malloc(floats * sizeof *values)) ||
        !(tensors = file_tensors(m, 1, &count)))
        OUT_OF_MEMORY();
    for (size_t t = 0; t < count; t++) {
        CLAE_TRY(read_tensor(ctx, path, root, &tensors[t], data, data_size,
                             values + tensors[t].begin));
        if (tensors[t].begin < m->param_count + m->state_count)
            CLAE_TRY(check_finite(ctx, path, &tensors[t],
                                  values + tensors[t].begin));
    }
    CLAE_TRY(relayout(m, tensors, count, s, values, 0));
    float *at = values;
    for (int k = 0; k < SECTIONS; at += s[k++].count) {
        if (s[k].host) memcpy(s[k].host, at, s[k].count * sizeof(float));
        else if (s[k].count)
            CL_CHECK(ctx, clEnqueueWriteBuffer(ctx->queue, s[k].mem, CL_TRUE,
                                               0, s[k].count * sizeof(float), at,
                                               0, NULL, NULL));
    }
    for (size_t j = 0; m->norm_mean && j < m->spec.input; j++)
        if (!isfinite(m->norm_mean[j]) || !(m->norm_std[j] > 0.0f) ||
            !isfinite(m->norm_std[j]))
            BAD_MODEL("%s: normalization of feature %zu is mean %g, std %g",
                      path, j, (double)m->norm_mean[j], (double)m->norm_std[j]);
    CLAE_TRY(clae__meta_read(ctx, path, meta, m));
    *out = m;
    m = NULL;
fail:
    clae_model_destroy(m);
    clae__spec_free(&spec);
    cJSON_Delete(root);
    free(values);
    free(tensors);
    free(file);
    return status;
}
