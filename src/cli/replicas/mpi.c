/* The replicas of clae train as the ranks of an MPI job: the one file that
 * includes mpi.h (built when the Makefile finds mpicc). MPI is initialised
 * only when a launcher started the process, so clae alone needs no MPI
 * runtime. */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "launcher.h"

/* MPI_Init succeeded (and MPI_Finalize is owed). */
static int joined;

int cli_replicas_start(int *argc, char ***argv, cli_replicas *r)
{
    *r = (cli_replicas){.rank = 0, .size = 1, .local_rank = 0};
    if (!mpi_launcher_variable()) return 0;
    int rank, size, local_rank;
    MPI_Comm node;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "clae: MPI_Init failed\n");
        return EXIT_RUNTIME;
    }
    joined = 1;
    /* Failures come back as codes that clae reports (and then aborts the
     * job), rather than killing the job from inside MPI without a word. */
    if (MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN) ||
        MPI_Comm_rank(MPI_COMM_WORLD, &rank) ||
        MPI_Comm_size(MPI_COMM_WORLD, &size) ||
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank,
                            MPI_INFO_NULL, &node)) {
        fprintf(stderr, "clae: cannot learn this process's MPI rank\n");
        return EXIT_RUNTIME;
    }
    int failed = MPI_Comm_rank(node, &local_rank);
    MPI_Comm_free(&node);
    if (failed) {
        fprintf(stderr, "clae: cannot learn this process's rank on its node\n");
        return EXIT_RUNTIME;
    }
    *r = (cli_replicas){.rank = (unsigned)rank, .size = (unsigned)size,
                        .local_rank = (unsigned)local_rank};
    return 0;
}

int cli_replicas_sum(float *data, size_t count)
{
    /* MPI counts are ints: a sum of more floats goes in parts. */
    while (count > 0) {
        int part = count > INT_MAX ? INT_MAX : (int)count;
        if (MPI_Allreduce(MPI_IN_PLACE, data, part, MPI_FLOAT, MPI_SUM,
                          MPI_COMM_WORLD) != MPI_SUCCESS)
            return 1;
        data += part;
        count -= (size_t)part;
    }
    return 0;
}

int cli_replicas_agree(uint64_t value, int *same)
{
    uint64_t least = value, most = value;
    if (MPI_Allreduce(MPI_IN_PLACE, &least, 1, MPI_UINT64_T, MPI_MIN,
                      MPI_COMM_WORLD) != MPI_SUCCESS ||
        MPI_Allreduce(MPI_IN_PLACE, &most, 1, MPI_UINT64_T, MPI_MAX,
                      MPI_COMM_WORLD) != MPI_SUCCESS)
        return 1;
    *same = least == most;
    return 0;
}

_Noreturn void cli_replicas_abort(int code)
{
    if (joined) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code); /* MPI_Abort returned, or there was no job */
}

void cli_replicas_finish(void)
{
    if (joined) MPI_Finalize();
    joined = 0;
}
