/* clae plot: the loss curves of a metrics CSV, as a PNG chart. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char help[] =
    "usage: clae plot --metrics M.csv --out LOSS.png\n"
    "Draws train_loss and val_loss per epoch from the metrics CSV that\n"
    "clae train --metrics writes.\n\n"
    "  --metrics F           the metrics CSV\n"
    "  --out F               the chart (.png)\n"
    COMMON_HELP;

enum { OPT_METRICS = OPT_FIRST_COMMAND_OPTION };

static const struct option options[] = {
    {"metrics", required_argument, NULL, OPT_METRICS},
    {"out", required_argument, NULL, OPT_RUN_OUT},
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

static int plot_option(void *metrics, int opt, const char *arg)
{
    (void)opt; /* OPT_METRICS, the only one */
    *(const char **)metrics = arg;
    return 0;
}

int cmd_plot(int argc, char **argv)
{
    cli_run r = {0};
    const char *metrics = NULL;
    int rc = cli_run_parse(&r, "plot", argc, argv, options, plot_option,
                           &metrics, "", "--data", NEEDS_OUT);
    if (rc || r.common.help) {
        if (r.common.help) fputs(help, stdout);
        return rc;
    }
    if (!metrics) return cli_usage_error("plot", "--metrics F is required");
    /* The context only carries error messages here. */
    if ((rc = cli_open("plot", &r.common, &r.ctx))) return rc;
    double *train = NULL, *val = NULL;
    size_t epochs = 0;
    clae_context *ctx = r.ctx;
    const char *out = r.out;
    clae_status status = clae_metrics_load(ctx, metrics, &train, &val, &epochs);
    if (!status) status = clae_plot_losses(ctx, out, train, val, epochs);
    if (status) {
        rc = cli_fail("plot", ctx, status);
    } else {
        printf("wrote %s: train and validation loss of %zu epochs\n", out,
               epochs);
    }
    free(train);
    free(val);
    cli_run_close(&r);
    return rc;
}
