/* clae: the command-line entry point. Parses the subcommand and hands over,
 * after joining the MPI job when mpirun started it (src/cli/replicas/). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* This process's place in the MPI job: 0 of 1 when started alone. */
static cli_replicas replicas;

/* clae train, the one command that runs across the ranks of an MPI job.
 * A rank that fails ends the whole job rather than leave the others
 * waiting in a sum for ever; an interrupt (exit 128 + signal) reaches
 * every rank together, and each ends by itself. */
static int train(int argc, char **argv)
{
    int rc = cmd_train(argc, argv, &replicas);
    if (replicas.size > 1 && rc != EXIT_OK && rc < 128)
        cli_replicas_abort(rc);
    return rc;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"train", train, "train an autoencoder (default: the reference model on "
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

/* The other commands have nothing to share between ranks: under mpirun
 * they refuse rather than do the same work N times. */
static int run_command(size_t i, int argc, char **argv)
{
    if (replicas.size == 1 || commands[i].run == train)
        return commands[i].run(argc - 1, argv + 1);
    if (replicas.rank == 0)
        cli_usage_error(commands[i].name, "runs in one process: of clae's "
                                          "commands only train runs across "
                                          "the ranks of an MPI job");
    return EXIT_USAGE;
}

static int run(int argc, char **argv)
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
            return run_command(i, argc, argv);
    fprintf(stderr, "clae: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    int rc = cli_replicas_start(&argc, &argv, &replicas);
    if (rc) cli_replicas_abort(rc); /* the job's other ranks too */
    rc = run(argc, argv);
    cli_replicas_finish();
    return rc;
}
