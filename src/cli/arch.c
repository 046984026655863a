/* clae arch: lists the presets, or prints one as a spec to copy and edit. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char help[] =
    "usage: clae arch [NAME] [--input D]\n"
    "Without NAME, lists the preset models; with NAME, prints its spec (for\n"
    "--model) with input width D (default 784, a 28x28 image).\n";

int cmd_arch(int argc, char **argv)
{
    static const struct option options[] = {
        {"input", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    size_t input = 784;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'h') {
            fputs(help, stdout);
            return EXIT_OK;
        }
        if (opt != 'i' || !cli_parse_size(optarg, &input) || input == 0 ||
            input > (1u << 24))
            return opt == '?' ? cli_unknown_option("arch", argv)
                              : cli_usage_error("arch", "--input: '%s' is not a "
                                                        "positive width", optarg);
    }
    if (optind == argc) {
        for (const char *const *name = clae_arch_names(); *name; name++)
            printf("%-12s %s\n", *name, clae_arch_description(*name));
        return EXIT_OK;
    }
    if (optind + 1 < argc)
        return cli_usage_error("arch", "unexpected argument '%s'", argv[optind + 1]);
    char *spec = NULL;
    if (clae_arch_spec(NULL, argv[optind], input, &spec) != CLAE_SUCCESS)
        return cli_usage_error("arch", "unknown preset '%s' (clae arch lists them)",
                               argv[optind]);
    fputs(spec, stdout);
    free(spec);
    return EXIT_OK;
}
