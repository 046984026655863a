/* L1 and L2 weight penalties: per layer with weights, one penalty_sums
 * launch that writes the penalty's partial sums and (in training) adds its
 * gradient. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "penalty.h"

static int active(const clae_penalty *p) { return p->l1 > 0.0f || p->l2 > 0.0f; }

static size_t sum_count(const clae_model *m)
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
    p->per_eval = sum_count(m);
    p->batches = batches;
    if (!active(p) || p->per_eval == 0) return CLAE_SUCCESS;
    size_t count = batches * p->per_eval;
    if (!(p->host = malloc(count * sizeof *p->host)))
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    CLAE_TRY(clae__buffer(ctx, count * sizeof(float), "penalty sums",
                          &p->batch_sums));
    CLAE_TRY(clae__buffer(ctx, p->per_eval * sizeof(float), "penalty sums",
                          &p->now_sums));
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
    if (!p->batch_sums) return CLAE_SUCCESS;
    return penalty_sums(m, p, grads, p->batch_sums, batch * p->per_eval);
}

clae_status clae__penalty_epoch(clae_model *m, clae_penalty *p, size_t n,
                                size_t batch_size, double *mean)
{
    clae_status status = CLAE_SUCCESS;
    *mean = 0.0;
    if (!p->batch_sums) return CLAE_SUCCESS;
    CLAE_TRY(read_sums(m->ctx, p, p->batch_sums, p->batches * p->per_eval));
    for (size_t b = 0; b < p->batches; b++) {
        size_t start = b * batch_size;
        size_t rows = n - start < batch_size ? n - start : batch_size;
        *mean += sum_of(p->host + b * p->per_eval, p->per_eval) *
                 ((double)rows / (double)n);
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
    CLAE_TRY(read_sums(m->ctx, p, p->now_sums, p->per_eval));
    *value = sum_of(p->host, p->per_eval);
fail:
    return status;
}
