/* What clae train does as one replica among several, whichever transport
 * carries the sums (mpi.c, or single.c alone): it picks the rank's device,
 * times the sums, and checks at the end that the ranks hold the same
 * model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

double cli_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int cli_replica_sum_across(void *user, float *data, size_t count)
{
    cli_replicas *r = user;
    double start = cli_seconds();
    int failed = cli_replicas_sum(data, count);
    r->sum_seconds += cli_seconds() - start;
    r->sum_calls++;
    return failed;
}

static int is_of_type(const clae_device_info *d, clae_device_type type)
{
    switch (type) {
    case CLAE_DEVICE_GPU: return strcmp(d->type, "GPU") == 0;
    case CLAE_DEVICE_CPU: return strcmp(d->type, "CPU") == 0;
    default: return 1;
    }
}

const char *cli_replica_device(const cli_replicas *r, clae_device_type type,
                               char *device, size_t size)
{
    clae_device_info *list = NULL;
    size_t n = 0, count = 0;
    if (clae_devices_list(&list, &n)) return NULL;
    if (type == CLAE_DEVICE_DEFAULT) {
        type = CLAE_DEVICE_ANY;
        for (size_t i = 0; i < n; i++)
            if (is_of_type(&list[i], CLAE_DEVICE_GPU)) type = CLAE_DEVICE_GPU;
    }
    for (size_t i = 0; i < n; i++) count += (size_t)is_of_type(&list[i], type);
    const char *chosen = NULL;
    for (size_t i = 0, k = 0; count > 0 && i < n && !chosen; i++) {
        if (!is_of_type(&list[i], type) || k++ != r->local_rank % count)
            continue;
        snprintf(device, size, "%u:%u", list[i].platform_index,
                 list[i].device_index);
        chosen = device;
    }
    free(list);
    return chosen;
}

/* FNV-1a, 64 bits: a fingerprint of the parameters' bytes, so that the
 * ranks compare 8 bytes rather than the whole model. */
static uint64_t fnv1a64(const void *bytes, size_t size)
{
    const unsigned char *b = bytes;
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < size; i++) h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

int cli_replicas_same_params(const char *command, clae_context *ctx,
                             clae_model *model, int *same)
{
    size_t n = clae_model_param_count(model);
    float *params = malloc(n ? n * sizeof *params : 1);
    if (!params) {
        fprintf(stderr, "clae %s: out of host memory\n", command);
        return EXIT_RUNTIME;
    }
    clae_status status = clae_model_read_params(model, params);
    uint64_t hash = fnv1a64(params, status ? 0 : n * sizeof *params);
    free(params);
    if (status) return cli_fail(command, ctx, status);
    if (cli_replicas_agree(hash, same)) {
        fprintf(stderr, "clae %s: the ranks could not compare their "
                        "parameters (MPI_Allreduce failed)\n", command);
        return EXIT_RUNTIME;
    }
    return 0;
}
