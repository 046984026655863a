/* Per-feature standardisation of a model's inputs, (x - mean) / std with
 * the training data's statistics, kept in the model (and its file) so
 * that every later use of the model standardises its data the same way
 * and un-standardises what it outputs as data. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

clae_status clae_model_standardize(clae_model *m, const clae_data *data)
{
    const size_t d = m->spec.input;
    clae_status status = clae__check_width(m, data, d, "the data");
    if (status != CLAE_SUCCESS) return status;
    if (m->spec.loss == CLAE_LOSS_BCE || m->spec.loss == CLAE_LOSS_CCE)
        return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE,
                         "standardised data are not the probabilities loss %s "
                         "compares with: use loss mse or mae",
                         clae_loss_name(m->spec.loss));
    float *stats = malloc(2 * d * sizeof *stats);
    double *sum = calloc(2 * d, sizeof *sum);
    if (!stats || !sum) {
        free(stats);
        free(sum);
        return CLAE_FAIL(m->ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    }
    for (size_t r = 0; r < data->n; r++)
        for (size_t j = 0; j < d; j++) sum[j] += data->x[r * d + j];
    for (size_t j = 0; j < d; j++) sum[j] /= (double)data->n;
    for (size_t r = 0; r < data->n; r++)
        for (size_t j = 0; j < d; j++) {
            double dev = data->x[r * d + j] - sum[j];
            sum[d + j] += dev * dev / (double)data->n;
        }
    for (size_t j = 0; j < d; j++) {
        double std = sqrt(sum[d + j]);
        stats[j] = (float)sum[j];
        /* A constant feature is only centred, as scikit-learn does. */
        stats[d + j] = std > 1e-6 ? (float)std : 1.0f;
    }
    free(sum);
    free(m->norm_mean);
    m->norm_mean = stats;
    m->norm_std = stats + d;
    return CLAE_SUCCESS;
}

clae_status clae__standardized(clae_model *m, const clae_data *data,
                               const clae_data **use, clae_data **copy)
{
    *use = data;
    *copy = NULL;
    if (!m->norm_mean) return CLAE_SUCCESS;
    const size_t d = data->d, count = data->n * d;
    clae_data *c = malloc(sizeof *c);
    float *x = c ? malloc(count * sizeof *x) : NULL;
    if (!x) {
        free(c);
        return CLAE_FAIL(m->ctx, CLAE_ERR_HOST_MEMORY,
                         "out of host memory for standardised data");
    }
    *c = *data;
    for (size_t i = 0; i < count; i++)
        x[i] = (data->x[i] - m->norm_mean[i % d]) / m->norm_std[i % d];
    c->x = x;
    /* clae_data_free frees source: a copy of its own (NULL if that fails:
     * only error messages use it). */
    c->source = data->source ? strdup(data->source) : NULL;
    *use = *copy = c;
    return CLAE_SUCCESS;
}

void clae__unstandardize(const clae_model *m, float *x, size_t rows)
{
    const size_t d = m->spec.input;
    if (!m->norm_mean) return;
    for (size_t i = 0; i < rows * d; i++)
        x[i] = x[i] * m->norm_std[i % d] + m->norm_mean[i % d];
}
