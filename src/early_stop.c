/* Early stopping: the best epoch's weights kept by device copies. */
#include <math.h>
#include <string.h>

#include "early_stop.h"

clae_status clae__early_stop_create(clae_model *m, const clae_train_options *o,
                                    int has_validation, clae__early_stop *es)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    memset(es, 0, sizeof *es);
    if (!o->patience) return CLAE_SUCCESS;
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
    *stop = 0;
    if (!es->patience) return CLAE_SUCCESS;
    if (val_loss < es->best - es->min_delta) {
        es->best = val_loss;
        es->best_epoch = m->epoch;
        es->waited = 0;
        return copy_weights(m, es->params, m->params, es->state, m->state);
    }
    *stop = ++es->waited >= es->patience;
    if (*stop)
        clae__inform(m->ctx, "early stopping after epoch %u: val_loss has not "
                     "improved by more than %g for %u epochs", m->epoch,
                     es->min_delta, es->patience);
    return CLAE_SUCCESS;
}

clae_status clae__early_stop_restore(clae_model *m, clae__early_stop *es)
{
    if (!es->patience || !es->best_epoch || es->best_epoch == m->epoch)
        return CLAE_SUCCESS;
    clae__inform(m->ctx, "restored the weights of epoch %u, the best "
                 "(val_loss %.6g)", es->best_epoch, es->best);
    return copy_weights(m, m->params, es->params, m->state, es->state);
}
