/* clae encode: the codes of a data set, as a .npy array. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char help[] =
    "usage: clae encode --load F [--data F] --out CODES.npy [--batch-size B]\n"
    "Writes the code (the output of the model's code layer) of every sample\n"
    "of a data set (default: the Fashion-MNIST test set) as an N x K float32\n"
    ".npy array, and prints the compression ratio and the reconstruction\n"
    "loss: clae decode maps the codes back.\n\n"
    RUN_HELP
    "  --data F              a data file (see below)\n"
    "  --out F               the codes (.npy)\n"
    DATA_HELP
    COMMON_HELP;

static const struct option options[] = {
    RUN_OPTIONS,
    DATA_OPTIONS,
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

static const char *dtype_name(unsigned value_bytes)
{
    return value_bytes == 1 ? "uint8" : value_bytes == 8 ? "float64" : "float32";
}

int cmd_encode(int argc, char **argv)
{
    cli_run r = {0};
    float *codes = NULL;
    double loss;
    int rc = cli_run_parse(&r, "encode", argc, argv, options, NULL, NULL,
                           FASHION_TEST, "--data", NEEDS_LOAD | NEEDS_OUT);
    if (rc || r.common.help) {
        if (r.common.help) fputs(help, stdout);
        return rc;
    }
    if ((rc = cli_run_open(&r, "encode"))) goto done;
    const size_t n = r.input->n, d = r.input->d, k = clae_model_code_width(r.model);
    const uint64_t shape[2] = {n, k};
    clae_status status = clae_encode(r.model, r.input, r.batch, &codes);
    if (!status) status = clae_npy_write(r.ctx, r.out, codes, 2, shape);
    if (!status) status = clae_evaluate(r.model, r.input, r.batch, &loss);
    if (status) {
        rc = cli_fail("encode", r.ctx, status);
        goto done;
    }
    const size_t in_bytes = d * r.input->value_bytes, code_bytes = k * sizeof(float);
    printf("encoded %zu samples: %s (%zu x %zu float32)\n", n, r.out, n, k);
    printf("compression: %zu bytes a sample (%zu %s) -> %zu bytes of code, "
           "ratio %.2f; reconstruction loss %.6g\n",
           in_bytes, d, dtype_name(r.input->value_bytes), code_bytes,
           (double)in_bytes / (double)code_bytes, loss);
done:
    free(codes);
    cli_run_close(&r);
    return rc;
}
