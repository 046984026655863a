/*
 * The README's minimal program: the reference model trained on images
 * made in memory, then their codes (make test builds and runs it).
 *
 *   cc minimal.c $(pkg-config --cflags --libs clae) -o minimal
 */
#include <clae.h>
#include <stdio.h>
#include <stdlib.h>

enum { N = 4096, D = 784 };

static int print_epoch(void *user, const clae_epoch_metrics *m)
{
    (void)user;
    printf("epoch %u  train_loss %.6f\n", m->epoch, m->train_loss);
    return 0; /* nonzero stops training */
}

int main(void)
{
    /* In memory: N images of 28 x 28 stripes, values in [0, 1]. */
    float *x = malloc(sizeof(float) * N * D);
    if (!x) return 1;
    for (size_t i = 0; i < (size_t)N * D; i++)
        x[i] = (float)((i % D / 28 + i / D) % 16 < 8);

    clae_context *ctx = NULL;
    clae_data *data = NULL;
    clae_model *model = NULL;
    char *spec = NULL;
    float *codes = NULL;
    clae_train_options o;
    clae_train_options_default(&o); /* Adam 1e-3, batch 256 */
    o.epochs = 3;
    o.on_epoch = print_epoch;

    clae_status st = clae_context_create(NULL, &ctx); /* a GPU if any */
    if (!st) st = clae_data_from_array(ctx, x, N, D, &data); /* a copy */
    /* The reference model: 784 -> 128 relu -> 784 sigmoid, bce. */
    if (!st) st = clae_arch_spec(ctx, "reference", D, NULL, &spec);
    if (!st) st = clae_model_create(ctx, spec, 0, &model);
    if (!st) st = clae_train(model, data, NULL, &o); /* no validation set */
    if (!st) st = clae_encode(model, data, 256, &codes); /* N x 128 */
    if (!st) printf("code of image 0: %g %g ...\n", codes[0], codes[1]);
    if (st) fprintf(stderr, "%s: %s\n", clae_strerror(st), clae_last_error(ctx));
    free(codes);
    free(spec);
    free(x);
    clae_data_free(data);
    clae_model_destroy(model);
    clae_context_destroy(ctx);
    return st ? 1 : 0;
}
