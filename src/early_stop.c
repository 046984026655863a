/* Early stopping: the best epoch's weights kept by device copies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "early_stop.h"

/* The model's best_weights (parameters, then state) to the device buffers
 * params and state, or from them. */
static clae_status transfer_weights(clae_model *m, cl_mem params,
                                    cl_mem state, int to_device)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    const struct {
        cl_mem mem;
        size_t count;
        float *host;
    } part[2] = {{params, m->param_count, m->best_weights},
                 {state, m->state ? m->state_count : 0,
                  m->best_weights + m->param_count}};
    for (int i = 0; i < 2; i++) {
        if (!part[i].count) continue;
        const size_t bytes = part[i].count * sizeof(float);
        cl_int rc = to_device
                        ? clEnqueueWriteBuffer(ctx->queue, part[i].mem, CL_TRUE,
                                               0, bytes, part[i].host, 0,
                                               NULL, NULL)
                        : clEnqueueReadBuffer(ctx->queue, part[i].mem, CL_TRUE,
                                              0, bytes, part[i].host, 0, NULL,
                                              NULL);
        CL_CHECK_ERR(ctx, to_device ? "clEnqueueWriteBuffer(best weights)"
                                    : "clEnqueueReadBuffer(best weights)",
                     rc);
    }
fail:
    return status;
}

/* A checkpoint's early stopping carries on: its best so far, and that
 * epoch's weights back on the device. */
static clae_status resume(clae_model *m, clae__early_stop *es)
{
    es->best = m->best_val_loss;
    es->best_epoch = m->best_epoch;
    es->waited = m->waited;
    return transfer_weights(m, es->params, es->state, 1);
}

/* The model keeps early stopping's state for its checkpoints; improved,
 * it reads the best epoch's weights (which are the model's now), into
 * best_weights allocated on the first improvement. */
static clae_status keep_in_model(clae_model *m, const clae__early_stop *es,
                                 int improved)
{
    m->best_val_loss = es->best;
    m->best_epoch = es->best_epoch;
    m->waited = es->waited;
    if (!improved) return CLAE_SUCCESS;
    if (!m->best_weights &&
        !(m->best_weights = malloc(clae__model_weights(m) * sizeof(float))))
        return CLAE_FAIL(m->ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    return transfer_weights(m, m->params, m->state, 0);
}

/* A run without early stopping forgets a checkpoint's. */
static void forget(clae_model *m)
{
    free(m->best_weights);
    m->best_weights = NULL;
    m->best_epoch = m->waited = 0;
}

clae_status clae__early_stop_create(clae_model *m, const clae_train_options *o,
                                    int has_validation, clae__early_stop *es)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    memset(es, 0, sizeof *es);
    if (!o->patience) {
        forget(m);
        return CLAE_SUCCESS;
    }
    if (!has_validation)
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "early stopping (patience %u) needs a validation set",
                         o->patience);
    if (!(o->min_delta >= 0.0f) || !isfinite(o->min_delta))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "min_delta must be a number >= 0");
    es->patience = o->patience;
    es->min_delta = o->min_delta;
    es->best = INFINITY;
    CLAE_TRY(clae__buffer(ctx, m->param_count * sizeof(float),
                          "best parameters", &es->params));
    if (m->state)
        CLAE_TRY(clae__buffer(ctx, m->state_count * sizeof(float),
                              "best running statistics", &es->state));
    if (m->best_weights) CLAE_TRY(resume(m, es));
    return CLAE_SUCCESS;
fail:
    clae__early_stop_release(es);
    return status;
}

void clae__early_stop_release(clae__early_stop *es)
{
    clae__release_mem(&es->params);
    clae__release_mem(&es->state);
}

/* to = from, both of the model's parameter (and state) layouts. */
static clae_status copy_weights(clae_model *m, cl_mem params_to,
                                cl_mem params_from, cl_mem state_to,
                                cl_mem state_from)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    CL_CHECK(ctx, clEnqueueCopyBuffer(ctx->queue, params_from, params_to, 0, 0,
                                      m->param_count * sizeof(float), 0, NULL,
                                      NULL));
    if (m->state)
        CL_CHECK(ctx, clEnqueueCopyBuffer(ctx->queue, state_from, state_to, 0,
                                          0, m->state_count * sizeof(float), 0,
                                          NULL, NULL));
fail:
    return status;
}

clae_status clae__early_stop_update(clae_model *m, clae__early_stop *es,
                                    double val_loss, int *stop)
{
    clae_status status = CLAE_SUCCESS;
    *stop = 0;
    if (!es->patience) return CLAE_SUCCESS;
    const int improved = val_loss < es->best - es->min_delta;
    if (improved) {
        es->best = val_loss;
        es->best_epoch = m->epoch;
        es->waited = 0;
        CLAE_TRY(copy_weights(m, es->params, m->params, es->state, m->state));
    } else {
        *stop = ++es->waited >= es->patience;
    }
    CLAE_TRY(keep_in_model(m, es, improved));
    if (*stop)
        clae__inform(m->ctx, "early stopping after epoch %u: val_loss has not "
                     "improved by more than %g for %u epochs", m->epoch,
                     es->min_delta, es->patience);
fail:
    return status;
}

clae_status clae__early_stop_restore(clae_model *m, clae__early_stop *es)
{
    if (!es->patience || !es->best_epoch || es->best_epoch == m->epoch)
        return CLAE_SUCCESS;
    clae__inform(m->ctx, "restored the weights of epoch %u, the best "
                 "(val_loss %.6g)", es->best_epoch, es->best);
    return copy_weights(m, m->params, es->params, m->state, es->state);
}
