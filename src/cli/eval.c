/* clae eval: the mean loss of a saved model on a data set. */
#include <stdio.h>

#include "cli.h"

static const char help[] =
    "usage: clae eval --load F [--data F] [--batch-size B] [--noisy]\n"
    "Prints the mean loss (per element, as training reports it) of the model\n"
    "in F on a data set (default: the Fashion-MNIST test set, the validation\n"
    "set of a default clae train).\n\n"
    "  --load F              a model saved by clae train --save\n"
    "  --data F              a data file (see below)\n"
    "  --batch-size B        rows per pass (default 256)\n"
    "  --noisy               also the loss with the model's noise layer\n"
    "                        corrupting the inputs (a denoising model's\n"
    "                        task), against the clean data\n"
    DATA_HELP
    COMMON_HELP;

enum { OPT_LOAD = OPT_FIRST_COMMAND_OPTION, OPT_DATA, OPT_BATCH, OPT_NOISY };

static const struct option options[] = {
    {"load", required_argument, NULL, OPT_LOAD},
    {"data", required_argument, NULL, OPT_DATA},
    {"batch-size", required_argument, NULL, OPT_BATCH},
    {"noisy", no_argument, NULL, OPT_NOISY},
    DATA_OPTIONS,
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

int cmd_eval(int argc, char **argv)
{
    cli_common common = {0};
    const char *load = NULL, *data_path = FASHION_TEST;
    size_t batch = 256;
    int opt, rc, noisy = 0;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == '?') return cli_unknown_option("eval", argv);
        if (opt == OPT_LOAD) load = optarg;
        else if (opt == OPT_DATA) data_path = optarg;
        else if (opt == OPT_NOISY) noisy = 1;
        else if (opt == OPT_BATCH) {
            if (!cli_parse_size(optarg, &batch) || batch == 0 || batch > (1u << 24))
                return cli_usage_error("eval", "--batch-size: '%s' is not a "
                                               "positive integer", optarg);
        } else if ((rc = cli_common_option(&common, opt, optarg))) return rc;
    }
    if (common.help) {
        fputs(help, stdout);
        return EXIT_OK;
    }
    if (optind < argc)
        return cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    if (!load) return cli_usage_error("eval", "--load F is required");

    clae_context *ctx = NULL;
    clae_model *model = NULL;
    clae_data *data = NULL;
    double loss, noisy_loss = 0.0;
    clae_status status = CLAE_SUCCESS;
    if ((rc = cli_open("eval", &common, &ctx))) goto done;
    if ((status = clae_model_load(ctx, load, &model))) {
        rc = cli_fail("eval", ctx, status);
        goto done;
    }
    if ((rc = cli_load_data("eval", ctx, &common, data_path, &data))) goto done;
    if ((status = clae_evaluate(model, data, batch, &loss)) ||
        (noisy && (status = clae_evaluate_noisy(model, data, batch, 0,
                                                &noisy_loss)))) {
        rc = cli_fail("eval", ctx, status);
        goto done;
    }
    printf("loss %.6g  samples %zu  data %s\n", loss, data->n, data_path);
    if (noisy) printf("noisy_loss %.6g  (noisy inputs, clean targets)\n", noisy_loss);
done:
    clae_data_free(data);
    clae_model_destroy(model);
    clae_context_destroy(ctx);
    return rc;
}
