/* SGD (with momentum), Adam, AdamW and RMSprop over the flat parameter
 * buffer; learning-rate schedules; clipping by global norm. */
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

/* lo <= v < hi; false for NaN. */
static int in_range(float v, float lo, float hi) { return v >= lo && v < hi; }

static clae_status check_options(clae_context *ctx, const clae_train_options *o)
{
    if (!in_range(o->momentum, 0.0f, 1.0f))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "momentum %g is not in [0, 1)",
                         o->momentum);
    if (o->nesterov && o->momentum == 0.0f)
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "Nesterov momentum needs a momentum above 0");
    if (!in_range(o->rho, 0.0f, 1.0f))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "rho %g is not in [0, 1)", o->rho);
    if (!in_range(o->weight_decay, 0.0f, INFINITY))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "weight decay %g is not a non-negative number",
                         o->weight_decay);
    if (!in_range(o->clip_norm, 0.0f, INFINITY))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "clip norm %g is not a non-negative number",
                         o->clip_norm);
    if (o->lr_schedule == CLAE_LR_STEP &&
        (o->lr_step_epochs == 0 || !(o->lr_gamma > 0.0f) ||
         !isfinite(o->lr_gamma)))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "a step schedule needs lr_step_epochs > 0 and a "
                         "positive lr_gamma");
    return CLAE_SUCCESS;
}

static int uses_m(const clae_train_options *o)
{
    return o->optimizer == CLAE_OPTIMIZER_SGD ? o->momentum > 0.0f
                                              : o->optimizer != CLAE_OPTIMIZER_RMSPROP;
}

static int uses_v(const clae_train_options *o)
{
    return o->optimizer != CLAE_OPTIMIZER_SGD;
}

clae_status clae__optim_create(clae_model *model, const clae_train_options *o,
                               uint64_t steps_per_epoch, clae_optim *optim)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = model->ctx;
    size_t n = model->param_count;
    memset(optim, 0, sizeof *optim);
    CLAE_TRY(check_options(ctx, o));
    optim->o = *o;
    optim->steps_per_epoch = steps_per_epoch;
    optim->total_steps = steps_per_epoch * (model->epoch + o->epochs);
    if (model->moments_of != o->optimizer || !model->moment1 != !uses_m(o) ||
        !model->moment2 != !uses_v(o)) {
        if (model->optimizer_known)
            clae__warn(ctx, "the model's optimizer state is %s's; %s starts "
                            "its own from zero",
                       clae_optimizer_name(model->moments_of),
                       clae_optimizer_name(o->optimizer));
        clae__release_mem(&model->moment1);
        clae__release_mem(&model->moment2);
        model->moments_of = o->optimizer;
        model->moment_steps = 0;
        if (uses_m(o))
            CLAE_TRY(zeroed_buffer(ctx, n, "optimizer first moments",
                                   &model->moment1));
        if (uses_v(o))
            CLAE_TRY(zeroed_buffer(ctx, n, "optimizer second moments",
                                   &model->moment2));
    }
    optim->m = model->moment1;
    optim->v = model->moment2;
    model->optimizer_known = 1;
    if (o->clip_norm > 0.0f) {
        CLAE_TRY(clae__buffer(ctx, clae__sum_blocks(n) * sizeof(float),
                              "gradient norm sums", &optim->norm_sums));
        CLAE_TRY(clae__buffer(ctx, sizeof(float), "clipping scale",
                              &optim->scale));
    }
    return CLAE_SUCCESS;
fail:
    clae__optim_release(optim);
    return status;
}

void clae__optim_release(clae_optim *optim)
{
    clae__release_mem(&optim->norm_sums);
    clae__release_mem(&optim->scale);
}

float clae__scheduled_lr(const clae_train_options *o, uint64_t t,
                         uint64_t steps_per_epoch, uint64_t total_steps)
{
    const double pi = 3.14159265358979323846, lr = o->learning_rate;
    switch (o->lr_schedule) {
    case CLAE_LR_STEP: {
        uint64_t epoch = t / steps_per_epoch;
        return (float)(lr * pow(o->lr_gamma,
                                (double)(epoch / o->lr_step_epochs)));
    }
    case CLAE_LR_COSINE:
        return (float)(lr * 0.5 *
                       (1.0 + cos(pi * (double)t / (double)total_steps)));
    default:
        return o->learning_rate;
    }
}

clae_status clae__clip_grad_norm(clae_context *ctx, cl_mem grads, size_t n,
                                 float max_norm, cl_mem sums, cl_mem scale)
{
    clae_status status = CLAE_SUCCESS;
    CLAE_TRY(clae__penalty_sums(ctx, grads, 0, n, 0.0f, 1.0f, NULL, sums, 0));
    CLAE_TRY(clae__clip_scale(ctx, sums, clae__sum_blocks(n), max_norm, scale));
    CLAE_TRY(clae__scale_by(ctx, grads, n, scale));
fail:
    return status;
}

/* The update of the step with learning rate lr (model->step already
 * counts it). */
static clae_status update(clae_model *model, const clae_optim *optim,
                          cl_mem grads, float lr)
{
    const clae_train_options *o = &optim->o;
    clae_context *ctx = model->ctx;
    cl_mem p = model->params;
    size_t n = model->param_count;
    if (o->optimizer == CLAE_OPTIMIZER_SGD)
        return o->momentum > 0.0f
                   ? clae__sgd_momentum_update(ctx, p, grads, optim->m, n, lr,
                                               o->momentum, o->nesterov)
                   : clae__sgd_update(ctx, p, grads, n, lr);
    if (o->optimizer == CLAE_OPTIMIZER_RMSPROP)
        return clae__rmsprop_update(ctx, p, grads, optim->v, n, lr, o->rho,
                                    o->epsilon);
    /* Adam's bias corrections of step t, computed once on the host: t
     * counts the steps since its moments started. */
    double t = (double)model->moment_steps;
    float step_size = (float)(lr / (1.0 - pow(o->beta1, t)));
    float v_scale = (float)(1.0 / sqrt(1.0 - pow(o->beta2, t)));
    float decay =
        o->optimizer == CLAE_OPTIMIZER_ADAMW ? lr * o->weight_decay : 0.0f;
    return clae__adam_update(ctx, p, grads, optim->m, optim->v, n, step_size,
                             o->beta1, o->beta2, o->epsilon, v_scale, decay);
}

clae_status clae__optim_step(clae_model *model, clae_optim *optim,
                             cl_mem grads)
{
    clae_status status = CLAE_SUCCESS;
    float lr = clae__scheduled_lr(&optim->o, model->step, optim->steps_per_epoch,
                                  optim->total_steps);
    model->step++;
    model->moment_steps++;
    if (optim->o.clip_norm > 0.0f)
        CLAE_TRY(clae__clip_grad_norm(model->ctx, grads, model->param_count,
                                      optim->o.clip_norm, optim->norm_sums,
                                      optim->scale));
    CLAE_TRY(update(model, optim, grads, lr));
fail:
    return status;
}
