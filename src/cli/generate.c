/* clae generate: new samples from a variational model, decoded from codes
 * drawn from its prior N(0, I), as a PNG grid. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char help[] =
    "usage: clae generate --load F --out SAMPLES.png [--n N] [--seed S]\n"
    "                     [--batch-size B]\n"
    "Draws N codes z ~ N(0, I), the prior of a variational model (one whose\n"
    "spec has a 'latent K gaussian' layer), decodes them and writes the\n"
    "samples as a PNG, a square grid. A seed draws the same codes on every\n"
    "device.\n\n"
    RUN_HELP
    "  --out F               the picture (.png)\n"
    "  --n N                 samples to draw (default 64)\n"
    "  --seed S              keys the draws (default 0)\n"
    COMMON_HELP;

enum { OPT_N = OPT_FIRST_COMMAND_OPTION, OPT_SEED };

/* No --data: the codes come from the seed. */
static const struct option options[] = {
    RUN_MODEL_OPTIONS,
    {"n", required_argument, NULL, OPT_N},
    {"seed", required_argument, NULL, OPT_SEED},
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

typedef struct {
    size_t n;
    uint64_t seed;
} generate_args;

static int generate_option(void *user, int opt, const char *arg)
{
    generate_args *g = user;
    if (opt == OPT_SEED) {
        if (!cli_parse_u64(arg, &g->seed))
            return cli_usage_error("generate", "--seed: '%s' is not a "
                                               "non-negative integer", arg);
        return 0;
    }
    if (!cli_parse_size(arg, &g->n) || g->n == 0 || g->n > 4096)
        return cli_usage_error("generate", "--n: '%s' is not a count from 1 "
                                           "to 4096", arg);
    return 0;
}

int cmd_generate(int argc, char **argv)
{
    cli_run r = {0};
    generate_args g = {64, 0};
    float *images = NULL;
    clae_image_shape shape;
    /* "" for the data: none is read. */
    int rc = cli_run_parse(&r, "generate", argc, argv, options,
                           generate_option, &g, "", "--data",
                           NEEDS_LOAD | NEEDS_OUT);
    if (rc || r.common.help) {
        if (r.common.help) fputs(help, stdout);
        return rc;
    }
    if ((rc = cli_run_open_model(&r, "generate")) ||
        (rc = cli_run_need_variational(&r, "generate")))
        goto done;
    clae_status status = clae_image_shape_of(r.model, NULL, &shape);
    if (!status)
        status = clae_generate(r.model, g.n, g.seed, r.batch, NULL, &images);
    if (!status)
        status = clae_png_write_grid(r.ctx, r.out, images, g.n, &shape,
                                     (size_t)ceil(sqrt((double)g.n)));
    if (status) {
        rc = cli_fail("generate", r.ctx, status);
        goto done;
    }
    printf("wrote %s: %zu samples (%ux%u, %s) decoded from codes of %zu "
           "dimensions drawn from N(0, I) with seed %" PRIu64 "\n",
           r.out, g.n, shape.height, shape.width,
           cli_image_colours(&shape),
           clae_model_code_width(r.model), g.seed);
done:
    free(images);
    cli_run_close(&r);
    return rc;
}
