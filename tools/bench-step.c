/* bench-step: how much of a reference training epoch CLBlast takes.
 * Trains the reference model (784-128-784, batch 256) on Fashion-MNIST for
 * two epochs and keeps the second epoch's time, then times the same epoch's
 * GEMMs alone (as the layers list them, at the same shapes, through the
 * same wrapper and scratch buffer) and prints both and the share.
 * Usage: build/bench-step [--device P:D] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

#define FASHION "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int keep_last(void *user, const clae_epoch_metrics *m)
{
    *(double *)user = m->seconds;
    return 0;
}

static int fail(clae_context *ctx, clae_status status)
{
    fprintf(stderr, "bench-step: %s\n",
            *clae_last_error(ctx) ? clae_last_error(ctx) : clae_strerror(status));
    return 1;
}

int main(int argc, char **argv)
{
    clae_context_options options = {0};
    if (argc == 3 && strcmp(argv[1], "--device") == 0) options.device = argv[2];
    clae_context *ctx = NULL;
    clae_data *data = NULL;
    clae_model *model = NULL;
    clae_workspace *ws = NULL;
    char *spec = NULL;
    clae_status status;
    if ((status = clae_context_create(&options, &ctx)) ||
        (status = clae_data_load_idx(ctx, FASHION, &data)) ||
        (status = clae_arch_spec(ctx, "reference", data->d, &spec)) ||
        (status = clae_model_create(ctx, spec, 0, &model)))
        return fail(ctx, status);

    double epoch_seconds = 0.0;
    clae_train_options o;
    clae_train_options_default(&o);
    o.epochs = 2;
    o.on_epoch = keep_last;
    o.user = &epoch_seconds;
    if ((status = clae_train(model, data, NULL, &o))) return fail(ctx, status);

    /* The step's GEMMs as the layers list them (five per batch here), on
     * the workspace's buffers; the first layer's input is any (batch, 784)
     * buffer, since only the time matters. */
    if ((status = clae__workspace_create(model, o.batch_size, &ws)))
        return fail(ctx, status);
    double start = now();
    for (size_t first = 0; first < data->n; first += o.batch_size) {
        size_t rows = data->n - first < o.batch_size ? data->n - first : o.batch_size;
        for (size_t i = 0; i < model->count; i++) {
            const clae_layer *l = &model->layers[i];
            clae_gemm g[CLAE_MAX_LAYER_GEMMS];
            size_t count = l->ops->gemms(model, l, ws, i ? ws->a[i - 1] : ws->a[1],
                                         0, rows, g);
            for (size_t k = 0; k < count; k++)
                if ((status = clae__gemm(ctx, &g[k], ws->temp)))
                    return fail(ctx, status);
        }
    }
    clFinish(ctx->queue);
    double gemm_seconds = now() - start;
    printf("device: %s\n", clae_context_device(ctx)->name);
    printf("epoch (60000 samples, batch 256): %.2f s\n", epoch_seconds);
    printf("its GEMMs alone through CLBlast:  %.2f s (%.0f %% of the epoch)\n",
           gemm_seconds, 100.0 * gemm_seconds / epoch_seconds);
    printf("everything else (own kernels, host): %.2f s\n",
           epoch_seconds - gemm_seconds);
    clae__workspace_destroy(ws);
    clae_model_destroy(model);
    clae_data_free(data);
    free(spec);
    clae_context_destroy(ctx);
    return 0;
}
