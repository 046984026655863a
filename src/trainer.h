/* What one training run holds (src/train.c), shared with the parts of the
 * loop that live in their own files: replicas (train_replicas.c) and
 * CLAE_ON_NAN_SKIP_BATCH (train_skip.c). */
#ifndef CLAE_TRAINER_H
#define CLAE_TRAINER_H

#include "early_stop.h"
#include "feed.h"
#include "optim.h"
#include "penalty.h"

/* Everything one training run holds on the device and the host. */
typedef struct {
    clae_workspace *ws;
    clae_optim optim;
    clae_penalty penalty;
    clae__early_stop early_stop;
    clae__feed train, val;
    cl_mem train_loss; /* per batch, the loss per chunk of columns */
    cl_mem val_loss;   /* per sample */
    cl_mem train_kl, val_kl; /* variational models: per sample */
    size_t train_loss_count;
    uint32_t *perm_host;
    float *loss_host; /* room for either set of losses */
    /* CLAE_ON_NAN_SKIP_BATCH: the gradient's partial sums of |g|, on the
     * device and the host, and the epoch's skipped batches. */
    cl_mem grad_sums;
    float *grad_host;
    unsigned char *skipped;
    /* Replicas: the gradient, summed through the host, and per layer the
     * read of its slice, started as soon as its backward pass is enqueued. */
    float *grads_host;
    cl_event *slice_read;
    clae_model *model;
} trainer;

/* ---- replicas (clae_train_options.replicas; train_replicas.c) ---------- */

int clae__replicated(const clae_train_options *o);
/* host[0 .. count) = its sum over the replicas, if there are. */
clae_status clae__sum_across(clae_context *ctx, const clae_train_options *o,
                             float *host, size_t count);
/* The replica's rows [*lo, *hi) of a batch of `rows`. */
void clae__share_of(const clae_train_options *o, size_t rows, size_t *lo,
                    size_t *hi);
/* The workspace's layer_done hook (user: the trainer). */
clae_status clae__start_slice_read(void *user, size_t layer);
/* The gradient summed across, slice by slice as the reads arrive. */
clae_status clae__sum_slices(trainer *t, clae_model *m,
                             const clae_train_options *o);
/* Whether training stops here: interrupted on any replica. */
clae_status clae__interrupted(clae_context *ctx, const clae_train_options *o,
                              int *stop);

/* ---- CLAE_ON_NAN_SKIP_BATCH (train_skip.c) ------------------------------ */

/* Whether batch k's loss and gradient are finite (the host waits). */
clae_status clae__batch_finite(trainer *t, clae_model *m, size_t k,
                               int *finite);
/* Marks batch k skipped: its loss sums become NaN. */
clae_status clae__mark_skipped(trainer *t, clae_model *m, size_t k);
/* The epoch's skipped batches into t->skipped and metrics, and the rows of
 * the others. */
clae_status clae__find_skipped(trainer *t, clae_model *m, size_t n, size_t b,
                               clae_epoch_metrics *metrics, size_t *kept_rows);

#endif
