/* Variational models at work: pictures decoded from codes drawn from the
 * prior (generate), from the line between two samples' codes
 * (interpolate) and from a grid over a 2-D latent space (manifold). Each
 * builds its codes on the host and hands them to clae_decode. */
#include <math.h>
#include <stdlib.h>

#include "model.h"
#include "philox.h"
#include "vae.h"

/* Phi^-1 without GSL (GPL) or an approximation's tables: Newton's method
 * on g(x) = log Phi(x) - log p, Phi(x) = erfc(-x / sqrt 2) / 2 from libm.
 * Only the lower half is solved (p > 1/2 by symmetry, 1 - p being exact
 * there), where erfc keeps full relative precision. g rises and is concave
 * (Phi is log-concave), and x0 = -sqrt(-2 log p) lies below the root
 * (Phi(-t) <= exp(-t^2 / 2) / 2), so the steps climb onto the root without
 * overshooting it: five or six for p in [0.05, 0.95], a few more far out
 * in the tails, where Newton on Phi itself would crawl. */
double clae__normal_quantile(double p)
{
    if (!(p > 0.0 && p < 1.0))
        return p == 0.0 ? -INFINITY : p == 1.0 ? INFINITY : NAN;
    if (p > 0.5) return -clae__normal_quantile(1.0 - p);
    const double sqrt2 = 1.41421356237309504880,
                 sqrt2pi = 2.50662827463100050242;
    double x = -sqrt(-2.0 * log(p));
    for (int i = 0; i < 100; i++) {
        double cdf = 0.5 * erfc(-x / sqrt2), pdf = exp(-0.5 * x * x) / sqrt2pi;
        double step = (log(cdf) - log(p)) * cdf / pdf;
        x -= step;
        if (fabs(step) <= 1e-15 * (1.0 + fabs(x))) break;
    }
    return x;
}

static clae_status need_variational(clae_model *m, const char *what)
{
    if (clae_model_is_variational(m)) return CLAE_SUCCESS;
    return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE,
                     "%s needs a variational model (a spec with a 'latent K "
                     "gaussian' layer)", what);
}

/* *z = room for n codes of the model, or a failure when n is 0 or too
 * many. */
static clae_status alloc_codes(clae_model *m, size_t n, const char *what,
                               float **z)
{
    const size_t k = clae_model_code_width(m);
    *z = NULL;
    if (n == 0)
        return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE, "%s: no codes to decode",
                         what);
    if (n > SIZE_MAX / sizeof(float) / k || !(*z = malloc(n * k * sizeof **z)))
        return CLAE_FAIL(m->ctx, CLAE_ERR_HOST_MEMORY,
                         "%s: out of host memory for %zu x %zu codes", what, n,
                         k);
    return CLAE_SUCCESS;
}

/* Decodes the n codes z into *images, then hands z to *codes when the
 * caller wants them, else frees it; z is consumed either way. */
static clae_status decode(clae_model *m, float *z, size_t n, size_t batch,
                          float **codes, float **images)
{
    const clae_data view = {.n = n, .d = clae_model_code_width(m), .x = z,
                            .scale = 1.0f, .value_bytes = sizeof(float)};
    clae_status status = clae_decode(m, &view, batch, images);
    if (status == CLAE_SUCCESS && codes) *codes = z;
    else free(z);
    return status;
}

clae_status clae_generate(clae_model *m, size_t n, uint64_t seed, size_t batch,
                          float **codes, float **images)
{
    clae_status status;
    float *z = NULL;
    *images = NULL;
    if (codes) *codes = NULL;
    if ((status = need_variational(m, "generate")) ||
        (status = alloc_codes(m, n, "generate", &z)))
        return status;
    clae__random_normal(z, n * clae_model_code_width(m), seed,
                        CLAE_STREAM_GENERATE, 0, 0.0f, 1.0f);
    return decode(m, z, n, batch, codes, images);
}

clae_status clae_interpolate(clae_model *m, const clae_data *data, size_t from,
                             size_t to, size_t steps, size_t batch,
                             float **codes, float **images)
{
    clae_status status;
    const size_t k = clae_model_code_width(m), d = data->d;
    float *z = NULL, *ends = NULL, *rows = NULL;
    *images = NULL;
    if (codes) *codes = NULL;
    if ((status = need_variational(m, "interpolate"))) return status;
    if (steps < 2)
        return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE, "interpolate: %zu steps "
                         "(both ends are drawn: 2 or more)", steps);
    if (from >= data->n || to >= data->n)
        return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE, "interpolate: sample %zu of "
                         "%s, which has %zu", from >= data->n ? from : to,
                         data->source ? data->source : "the data", data->n);
    /* The two samples as data of their own, so that only they are
     * encoded. */
    if (!(rows = malloc(2 * d * sizeof *rows))) {
        status = CLAE_FAIL(m->ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    for (size_t j = 0; j < d; j++) {
        rows[j] = data->x[from * d + j];
        rows[d + j] = data->x[to * d + j];
    }
    clae_data pair = *data;
    pair.n = 2;
    pair.x = rows;
    CLAE_TRY(clae_encode(m, &pair, batch, &ends));
    CLAE_TRY(alloc_codes(m, steps, "interpolate", &z));
    /* (1 - t) a + t b rather than a + t (b - a): exact at both ends. */
    for (size_t i = 0; i < steps; i++) {
        const float t = (float)((double)i / (double)(steps - 1));
        for (size_t j = 0; j < k; j++)
            z[i * k + j] = (1.0f - t) * ends[j] + t * ends[k + j];
    }
    status = decode(m, z, steps, batch, codes, images);
    z = NULL;
fail:
    free(z);
    free(ends);
    free(rows);
    return status;
}

clae_status clae_manifold(clae_model *m, size_t n, size_t batch, float **codes,
                          float **images)
{
    clae_status status;
    float *z = NULL;
    *images = NULL;
    if (codes) *codes = NULL;
    if ((status = need_variational(m, "manifold"))) return status;
    if (clae_model_code_width(m) != 2)
        return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE, "manifold draws a 2-D latent "
                         "space; the model's has %zu dimensions",
                         clae_model_code_width(m));
    if (n > 65536)
        return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE, "manifold: a grid of %zu x "
                         "%zu codes is too large", n, n);
    if ((status = alloc_codes(m, n * n, "manifold", &z))) return status;
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < n; c++) {
            /* numpy's linspace(0.05, 0.95, n): start + i (stop - start) /
             * (n - 1), just the start when n is 1. */
            const double step = n > 1 ? 0.9 / (double)(n - 1) : 0.0;
            z[2 * (r * n + c)] =
                (float)clae__normal_quantile(0.05 + (double)c * step);
            z[2 * (r * n + c) + 1] =
                (float)clae__normal_quantile(0.05 + (double)(n - 1 - r) * step);
        }
    return decode(m, z, n * n, batch, codes, images);
}
