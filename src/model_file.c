/* Model files in the safetensors format: an 8-byte little-endian header
 * size, a JSON header (cJSON) naming each float32 tensor's shape and byte
 * range, then the data. Tensors are each layer's, named as torch.nn's:
 * layers.<i>.weight [O, I] and layers.<i>.bias [O] of a dense layer,
 * layers.<i>.weight, .bias, .running_mean, .running_var of a batchnorm;
 * __metadata__ holds the spec text and the training counters. The data
 * section is the flat parameter buffer followed by the state buffer. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "model.h"

#define MAX_HEADER_BYTES (64u << 20)

static size_t tensor_count(const clae_tensor *t)
{
    return t->dims == 2 ? t->shape[0] * t->shape[1] : t->shape[0];
}

/* Where a tensor starts in the data section, in floats. */
static size_t tensor_begin(const clae_model *m, const clae_tensor *t)
{
    return t->in_state ? m->param_count + t->off : t->off;
}

static int add_tensor(cJSON *root, const clae_model *m, size_t layer,
                      const clae_tensor *tensor)
{
    char name[64];
    size_t begin = tensor_begin(m, tensor), count = tensor_count(tensor);
    snprintf(name, sizeof name, "layers.%zu.%s", layer, tensor->name);
    cJSON *t = cJSON_AddObjectToObject(root, name);
    cJSON *s = t ? cJSON_AddArrayToObject(t, "shape") : NULL;
    cJSON *o = t ? cJSON_AddArrayToObject(t, "data_offsets") : NULL;
    if (!o || !cJSON_AddStringToObject(t, "dtype", "F32")) return 0;
    for (int i = 0; i < tensor->dims; i++)
        cJSON_AddItemToArray(s, cJSON_CreateNumber((double)tensor->shape[i]));
    cJSON_AddItemToArray(o, cJSON_CreateNumber((double)(begin * 4)));
    cJSON_AddItemToArray(o, cJSON_CreateNumber((double)((begin + count) * 4)));
    return cJSON_GetArraySize(s) == tensor->dims && cJSON_GetArraySize(o) == 2;
}

/* The JSON header, padded with spaces to a multiple of 8 bytes. */
static char *make_header(const clae_model *m, size_t *size)
{
    char number[32];
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
    int ok = meta && cJSON_AddStringToObject(meta, "format", "clae") &&
             cJSON_AddStringToObject(meta, "clae_version", clae_version()) &&
             cJSON_AddStringToObject(meta, "spec", m->spec_text);
    snprintf(number, sizeof number, "%u", m->epoch);
    ok = ok && cJSON_AddStringToObject(meta, "epoch", number);
    snprintf(number, sizeof number, "%" PRIu64, m->step);
    ok = ok && cJSON_AddStringToObject(meta, "step", number);
    snprintf(number, sizeof number, "%" PRIu64, m->init_seed);
    ok = ok && cJSON_AddStringToObject(meta, "init_seed", number);
    if (m->device) {
        snprintf(number, sizeof number, "%" PRIu64, m->train_seed);
        ok = ok && cJSON_AddStringToObject(meta, "train_seed", number) &&
             cJSON_AddStringToObject(meta, "device", m->device);
    }
    if (!isnan(m->train_loss)) {
        snprintf(number, sizeof number, "%.9g", m->train_loss);
        ok = ok && cJSON_AddStringToObject(meta, "train_loss", number);
    }
    if (!isnan(m->val_loss)) {
        snprintf(number, sizeof number, "%.9g", m->val_loss);
        ok = ok && cJSON_AddStringToObject(meta, "val_loss", number);
    }
    if (m->train_data)
        ok = ok && cJSON_AddStringToObject(meta, "train_data", m->train_data);
    if (m->train_scale > 0.0f) {
        snprintf(number, sizeof number, "%.9g", (double)m->train_scale);
        ok = ok && cJSON_AddStringToObject(meta, "scale", number);
    }
    if (m->train_labels) {
        snprintf(number, sizeof number, "%d", m->train_class);
        ok = ok &&
             cJSON_AddStringToObject(meta, "train_labels", m->train_labels) &&
             cJSON_AddStringToObject(meta, "train_class", number);
    }
    for (size_t i = 0; ok && i < m->count; i++) {
        clae_tensor tensors[CLAE_MAX_LAYER_TENSORS];
        size_t count = m->layers[i].ops->tensors(m, &m->layers[i], tensors);
        for (size_t t = 0; ok && t < count; t++)
            ok = add_tensor(root, m, i, &tensors[t]);
    }
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

clae_status clae_model_save(clae_model *m, const char *path)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    clae_atomic_file af = {0};
    size_t header_size = 0, param_bytes = m->param_count * sizeof(float),
           bytes = param_bytes + m->state_count * sizeof(float);
    char *header = make_header(m, &header_size);
    float *params = malloc(bytes);
    if (!header || !params) {
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    CL_CHECK(ctx, clEnqueueReadBuffer(ctx->queue, m->params, CL_TRUE, 0,
                                      param_bytes, params, 0, NULL, NULL));
    if (m->state)
        CL_CHECK(ctx, clEnqueueReadBuffer(ctx->queue, m->state, CL_TRUE, 0,
                                          bytes - param_bytes,
                                          params + m->param_count, 0, NULL,
                                          NULL));
    unsigned char size_le[8];
    for (int i = 0; i < 8; i++)
        size_le[i] = (unsigned char)((uint64_t)header_size >> (8 * i));
    CLAE_TRY(clae__atomic_begin(ctx, path, &af));
    if (fwrite(size_le, 1, 8, af.f) != 8 ||
        fwrite(header, 1, header_size, af.f) != header_size ||
        fwrite(params, 1, bytes, af.f) != bytes) {
        status = CLAE_FAIL(ctx, CLAE_ERR_IO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    CLAE_TRY(clae__atomic_commit(ctx, &af));
fail:
    clae__atomic_abort(&af);
    free(header);
    free(params);
    return status;
}

#define BAD_MODEL(...)                                                       \
    do {                                                                     \
        status = CLAE_FAIL(ctx, CLAE_ERR_INPUT, __VA_ARGS__);                \
        goto fail;                                                           \
    } while (0)

/* Checks one tensor's entry and copies its data into dst. */
static clae_status read_tensor(clae_context *ctx, const char *path,
                               const cJSON *root, size_t layer,
                               const clae_tensor *tensor,
                               const unsigned char *data, size_t data_size,
                               float *dst)
{
    clae_status status = CLAE_SUCCESS;
    char name[64];
    const size_t *shape = tensor->shape;
    const int dims = tensor->dims;
    snprintf(name, sizeof name, "layers.%zu.%s", layer, tensor->name);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!cJSON_IsObject(t)) BAD_MODEL("%s: tensor %s is missing", path, name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(t, "dtype");
    if (!cJSON_IsString(dtype) || strcmp(dtype->valuestring, "F32") != 0)
        BAD_MODEL("%s: tensor %s is not F32", path, name);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(t, "shape");
    size_t count = 1;
    int ok = cJSON_IsArray(s) && cJSON_GetArraySize(s) == dims;
    for (int i = 0; ok && i < dims; i++) {
        const cJSON *v = cJSON_GetArrayItem(s, i);
        ok = cJSON_IsNumber(v) && v->valuedouble == (double)shape[i];
        count *= shape[i];
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

static const char *meta_string(const cJSON *meta, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

clae_status clae_model_load(clae_context *ctx, const char *path,
                            clae_model **out)
{
    clae_status status = CLAE_SUCCESS;
    cJSON *root = NULL;
    float *params = NULL;
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
    const char *spec_text = meta_string(meta, "spec");
    if (!spec_text) BAD_MODEL("%s: no model spec in __metadata__", path);
    if (clae__spec_parse(ctx, spec_text, &spec) != CLAE_SUCCESS) {
        char why[sizeof ctx->last_error]; /* not an argument aliasing it */
        snprintf(why, sizeof why, "%s", clae_last_error(ctx));
        BAD_MODEL("%s: the spec in __metadata__ is invalid: %s", path, why);
    }
    /* The spec gives the layout; the tensors then overwrite the arena. */
    CLAE_TRY(clae__model_build(ctx, &spec, 0, &m));
    const unsigned char *data = file + 8 + header_size;
    size_t data_size = size - 8 - (size_t)header_size;
    if (!(params = malloc((m->param_count + m->state_count) * sizeof *params)))
        BAD_MODEL("out of host memory");
    for (size_t i = 0; i < m->count; i++) {
        clae_tensor tensors[CLAE_MAX_LAYER_TENSORS];
        size_t count = m->layers[i].ops->tensors(m, &m->layers[i], tensors);
        for (size_t t = 0; t < count; t++)
            CLAE_TRY(read_tensor(ctx, path, root, i, &tensors[t], data,
                                 data_size, params + tensor_begin(m, &tensors[t])));
    }
    CL_CHECK(ctx, clEnqueueWriteBuffer(ctx->queue, m->params, CL_TRUE, 0,
                                       m->param_count * sizeof *params, params,
                                       0, NULL, NULL));
    if (m->state)
        CL_CHECK(ctx, clEnqueueWriteBuffer(ctx->queue, m->state, CL_TRUE, 0,
                                           m->state_count * sizeof *params,
                                           params + m->param_count, 0, NULL,
                                           NULL));
    const char *epoch = meta_string(meta, "epoch"), *step = meta_string(meta, "step");
    if (epoch) m->epoch = (unsigned)strtoul(epoch, NULL, 10);
    if (step) m->step = strtoull(step, NULL, 10);
    const char *init_seed = meta_string(meta, "init_seed"),
               *train_seed = meta_string(meta, "train_seed"),
               *device = meta_string(meta, "device"),
               *train_loss = meta_string(meta, "train_loss"),
               *val_loss = meta_string(meta, "val_loss");
    if (init_seed) m->init_seed = strtoull(init_seed, NULL, 10);
    if (train_seed) m->train_seed = strtoull(train_seed, NULL, 10);
    if (train_loss) m->train_loss = strtod(train_loss, NULL);
    if (val_loss) m->val_loss = strtod(val_loss, NULL);
    if (device && !(m->device = strdup(device)))
        BAD_MODEL("%s: out of host memory", path);
    const char *class_k = meta_string(meta, "train_class"),
               *scale = meta_string(meta, "scale");
    clae_train_source source = {meta_string(meta, "train_data"),
                                meta_string(meta, "train_labels"),
                                class_k ? atoi(class_k) : -1,
                                scale ? strtof(scale, NULL) : 0.0f};
    if (!(source.scale >= 0.0f) || !isfinite(source.scale))
        BAD_MODEL("%s: scale '%s' in __metadata__ is not a number", path, scale);
    CLAE_TRY(clae_model_set_train_source(m, &source));
    *out = m;
    m = NULL;
fail:
    clae_model_destroy(m);
    clae__spec_free(&spec);
    cJSON_Delete(root);
    free(params);
    free(file);
    return status;
}
