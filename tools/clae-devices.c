/* clae-devices: lists every OpenCL platform and device with the P:D index
 * that --device takes. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae.h"

static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

int main(int argc, char **argv)
{
    if (argc > 1) {
        int help = strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr,
                "usage: clae-devices\nLists the OpenCL platforms and devices; "
                "pass P:D to clae --device.\n");
        return help ? 0 : 2;
    }
    clae_device_info *devices = NULL;
    size_t count = 0;
    clae_status status = clae_devices_list(&devices, &count);
    if (status == CLAE_ERR_NO_PLATFORM) {
        fprintf(stderr, "clae-devices: no OpenCL platform found: install an "
                        "OpenCL driver (on Debian: apt-get install "
                        "ocl-icd-libopencl1 pocl-opencl-icd, or your GPU "
                        "vendor's ICD)\n");
        return 1;
    }
    if (status != CLAE_SUCCESS) {
        fprintf(stderr, "clae-devices: %s\n", clae_strerror(status));
        return 1;
    }
    unsigned platform = ~0u;
    for (size_t i = 0; i < count; i++) {
        const clae_device_info *d = &devices[i];
        if (d->platform_index != platform) {
            platform = d->platform_index;
            printf("platform %u: %s (%s)\n", platform, d->platform_name,
                   d->platform_version);
        }
        printf("  %u:%u  %s\n", d->platform_index, d->device_index, d->name);
        printf("       vendor %s, type %s\n", d->vendor, d->type);
        printf("       %s, driver %s\n", d->opencl_version, d->driver_version);
        printf("       %u compute units at %u MHz\n", d->compute_units,
               d->clock_mhz);
        printf("       global memory %.0f MiB, max allocation %.0f MiB, "
               "local memory %.0f KiB\n",
               mib(d->global_mem_bytes), mib(d->max_alloc_bytes),
               (double)d->local_mem_bytes / 1024.0);
    }
    free(devices);
    return 0;
}
