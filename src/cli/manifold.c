/* clae manifold: what a variational model with a 2-D latent space decodes
 * across it, as a PNG grid (the figure of Keras's VAE example). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char help[] =
    "usage: clae manifold --load F --out MANIFOLD.png [--n N]\n"
    "                     [--batch-size B]\n"
    "For a variational model with a 2-D latent space ('latent 2 gaussian'):\n"
    "an N x N grid of the images it decodes from codes spread evenly over\n"
    "its prior, the normal quantiles of 0.05 to 0.95 in each coordinate;\n"
    "the first grows to the right, the second upward.\n\n"
    RUN_HELP
    "  --out F               the picture (.png)\n"
    "  --n N                 images a side (default 15)\n"
    COMMON_HELP;

enum { OPT_N = OPT_FIRST_COMMAND_OPTION };

/* No --data: the codes are fixed. */
static const struct option options[] = {
    RUN_MODEL_OPTIONS,
    {"n", required_argument, NULL, OPT_N},
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

static int manifold_option(void *n, int opt, const char *arg)
{
    (void)opt; /* OPT_N, the only one */
    if (!cli_parse_size(arg, n) || *(size_t *)n == 0 || *(size_t *)n > 256)
        return cli_usage_error("manifold", "--n: '%s' is not a count from 1 "
                                           "to 256", arg);
    return 0;
}

int cmd_manifold(int argc, char **argv)
{
    cli_run r = {0};
    size_t n = 15;
    float *images = NULL;
    clae_image_shape shape;
    /* "" for the data: none is read. */
    int rc = cli_run_parse(&r, "manifold", argc, argv, options,
                           manifold_option, &n, "", "--data",
                           NEEDS_LOAD | NEEDS_OUT);
    if (rc || r.common.help) {
        if (r.common.help) fputs(help, stdout);
        return rc;
    }
    if ((rc = cli_run_open_model(&r, "manifold")) ||
        (rc = cli_run_need_variational(&r, "manifold")))
        goto done;
    const size_t k = clae_model_code_width(r.model);
    if (k != 2) {
        rc = cli_usage_error("manifold", "--load %s: the latent space has %zu "
                                         "dimensions; manifold draws only 2-D "
                                         "ones (try generate or interpolate)",
                             r.load, k);
        goto done;
    }
    clae_status status = clae_image_shape_of(r.model, NULL, &shape);
    if (!status) status = clae_manifold(r.model, n, r.batch, NULL, &images);
    if (!status)
        status = clae_png_write_grid(r.ctx, r.out, images, n * n, &shape, n);
    if (status) {
        rc = cli_fail("manifold", r.ctx, status);
        goto done;
    }
    printf("wrote %s: %zu x %zu images (%ux%u, %s) decoded from a grid over "
           "the 2-D latent space, the normal quantiles of 0.05 to 0.95\n",
           r.out, n, n, shape.height, shape.width,
           cli_image_colours(&shape));
done:
    free(images);
    cli_run_close(&r);
    return rc;
}
