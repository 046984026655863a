/* clae arch: lists the presets, or prints one as a spec to copy and edit. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char help[] =
    "usage: clae arch [NAME] [--input D|HxWxC]\n"
    "Without NAME, lists the preset models; with NAME, prints its spec (for\n"
    "--model) for inputs of width D or images HxWxC (default 28x28x1).\n";

int cmd_arch(int argc, char **argv)
{
    static const struct option options[] = {
        {"input", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    size_t input = 784;
    clae_image_shape image = {28, 28, 1};
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'h') {
            fputs(help, stdout);
            return EXIT_OK;
        }
        if (opt != 'i' || !cli_parse_input(optarg, &input, &image))
            return opt == '?' ? cli_unknown_option("arch", argv)
                              : cli_usage_error("arch", "--input: '%s' is "
                                                        "neither a width nor "
                                                        "HxWxC", optarg);
    }
    if (optind == argc) {
        for (const char *const *name = clae_arch_names(); *name; name++)
            printf("%-12s %s\n", *name, clae_arch_description(*name));
        return EXIT_OK;
    }
    if (optind + 1 < argc)
        return cli_usage_error("arch", "unexpected argument '%s'", argv[optind + 1]);
    char *spec = NULL;
    if (!clae_arch_description(argv[optind]))
        return cli_usage_error("arch", "unknown preset '%s' (clae arch lists them)",
                               argv[optind]);
    if (clae_arch_spec(NULL, argv[optind], input, image.height ? &image : NULL,
                       &spec) != CLAE_SUCCESS)
        return cli_usage_error("arch", "preset '%s' takes 28x28 images "
                                       "(--input 28x28xC)", argv[optind]);
    fputs(spec, stdout);
    free(spec);
    return EXIT_OK;
}
