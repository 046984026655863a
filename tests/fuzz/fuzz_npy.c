/* NumPy .npy files (src/npy.c): the input is the file, read as a data set
 * (clae_data_load) and as labels (clae_labels_load). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    clae_context *ctx = fuzz_host_context();
    const char *path = fuzz_write(bytes, size, "input.npy");
    clae_data *data = NULL;
    clae_status status = clae_data_load(ctx, path, NULL, &data);
    fuzz_expect_message(ctx, status, "clae_data_load");
    if (status == CLAE_SUCCESS && (!data || data->n == 0 || data->d == 0))
        abort();
    clae_data_free(data);

    ctx = fuzz_host_context();
    int *labels = NULL;
    size_t n = 0;
    status = clae_labels_load(ctx, path, &labels, &n);
    fuzz_expect_message(ctx, status, "clae_labels_load");
    free(labels);
    return 0;
}
