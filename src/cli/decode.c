/* clae decode: samples back from codes (clae encode's .npy). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char help[] =
    "usage: clae decode --load F --codes CODES.npy --out F.npy [--batch-size B]\n"
    "Maps codes (an N x K array, as clae encode writes them) back through the\n"
    "model's decoder (the layers after the code layer) and writes the N x D\n"
    "outputs as a float32 .npy array.\n\n"
    RUN_HELP
    "  --codes F             the codes (.npy or .csv, N x K)\n"
    "  --out F               the decoded samples (.npy)\n"
    DATA_HELP
    COMMON_HELP;

static const struct option options[] = {
    RUN_OPTIONS,
    {"codes", required_argument, NULL, OPT_RUN_DATA},
    DATA_OPTIONS,
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

int cmd_decode(int argc, char **argv)
{
    cli_run r = {0};
    float *out = NULL;
    int rc = cli_run_parse(&r, "decode", argc, argv, options, NULL, NULL, NULL,
                           "--codes", 1);
    if (rc || r.common.help) {
        if (r.common.help) fputs(help, stdout);
        return rc;
    }
    if ((rc = cli_run_open(&r, "decode"))) goto done;
    const size_t n = r.input->n, d = clae_model_input_width(r.model);
    const uint64_t shape[2] = {n, d};
    clae_status status = clae_decode(r.model, r.input, r.batch, &out);
    if (!status) status = clae_npy_write(r.ctx, r.out, out, 2, shape);
    if (status) {
        rc = cli_fail("decode", r.ctx, status);
        goto done;
    }
    printf("decoded %zu codes: %s (%zu x %zu float32)\n", n, r.out, n, d);
done:
    free(out);
    cli_run_close(&r);
    return rc;
}
