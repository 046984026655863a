/* What a model file's __metadata__ says besides the spec: the training
 * counters and history (clae_model_history), where the data came from
 * (clae_train_source) and, in a checkpoint, whose optimizer moments it
 * holds. Every value is a string, as safetensors requires. */
#include <cjson/cJSON.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model_meta.h"
#include "numbers.h"

int clae__meta_write(cJSON *meta, const clae_model *m, int with_optimizer)
{
    char number[32];
    int ok = 1;
    if (with_optimizer) {
        snprintf(number, sizeof number, "%" PRIu64, m->moment_steps);
        ok = cJSON_AddStringToObject(meta, "optimizer",
                                     clae_optimizer_name(m->moments_of)) &&
             cJSON_AddStringToObject(meta, "moment_steps", number);
    }
    if (with_optimizer && m->best_weights) {
        snprintf(number, sizeof number, "%.17g", m->best_val_loss);
        ok = ok && cJSON_AddStringToObject(meta, "best_val_loss", number);
        snprintf(number, sizeof number, "%u", m->best_epoch);
        ok = ok && cJSON_AddStringToObject(meta, "best_epoch", number);
        snprintf(number, sizeof number, "%u", m->waited);
        ok = ok && cJSON_AddStringToObject(meta, "waited", number);
    }
    if (with_optimizer && m->partial_batches) {
        snprintf(number, sizeof number, "%zu", m->partial_batches);
        ok = ok && cJSON_AddStringToObject(meta, "partial_batches", number);
        snprintf(number, sizeof number, "%zu", m->partial_batch_size);
        ok = ok && cJSON_AddStringToObject(meta, "partial_batch_size", number);
    }
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
    if (m->train_height) {
        snprintf(number, sizeof number, "%ux%ux%u", m->train_height,
                 m->train_width, m->train_channels);
        ok = ok && cJSON_AddStringToObject(meta, "image_shape", number);
    }
    if (m->train_labels)
        ok = ok &&
             cJSON_AddStringToObject(meta, "train_labels", m->train_labels);
    if (m->train_labels && m->train_class >= 0) { /* -1: no class, not saved */
        snprintf(number, sizeof number, "%d", m->train_class);
        ok = ok && cJSON_AddStringToObject(meta, "train_class", number);
    }
    return ok;
}

const char *clae__meta_string(const cJSON *meta, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

#define BAD_MODEL(...)                                                       \
    do {                                                                     \
        status = CLAE_FAIL(ctx, CLAE_ERR_INPUT, __VA_ARGS__);                \
        goto fail;                                                           \
    } while (0)

/* Where the training data came from (clae_train_source), as meta says. */
static clae_status read_train_source(clae_context *ctx, const char *path,
                                     const cJSON *meta, clae_model *m)
{
    clae_status status = CLAE_SUCCESS;
    const char *class_k = clae__meta_string(meta, "train_class"),
               *scale = clae__meta_string(meta, "scale"),
               *shape = clae__meta_string(meta, "image_shape");
    unsigned long class_number = 0;
    clae_image_shape image = {0, 0, 0};
    clae_train_source source = {
        .data = clae__meta_string(meta, "train_data"),
        .labels = clae__meta_string(meta, "train_labels")};
    if (class_k && !clae__parse_uint(class_k, '\0', INT_MAX, &class_number))
        BAD_MODEL("%s: train_class '%s' in __metadata__ is not a class number",
                  path, class_k);
    if (scale && !clae__parse_float(scale, 0.0f, FLT_MAX, &source.scale))
        BAD_MODEL("%s: scale '%s' in __metadata__ is not a number", path, scale);
    if (shape && (!clae__parse_shape(shape, m->spec.input, &image) ||
                  (size_t)image.height * image.width * image.channels !=
                      m->spec.input))
        BAD_MODEL("%s: image_shape '%s' in __metadata__ does not fit the "
                  "model's %zu inputs", path, shape, m->spec.input);
    source.class_k = class_k ? (int)class_number : -1;
    source.height = image.height;
    source.width = image.width;
    source.channels = image.channels;
    status = clae_model_set_train_source(m, &source);
fail:
    return status;
}

clae_status clae__meta_read(clae_context *ctx, const char *path,
                            const cJSON *meta, clae_model *m)
{
    clae_status status = CLAE_SUCCESS;
    /* The counters and seeds: whole numbers, each read in full. */
    enum { EPOCH, STEP, MOMENT_STEPS, BATCHES, BATCH_SIZE, INIT_SEED,
           TRAIN_SEED, BEST_EPOCH, WAITED, COUNTS };
    static const struct {
        const char *key;
        unsigned long max;
    } counts[COUNTS] = {
        {"epoch", UINT_MAX},           {"step", ULONG_MAX},
        {"moment_steps", ULONG_MAX},  {"partial_batches", SIZE_MAX},
        {"partial_batch_size", SIZE_MAX}, {"init_seed", ULONG_MAX},
        {"train_seed", ULONG_MAX}, {"best_epoch", UINT_MAX},
        {"waited", UINT_MAX}};
    const char *text[COUNTS];
    unsigned long value[COUNTS] = {0};
    for (int i = 0; i < COUNTS; i++) {
        text[i] = clae__meta_string(meta, counts[i].key);
        if (text[i] &&
            !clae__parse_uint(text[i], '\0', counts[i].max, &value[i]))
            BAD_MODEL("%s: %s '%s' in __metadata__ is not a whole number",
                      path, counts[i].key, text[i]);
    }
    if (text[EPOCH]) m->epoch = (unsigned)value[EPOCH];
    if (text[STEP]) m->step = value[STEP];
    if (text[MOMENT_STEPS]) m->moment_steps = value[MOMENT_STEPS];
    if (text[INIT_SEED]) m->init_seed = value[INIT_SEED];
    if (text[TRAIN_SEED]) m->train_seed = value[TRAIN_SEED];
    if (!text[BATCHES] != !m->partial_sums || !text[BATCHES] != !text[BATCH_SIZE])
        BAD_MODEL("%s: a part-way epoch needs partial_batches, "
                  "partial_batch_size and training.partial_sums", path);
    if (text[BATCHES]) {
        m->partial_batches = value[BATCHES];
        m->partial_batch_size = value[BATCH_SIZE];
        if (!m->partial_batches || !m->partial_batch_size)
            BAD_MODEL("%s: partial_batches '%s' or partial_batch_size '%s' "
                      "in __metadata__ is not a positive number", path,
                      text[BATCHES], text[BATCH_SIZE]);
    }
    const char *best = clae__meta_string(meta, "best_val_loss");
    if (!m->best_weights != !text[BEST_EPOCH] || !text[BEST_EPOCH] != !best ||
        !best != !text[WAITED])
        BAD_MODEL("%s: early stopping's state needs best_val_loss, best_epoch, "
                  "waited and training.best_weights", path);
    if (best) {
        m->best_epoch = (unsigned)value[BEST_EPOCH];
        m->waited = (unsigned)value[WAITED];
        if (!m->best_epoch || m->best_epoch > m->epoch ||
            !clae__parse_double(best, &m->best_val_loss))
            BAD_MODEL("%s: best_epoch '%s' or best_val_loss '%s' in "
                      "__metadata__ is not an epoch and a loss", path,
                      text[BEST_EPOCH], best);
    }
    const char *device = clae__meta_string(meta, "device"),
               *train_loss = clae__meta_string(meta, "train_loss"),
               *val_loss = clae__meta_string(meta, "val_loss");
    if (train_loss && !clae__parse_double(train_loss, &m->train_loss))
        BAD_MODEL("%s: train_loss '%s' in __metadata__ is not a number", path,
                  train_loss);
    if (val_loss && !clae__parse_double(val_loss, &m->val_loss))
        BAD_MODEL("%s: val_loss '%s' in __metadata__ is not a number", path,
                  val_loss);
    if (device && !(m->device = strdup(device))) {
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    CLAE_TRY(read_train_source(ctx, path, meta, m));
fail:
    return status;
}
