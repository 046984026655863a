/* clae interpolate: what a variational model decodes along the line
 * between two samples' codes, as one row of a PNG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "usage: clae interpolate --load F [--data F] --from I --to J\n"
    "                        --out ROW.png [--steps S] [--batch-size B]\n"
    "For a variational model (one whose spec has a 'latent K gaussian'\n"
    "layer): encodes samples I and J of a data set (default: the\n"
    "Fashion-MNIST test set) to their latent means, decodes S codes evenly\n"
    "spaced on the line from I's to J's, both included, and writes them as\n"
    "one row of a PNG between the two original samples.\n\n"
    RUN_HELP
    "  --data F              a data file (see below)\n"
    "  --from I, --to J      the samples, counted from 0\n"
    "  --out F               the picture (.png)\n"
    "  --steps S             codes to decode (default 10, at least 2)\n"
    DATA_HELP
    COMMON_HELP;

enum { OPT_FROM = OPT_FIRST_COMMAND_OPTION, OPT_TO, OPT_STEPS };

static const struct option options[] = {
    RUN_OPTIONS,
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"steps", required_argument, NULL, OPT_STEPS},
    DATA_OPTIONS,
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

/* SIZE_MAX: not given. */
typedef struct {
    size_t from, to, steps;
} line_args;

static int line_option(void *user, int opt, const char *arg)
{
    line_args *l = user;
    if (opt == OPT_STEPS) {
        if (!cli_parse_size(arg, &l->steps) || l->steps < 2 || l->steps > 4096)
            return cli_usage_error("interpolate", "--steps: '%s' is not a "
                                                  "count from 2 to 4096", arg);
        return 0;
    }
    size_t *sample = opt == OPT_FROM ? &l->from : &l->to;
    if (!cli_parse_size(arg, sample) || *sample == SIZE_MAX)
        return cli_usage_error("interpolate", "--%s: '%s' is not a sample "
                                              "number", opt == OPT_FROM ? "from"
                                                                        : "to",
                               arg);
    return 0;
}

/* 0 when --from or --to (flag) names a sample of the data, else the exit
 * code after saying why. */
static int check_sample(const cli_run *r, const char *flag, size_t sample)
{
    if (sample >= r->input->n)
        return cli_usage_error("interpolate", "%s %zu: %s has %zu samples "
                                              "(0 to %zu)", flag, sample,
                               r->data, r->input->n, r->input->n - 1);
    return 0;
}

int cmd_interpolate(int argc, char **argv)
{
    cli_run r = {0};
    line_args l = {SIZE_MAX, SIZE_MAX, 10};
    float *decoded = NULL, *tiles = NULL;
    clae_image_shape shape;
    int rc = cli_run_parse(&r, "interpolate", argc, argv, options, line_option,
                           &l, FASHION_TEST, "--data", NEEDS_LOAD | NEEDS_OUT);
    if (rc || r.common.help) {
        if (r.common.help) fputs(help, stdout);
        return rc;
    }
    if (l.from == SIZE_MAX || l.to == SIZE_MAX)
        return cli_usage_error("interpolate", "%s is required",
                               l.from == SIZE_MAX ? "--from I" : "--to J");
    /* The model first: a model that cannot interpolate needs no data. */
    if ((rc = cli_run_open_model(&r, "interpolate")) ||
        (rc = cli_run_need_variational(&r, "interpolate")) ||
        (rc = cli_run_open_data(&r, "interpolate")) ||
        (rc = check_sample(&r, "--from", l.from)) ||
        (rc = check_sample(&r, "--to", l.to)))
        goto done;
    const size_t d = r.input->d, columns = l.steps + 2;
    clae_status status = clae_image_shape_of(r.model, r.input, &shape);
    if (!status)
        status = clae_interpolate(r.model, r.input, l.from, l.to, l.steps,
                                  r.batch, NULL, &decoded);
    if (status) {
        rc = cli_fail("interpolate", r.ctx, status);
        goto done;
    }
    /* One row: sample I, the decodes from I's code to J's, sample J. */
    if (!(tiles = malloc(columns * d * sizeof *tiles))) {
        fprintf(stderr, "clae interpolate: out of host memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    memcpy(tiles, r.input->x + l.from * d, d * sizeof *tiles);
    memcpy(tiles + d, decoded, l.steps * d * sizeof *tiles);
    memcpy(tiles + (columns - 1) * d, r.input->x + l.to * d, d * sizeof *tiles);
    status = clae_png_write_grid(r.ctx, r.out, tiles, columns, &shape, columns);
    if (status) {
        rc = cli_fail("interpolate", r.ctx, status);
        goto done;
    }
    printf("wrote %s: samples %zu and %zu of %s (%ux%u, %s) at the ends of a "
           "row of %zu images decoded from the codes between them\n",
           r.out, l.from, l.to, r.data, shape.height, shape.width,
           cli_image_colours(&shape), l.steps);
done:
    free(tiles);
    free(decoded);
    cli_run_close(&r);
    return rc;
}
