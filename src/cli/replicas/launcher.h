/* How a process learns that an MPI launcher started it, which both
 * transports need: mpi.c joins the job only then, single.c refuses then. */
#ifndef CLAE_CLI_REPLICAS_LAUNCHER_H
#define CLAE_CLI_REPLICAS_LAUNCHER_H

#include <stdlib.h>

/* The variable that says so (Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE,
 * MPICH's Hydra PMI_SIZE, PMIx launchers such as srun --mpi=pmix
 * PMIX_RANK), or NULL when none is set: clae was started alone. */
static inline const char *mpi_launcher_variable(void)
{
    static const char *const names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE",
                                        "PMIX_RANK"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (getenv(names[i])) return names[i];
    return NULL;
}

#endif
