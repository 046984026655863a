/* Early stopping on the validation loss, as Keras's EarlyStopping with
 * restore_best_weights: an epoch improves when its validation loss is
 * below the best so far by more than min_delta; the best epoch's
 * parameters (and batch-norm statistics) are copied aside on the device;
 * after `patience` epochs without improvement training stops, and at the
 * end the best epoch's weights are put back. */
#ifndef CLAE_EARLY_STOP_H
#define CLAE_EARLY_STOP_H

#include "model.h"

typedef struct {
    unsigned patience; /* 0: off */
    float min_delta;
    double best;
    unsigned best_epoch, waited;
    cl_mem params, state; /* the best epoch's */
} clae__early_stop;

/* Off unless options->patience is set; then it needs a validation set. */
clae_status clae__early_stop_create(clae_model *model,
                                    const clae_train_options *options,
                                    int has_validation, clae__early_stop *es);
void clae__early_stop_release(clae__early_stop *es);

/* After an epoch's validation: *stop is set when patience has run out. */
clae_status clae__early_stop_update(clae_model *model, clae__early_stop *es,
                                    double val_loss, int *stop);

/* Puts the best epoch's weights back (when there was one), and says so in
 * the context's log. */
clae_status clae__early_stop_restore(clae_model *model, clae__early_stop *es);

#endif
