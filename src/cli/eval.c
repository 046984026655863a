/* clae eval: the mean loss of a saved model on a data set. */
#include <stdio.h>

#include "cli.h"

static const char help[] =
    "usage: clae eval --load F [--data F] [--batch-size B] [--noisy]\n"
    "Prints the mean loss (per element, as training reports it) of the model\n"
    "in F on a data set (default: the Fashion-MNIST test set, the validation\n"
    "set of a default clae train).\n\n"
    RUN_HELP
    "  --data F              a data file (see below)\n"
    "  --noisy               also the loss with the model's noise layer\n"
    "                        corrupting the inputs (a denoising model's\n"
    "                        task), against the clean data\n"
    DATA_HELP
    COMMON_HELP;

enum { OPT_NOISY = OPT_FIRST_COMMAND_OPTION };

static const struct option options[] = {
    RUN_OPTIONS,
    {"noisy", no_argument, NULL, OPT_NOISY},
    DATA_OPTIONS,
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

static int eval_option(void *noisy, int opt, const char *arg)
{
    (void)opt; /* OPT_NOISY, the only one */
    (void)arg;
    *(int *)noisy = 1;
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    cli_run r = {0};
    int noisy = 0;
    double loss, noisy_loss = 0.0;
    int rc = cli_run_parse(&r, "eval", argc, argv, options, eval_option,
                           &noisy, FASHION_TEST, "--data", NEEDS_LOAD);
    if (rc || r.common.help) {
        if (r.common.help) fputs(help, stdout);
        return rc;
    }
    if (r.out) {
        rc = cli_usage_error("eval", "--out: eval writes no file");
        goto done;
    }
    if ((rc = cli_run_open(&r, "eval"))) goto done;
    clae_status status = clae_evaluate(r.model, r.input, r.batch, &loss);
    if (!status && noisy)
        status = clae_evaluate_noisy(r.model, r.input, r.batch, 0, &noisy_loss);
    if (status) {
        rc = cli_fail("eval", r.ctx, status);
        goto done;
    }
    printf("loss %.6g  samples %zu  data %s\n", loss, r.input->n, r.data);
    if (noisy) printf("noisy_loss %.6g  (noisy inputs, clean targets)\n", noisy_loss);
done:
    cli_run_close(&r);
    return rc;
}
