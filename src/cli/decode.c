/* clae decode: samples back from codes (clae encode's .npy). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "usage: clae decode --load F --codes CODES.npy --out F.npy|F.png\n"
    "                   [--batch-size B]\n"
    "Maps codes (an N x K array, as clae encode writes them) back through the\n"
    "model's decoder (the layers after the code layer) and writes the N x D\n"
    "outputs as a float32 .npy array, or as a picture (a square grid) when\n"
    "F ends in .png.\n\n"
    RUN_HELP
    "  --codes F             the codes (.npy or .csv, N x K)\n"
    "  --out F               the decoded samples (.npy or .png)\n"
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
    cli_run r = {.input_is_codes = 1};
    float *out = NULL;
    int rc = cli_run_parse(&r, "decode", argc, argv, options, NULL, NULL, NULL,
                           "--codes", NEEDS_LOAD | NEEDS_OUT);
    if (rc || r.common.help) {
        if (r.common.help) fputs(help, stdout);
        return rc;
    }
    if ((rc = cli_run_open(&r, "decode"))) goto done;
    const size_t n = r.input->n, d = clae_model_input_width(r.model);
    const uint64_t shape[2] = {n, d};
    const size_t len = strlen(r.out);
    const int png = len >= 4 && strcmp(r.out + len - 4, ".png") == 0;
    clae_image_shape image;
    clae_status status = png ? clae_image_shape_of(r.model, NULL, &image) : 0;
    if (!status) status = clae_decode(r.model, r.input, r.batch, &out);
    if (!status && png)
        status = clae_png_write_grid(r.ctx, r.out, out, n, &image,
                                     (size_t)ceil(sqrt((double)n)));
    else if (!status)
        status = clae_npy_write(r.ctx, r.out, out, 2, shape);
    if (status) {
        rc = cli_fail("decode", r.ctx, status);
        goto done;
    }
    if (png)
        printf("decoded %zu codes: %s (a grid of %ux%u images)\n", n, r.out,
               image.height, image.width);
    else
        printf("decoded %zu codes: %s (%zu x %zu float32)\n", n, r.out, n, d);
done:
    free(out);
    cli_run_close(&r);
    return rc;
}
