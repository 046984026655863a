/* CLAE_ON_NAN_SKIP_BATCH: each batch's loss and gradient checked before its
 * update, a bad batch's sums marked NaN so that the epoch's means and a
 * checkpoint leave it out. */
#include <math.h>

#include "context.h"
#include "trainer.h"

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* CLAE_ON_NAN_SKIP_BATCH: whether batch k's training loss and gradient are
 * finite; the host waits for the batch here. */
clae_status clae__batch_finite(trainer *t, clae_model *m, size_t k,
                                int *finite)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    size_t blocks = clae__sum_blocks(m->param_count);
    size_t chunks = clae__chunks(m->spec.input);
    /* Sums of |g| (l1 1, l2 0) turn NaN or infinite when some g does; sums
     * of squares would also overflow for large finite gradients. */
    CLAE_TRY(clae__penalty_sums(ctx, t->ws->grads, 0, m->param_count, 1.0f,
                                0.0f, NULL, t->grad_sums, 0));
    CL_CHECK(ctx, clEnqueueReadBuffer(ctx->queue, t->grad_sums, CL_TRUE, 0,
                                      blocks * sizeof(float), t->grad_host, 0,
                                      NULL, NULL));
    CL_CHECK(ctx, clEnqueueReadBuffer(ctx->queue, t->train_loss, CL_TRUE,
                                      k * chunks * sizeof(float),
                                      chunks * sizeof(float), t->loss_host, 0,
                                      NULL, NULL));
    *finite = all_finite(t->grad_host, blocks) &&
              all_finite(t->loss_host, chunks);
fail:
    return status;
}

/* Marks batch k skipped where the epoch's means and a checkpoint will see
 * it: its training loss sums become NaN. */
clae_status clae__mark_skipped(trainer *t, clae_model *m, size_t k)
{
    clae_status status = CLAE_SUCCESS;
    const float nan = NAN;
    size_t chunks = clae__chunks(m->spec.input);
    CL_CHECK(m->ctx, clEnqueueFillBuffer(m->ctx->queue, t->train_loss, &nan,
                                         sizeof nan, k * chunks * sizeof nan,
                                         chunks * sizeof nan, 0, NULL, NULL));
fail:
    return status;
}

/* The epoch's batches that were skipped (those whose training loss is not
 * finite), into t->skipped and metrics, and the rows of the others. */
clae_status clae__find_skipped(trainer *t, clae_model *m, size_t n, size_t b,
                                clae_epoch_metrics *metrics, size_t *kept_rows)
{
    clae_status status = CLAE_SUCCESS;
    size_t chunks = clae__chunks(m->spec.input), batches = (n + b - 1) / b;
    CL_CHECK(m->ctx, clEnqueueReadBuffer(m->ctx->queue, t->train_loss, CL_TRUE,
                                         0, batches * chunks * sizeof(float),
                                         t->loss_host, 0, NULL, NULL));
    *kept_rows = n;
    for (size_t k = 0; k < batches; k++) {
        t->skipped[k] = !all_finite(t->loss_host + k * chunks, chunks);
        if (!t->skipped[k]) continue;
        *kept_rows -= n - k * b < b ? n - k * b : b;
        if (!metrics->skipped_batches++) metrics->first_skipped = k + 1;
    }
fail:
    return status;
}
