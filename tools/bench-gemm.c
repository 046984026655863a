/* bench-gemm: GFLOPS of every GEMM of a training step through clae's
 * CLBlast path (the wrapper, the tuned parameters, the workspace scratch).
 * The shapes are those the layers list for a full batch of the model.
 * One line per GEMM, for tools/bench.py to read:
 *   gemm layer=0 role=forward op=NT m=256 n=128 k=784 gflops=61.2
 * Usage: build/bench-gemm [--arch NAME] [--batch-size B] [--device P:D] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

enum { WARMUP = 3, SECONDS_PER_SHAPE = 1 };

static const char *const roles[] = {"forward", "weight_grad", "input_grad"};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Runs the GEMM until SECONDS_PER_SHAPE have passed; returns GFLOPS. */
static clae_status time_gemm(clae_context *ctx, const clae_gemm *g, cl_mem temp,
                             double *gflops)
{
    clae_status status = CLAE_SUCCESS;
    for (int i = 0; i < WARMUP; i++) CLAE_TRY(clae__gemm(ctx, g, temp));
    CL_CHECK(ctx, clFinish(ctx->queue));
    double start = now(), elapsed;
    size_t runs = 0;
    do {
        for (int i = 0; i < 10; i++) CLAE_TRY(clae__gemm(ctx, g, temp));
        CL_CHECK(ctx, clFinish(ctx->queue));
        runs += 10;
    } while ((elapsed = now() - start) < SECONDS_PER_SHAPE);
    *gflops = 2.0 * (double)g->m * (double)g->n * (double)g->k * (double)runs /
              elapsed * 1e-9;
fail:
    return status;
}

static int fail(clae_context *ctx, clae_status status)
{
    fprintf(stderr, "bench-gemm: %s\n",
            *clae_last_error(ctx) ? clae_last_error(ctx) : clae_strerror(status));
    return 1;
}

int main(int argc, char **argv)
{
    clae_context_options options = {0};
    const char *arch = "reference";
    size_t batch = 256;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--device") == 0) options.device = argv[i + 1];
        else if (strcmp(argv[i], "--arch") == 0) arch = argv[i + 1];
        else if (strcmp(argv[i], "--batch-size") == 0) batch = strtoul(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "usage: bench-gemm [--arch NAME] [--batch-size B] "
                            "[--device P:D]\n");
            return 2;
        }
    }
    const clae_image_shape fashion = {28, 28, 1};
    clae_context *ctx = NULL;
    clae_model *model = NULL;
    clae_workspace *ws = NULL;
    cl_mem input = NULL;
    char *spec = NULL;
    clae_status status;
    if ((status = clae_context_create(&options, &ctx)) ||
        (status = clae_arch_spec(ctx, arch, 784, &fashion, &spec)) ||
        (status = clae_model_create(ctx, spec, 0, &model)) ||
        (status = clae__workspace_create(model, batch, &ws)) ||
        (status = clae__buffer(ctx, batch * model->spec.input * sizeof(float),
                               "input", &input)))
        return fail(ctx, status);
    printf("device %s, gemm parameters %s\n", clae_context_device(ctx)->name,
           *ctx->gemm_tuning ? ctx->gemm_tuning : "CLBlast's own");
    for (size_t i = 0; i < model->count; i++) {
        const clae_layer *l = &model->layers[i];
        clae_gemm g[CLAE_MAX_LAYER_GEMMS];
        /* The first layer reads a batch: any values will do for timing. */
        size_t count = clae__layer_gemms(model, l, ws, i ? ws->a[i - 1] : input, 0,
                                     batch, g);
        for (size_t k = 0; k < count; k++) {
            double gflops = 0.0;
            if ((status = time_gemm(ctx, &g[k], ws->temp, &gflops)))
                return fail(ctx, status);
            printf("gemm layer=%zu role=%s op=%c%c m=%zu n=%zu k=%zu "
                   "gflops=%.1f\n",
                   i, roles[k], g[k].trans_a ? 'T' : 'N',
                   g[k].trans_b ? 'T' : 'N', g[k].m, g[k].n, g[k].k, gflops);
            fflush(stdout);
        }
    }
    clae__release_mem(&input);
    clae__workspace_destroy(ws);
    clae_model_destroy(model);
    free(spec);
    clae_context_destroy(ctx);
    return 0;
}
