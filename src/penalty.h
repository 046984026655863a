/* Penalties added to each batch's loss: the L1 and L2 weight penalties, as
 * Keras's kernel_regularizer on every layer with weights (l1 sum |w| + l2
 * sum w^2 over the weights, not biases), and the code layer's activity
 * penalties of the spec (the model's backward pass adds those, into the
 * slot clae__penalty_activity_slot gives it). Their values are kept as
 * partial sums on the device, per batch, and read once per epoch like the
 * data loss. */
#ifndef CLAE_PENALTY_H
#define CLAE_PENALTY_H

#include "model.h"

typedef struct {
    float l1, l2;    /* both 0: no weight penalty */
    size_t weight_sums;   /* partial sums of the weight penalties */
    size_t activity_sums; /* partial sums of the activity penalty */
    size_t per_eval; /* partial sums of one batch: weight then activity */
    size_t batches;  /* per epoch */
    cl_mem batch_sums; /* per batch of the epoch, per_eval each */
    cl_mem now_sums;   /* one evaluation outside the batch loop */
    float *host;       /* room for batch_sums */
} clae_penalty;

/* Checks options->l1 and l2 and makes the buffers for epochs of `batches`
 * batches. */
clae_status clae__penalty_create(clae_model *model,
                                 const clae_train_options *options,
                                 size_t batches, clae_penalty *penalty);
void clae__penalty_release(clae_penalty *penalty);

/* The penalty of batch `batch` of the epoch at the current weights into
 * its partial sums, and its gradient added into grads (after the backward
 * pass has written them). */
clae_status clae__penalty_batch(clae_model *model, clae_penalty *penalty,
                                cl_mem grads, size_t batch);

/* Points ws at batch `batch`'s partial sums of the activity penalty. */
void clae__penalty_activity_slot(const clae_penalty *penalty, size_t batch,
                                 clae_workspace *ws);

/* The epoch's penalty as its data loss is averaged: the batches' penalties
 * weighted by their rows (n samples in batches of batch_size), leaving out
 * the batches marked in skipped (NULL: none), whose rows kept_rows does
 * not count. One read. */
clae_status clae__penalty_epoch(clae_model *model, clae_penalty *penalty,
                                size_t n, size_t batch_size,
                                const unsigned char *skipped, size_t kept_rows,
                                double *mean);

/* The weight penalty at the current weights (for the validation loss;
 * the activity penalty is not counted there). */
clae_status clae__penalty_now(clae_model *model, clae_penalty *penalty,
                              double *value);

#endif
