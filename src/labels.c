/* Class labels (clae_labels_load) and how well anomaly scores separate
 * one class from the rest (clae_anomaly_metrics). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

/* labels (n) from n x 1 floats that must be whole numbers in [0, 2^31). */
static clae_status to_labels(clae_context *ctx, const char *path,
                             const float *values, size_t n, int **labels)
{
    int *out = malloc(n * sizeof *out);
    if (!out)
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "%s: out of host memory",
                         path);
    for (size_t i = 0; i < n; i++) {
        float v = values[i];
        if (!(v >= 0.0f && v < 2147483648.0f) || v != floorf(v)) {
            free(out);
            return CLAE_FAIL(ctx, CLAE_ERR_INPUT,
                             "%s: label %zu is %g, not a class number", path,
                             i, (double)v);
        }
        out[i] = (int)v;
    }
    *labels = out;
    return CLAE_SUCCESS;
}

clae_status clae_labels_load(clae_context *ctx, const char *path, int **labels,
                             size_t *n)
{
    clae_status status;
    *labels = NULL;
    *n = 0;
    if (clae__is_npy(path) || clae__ends_with(path, ".npy")) {
        clae_npy_array a;
        if ((status = clae__npy_read(ctx, path, &a))) return status;
        if (a.dims == 1 || (a.dims == 2 && a.shape[1] == 1)) {
            status = to_labels(ctx, path, a.values, (size_t)a.shape[0], labels);
            *n = status ? 0 : (size_t)a.shape[0];
        } else {
            status = CLAE_FAIL(ctx, CLAE_ERR_INPUT,
                               "%s: labels must be a vector (N or N x 1), not "
                               "%d-dimensional", path, a.dims);
        }
        free(a.values);
        return status;
    }
    clae_data *d = NULL;
    status = clae__ends_with(path, ".csv") ? clae__csv_read(ctx, path, 0, &d)
                                           : clae__idx_read(ctx, path, 1, &d);
    if (status) return status;
    if (d->d != 1)
        status = CLAE_FAIL(ctx, CLAE_ERR_INPUT,
                           "%s: %zu values a row; labels have one", path, d->d);
    else if (!(status = to_labels(ctx, path, d->x, d->n, labels)))
        *n = d->n;
    clae_data_free(d);
    return status;
}

clae_status clae_data_keep_class(clae_context *ctx, clae_data *data,
                                 const int *labels, size_t n_labels, int k)
{
    const char *name = data->source ? data->source : "the data";
    if (n_labels != data->n)
        return CLAE_FAIL(ctx, CLAE_ERR_INPUT, "%zu labels for the %zu samples "
                         "of %s", n_labels, data->n, name);
    size_t kept = 0;
    for (size_t i = 0; i < data->n; i++)
        if (labels[i] == k)
            memmove(data->x + kept++ * data->d, data->x + i * data->d,
                    data->d * sizeof *data->x);
    if (kept == 0)
        return CLAE_FAIL(ctx, CLAE_ERR_INPUT, "%s: no sample of class %d", name,
                         k);
    data->n = kept;
    return CLAE_SUCCESS;
}

typedef struct {
    float score;
    int anomaly;
} ranked;

/* Descending by score. */
static int by_score_down(const void *a, const void *b)
{
    float x = ((const ranked *)a)->score, y = ((const ranked *)b)->score;
    return (x < y) - (x > y);
}

clae_status clae_anomaly_metrics(clae_context *ctx, const float *scores,
                                 const int *labels, size_t n, int normal_class,
                                 double *roc_auc, double *average_precision)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(scores[i]))
            return CLAE_FAIL(ctx, CLAE_ERR_INPUT,
                             "sample %zu scores %g: no ranking with a score "
                             "that is not finite (has the model diverged?)",
                             i, (double)scores[i]);
    size_t anomalies = 0;
    for (size_t i = 0; i < n; i++) anomalies += labels[i] != normal_class;
    const size_t normals = n - anomalies;
    if (anomalies == 0 || normals == 0) /* n == 0 too: no malloc(0) below */
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "the labels have %zu samples of class %d and %zu of "
                         "others: both are needed", normals, normal_class,
                         anomalies);
    ranked *r = malloc(n * sizeof *r);
    if (!r) return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    for (size_t i = 0; i < n; i++)
        r[i] = (ranked){scores[i], labels[i] != normal_class};
    qsort(r, n, sizeof *r, by_score_down);
    /* Walk groups of tied scores from the top: an anomaly beats every
     * normal below its group and half of those tied with it. */
    double pairs = 0.0, precision_sum = 0.0;
    size_t above_normals = 0, seen = 0, seen_anomalies = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, group_anomalies = 0;
        while (j < n && r[j].score == r[i].score) group_anomalies += (size_t)r[j++].anomaly;
        size_t group_normals = (j - i) - group_anomalies;
        pairs += (double)group_anomalies *
                 ((double)(normals - above_normals - group_normals) +
                  0.5 * (double)group_normals);
        seen += j - i;
        seen_anomalies += group_anomalies;
        precision_sum += (double)group_anomalies * (double)seen_anomalies /
                         (double)seen;
        above_normals += group_normals;
        i = j;
    }
    free(r);
    *roc_auc = pairs / ((double)anomalies * (double)normals);
    *average_precision = precision_sum / (double)anomalies;
    return CLAE_SUCCESS;
}
