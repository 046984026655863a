/* What the commands that run a saved model over data share: their flags,
 * and opening the context, the model and the data. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int cli_run_parse(cli_run *r, const char *command, int argc, char **argv,
                  const struct option *options,
                  int (*command_option)(void *user, int opt, const char *arg),
                  void *user, const char *data_default, const char *data_flag,
                  int needs)
{
    int opt, rc;
    r->batch = 256;
    r->data = data_default;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == '?') return cli_unknown_option(command, argv);
        if (opt == OPT_RUN_LOAD) {
            r->load = optarg;
        } else if (opt == OPT_RUN_DATA) {
            r->data = optarg;
        } else if (opt == OPT_RUN_OUT) {
            r->out = optarg;
        } else if (opt == OPT_RUN_BATCH) {
            if (!cli_parse_size(optarg, &r->batch) || r->batch == 0 ||
                r->batch > (1u << 24))
                return cli_usage_error(command, "--batch-size: '%s' is not a "
                                                "positive integer", optarg);
        } else if (opt >= OPT_FIRST_COMMAND_OPTION) {
            if ((rc = command_option(user, opt, optarg))) return rc;
        } else if ((rc = cli_common_option(&r->common, opt, optarg))) {
            return rc;
        }
    }
    if (r->common.help) return 0;
    if (optind < argc)
        return cli_usage_error(command, "unexpected argument '%s'", argv[optind]);
    if ((needs & NEEDS_LOAD) && !r->load)
        return cli_usage_error(command, "--load F is required");
    if (!r->data) return cli_usage_error(command, "%s F is required", data_flag);
    if ((needs & NEEDS_OUT) && !r->out)
        return cli_usage_error(command, "--out F is required");
    return cli_check_output(command, "--out", r->out);
}

int cli_run_open_model(cli_run *r, const char *command)
{
    int rc = cli_open(command, &r->common, &r->ctx);
    if (rc) return rc;
    clae_status status = clae_model_load(r->ctx, r->load, &r->model);
    return status ? cli_fail(command, r->ctx, status) : 0;
}

int cli_run_open_data(cli_run *r, const char *command)
{
    /* A scale given in training applies to the model's data from then on
     * (codes are no such data). */
    if (r->common.data.scale == 0.0f && !r->input_is_codes)
        r->common.data.scale = clae_model_train_source(r->model).scale;
    return cli_load_data(command, r->ctx, &r->common, r->data, &r->input);
}

int cli_run_open(cli_run *r, const char *command)
{
    int rc = cli_run_open_model(r, command);
    return rc ? rc : cli_run_open_data(r, command);
}

int cli_run_need_variational(const cli_run *r, const char *command)
{
    if (clae_model_is_variational(r->model)) return 0;
    return cli_usage_error(command, "--load %s: not a variational model (%s "
                                    "needs a spec with a 'latent K gaussian' "
                                    "layer)", r->load, command);
}

void cli_run_close(cli_run *r)
{
    clae_data_free(r->input);
    clae_model_destroy(r->model);
    clae_context_destroy(r->ctx);
}

int cli_run_labels(cli_run *r, const char *command, const char *path,
                   int **labels)
{
    size_t n = 0;
    clae_status status = clae_labels_load(r->ctx, path, labels, &n);
    if (status) return cli_fail(command, r->ctx, status);
    if (n == r->input->n) return 0;
    free(*labels);
    *labels = NULL;
    return cli_usage_error(command, "--labels %s: %zu labels for the %zu "
                                    "samples of %s", path, n, r->input->n,
                           r->data);
}
