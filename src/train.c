/* The training loop and evaluation. Batches come from feeds (resident or
 * streamed data sets); per batch only kernels and GEMMs are enqueued; the
 * per-sample losses are read back once per epoch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "philox.h"
#include "trainer.h"

void clae_train_options_default(clae_train_options *o)
{
    memset(o, 0, sizeof *o);
    o->optimizer = CLAE_OPTIMIZER_ADAM;
    o->learning_rate = 1e-3f;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->epsilon = 1e-7f;
    o->weight_decay = 0.01f;
    o->rho = 0.9f;
    o->lr_gamma = 0.1f;
    o->batch_size = 256;
    o->epochs = 10;
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* How a mean takes its sums: first added up over the replicas of across
 * (NULL: this process's are all), then without the batches marked in
 * skipped (NULL: none), each batch holding per_batch of them. */
typedef struct {
    const clae_train_options *across;
    const unsigned char *skipped;
    size_t per_batch;
} sum_rule;

static const sum_rule OWN_SUMS = {NULL, NULL, 1};

/* Reads count loss sums (per sample, or per batch and chunk of columns)
 * and returns their sum, as rule says, over divisor. */
static clae_status mean_loss(clae_context *ctx, cl_mem sums, float *host,
                             size_t count, sum_rule rule, double divisor,
                             double *mean)
{
    clae_status status = CLAE_SUCCESS;
    CL_CHECK(ctx, clEnqueueReadBuffer(
                      ctx->queue, sums, CL_TRUE, 0, count * sizeof(float),
                      host, 0, NULL,
                      clae__profile_event(ctx, CLAE_PROFILE_TRANSFER)));
    CLAE_TRY(clae__sum_across(ctx, rule.across, host, count));
    double sum = 0.0;
    for (size_t i = 0; i < count; i++)
        if (!rule.skipped || !rule.skipped[i / rule.per_batch]) sum += host[i];
    *mean = sum / divisor;
fail:
    return status;
}

static int variational(const clae_model *m)
{
    return clae__spec_is_variational(&m->spec);
}

/* A variational model's KL weight, its spec's beta. */
static float beta_of(const clae_model *m)
{
    return m->spec.layers[m->spec.latent].beta;
}

/* A variational model's loss from its mean reconstruction loss *loss and
 * the n KL divergences in kl (read into host), of which `kept` count: *recon
 * and *kl_mean get the two means, *loss becomes recon + beta * KL. */
static clae_status add_kl(clae_model *m, cl_mem kl, float *host, size_t n,
                          sum_rule rule, size_t kept, double *loss,
                          double *recon, double *kl_mean)
{
    clae_status status = CLAE_SUCCESS;
    *recon = *loss;
    CLAE_TRY(mean_loss(m->ctx, kl, host, n, rule, (double)kept, kl_mean));
    *loss = *recon + (double)beta_of(m) * *kl_mean;
fail:
    return status;
}

/* The KL term's weight at the model's next step: beta, or a linear
 * warm-up toward it over warmup epochs of `batches` steps. */
static float kl_weight(const clae_model *m, unsigned warmup, size_t batches)
{
    float beta = beta_of(m);
    double ramp = warmup ? (double)(m->step + 1) / ((double)warmup * batches)
                         : 1.0;
    return ramp < 1.0 ? (float)(beta * ramp) : beta;
}

/* The mean loss over one ordered pass of a feed (the reconstruction loss
 * of a variational model, whose KL divergences go to ws->kl). */
static clae_status evaluate_feed(clae_model *m, clae_workspace *ws,
                                 clae__feed *feed, cl_mem sample_loss,
                                 float *host_loss, double *mean)
{
    clae_status status = CLAE_SUCCESS;
    size_t n = feed->data->n;
    ws->training = 0;
    CLAE_TRY(clae__feed_begin(feed, NULL));
    for (size_t start = 0; start < n; start += ws->batch) {
        size_t rows = n - start < ws->batch ? n - start : ws->batch;
        cl_mem x;
        size_t off;
        CLAE_TRY(clae__feed_batch(feed, start, rows, &x, &off));
        ws->draw = (uint32_t)(start / ws->batch);
        ws->kl_off = start;
        CLAE_TRY(clae__model_forward(m, ws, x, off, rows));
        CLAE_TRY(clae__model_loss(m, ws, x, off, rows, sample_loss, start));
    }
    CLAE_TRY(mean_loss(m->ctx, sample_loss, host_loss, n, OWN_SUMS,
                       (double)clae__loss_divisor(m, n), mean));
fail:
    return status;
}


static void trainer_release(trainer *t)
{
    clae__feed_release(&t->train);
    clae__feed_release(&t->val);
    clae__workspace_destroy(t->ws);
    clae__optim_release(&t->optim);
    clae__penalty_release(&t->penalty);
    clae__early_stop_release(&t->early_stop);
    clae__release_mem(&t->train_loss);
    clae__release_mem(&t->val_loss);
    clae__release_mem(&t->train_kl);
    clae__release_mem(&t->val_kl);
    clae__release_mem(&t->grad_sums);
    free(t->perm_host);
    free(t->loss_host);
    free(t->grad_host);
    free(t->skipped);
    free(t->grads_host);
    for (size_t l = 0; t->slice_read && l < t->model->count; l++)
        if (t->slice_read[l]) clReleaseEvent(t->slice_read[l]);
    free(t->slice_read);
}

static uint64_t data_bytes(const clae_data *data)
{
    return data ? (uint64_t)data->n * data->d * sizeof(float) : 0;
}

/* Both sets stay resident when they fit the budget together; else the
 * training set gets half of it (all without validation) and the
 * validation set what the training set leaves. */
static clae_status create_feeds(trainer *t, clae_context *ctx,
                                const clae_data *train, const clae_data *val,
                                size_t batch)
{
    clae_status status = CLAE_SUCCESS;
    uint64_t budget = clae__data_budget(ctx);
    uint64_t both = data_bytes(train) + data_bytes(val);
    uint64_t train_budget = both <= budget || !val ? budget : budget / 2;
    CLAE_TRY(clae__feed_create(ctx, train, batch, train_budget, 1, &t->train));
    if (val) {
        uint64_t used = clae__feed_bytes(&t->train);
        uint64_t val_budget = used < budget ? budget - used : 0;
        CLAE_TRY(clae__feed_create(ctx, val, batch, val_budget, 0, &t->val));
    }
fail:
    return status;
}

static clae_status trainer_init(trainer *t, clae_model *m,
                                const clae_data *train, const clae_data *val,
                                const clae_train_options *o)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    size_t batches = (train->n + o->batch_size - 1) / o->batch_size;
    t->train_loss_count = batches * clae__chunks(train->d);
    size_t most = val && val->n > t->train_loss_count ? val->n
                                                      : t->train_loss_count;
    if (variational(m) && train->n > most) most = train->n;
    t->perm_host = malloc(train->n * sizeof *t->perm_host);
    t->loss_host = malloc(most * sizeof *t->loss_host);
    if (!t->perm_host || !t->loss_host)
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    CLAE_TRY(clae__workspace_create(m, o->batch_size, &t->ws));
    CLAE_TRY(clae__optim_create(m, o, batches, &t->optim));
    CLAE_TRY(clae__penalty_create(m, o, batches, &t->penalty));
    CLAE_TRY(clae__early_stop_create(m, o, val != NULL, &t->early_stop));
    CLAE_TRY(create_feeds(t, ctx, train, val, o->batch_size));
    CLAE_TRY(clae__buffer(ctx, t->train_loss_count * sizeof(float),
                          "training losses", &t->train_loss));
    if (val)
        CLAE_TRY(clae__buffer(ctx, val->n * sizeof(float),
                              "validation losses", &t->val_loss));
    if (variational(m)) {
        CLAE_TRY(clae__buffer(ctx, train->n * sizeof(float),
                              "training KL divergences", &t->train_kl));
        if (val)
            CLAE_TRY(clae__buffer(ctx, val->n * sizeof(float),
                                  "validation KL divergences", &t->val_kl));
    }
    t->model = m;
    if (clae__replicated(o) &&
        (!(t->grads_host = malloc(m->param_count * sizeof *t->grads_host)) ||
         !(t->slice_read = calloc(m->count, sizeof *t->slice_read))))
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    if (o->on_nan == CLAE_ON_NAN_SKIP_BATCH) {
        size_t blocks = clae__sum_blocks(m->param_count);
        CLAE_TRY(clae__buffer(ctx, blocks * sizeof(float), "gradient sums",
                              &t->grad_sums));
        t->grad_host = malloc(blocks * sizeof *t->grad_host);
        t->skipped = malloc(batches);
        if (!t->grad_host || !t->skipped)
            return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    }
fail:
    return status;
}

/* Tells on_progress where the epoch is after `done` of its batches:
 * waits for them and reads their losses. */
static clae_status report_progress(trainer *t, clae_model *m,
                                   const clae_train_options *o, size_t done,
                                   size_t batches, size_t samples,
                                   double started)
{
    clae_status status = CLAE_SUCCESS;
    const size_t sums = done * clae__chunks(m->spec.input);
    double sum = 0.0, seconds = now_seconds() - started;
    CL_CHECK(m->ctx, clEnqueueReadBuffer(m->ctx->queue, t->train_loss, CL_TRUE,
                                         0, sums * sizeof(float), t->loss_host,
                                         0, NULL, NULL));
    /* Skipped batches are marked NaN: the running loss leaves them out. */
    for (size_t i = 0; i < sums; i++)
        if (!t->skipped || isfinite(t->loss_host[i])) sum += t->loss_host[i];
    const clae_progress p = {
        .epoch = m->epoch + 1, .batch = done, .batches = batches,
        .seconds = seconds,
        .samples_per_second = seconds > 0.0 ? (double)samples / seconds : 0.0,
        /* A replica has only its shares' sums: their mean stands for all. */
        .running_loss = sum * (clae__replicated(o) ? o->replicas : 1) /
                        (double)clae__loss_divisor(m, samples)};
    o->on_progress(o->user, &p);
fail:
    return status;
}

/* floats [off, off + count) of buf = 0. */
static clae_status fill_zero(clae_context *ctx, cl_mem buf, size_t off,
                             size_t count)
{
    clae_status status = CLAE_SUCCESS;
    const float zero = 0.0f;
    CL_CHECK(ctx, clEnqueueFillBuffer(ctx->queue, buf, &zero, sizeof zero,
                                      off * sizeof zero, count * sizeof zero,
                                      0, NULL, NULL));
fail:
    return status;
}

/* The device's per-batch sums of an epoch, in the order a model's
 * partial_sums holds them: the training loss per chunk of columns, the
 * penalties, a variational model's KL divergence per sample. */
typedef struct {
    cl_mem mem;       /* NULL when the run has none */
    size_t per_batch; /* floats each (full) batch adds */
    /* Replicas hold the sums of their own shares, which add up across
     * them; the penalties are the same on every replica. */
    int shared;
} batch_sums;

enum { BATCH_SUMS = 3 };

static void batch_sums_of(const trainer *t, const clae_model *m, size_t b,
                          batch_sums s[BATCH_SUMS])
{
    s[0] = (batch_sums){t->train_loss, clae__chunks(m->spec.input), 1};
    s[1] = (batch_sums){t->penalty.batch_sums, t->penalty.per_eval, 0};
    s[2] = (batch_sums){t->train_kl, b, 1};
}

/* An interrupted epoch: keeps the sums of its first `done` batches in the
 * model (for a checkpoint), whose parameters are those after them; with
 * replicas, the sums of them all. */
static clae_status keep_partial(trainer *t, clae_model *m,
                                const clae_train_options *o, size_t done)
{
    clae_status status = CLAE_SUCCESS;
    size_t b = o->batch_size;
    batch_sums s[BATCH_SUMS];
    batch_sums_of(t, m, b, s);
    size_t count = 0;
    for (int k = 0; k < BATCH_SUMS; k++)
        if (s[k].mem) count += done * s[k].per_batch;
    /* count >= done (the training loss is always kept), but should it be 0,
     * malloc(0) may give NULL, which would read as out of memory */
    float *sums = malloc((count ? count : 1) * sizeof *sums), *at = sums;
    if (!sums) return CLAE_FAIL(m->ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    for (int k = 0; k < BATCH_SUMS; k++) {
        if (!s[k].mem) continue;
        CL_CHECK(m->ctx, clEnqueueReadBuffer(m->ctx->queue, s[k].mem, CL_TRUE, 0,
                                             done * s[k].per_batch * sizeof *at,
                                             at, 0, NULL, NULL));
        if (s[k].shared)
            CLAE_TRY(clae__sum_across(m->ctx, o, at, done * s[k].per_batch));
        at += done * s[k].per_batch;
    }
    free(m->partial_sums);
    m->partial_sums = sums;
    sums = NULL;
    m->partial_count = count;
    m->partial_batches = done;
    m->partial_batch_size = b;
fail:
    free(sums);
    return status;
}

/* Resuming an interrupted epoch: puts its batches' sums back (the shared
 * ones, which hold every replica's, on replica 0 only) and returns how many
 * batches it had done (0 for a fresh epoch). */
static clae_status restore_partial(trainer *t, clae_model *m,
                                   const clae_train_options *o, size_t batches,
                                   size_t *done)
{
    clae_status status = CLAE_SUCCESS;
    size_t b = o->batch_size;
    *done = m->partial_batches;
    if (!*done) return CLAE_SUCCESS;
    batch_sums s[BATCH_SUMS];
    batch_sums_of(t, m, b, s);
    size_t count = 0;
    for (int k = 0; k < BATCH_SUMS; k++)
        if (s[k].mem) count += *done * s[k].per_batch;
    if (m->partial_batch_size != b || *done >= batches ||
        count != m->partial_count)
        return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE,
                         "the checkpoint stopped after batch %zu of epoch %u "
                         "at batch size %zu: resume it with the same data, "
                         "batch size and options",
                         *done, m->epoch + 1, m->partial_batch_size);
    const float *at = m->partial_sums;
    for (int k = 0; k < BATCH_SUMS; k++) {
        if (!s[k].mem) continue;
        size_t count_k = *done * s[k].per_batch;
        if (s[k].shared && clae__replicated(o) && o->replica != 0)
            CLAE_TRY(fill_zero(m->ctx, s[k].mem, 0, count_k));
        else
            CL_CHECK(m->ctx, clEnqueueWriteBuffer(m->ctx->queue, s[k].mem,
                                                  CL_TRUE, 0,
                                                  count_k * sizeof *at, at, 0,
                                                  NULL, NULL));
        at += count_k;
    }
fail:
    return status;
}

/* Batches the host may enqueue ahead of the device when training can be
 * interrupted: enough to keep the device busy, few enough that an
 * interrupt stops it soon (the host would otherwise enqueue the whole
 * epoch at once and wait at its end). */
enum { RUN_AHEAD = 4 };

/* Before batch k: waits until batch k - RUN_AHEAD is done. After it:
 * marks its end in ring[k % RUN_AHEAD]. */
static clae_status pace(clae_context *ctx, cl_event ring[RUN_AHEAD],
                        size_t k, int after)
{
    clae_status status = CLAE_SUCCESS;
    cl_event *slot = &ring[k % RUN_AHEAD];
    if (after) {
        CL_CHECK(ctx, clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, slot));
        CL_CHECK(ctx, clFlush(ctx->queue));
    } else if (*slot) {
        CL_CHECK(ctx, clWaitForEvents(1, slot));
        clReleaseEvent(*slot);
        *slot = NULL;
    }
fail:
    return status;
}

static void release_ring(cl_event ring[RUN_AHEAD])
{
    for (int i = 0; i < RUN_AHEAD; i++)
        if (ring[i]) clReleaseEvent(ring[i]);
}

static void forget_partial(clae_model *m)
{
    free(m->partial_sums);
    m->partial_sums = NULL;
    m->partial_count = m->partial_batches = m->partial_batch_size = 0;
}

/* One batch of `rows` rows from `start`: forward, loss and backward of the
 * replica's share (a replica with no rows of it adds a zero gradient and
 * zero loss sums), the gradients summed over the replicas, the weight
 * penalty, and the update, unless CLAE_ON_NAN_SKIP_BATCH skips it. */
static clae_status train_batch(trainer *t, clae_model *m,
                               const clae_train_options *o, size_t start,
                               size_t rows, size_t batches)
{
    clae_status status = CLAE_SUCCESS;
    size_t k = start / o->batch_size, chunks = clae__chunks(m->spec.input);
    size_t lo, hi, off;
    cl_mem x;
    clae__share_of(o, rows, &lo, &hi);
    t->ws->draw = (uint32_t)m->step;
    t->ws->kl_off = start + lo;
    t->ws->mean_rows = clae__replicated(o) ? rows : 0;
    if (variational(m)) t->ws->kl_weight = kl_weight(m, o->kl_warmup, batches);
    clae__penalty_activity_slot(&t->penalty, k, t->ws);
    if (hi > lo) {
        CLAE_TRY(clae__feed_batch(&t->train, start + lo, hi - lo, &x, &off));
        CLAE_TRY(clae__model_forward(m, t->ws, x, off, hi - lo));
        CLAE_TRY(clae__model_loss_backward(m, t->ws, x, off, hi - lo,
                                           t->train_loss, k * chunks));
        t->ws->layer_done = clae__replicated(o) ? clae__start_slice_read : NULL;
        t->ws->layer_done_user = t;
        status = clae__model_backward(m, t->ws, x, off, hi - lo);
        t->ws->layer_done = NULL;
        CLAE_TRY(status);
    } else {
        CLAE_TRY(fill_zero(m->ctx, t->ws->grads, 0, m->param_count));
        CLAE_TRY(fill_zero(m->ctx, t->train_loss, k * chunks, chunks));
        /* No backward pass to follow: every slice's read starts now. */
        for (size_t l = m->count; clae__replicated(o) && l-- > 0;)
            CLAE_TRY(clae__start_slice_read(t, l));
    }
    if (clae__replicated(o)) CLAE_TRY(clae__sum_slices(t, m, o));
    CLAE_TRY(clae__penalty_batch(m, &t->penalty, t->ws->grads, k));
    int finite = 1;
    if (t->skipped) CLAE_TRY(clae__batch_finite(t, m, k, &finite));
    if (finite) CLAE_TRY(clae__optim_step(m, &t->optim, t->ws->grads));
    else CLAE_TRY(clae__mark_skipped(t, m, k));
fail:
    return status;
}

/* One epoch over a fresh permutation: batch, forward, loss, backward,
 * weight penalty, update per batch; nothing waits until the losses are read at the end
 * (except, for a streamed set, on the upload of each chunk, when
 * somebody watches the progress, and for CLAE_ON_NAN_SKIP_BATCH's check
 * of each batch). A resumed epoch starts after the
 * batches its checkpoint had done; an interrupt stops it after the batch
 * under way (CLAE_ERR_INTERRUPTED, the model keeping what it needs to
 * resume). */
static clae_status train_epoch(trainer *t, clae_model *m, size_t n,
                               const clae_train_options *o,
                               clae_epoch_metrics *metrics)
{
    double *loss = &metrics->train_loss;
    clae_status status = CLAE_SUCCESS;
    size_t b = o->batch_size, d = m->spec.input, batches = (n + b - 1) / b;
    size_t first;
    cl_event ring[RUN_AHEAD] = {NULL};
    size_t every = o->progress_batches ? o->progress_batches
                                       : (batches + 19) / 20;
    double penalty, started = now_seconds();
    clae__random_permutation(t->perm_host, n, o->seed, CLAE_STREAM_SHUFFLE,
                             m->epoch);
    /* A replica writes the KL divergences of its shares only. */
    if (clae__replicated(o) && t->train_kl)
        CLAE_TRY(fill_zero(m->ctx, t->train_kl, 0, n));
    CLAE_TRY(restore_partial(t, m, o, batches, &first));
    CLAE_TRY(clae__feed_begin(&t->train, t->perm_host));
    t->ws->training = 1;
    t->ws->kl = t->train_kl;
    t->ws->seed = o->seed;
    for (size_t start = first * b; start < n; start += b) {
        size_t rows = n - start < b ? n - start : b, done = start / b + 1;
        int stop;
        if (o->interrupt) CLAE_TRY(pace(m->ctx, ring, start / b, 0));
        CLAE_TRY(train_batch(t, m, o, start, rows, batches));
        if (o->interrupt) CLAE_TRY(pace(m->ctx, ring, start / b, 1));
        if (o->on_progress && (done % every == 0 || done == batches))
            CLAE_TRY(report_progress(t, m, o, done, batches, start + rows,
                                     started));
        CLAE_TRY(clae__interrupted(m->ctx, o, &stop));
        if (stop && done < batches) {
            CLAE_TRY(keep_partial(t, m, o, done));
            status = CLAE_FAIL(m->ctx, CLAE_ERR_INTERRUPTED,
                               "interrupted after batch %zu of %zu of epoch %u",
                               done, batches, m->epoch + 1);
            goto fail;
        }
    }
    forget_partial(m);
    size_t kept = n;
    if (t->skipped) CLAE_TRY(clae__find_skipped(t, m, n, b, metrics, &kept));
    if (!kept) { /* every batch skipped: the epoch diverged */
        *loss = NAN;
        goto fail;
    }
    sum_rule rule = {o, t->skipped, clae__chunks(d)};
    CLAE_TRY(mean_loss(m->ctx, t->train_loss, t->loss_host,
                       t->train_loss_count, rule,
                       (double)clae__loss_divisor(m, kept), loss));
    if (variational(m)) {
        rule.per_batch = b;
        CLAE_TRY(add_kl(m, t->train_kl, t->loss_host, n, rule, kept, loss,
                        &metrics->train_recon, &metrics->train_kl));
    }
    CLAE_TRY(clae__penalty_epoch(m, &t->penalty, n, b, t->skipped, kept,
                                 &penalty));
    *loss += penalty;
fail:
    release_ring(ring);
    return status;
}

static const char *not_finite_name(double x)
{
    return isnan(x) ? "NaN" : x > 0 ? "infinite" : "-infinite";
}

/* A diverged epoch: the 1-based number of its first batch whose sums
 * (loss, penalty or KL) are not finite; 0 when none is. */
static clae_status first_bad_batch(const trainer *t, const clae_model *m,
                                   const clae_train_options *o, size_t *batch)
{
    clae_status status = CLAE_SUCCESS;
    batch_sums s[BATCH_SUMS];
    float *host = NULL;
    batch_sums_of(t, m, o->batch_size, s);
    *batch = 0;
    for (int k = 0; k < BATCH_SUMS; k++) {
        size_t bytes = 0;
        if (!s[k].mem) continue;
        CL_CHECK(m->ctx, clGetMemObjectInfo(s[k].mem, CL_MEM_SIZE, sizeof bytes,
                                            &bytes, NULL));
        free(host);
        if (!(host = malloc(bytes))) {
            status = CLAE_FAIL(m->ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
            goto fail;
        }
        CL_CHECK(m->ctx, clEnqueueReadBuffer(m->ctx->queue, s[k].mem, CL_TRUE, 0,
                                             bytes, host, 0, NULL, NULL));
        if (s[k].shared)
            CLAE_TRY(clae__sum_across(m->ctx, o, host, bytes / sizeof *host));
        for (size_t i = 0; i < bytes / sizeof *host; i++)
            if (!isfinite(host[i])) {
                size_t found = i / s[k].per_batch + 1;
                if (!*batch || found < *batch) *batch = found;
                break;
            }
    }
fail:
    free(host);
    return status;
}

/* The validation loss counts the penalty at the epoch's final weights, as
 * Keras's val_loss does. */
static clae_status validate(trainer *t, clae_model *m,
                            clae_epoch_metrics *metrics)
{
    clae_status status = CLAE_SUCCESS;
    double penalty, *loss = &metrics->val_loss;
    t->ws->kl = t->val_kl;
    CLAE_TRY(evaluate_feed(m, t->ws, &t->val, t->val_loss, t->loss_host, loss));
    if (variational(m))
        CLAE_TRY(add_kl(m, t->val_kl, t->loss_host, t->val.data->n,
                        OWN_SUMS, t->val.data->n, loss,
                        &metrics->val_recon, &metrics->val_kl));
    CLAE_TRY(clae__penalty_now(m, &t->penalty, &penalty));
    *loss += penalty;
fail:
    return status;
}

/* The host part is what the device parts leave of the wall time. */
static void split_host_time(clae_profile *p, double wall_seconds)
{
    double device = 0.0;
    for (int i = 0; i < CLAE_PROFILE_PARTS; i++) device += p->seconds[i];
    p->seconds[CLAE_PROFILE_HOST] =
        wall_seconds > device ? wall_seconds - device : 0.0;
}

static clae_status check_options(clae_context *ctx, const clae_train_options *o)
{
    if (o->batch_size == 0 || o->batch_size > (1u << 24))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "batch size %zu is out of range",
                         o->batch_size);
    if (!(o->learning_rate > 0.0f) || !isfinite(o->learning_rate))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "learning rate must be positive");
    if (clae__replicated(o) && (!o->sum_across || o->replica >= o->replicas))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "replica %u of %u: needs sum_across and a replica "
                         "number below the count", o->replica, o->replicas);
    if (clae__replicated(o) && o->on_nan == CLAE_ON_NAN_SKIP_BATCH)
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "skipping batches is not supported with replicas");
    return CLAE_SUCCESS;
}

clae_status clae_train(clae_model *m, const clae_data *train,
                       const clae_data *val, const clae_train_options *o)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    trainer t = {0};
    clae_data *train_copy = NULL, *val_copy = NULL;
    CLAE_TRY(check_options(ctx, o));
    CLAE_TRY(clae__check_width(m, train, m->spec.input, "the training data"));
    if (val) CLAE_TRY(clae__check_width(m, val, m->spec.input, "the validation data"));
    CLAE_TRY(clae__standardized(m, train, &train, &train_copy));
    if (val) CLAE_TRY(clae__standardized(m, val, &val, &val_copy));
    CLAE_TRY(trainer_init(&t, m, train, val, o));
    CLAE_TRY(clae__model_note_training(m, o->seed));

    for (unsigned e = 0; e < o->epochs; e++) {
        int halt;
        CLAE_TRY(clae__interrupted(ctx, o, &halt));
        if (halt) {
            status = CLAE_FAIL(ctx, CLAE_ERR_INTERRUPTED,
                               "interrupted after epoch %u", m->epoch);
            goto fail;
        }
        clae_epoch_metrics metrics = {
            .epoch = m->epoch + 1, .val_loss = NAN, .train_recon = NAN,
            .train_kl = NAN, .val_recon = NAN, .val_kl = NAN};
        clae_profile profile = {{0}};
        double start = now_seconds();
        clae__profile_start(ctx);
        CLAE_TRY(train_epoch(&t, m, train->n, o, &metrics));
        metrics.seconds = now_seconds() - start;
        if (ctx->profiling) {
            CLAE_TRY(clae__profile_collect(ctx, &profile));
            split_host_time(&profile, metrics.seconds);
            metrics.profile = &profile;
        }
        if (!isfinite(metrics.train_loss) && metrics.skipped_batches) {
            status = CLAE_FAIL(ctx, CLAE_ERR_DIVERGED,
                               "every batch of epoch %u had a loss or gradient "
                               "that was not finite (try a smaller learning "
                               "rate)",
                               metrics.epoch);
            goto fail;
        }
        if (!isfinite(metrics.train_loss)) {
            size_t batch;
            CLAE_TRY(first_bad_batch(&t, m, o, &batch));
            status = CLAE_FAIL(ctx, CLAE_ERR_DIVERGED,
                               "the training loss became %s in epoch %u, "
                               "batch %zu (try a smaller learning rate, or "
                               "skipping such batches)",
                               not_finite_name(metrics.train_loss),
                               metrics.epoch, batch);
            goto fail;
        }
        m->epoch++;
        int stop = 0;
        if (val) {
            CLAE_TRY(validate(&t, m, &metrics));
            if (!isfinite(metrics.val_loss)) {
                status = CLAE_FAIL(ctx, CLAE_ERR_DIVERGED,
                                   "the validation loss became %s after "
                                   "epoch %u (try a smaller learning rate)",
                                   not_finite_name(metrics.val_loss),
                                   metrics.epoch);
                goto fail;
            }
            CLAE_TRY(clae__early_stop_update(m, &t.early_stop,
                                             metrics.val_loss, &stop));
        }
        m->train_loss = metrics.train_loss;
        m->val_loss = metrics.val_loss;
        if (o->on_epoch && o->on_epoch(o->user, &metrics)) break;
        if (stop) break;
    }
    CLAE_TRY(clae__early_stop_restore(m, &t.early_stop));
fail:
    clae__profile_release_events(&ctx->profiler);
    trainer_release(&t);
    clae_data_free(train_copy);
    clae_data_free(val_copy);
    return status;
}

/* How evaluate scores each sample. */
typedef enum { SCORE_NONE, SCORE_RECON, SCORE_ELBO } score_kind;

/* The mean loss on data; with noisy, the model's noise layers corrupt
 * the inputs (keyed by seed) while the loss compares with the clean data.
 * Unless scoring is SCORE_NONE, also each sample's score (malloc'ed): its
 * reconstruction loss on the scale of the mean, plus, for SCORE_ELBO, its
 * KL divergence (the negative ELBO of a variational model). */
static clae_status evaluate(clae_model *m, const clae_data *data,
                            size_t batch_size, int noisy, uint64_t seed,
                            score_kind scoring, double *loss,
                            float **per_sample)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    clae_workspace *ws = NULL;
    clae__feed feed = {0};
    cl_mem sample_loss = NULL, kl = NULL;
    float *host = NULL, *kl_host = NULL;
    clae_data *copy = NULL;
    if (batch_size == 0)
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "batch size must be positive");
    CLAE_TRY(clae__check_width(m, data, m->spec.input, "the data"));
    CLAE_TRY(clae__standardized(m, data, &data, &copy));
    const size_t n = data->n;
    if (!(host = malloc(n * sizeof *host)) ||
        (variational(m) && !(kl_host = malloc(n * sizeof *kl_host)))) {
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    CLAE_TRY(clae__workspace_create(m, batch_size, &ws));
    ws->noisy = noisy;
    ws->seed = seed;
    CLAE_TRY(clae__feed_create(ctx, data, batch_size, clae__data_budget(ctx),
                               0, &feed));
    CLAE_TRY(clae__buffer(ctx, n * sizeof(float), "sample losses",
                          &sample_loss));
    if (variational(m)) {
        CLAE_TRY(clae__buffer(ctx, n * sizeof(float), "KL divergences", &kl));
        ws->kl = kl;
    }
    CLAE_TRY(evaluate_feed(m, ws, &feed, sample_loss, host, loss));
    double recon, kl_mean;
    if (kl)
        CLAE_TRY(add_kl(m, kl, kl_host, n, OWN_SUMS, n, loss, &recon,
                        &kl_mean));
    if (scoring != SCORE_NONE) {
        const float divisor = (float)clae__loss_divisor(m, 1);
        for (size_t i = 0; i < n; i++)
            host[i] = host[i] / divisor +
                      (scoring == SCORE_ELBO ? kl_host[i] : 0.0f);
        *per_sample = host;
        host = NULL;
    }
fail:
    free(host);
    free(kl_host);
    clae_data_free(copy);
    clae__release_mem(&sample_loss);
    clae__release_mem(&kl);
    clae__feed_release(&feed);
    clae__workspace_destroy(ws);
    return status;
}

clae_status clae_evaluate(clae_model *m, const clae_data *data,
                          size_t batch_size, double *loss)
{
    return evaluate(m, data, batch_size, 0, 0, SCORE_NONE, loss, NULL);
}

clae_status clae_score(clae_model *m, const clae_data *data,
                       size_t batch_size, float **scores)
{
    double mean;
    *scores = NULL;
    return evaluate(m, data, batch_size, 0, 0, SCORE_RECON, &mean, scores);
}

clae_status clae_score_elbo(clae_model *m, const clae_data *data,
                            size_t batch_size, float **scores)
{
    double mean;
    *scores = NULL;
    if (!variational(m))
        return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE,
                         "the negative ELBO needs a variational model (a "
                         "'latent' layer)");
    return evaluate(m, data, batch_size, 0, 0, SCORE_ELBO, &mean, scores);
}

clae_status clae_evaluate_noisy(clae_model *m, const clae_data *data,
                                size_t batch_size, uint64_t seed, double *loss)
{
    return evaluate(m, data, batch_size, 1, seed, SCORE_NONE, loss, NULL);
}
