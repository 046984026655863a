/* clae plot-codes: a scatter of a data set's codes, coloured by label. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char help[] =
    "usage: clae plot-codes --load F [--data F] [--labels F] --out CODES.png\n"
    "Encodes a data set (default: the Fashion-MNIST test set) and draws the\n"
    "codes as points: the two code features of a 2-wide code, else the codes'\n"
    "first two principal components; coloured by class with --labels.\n\n"
    RUN_HELP
    "  --data F              a data file (see below)\n"
    "  --labels F            class labels of --data (IDX, .npy or CSV)\n"
    "  --out F               the chart (.png)\n"
    DATA_HELP
    COMMON_HELP;

enum { OPT_LABELS = OPT_FIRST_COMMAND_OPTION };

static const struct option options[] = {
    RUN_OPTIONS,
    {"labels", required_argument, NULL, OPT_LABELS},
    DATA_OPTIONS,
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

static int labels_option(void *labels, int opt, const char *arg)
{
    (void)opt; /* OPT_LABELS, the only one */
    *(const char **)labels = arg;
    return 0;
}

/* points (n x 2) from codes (n x k): as they are, padded, or projected. */
static clae_status to_plane(clae_context *ctx, const float *codes, size_t n,
                            size_t k, float *points)
{
    if (k > 2) return clae_principal_components(ctx, codes, n, k, points);
    for (size_t i = 0; i < n; i++) {
        points[2 * i] = codes[i * k];
        points[2 * i + 1] = k == 2 ? codes[i * k + 1] : 0.0f;
    }
    return CLAE_SUCCESS;
}

int cmd_plot_codes(int argc, char **argv)
{
    cli_run r = {0};
    const char *labels_path = NULL;
    float *codes = NULL, *points = NULL;
    int *labels = NULL;
    int rc = cli_run_parse(&r, "plot-codes", argc, argv, options,
                           labels_option, &labels_path, FASHION_TEST, "--data",
                           NEEDS_LOAD | NEEDS_OUT);
    if (rc || r.common.help) {
        if (r.common.help) fputs(help, stdout);
        return rc;
    }
    if ((rc = cli_run_open(&r, "plot-codes"))) goto done;
    const size_t n = r.input->n, k = clae_model_code_width(r.model);
    if (labels_path && (rc = cli_run_labels(&r, "plot-codes", labels_path, &labels)))
        goto done;
    if (!(points = malloc(2 * n * sizeof *points))) {
        fprintf(stderr, "clae plot-codes: out of host memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    clae_status status = clae_encode(r.model, r.input, r.batch, &codes);
    if (!status) status = to_plane(r.ctx, codes, n, k, points);
    if (!status)
        status = clae_plot_codes(r.ctx, r.out, points, n, labels,
                                 k > 2 ? "principal component" : "code");
    if (status) {
        rc = cli_fail("plot-codes", r.ctx, status);
        goto done;
    }
    printf("wrote %s: %zu codes of %zu features%s%s\n", r.out, n, k,
           k > 2 ? ", their first two principal components" : "",
           labels ? ", coloured by class" : "");
done:
    free(codes);
    free(points);
    free(labels);
    cli_run_close(&r);
    return rc;
}
