/* Optimizers: one kernel launch per step over the flat parameter buffer. */
#ifndef CLAE_OPTIM_H
#define CLAE_OPTIM_H

#include "model.h"

typedef struct {
    clae_optimizer kind;
    float lr, beta1, beta2, eps;
    cl_mem m, v; /* Adam's moments, the parameters' layout; zero at start */
} clae_optim;

clae_status clae__optim_create(clae_model *model,
                               const clae_train_options *options,
                               clae_optim *optim);
void clae__optim_release(clae_optim *optim);

/* Applies ws->grads to the parameters; counts model->step. */
clae_status clae__optim_step(clae_model *model, clae_optim *optim,
                             cl_mem grads);

#endif
