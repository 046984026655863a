/* SGD and Adam over the flat parameter buffer. */
#include <math.h>
#include <string.h>

#include "optim.h"

static clae_status zeroed_buffer(clae_context *ctx, size_t n, const char *what,
                                 cl_mem *out)
{
    clae_status status = CLAE_SUCCESS;
    const float zero = 0.0f;
    CLAE_TRY(clae__buffer(ctx, n * sizeof(float), what, out));
    /* PoCL and others hand out uninitialised memory. */
    CL_CHECK(ctx, clEnqueueFillBuffer(ctx->queue, *out, &zero, sizeof zero, 0,
                                      n * sizeof(float), 0, NULL, NULL));
fail:
    return status;
}

clae_status clae__optim_create(clae_model *model,
                               const clae_train_options *o, clae_optim *optim)
{
    clae_status status = CLAE_SUCCESS;
    memset(optim, 0, sizeof *optim);
    optim->kind = o->optimizer;
    optim->lr = o->learning_rate;
    optim->beta1 = o->beta1;
    optim->beta2 = o->beta2;
    optim->eps = o->epsilon;
    if (optim->kind == CLAE_OPTIMIZER_ADAM) {
        CLAE_TRY(zeroed_buffer(model->ctx, model->param_count, "Adam m",
                               &optim->m));
        CLAE_TRY(zeroed_buffer(model->ctx, model->param_count, "Adam v",
                               &optim->v));
    }
    return CLAE_SUCCESS;
fail:
    clae__optim_release(optim);
    return status;
}

void clae__optim_release(clae_optim *optim)
{
    clae__release_mem(&optim->m);
    clae__release_mem(&optim->v);
}

clae_status clae__optim_step(clae_model *model, clae_optim *o, cl_mem grads)
{
    double t = (double)++model->step;
    if (o->kind == CLAE_OPTIMIZER_SGD)
        return clae__sgd_update(model->ctx, model->params, grads,
                                model->param_count, o->lr);
    /* The bias corrections of step t, computed once on the host. */
    float step_size = (float)(o->lr / (1.0 - pow(o->beta1, t)));
    float v_scale = (float)(1.0 / sqrt(1.0 - pow(o->beta2, t)));
    return clae__adam_update(model->ctx, model->params, grads, o->m, o->v,
                             model->param_count, step_size, o->beta1, o->beta2,
                             o->eps, v_scale);
}
