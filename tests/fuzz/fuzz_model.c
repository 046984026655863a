/* Model files, safetensors (src/model_file.c, src/model_meta.c, and the
 * spec in their __metadata__): the input is the file, loaded with
 * clae_model_load. Loading builds the model on a device, so this target
 * opens the default one (PoCL) once. A model that loads must save, and
 * the saved file must load again. */
#include "fuzz.h"

static clae_context *device_ctx;

static void close_device(void)
{
    clae_context_destroy(device_ctx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (clae_context_create(NULL, &device_ctx) != CLAE_SUCCESS) {
        fprintf(stderr, "fuzz_model needs an OpenCL device: %s\n",
                clae_last_error(device_ctx));
        exit(1);
    }
    atexit(close_device);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    clae_context *ctx = device_ctx;
    const char *path = fuzz_write(bytes, size, "input.safetensors");
    clae_model *m = NULL;
    ctx->last_error[0] = '\0';
    clae_status status = clae_model_load(ctx, path, &m);
    fuzz_expect_message(ctx, status, "clae_model_load");
    if (status != CLAE_SUCCESS) {
        if (m) abort(); /* a failed load hands back no model */
        if (!clae_status_is_user_error(status) &&
            status != CLAE_ERR_HOST_MEMORY) {
            fprintf(stderr, "a bad file is a device failure: %s: %s\n",
                    clae_strerror(status), ctx->last_error);
            abort();
        }
        return 0;
    }
    (void)clae_model_get_history(m);
    for (size_t i = 0; i < clae_model_layer_count(m); i++)
        (void)clae_model_layer_info(m, i);

    char saved[512];
    fuzz_path(saved, sizeof saved, "saved.safetensors");
    clae_model *again = NULL;
    if (clae_model_save(m, saved) != CLAE_SUCCESS ||
        clae_model_load(ctx, saved, &again) != CLAE_SUCCESS) {
        fprintf(stderr, "a loaded model does not save and load again: %s\n",
                ctx->last_error);
        abort();
    }
    if (strcmp(clae_model_spec(m), clae_model_spec(again)) != 0) abort();
    clae_model_destroy(again);
    clae_model_destroy(m);
    return 0;
}
