/* Data parallelism (clae_train_options.replicas): each replica's share of
 * a batch, its gradient summed with the others' through the host, layer by
 * layer while the device goes on, and the replicas' agreement on when to
 * stop. */
#include "context.h"
#include "trainer.h"

int clae__replicated(const clae_train_options *o)
{
    return o && o->replicas > 1;
}

/* Replaces host[0 .. count) by its sum over the replicas, if there are. */
clae_status clae__sum_across(clae_context *ctx, const clae_train_options *o,
                              float *host, size_t count)
{
    if (!clae__replicated(o) || !o->sum_across(o->replica_user, host, count))
        return CLAE_SUCCESS;
    return CLAE_FAIL(ctx, CLAE_ERR_REPLICAS,
                     "summing %zu values across %u replicas failed", count,
                     o->replicas);
}

/* The replica's share of a batch of `rows` rows: its rows [*lo, *hi). */
void clae__share_of(const clae_train_options *o, size_t rows, size_t *lo,
                     size_t *hi)
{
    size_t count = clae__replicated(o) ? o->replicas : 1;
    size_t r = clae__replicated(o) ? o->replica : 0;
    *lo = rows * r / count;
    *hi = rows * (r + 1) / count;
}

/* Layer l's slice of the flat parameter (and gradient) buffer: [*from,
 * *to); empty for layers without parameters. */
static void slice_of(const clae_model *m, size_t l, size_t *from, size_t *to)
{
    *from = m->layers[l].param_off;
    *to = l + 1 < m->count ? m->layers[l + 1].param_off : m->param_count;
}

/* The workspace's layer_done: starts reading layer l's final gradient
 * slice to the host while the device goes on with the layers below. */
clae_status clae__start_slice_read(void *user, size_t l)
{
    clae_status status = CLAE_SUCCESS;
    trainer *t = user;
    clae_context *ctx = t->model->ctx;
    size_t from, to;
    slice_of(t->model, l, &from, &to);
    if (from == to) return CLAE_SUCCESS;
    CL_CHECK(ctx, clEnqueueReadBuffer(ctx->queue, t->ws->grads, CL_FALSE,
                                      from * sizeof(float),
                                      (to - from) * sizeof(float),
                                      t->grads_host + from, 0, NULL,
                                      &t->slice_read[l]));
    CL_CHECK(ctx, clFlush(ctx->queue));
fail:
    return status;
}

/* After the backward pass: each layer's slice, last layer first, is summed
 * across the replicas as soon as it has arrived (while the device still
 * computes the layers below) and written back; the writes come before the
 * update in the queue, and the host array stays as it is until the next
 * batch's reads, which the queue orders after them. */
clae_status clae__sum_slices(trainer *t, clae_model *m,
                              const clae_train_options *o)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    for (size_t l = m->count; l-- > 0;) {
        size_t from, to;
        slice_of(m, l, &from, &to);
        if (from == to) continue;
        cl_int err = clWaitForEvents(1, &t->slice_read[l]);
        clReleaseEvent(t->slice_read[l]);
        t->slice_read[l] = NULL;
        CL_CHECK(ctx, err);
        CLAE_TRY(clae__sum_across(ctx, o, t->grads_host + from, to - from));
        CL_CHECK(ctx, clEnqueueWriteBuffer(ctx->queue, t->ws->grads, CL_FALSE,
                                           from * sizeof(float),
                                           (to - from) * sizeof(float),
                                           t->grads_host + from, 0, NULL,
                                           NULL));
    }
fail:
    return status;
}

/* Whether training stops here: *o->interrupt is set, on any replica (they
 * must agree, or some would wait forever for the others' sums). */
clae_status clae__interrupted(clae_context *ctx, const clae_train_options *o,
                               int *stop)
{
    clae_status status = CLAE_SUCCESS;
    float flag = o->interrupt && *o->interrupt ? 1.0f : 0.0f;
    if (o->interrupt) CLAE_TRY(clae__sum_across(ctx, o, &flag, 1));
    *stop = flag > 0.0f;
fail:
    return status;
}
