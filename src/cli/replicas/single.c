/* The replicas of clae train in a build without MPI (no mpicc when it was
 * built): a process trains alone, replica 0 of 1. Started by an MPI
 * launcher it refuses, rather than run N copies that each train the whole
 * job alone and overwrite each other's files. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "launcher.h"

int cli_replicas_start(int *argc, char ***argv, cli_replicas *r)
{
    (void)argc;
    (void)argv;
    *r = (cli_replicas){.rank = 0, .size = 1, .local_rank = 0};
    const char *variable = mpi_launcher_variable();
    if (!variable) return 0;
    fprintf(stderr, "clae: an MPI launcher started this process (%s is "
                    "set), but this clae was built without MPI: install "
                    "libopenmpi-dev (make deps) and rebuild\n", variable);
    return EXIT_USAGE;
}

/* Alone, the sum over all replicas is the data itself. */
int cli_replicas_sum(float *data, size_t count)
{
    (void)data;
    (void)count;
    return 0;
}

int cli_replicas_agree(uint64_t value, int *same)
{
    (void)value;
    *same = 1;
    return 0;
}

_Noreturn void cli_replicas_abort(int code) { exit(code); }

void cli_replicas_finish(void) {}
