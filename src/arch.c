/* Presets: named autoencoders whose spec text `clae arch NAME` prints.
 * Each is spec text with D standing for the input width, parsed and
 * formatted like any user's spec, so a preset is what a user could write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

static const struct {
    const char *name;
    const char *description;
    const char *text;
} presets[] = {
    {"reference", "D -> 128 relu -> D sigmoid, bce (the default)",
     "input D\ndense 128 relu\ndense D sigmoid\nloss bce\n"},
    {"deep", "D -> 256 -> 64 -> 256 relu -> D sigmoid, bce",
     "input D\ndense 256 relu\ndense 64 relu\ndense 256 relu\n"
     "dense D sigmoid\nloss bce\n"},
    {"bottleneck10", "D -> 512 -> 128 -> 10 -> 128 -> 512 relu -> D sigmoid",
     "input D\ndense 512 relu\ndense 128 relu\ndense 10 relu\ndense 128 relu\n"
     "dense 512 relu\ndense D sigmoid\nloss bce\n"},
    {"sparse", "D -> 128 sigmoid with a KL sparsity penalty (rho 0.05) -> D",
     "input D\ndense 128 sigmoid\ncode rho=0.05 beta=0.1\ndense D sigmoid\n"
     "loss bce\n"},
    {"denoising", "gaussian noise 0.3 on the input, D -> 128 relu -> D",
     "input D\nnoise gaussian 0.3\ndense 128 relu\ndense D sigmoid\nloss bce\n"},
    {"tied", "D -> 128 relu -> D sigmoid, the decoder's weights tied",
     "input D\ndense 128 relu\ndense D sigmoid tied\nloss bce\n"},
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

/* The template with every word "D" replaced by the input width. */
static char *instantiate(const char *text, size_t input)
{
    char width[24];
    int w = snprintf(width, sizeof width, "%zu", input);
    char *out = malloc(strlen(text) * (size_t)w + 1), *o = out;
    if (!out) return NULL;
    for (const char *p = text; *p; p++) {
        int word = *p == 'D' && (p == text || p[-1] == ' ' || p[-1] == '\n') &&
                   (p[1] == ' ' || p[1] == '\n' || !p[1]);
        if (word) {
            memcpy(o, width, (size_t)w);
            o += w;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

clae_status clae_arch_spec(clae_context *ctx, const char *name, size_t input,
                           char **spec_text)
{
    *spec_text = NULL;
    for (size_t i = 0; i < PRESET_COUNT; i++) {
        if (strcmp(presets[i].name, name) != 0) continue;
        char *text = instantiate(presets[i].text, input);
        if (!text) return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
        /* Through the parser: the canonical text, with "code" where the
         * narrowest layer is. */
        clae_spec spec;
        clae_status status = clae__spec_parse(ctx, text, &spec);
        free(text);
        if (status != CLAE_SUCCESS) return status;
        *spec_text = clae__spec_format(&spec);
        clae__spec_free(&spec);
        if (!*spec_text)
            return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
        return CLAE_SUCCESS;
    }
    return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "unknown architecture '%s' (see clae arch)",
                     name);
}
