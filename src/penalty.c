/* L1 and L2 weight penalties: per layer with weights, one penalty_sums
 * launch that writes the penalty's partial sums and (in training) adds its
 * gradient. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "penalty.h"

static int weights_penalised(const clae_penalty *p)
{
    return p->l1 > 0.0f || p->l2 > 0.0f;
}

static size_t weight_sum_count(const clae_model *m)
{
    size_t count = 0, off, n;
    for (size_t i = 0; i < m->count; i++)
        if (clae__layer_weights(&m->layers[i], &off, &n))
            count += clae__sum_blocks(n);
    return count;
}

/* The penalty at the current weights as per_eval partial sums into
 * sums[at ..], each layer's after the one before; unless grads is NULL,
 * its gradient added into grads. */
static clae_status penalty_sums(clae_model *m, const clae_penalty *p,
                                cl_mem grads, cl_mem sums, size_t at)
{
    clae_status status = CLAE_SUCCESS;
    size_t off, n;
    for (size_t i = 0; i < m->count; i++) {
        if (!clae__layer_weights(&m->layers[i], &off, &n)) continue;
        CLAE_TRY(clae__penalty_sums(m->ctx, m->params, off, n, p->l1, p->l2,
                                    grads, sums, at));
        at += clae__sum_blocks(n);
    }
fail:
    return status;
}

/* Reads count partial sums into p->host. */
static clae_status read_sums(clae_context *ctx, clae_penalty *p, cl_mem sums,
                             size_t count)
{
    clae_status status = CLAE_SUCCESS;
    CL_CHECK(ctx, clEnqueueReadBuffer(
                      ctx->queue, sums, CL_TRUE, 0, count * sizeof(float),
                      p->host, 0, NULL,
                      clae__profile_event(ctx, CLAE_PROFILE_TRANSFER)));
fail:
    return status;
}

static double sum_of(const float *x, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += x[i];
    return sum;
}

clae_status clae__penalty_create(clae_model *m, const clae_train_options *o,
                                 size_t batches, clae_penalty *p)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    memset(p, 0, sizeof *p);
    if (!(o->l1 >= 0.0f && o->l2 >= 0.0f && isfinite(o->l1) &&
          isfinite(o->l2)))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "the weight penalties l1 %g and l2 %g must be "
                         "non-negative numbers", o->l1, o->l2);
    p->l1 = o->l1;
    p->l2 = o->l2;
    p->weight_sums = weights_penalised(p) ? weight_sum_count(m) : 0;
    if (clae__spec_has_activity_penalty(&m->spec))
        p->activity_sums = clae__chunks(m->layers[m->spec.code_layer].out);
    p->per_eval = p->weight_sums + p->activity_sums;
    p->batches = batches;
    if (p->per_eval == 0) return CLAE_SUCCESS;
    size_t count = batches * p->per_eval;
    if (!(p->host = malloc(count * sizeof *p->host)))
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    CLAE_TRY(clae__buffer(ctx, count * sizeof(float), "penalty sums",
                          &p->batch_sums));
    if (p->weight_sums)
        CLAE_TRY(clae__buffer(ctx, p->weight_sums * sizeof(float),
                              "penalty sums", &p->now_sums));
    return CLAE_SUCCESS;
fail:
    clae__penalty_release(p);
    return status;
}

void clae__penalty_release(clae_penalty *p)
{
    clae__release_mem(&p->batch_sums);
    clae__release_mem(&p->now_sums);
    free(p->host);
    p->host = NULL;
}

clae_status clae__penalty_batch(clae_model *m, clae_penalty *p, cl_mem grads,
                                size_t batch)
{
    if (!p->weight_sums) return CLAE_SUCCESS;
    return penalty_sums(m, p, grads, p->batch_sums, batch * p->per_eval);
}

void clae__penalty_activity_slot(const clae_penalty *p, size_t batch,
                                 clae_workspace *ws)
{
    ws->penalty = p->batch_sums;
    ws->penalty_off = batch * p->per_eval + p->weight_sums;
}

clae_status clae__penalty_epoch(clae_model *m, clae_penalty *p, size_t n,
                                size_t batch_size, const unsigned char *skipped,
                                size_t kept_rows, double *mean)
{
    clae_status status = CLAE_SUCCESS;
    *mean = 0.0;
    if (!p->batch_sums) return CLAE_SUCCESS;
    CLAE_TRY(read_sums(m->ctx, p, p->batch_sums, p->batches * p->per_eval));
    for (size_t b = 0; b < p->batches; b++) {
        size_t start = b * batch_size;
        size_t rows = n - start < batch_size ? n - start : batch_size;
        if (skipped && skipped[b]) continue;
        *mean += sum_of(p->host + b * p->per_eval, p->per_eval) *
                 ((double)rows / (double)kept_rows);
    }
fail:
    return status;
}

clae_status clae__penalty_now(clae_model *m, clae_penalty *p, double *value)
{
    clae_status status = CLAE_SUCCESS;
    *value = 0.0;
    if (!p->now_sums) return CLAE_SUCCESS;
    CLAE_TRY(penalty_sums(m, p, NULL, p->now_sums, 0));
    CLAE_TRY(read_sums(m->ctx, p, p->now_sums, p->weight_sums));
    *value = sum_of(p->host, p->weight_sums);
fail:
    return status;
}
