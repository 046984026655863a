/* clae-devices: lists every OpenCL platform and device with the P:D index
 * that --device takes; --json gives the same list as a JSON array for
 * scripts. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clae.h"

static const char usage[] =
    "usage: clae-devices [--json]\n"
    "Lists the OpenCL platforms and devices; pass P:D to clae --device.\n"
    "  --json   the same devices as a JSON array of objects (platform and\n"
    "           device index, names, vendor, type, OpenCL and driver\n"
    "           versions, compute units, clock in MHz, memory sizes in bytes)\n";

static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

static void print_plain(const clae_device_info *devices, size_t count)
{
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
}

/* One device as a JSON object; NULL when memory runs out. Byte counts are
 * JSON numbers, exact up to 2^53 bytes. */
static cJSON *device_json(const clae_device_info *d)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    char index[32];
    snprintf(index, sizeof index, "%u:%u", d->platform_index, d->device_index);
    int ok = cJSON_AddStringToObject(o, "index", index) &&
             cJSON_AddNumberToObject(o, "platform", d->platform_index) &&
             cJSON_AddNumberToObject(o, "device", d->device_index) &&
             cJSON_AddStringToObject(o, "platform_name", d->platform_name) &&
             cJSON_AddStringToObject(o, "platform_version",
                                     d->platform_version) &&
             cJSON_AddStringToObject(o, "name", d->name) &&
             cJSON_AddStringToObject(o, "vendor", d->vendor) &&
             cJSON_AddStringToObject(o, "type", d->type) &&
             cJSON_AddStringToObject(o, "opencl_version", d->opencl_version) &&
             cJSON_AddStringToObject(o, "driver_version", d->driver_version) &&
             cJSON_AddNumberToObject(o, "compute_units", d->compute_units) &&
             cJSON_AddNumberToObject(o, "clock_mhz", d->clock_mhz) &&
             cJSON_AddNumberToObject(o, "global_mem_bytes",
                                     (double)d->global_mem_bytes) &&
             cJSON_AddNumberToObject(o, "local_mem_bytes",
                                     (double)d->local_mem_bytes) &&
             cJSON_AddNumberToObject(o, "max_alloc_bytes",
                                     (double)d->max_alloc_bytes);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* The devices as a JSON array on stdout; 0, or 1 when memory runs out. */
static int print_json(const clae_device_info *devices, size_t count)
{
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; array && i < count; i++) {
        cJSON *o = device_json(&devices[i]);
        if (!o || !cJSON_AddItemToArray(array, o)) {
            cJSON_Delete(o);
            cJSON_Delete(array);
            array = NULL;
        }
    }
    char *text = array ? cJSON_Print(array) : NULL;
    cJSON_Delete(array);
    if (!text) {
        fprintf(stderr, "clae-devices: out of memory writing JSON\n");
        return 1;
    }
    printf("%s\n", text);
    cJSON_free(text);
    return 0;
}

int main(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
            continue;
        }
        fprintf(stderr, "clae-devices: unknown option %s (clae-devices "
                        "--help lists the options)\n", argv[i]);
        return 2;
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
    int rc = 0;
    if (json)
        rc = print_json(devices, count);
    else
        print_plain(devices, count);
    free(devices);
    if (fflush(stdout) != 0) {
        perror("clae-devices: stdout");
        rc = 1;
    }
    return rc;
}
