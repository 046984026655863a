/*
 * Load a trained model and score data with it: each sample's score is its
 * reconstruction error, high for samples unlike the training data (an
 * anomaly score).
 *
 *   cc score.c $(pkg-config --cflags --libs clae) -o score
 *   ./score model.safetensors [data.npy|data.csv|data-idx3-ubyte.gz]
 *
 * With a data file it prints the first scores and their mean. Without one
 * it scores three rows made here: a flat row and a ramp, both of the kind
 * train_encode.c trains on, and a zigzag, which is not.
 */
#include <clae.h>

#include <stdio.h>
#include <stdlib.h>

enum { ROWS = 3 };
static const char *const ROW_NAMES[ROWS] = {"flat", "ramp", "zigzag"};

/* ROWS x d values: 0.5; 0.3 + 0.4 t over t = j / (d - 1); 0.1, 0.9, ... */
static clae_data *made_rows(size_t d)
{
    /* A clae_data owns its struct and its values (clae_data_free). */
    clae_data *data = calloc(1, sizeof *data);
    if (!data || !(data->x = malloc(sizeof(float) * ROWS * d))) {
        free(data);
        return NULL;
    }
    data->n = ROWS;
    data->d = d;
    data->scale = 1;
    data->value_bytes = 4;
    for (size_t j = 0; j < d; j++) {
        double t = d > 1 ? (double)j / (double)(d - 1) : 0;
        data->x[j] = 0.5f;
        data->x[d + j] = (float)(0.3 + 0.4 * t);
        data->x[2 * d + j] = j % 2 ? 0.9f : 0.1f;
    }
    return data;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: score MODEL [DATA]\n");
        return 2;
    }
    clae_context *ctx = NULL;
    clae_model *model = NULL;
    clae_data *data = NULL;
    float *scores = NULL;
    int exit_code = 1;
    clae_status st;

    st = clae_context_create(NULL, &ctx);
    if (st != CLAE_SUCCESS) goto fail;
    /* The model file (safetensors) holds the spec and the weights. */
    st = clae_model_load(ctx, argv[1], &model);
    if (st != CLAE_SUCCESS) goto fail;

    if (argc == 3) {
        /* NULL options: uint8 files are divided by 255, others kept. A
         * model refuses data of another width than its input's. */
        st = clae_data_load(ctx, argv[2], NULL, &data);
        if (st != CLAE_SUCCESS) goto fail;
    } else if (!(data = made_rows(clae_model_input_width(model)))) {
        fprintf(stderr, "score: out of memory\n");
        goto done;
    }

    /* scores: one float a sample, ours to free. */
    st = clae_score(model, data, 256, &scores);
    if (st != CLAE_SUCCESS) goto fail;
    double sum = 0;
    for (size_t i = 0; i < data->n; i++) {
        sum += scores[i];
        if (i < 5)
            printf("sample %zu %s score %g\n", i, argc == 3 ? "" : ROW_NAMES[i],
                   scores[i]);
    }
    printf("%zu samples, mean score %g\n", data->n, sum / (double)data->n);
    exit_code = 0;
    goto done;

fail:
    /* A user error (a missing file, data of the wrong width) exits 2. */
    fprintf(stderr, "score: %s: %s\n", clae_strerror(st), clae_last_error(ctx));
    exit_code = clae_status_is_user_error(st) ? 2 : 1;
done:
    free(scores);
    clae_data_free(data);
    clae_model_destroy(model);
    clae_context_destroy(ctx);
    return exit_code;
}
