/* The first two principal components of a set of codes, for pictures of
 * them: power iteration with deflation on the covariance, in double. The
 * codes are narrow (a code layer), so the k x k covariance is small. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"

enum { ITERATIONS = 500 };

/* v = the unit eigenvector of the largest eigenvalue of the symmetric
 * k x k matrix c, from a fixed start, so that runs agree. */
static void top_eigenvector(const double *c, size_t k, double *v, double *tmp)
{
    for (size_t i = 0; i < k; i++) v[i] = 1.0 / sqrt((double)k) + 1e-3 * (double)i;
    for (int it = 0; it < ITERATIONS; it++) {
        double norm = 0.0;
        for (size_t i = 0; i < k; i++) {
            tmp[i] = 0.0;
            for (size_t j = 0; j < k; j++) tmp[i] += c[i * k + j] * v[j];
            norm += tmp[i] * tmp[i];
        }
        norm = sqrt(norm);
        if (norm == 0.0) return; /* no variance left: keep v */
        for (size_t i = 0; i < k; i++) v[i] = tmp[i] / norm;
    }
}

clae_status clae_principal_components(clae_context *ctx, const float *x,
                                      size_t n, size_t k, float *out)
{
    double *mean = calloc(k, sizeof *mean), *cov = calloc(k * k, sizeof *cov),
           *axes = calloc(2 * k, sizeof *axes), *tmp = calloc(k, sizeof *tmp);
    if (!mean || !cov || !axes || !tmp) {
        free(mean), free(cov), free(axes), free(tmp);
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    }
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < k; i++) mean[i] += x[r * k + i] / (double)n;
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++)
                cov[i * k + j] += (x[r * k + i] - mean[i]) *
                                  (x[r * k + j] - mean[j]) / (double)n;
    for (int a = 0; a < 2; a++) {
        double *v = axes + a * k, lambda = 0.0;
        top_eigenvector(cov, k, v, tmp);
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++) lambda += v[i] * cov[i * k + j] * v[j];
        /* Deflate: the next power iteration finds the next component. */
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++) cov[i * k + j] -= lambda * v[i] * v[j];
    }
    for (size_t r = 0; r < n; r++)
        for (int a = 0; a < 2; a++) {
            double s = 0.0;
            for (size_t i = 0; i < k; i++)
                s += (x[r * k + i] - mean[i]) * axes[a * k + i];
            out[2 * r + a] = (float)s;
        }
    free(mean), free(cov), free(axes), free(tmp);
    return CLAE_SUCCESS;
}
