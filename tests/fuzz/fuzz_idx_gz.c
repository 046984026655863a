/* IDX files inside gzip (src/idx.c through zlib's gzread): the input is
 * the uncompressed file, which the target compresses before the reader
 * sees it, so the fuzzer mutates the IDX header and data, not the
 * compressed stream (fuzz_idx covers broken gzip streams). Read as a data
 * set and as labels, as fuzz_idx does. */
#include <zlib.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    char path[512];
    fuzz_path(path, sizeof path, "input.idx.gz");
    gzFile gz = gzopen(path, "wb1");
    if (!gz || (size && gzwrite(gz, bytes, (unsigned)size) != (int)size) ||
        gzclose(gz) != Z_OK)
        abort();

    clae_context *ctx = fuzz_host_context();
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
