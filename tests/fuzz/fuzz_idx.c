/* IDX files (src/idx.c), plain or gzip (zlib tells them apart by their
 * bytes): the input is the file. Read as a data set (clae_data_load:
 * images of 3 or 4 dimensions, then scaled and checked for finite values)
 * and as labels (clae_labels_load: 1 to 4 dimensions, one value a row). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    clae_context *ctx = fuzz_host_context();
    /* The .gz name is what the data sets are called; the reader does not
     * look at names, only at the gzip magic. */
    const char *path = fuzz_write(bytes, size, "input.idx.gz");
    clae_data *data = NULL;
    clae_status status = clae_data_load(ctx, path, NULL, &data);
    fuzz_expect_message(ctx, status, "clae_data_load");
    if (status == CLAE_SUCCESS && (!data || data->n == 0 || data->d == 0))
        abort(); /* success means at least one sample of one value */
    clae_data_free(data);

    ctx = fuzz_host_context();
    int *labels = NULL;
    size_t n = 0;
    status = clae_labels_load(ctx, path, &labels, &n);
    fuzz_expect_message(ctx, status, "clae_labels_load");
    free(labels);
    return 0;
}
