/*
 * Train a small autoencoder on data made in memory, then encode them.
 *
 *   cc train_encode.c $(pkg-config --cflags --libs clae) -o train_encode
 *   ./train_encode [model.safetensors]
 *
 * The data are 2,000 samples of 32 values that lie on a plane (each is a
 * mix of two curves with two weights), so a model with a code
 * of 2 features can reconstruct them almost exactly. The model is saved to
 * the path given, if any (score.c scores with it).
 */
#include <clae.h>

#include <stdio.h>
#include <stdlib.h>

enum { N = 2000, D = 32 };

/* A dense autoencoder 32 -> 16 -> 2 -> 16 -> 32 in clae's spec syntax (one
 * layer a line; `code` marks the layer above as the one clae_encode
 * returns). clae_spec_dense and clae_arch_spec write such texts too. */
static const char *const SPEC = "input 32\n"
                                "dense 16 tanh\n"
                                "dense 2 linear\n"
                                "code\n"
                                "dense 16 tanh\n"
                                "dense 32 sigmoid\n"
                                "loss mse\n";

/* Value j of sample i: 0.5 plus u times a line plus v times a parabola
 * over t = j / 31, with the sample's weights (u, v) on a 50 x 40 grid of
 * [-1, 1]^2; all values lie in [0.1, 0.9]. */
static float sample_value(size_t i, size_t j)
{
    double u = (double)(i % 50) / 24.5 - 1, v = (double)(i / 50) / 19.5 - 1;
    double t = (double)j / (D - 1);
    return (float)(0.5 + 0.2 * u * (2 * t - 1) + 0.2 * v * (8 * t * (1 - t) - 1));
}

/* Called by clae_train after every epoch; a nonzero return stops early. */
static int on_epoch(void *user, const clae_epoch_metrics *m)
{
    (void)user;
    printf("epoch %u  train_loss %g  seconds %.2f\n", m->epoch, m->train_loss,
           m->seconds);
    return 0;
}

int main(int argc, char **argv)
{
    const char *save_path = argc > 1 ? argv[1] : NULL;
    clae_context *ctx = NULL;
    clae_model *model = NULL;
    clae_data *data = NULL;
    float *codes = NULL;
    double loss = 0;
    int exit_code = 1;
    clae_status st;

    /* The default device: the first GPU, else the first device
     * ($CLAE_DEVICE=P:D picks another). The context is set even when this
     * fails, so that clae_last_error can say why. */
    st = clae_context_create(NULL, &ctx);
    if (st != CLAE_SUCCESS) goto fail;

    /* A clae_data owns its struct and its values (clae_data_free frees
     * both), so both are malloc'ed. */
    data = calloc(1, sizeof *data);
    if (!data || !(data->x = malloc(sizeof(float) * N * D))) {
        fprintf(stderr, "train_encode: out of memory\n");
        goto done;
    }
    data->n = N;
    data->d = D;
    data->scale = 1;
    data->value_bytes = 4;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < D; j++) data->x[i * D + j] = sample_value(i, j);

    /* Weights from seed 1: the same seed and device give the same bits. */
    st = clae_model_create(ctx, SPEC, 1, &model);
    if (st != CLAE_SUCCESS) goto fail;

    clae_train_options opt;
    clae_train_options_default(&opt); /* Adam 1e-3, batch 256, ... */
    opt.learning_rate = 0.01f;
    opt.batch_size = 32;
    opt.epochs = 8;
    opt.on_epoch = on_epoch;
    st = clae_train(model, data, NULL, &opt); /* no validation set */
    if (st != CLAE_SUCCESS) goto fail;

    /* codes: N x code width floats, row-major, ours to free. */
    st = clae_encode(model, data, 256, &codes);
    if (st != CLAE_SUCCESS) goto fail;
    size_t k = clae_model_code_width(model);
    printf("codes %zu x %zu; sample 0: (%g, %g)\n", data->n, k, codes[0],
           codes[1]);

    /* The mean reconstruction loss over all N x D values. */
    st = clae_evaluate(model, data, 256, &loss);
    if (st != CLAE_SUCCESS) goto fail;
    printf("reconstruction loss %g\n", loss);

    if (save_path) {
        st = clae_model_save(model, save_path);
        if (st != CLAE_SUCCESS) goto fail;
        printf("saved %s\n", save_path);
    }
    exit_code = 0;
    goto done;

fail:
    fprintf(stderr, "train_encode: %s: %s\n", clae_strerror(st),
            clae_last_error(ctx));
done:
    free(codes);
    clae_data_free(data);
    clae_model_destroy(model);
    clae_context_destroy(ctx);
    return exit_code;
}
