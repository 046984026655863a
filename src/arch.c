/* Presets: named dense autoencoders whose text `clae arch NAME` prints. They
 * go through clae_spec_dense, the same path as the --hidden flags. */
#include <string.h>

#include "context.h"

static const size_t reference_hidden[] = {128};
static const size_t deep_hidden[] = {256, 64, 256};

static const struct {
    const char *name;
    const char *description;
    const size_t *hidden;
    size_t hidden_count;
} presets[] = {
    {"reference", "D -> 128 relu -> D sigmoid, bce (the default)",
     reference_hidden, 1},
    {"deep", "D -> 256 -> 64 -> 256 relu -> D sigmoid, bce", deep_hidden, 3},
};

#define PRESET_COUNT (sizeof presets / sizeof *presets)

const char *const *clae_arch_names(void)
{
    static const char *names[PRESET_COUNT + 1];
    for (size_t i = 0; i < PRESET_COUNT; i++) names[i] = presets[i].name;
    return names;
}

const char *clae_arch_description(const char *name)
{
    for (size_t i = 0; i < PRESET_COUNT; i++)
        if (strcmp(presets[i].name, name) == 0) return presets[i].description;
    return NULL;
}

clae_status clae_arch_spec(clae_context *ctx, const char *name, size_t input,
                           char **spec_text)
{
    for (size_t i = 0; i < PRESET_COUNT; i++) {
        if (strcmp(presets[i].name, name) != 0) continue;
        clae_dense_spec dense = {
            .input = input,
            .hidden = presets[i].hidden,
            .hidden_count = presets[i].hidden_count,
            .activation = CLAE_ACT_RELU,
            .output_activation = CLAE_ACT_SIGMOID,
            .loss = CLAE_LOSS_BCE,
        };
        return clae_spec_dense(ctx, &dense, spec_text);
    }
    return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "unknown architecture '%s' (see clae arch)",
                     name);
}
