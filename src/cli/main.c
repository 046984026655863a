/* clae: the command-line entry point. Parses the subcommand and hands over. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"train", cmd_train, "train an autoencoder (default: the reference model on "
                         "Fashion-MNIST)"},
    {"eval", cmd_eval, "mean loss of a saved model on a data set"},
    {"encode", cmd_encode, "the codes of a data set, as a .npy array"},
    {"decode", cmd_decode, "samples back from codes"},
    {"reconstruct", cmd_reconstruct, "a picture of samples above their "
                                     "reconstructions (PNG)"},
    {"score", cmd_score, "each sample's reconstruction error (anomaly "
                         "score), ROC AUC against labels"},
    {"generate", cmd_generate, "new samples from a variational model's "
                               "prior (PNG)"},
    {"interpolate", cmd_interpolate, "a variational model's decodes between "
                                     "two samples (PNG)"},
    {"manifold", cmd_manifold, "the decodes of a 2-D latent space as a grid "
                               "(PNG)"},
    {"plot", cmd_plot, "train and validation loss per epoch (PNG chart)"},
    {"plot-codes", cmd_plot_codes, "a scatter of the codes of a data set "
                                   "(PNG chart)"},
    {"info", cmd_info, "what a model file holds: spec, layers, training"},
    {"arch", cmd_arch, "list the preset models, or print one as a spec"},
    {"tune", cmd_tune, "find faster GEMM parameters for the device and "
                       "store them"},
};

#define COMMAND_COUNT (sizeof commands / sizeof *commands)

static void usage(FILE *out)
{
    fprintf(out, "usage: clae COMMAND [OPTIONS]   (clae COMMAND --help for more)\n\n"
                 "commands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n  clae --version   versions of clae, CLBlast and OpenCL\n"
                 "  clae-devices     list the OpenCL devices\n");
}

static int version(void)
{
    char platform[256];
    printf("clae %s\nCLBlast %s\nOpenCL platform: %s\n", clae_version(),
           clae_clblast_version(),
           clae_opencl_platform_version(platform, sizeof platform));
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0) return version();
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "clae: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
