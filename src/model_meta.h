/* The __metadata__ of model files (src/model_meta.c). */
#ifndef CLAE_MODEL_META_H
#define CLAE_MODEL_META_H

#include <cjson/cJSON.h>

#include "model.h"

/* Adds the model's counters, history and data source to meta, and with
 * the optimizer the name of the one whose moments a checkpoint holds; 0
 * when cJSON runs out of memory. */
int clae__meta_write(cJSON *meta, const clae_model *m, int with_optimizer);
/* Sets them on a loaded model from meta; CLAE_ERR_INPUT naming path for
 * values that make no sense. */
clae_status clae__meta_read(clae_context *ctx, const char *path,
                            const cJSON *meta, clae_model *m);
/* meta's string value of key; NULL when missing or not a string. */
const char *clae__meta_string(const cJSON *meta, const char *key);

#endif
