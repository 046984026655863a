/* Optimizers: one kernel launch per step over the flat parameter buffer,
 * at the learning rate of the step's schedule, after gradient clipping
 * when it is on. */
#ifndef CLAE_OPTIM_H
#define CLAE_OPTIM_H

#include "model.h"

typedef struct {
    clae_train_options o; /* the run's settings */
    /* The schedule's: the model's steps when this run ends. */
    uint64_t steps_per_epoch, total_steps;
    /* The model's moments (model->moment1 and moment2), borrowed. */
    cl_mem m, v;
    /* Clipping: the squared norm's partial sums and the scale. */
    cl_mem norm_sums, scale;
} clae_optim;

/* Checks the options' optimizer, schedule and clipping settings and makes
 * the state for a run of options->epochs more epochs of steps_per_epoch
 * steps. The model's moments carry on when they are this optimizer's (a
 * resumed run), else start at zero. */
clae_status clae__optim_create(clae_model *model,
                               const clae_train_options *options,
                               uint64_t steps_per_epoch, clae_optim *optim);
void clae__optim_release(clae_optim *optim);

/* Applies ws->grads to the parameters; counts model->step. */
clae_status clae__optim_step(clae_model *model, clae_optim *optim,
                             cl_mem grads);

/* The learning rate of step t (from 0) of a run of total_steps steps. */
float clae__scheduled_lr(const clae_train_options *options, uint64_t t,
                         uint64_t steps_per_epoch, uint64_t total_steps);

/* grads (n) *= min(1, max_norm / (|grads| + 1e-6)) on the device, using
 * sums (clae__sum_blocks(n) floats) and scale (1 float). */
clae_status clae__clip_grad_norm(clae_context *ctx, cl_mem grads, size_t n,
                                 float max_norm, cl_mem sums, cl_mem scale);

#endif
