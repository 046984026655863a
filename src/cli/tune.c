/* clae tune: searches CLBlast GEMM parameters for the device at a model's
 * training shapes and stores the fastest for later runs. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char help[] =
    "usage: clae tune [--arch NAME | --model F] [--input D|HxWxC]\n"
    "                 [--batch-size B] [--max-seconds S]\n"
    "Tries CLBlast GEMM parameters on the device at the GEMM shapes of one\n"
    "training step of the model, checks each candidate's results against a\n"
    "host GEMM, and stores the fastest (if it beats the built-in ones) in\n"
    "$XDG_CACHE_HOME/clae/gemm-tuning.json (default ~/.cache/clae), for this\n"
    "device, driver version and shape class. clae train and eval use it from\n"
    "then on. On PoCL each candidate compiles on first use, seconds each.\n\n"
    "  --arch NAME           a preset (default reference)\n"
    "  --model F             a spec file instead\n"
    "  --input D|HxWxC       features per sample for --arch, or an image\n"
    "                        shape (default 28x28x1)\n"
    "  --batch-size B        the training batch size (default 256)\n"
    "  --max-seconds S       time budget of the search (default 600)\n"
    COMMON_HELP;

enum {
    OPT_ARCH = OPT_FIRST_COMMAND_OPTION, OPT_MODEL, OPT_INPUT, OPT_BATCH,
    OPT_MAX_SECONDS,
};

static const struct option options[] = {
    {"arch", required_argument, NULL, OPT_ARCH},
    {"model", required_argument, NULL, OPT_MODEL},
    {"input", required_argument, NULL, OPT_INPUT},
    {"batch-size", required_argument, NULL, OPT_BATCH},
    {"max-seconds", required_argument, NULL, OPT_MAX_SECONDS},
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

static int on_candidate(void *user, const char *params, double ms)
{
    (void)user;
    if (ms < 0.0) printf("  wrong results  %s\n", params);
    else printf("  %8.3f ms      %s\n", ms, params);
    fflush(stdout);
    return 0;
}

int cmd_tune(int argc, char **argv)
{
    cli_common common = {0};
    const char *arch = NULL, *model_path = NULL;
    size_t input = 784, batch = 256;
    clae_image_shape image = {28, 28, 1};
    float max_seconds = 600.0f;
    int opt, rc;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case '?': return cli_unknown_option("tune", argv);
        case OPT_ARCH: arch = optarg; break;
        case OPT_MODEL: model_path = optarg; break;
        case OPT_INPUT:
            if (!cli_parse_input(optarg, &input, &image))
                return cli_usage_error("tune", "--input: '%s' is neither a "
                                               "width nor HxWxC", optarg);
            break;
        case OPT_BATCH:
            if (!cli_parse_size(optarg, &batch) || batch == 0 || batch > (1u << 24))
                return cli_usage_error("tune", "--batch-size: '%s' is not a "
                                               "positive integer", optarg);
            break;
        case OPT_MAX_SECONDS:
            if (!cli_parse_float(optarg, &max_seconds) || !(max_seconds > 0.0f))
                return cli_usage_error("tune", "--max-seconds: '%s' is not a "
                                               "positive number", optarg);
            break;
        default:
            if ((rc = cli_common_option(&common, opt, optarg))) return rc;
        }
    }
    if (common.help) {
        fputs(help, stdout);
        return EXIT_OK;
    }
    if (optind < argc)
        return cli_usage_error("tune", "unexpected argument '%s'", argv[optind]);
    if (arch && model_path)
        return cli_usage_error("tune", "choose one of --arch and --model");

    clae_context *ctx = NULL;
    clae_model *model = NULL;
    char *spec = NULL;
    clae_tune_result result;
    clae_tune_options tune = {.max_seconds = max_seconds,
                              .on_candidate = on_candidate};
    clae_status status = CLAE_SUCCESS;
    if ((rc = cli_open("tune", &common, &ctx))) goto done;
    printf("device %s: GEMMs of one training step, batch %zu\n",
           clae_context_device(ctx)->name, batch);
    if ((status = model_path ? clae_spec_load(ctx, model_path, &spec)
                             : clae_arch_spec(ctx, arch ? arch : "reference",
                                              input,
                                              image.height ? &image : NULL,
                                              &spec)) ||
        (status = clae_model_create(ctx, spec, 0, &model)) ||
        (status = clae_tune_gemm(model, batch, &tune, &result))) {
        rc = cli_fail("tune", ctx, status);
        goto done;
    }
    printf("tried %u candidates (%u computed wrong results)\n"
           "built-in parameters: %.3f ms per step\n", result.tried,
           result.wrong, result.baseline_ms);
    if (*result.path)
        printf("best: %.3f ms per step (%.2fx), %s\nstored in %s for shape "
               "class %s\n", result.best_ms,
               result.baseline_ms / result.best_ms, result.best, result.path,
               result.shape_class);
    else
        printf("none was faster; nothing stored\n");
done:
    free(spec);
    clae_model_destroy(model);
    clae_context_destroy(ctx);
    return rc;
}
