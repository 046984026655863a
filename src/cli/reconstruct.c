/* clae reconstruct: a picture of samples above their reconstructions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "usage: clae reconstruct --load F [--data F] --out GRID.png [--n N]\n"
    "                        [--columns C] [--noisy]\n"
    "Draws the first N samples of a data set (default: the Fashion-MNIST\n"
    "test set) above their reconstructions by the model, as a PNG: rows of\n"
    "C originals, each followed by a row of their reconstructions.\n\n"
    RUN_HELP
    "  --data F              a data file (see below)\n"
    "  --out F               the picture (.png)\n"
    "  --n N                 samples to draw (default 32)\n"
    "  --columns C           samples a row (default 16)\n"
    "  --noisy               a denoising model: rows of the inputs its noise\n"
    "                        layer corrupts, their reconstructions, and the\n"
    "                        clean originals\n"
    DATA_HELP
    COMMON_HELP;

enum { OPT_N = OPT_FIRST_COMMAND_OPTION, OPT_COLUMNS, OPT_NOISY };

static const struct option options[] = {
    RUN_OPTIONS,
    {"n", required_argument, NULL, OPT_N},
    {"columns", required_argument, NULL, OPT_COLUMNS},
    {"noisy", no_argument, NULL, OPT_NOISY},
    DATA_OPTIONS,
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

typedef struct {
    size_t n, columns;
    int noisy;
} grid_args;

static int grid_option(void *user, int opt, const char *arg)
{
    grid_args *g = user;
    if (opt == OPT_NOISY) {
        g->noisy = 1;
        return 0;
    }
    size_t *value = opt == OPT_N ? &g->n : &g->columns;
    if (!cli_parse_size(arg, value) || *value == 0 || *value > 4096)
        return cli_usage_error("reconstruct", "--%s: '%s' is not a count from "
                                              "1 to 4096",
                               opt == OPT_N ? "n" : "columns", arg);
    return 0;
}

int cmd_reconstruct(int argc, char **argv)
{
    cli_run r = {0};
    grid_args g = {32, 16, 0};
    float *recon = NULL, *noisy = NULL, *tiles = NULL;
    clae_image_shape shape;
    int rc = cli_run_parse(&r, "reconstruct", argc, argv, options, grid_option,
                           &g, FASHION_TEST, "--data", NEEDS_LOAD | NEEDS_OUT);
    if (rc || r.common.help) {
        if (r.common.help) fputs(help, stdout);
        return rc;
    }
    if ((rc = cli_run_open(&r, "reconstruct"))) goto done;
    clae_data first = *r.input; /* a view of the first n samples */
    if (first.n > g.n) first.n = g.n;
    const size_t n = first.n, d = first.d;
    clae_status status = clae_image_shape_of(r.model, r.input, &shape);
    if (!status)
        status = g.noisy ? clae_reconstruct_noisy(r.model, &first, r.batch, 0,
                                                  &noisy, &recon)
                         : clae_reconstruct(r.model, &first, r.batch, &recon);
    if (status) {
        rc = cli_fail("reconstruct", r.ctx, status);
        goto done;
    }
    /* Groups of rows, each of the same samples: the inputs (noisy ones
     * first, then the clean originals last), their reconstructions. */
    const float *const sources[3] = {g.noisy ? noisy : first.x, recon, first.x};
    const size_t kinds = g.noisy ? 3 : 2,
                 columns = g.columns < n ? g.columns : n,
                 rows = (n + columns - 1) / columns;
    if (!(tiles = calloc(kinds * rows * columns * d, sizeof *tiles))) {
        fprintf(stderr, "clae reconstruct: out of host memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < kinds; k++) {
            size_t row = kinds * (i / columns) + k, col = i % columns;
            memcpy(tiles + (row * columns + col) * d, sources[k] + i * d,
                   d * sizeof *tiles);
        }
    status = clae_png_write_grid(r.ctx, r.out, tiles, kinds * rows * columns,
                                 &shape, columns);
    if (status) {
        rc = cli_fail("reconstruct", r.ctx, status);
        goto done;
    }
    printf("wrote %s: %zu samples of %s (%ux%u, %s), each row of %s\n", r.out,
           n, r.data, shape.height, shape.width,
           cli_image_colours(&shape),
           g.noisy ? "noisy inputs above their reconstructions and the clean "
                     "originals"
                   : "originals above its reconstructions");
done:
    free(tiles);
    free(recon);
    free(noisy);
    cli_run_close(&r);
    return rc;
}
