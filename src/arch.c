/* Presets: named autoencoders whose spec text `clae arch NAME` prints.
 * Each is spec text with the word D standing for the input width (IMAGE
 * for the input image HxWxC, C for its channels), parsed and formatted
 * like any user's spec, so a preset is what a user could write. */
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
    /* The Keras blog's convolutional autoencoder (its decoder's valid
     * convolution makes 16 pixels 14, so 28 x 28 images only). */
    {"conv", "28x28 images: conv 16-8-8 relu + max pools to a 4x4x8 code, "
             "conv + upsampling back",
     "input IMAGE\nconv 16 3x3 relu same\nmaxpool 2 same\n"
     "conv 8 3x3 relu same\nmaxpool 2 same\nconv 8 3x3 relu same\n"
     "maxpool 2 same\nconv 8 3x3 relu same\nupsample 2\n"
     "conv 8 3x3 relu same\nupsample 2\nconv 16 3x3 relu\nupsample 2\n"
     "conv C 3x3 sigmoid same\nloss bce\n"},
    {"conv-deconv", "28x28 images: stride-2 convs to a dense 32 code, "
                    "transposed convs back",
     "input IMAGE\nconv 16 3x3 relu stride=2 same\n"
     "conv 32 3x3 relu stride=2 same\nflatten\ndense 32 relu\n"
     "dense 1568 relu\nreshape 7x7x32\ndeconv 16 3x3 relu stride=2 same\n"
     "deconv C 3x3 sigmoid stride=2 same\nloss bce\n"},
    /* Variational: Kingma and Welling's MLP with a 2-D latent code, and
     * the Keras VAE example's convolutional model. */
    {"vae", "variational: D -> 512 relu -> latent 2 gaussian -> 512 relu -> "
            "D sigmoid, bce",
     "input D\ndense 512 relu\nlatent 2 gaussian\ndense 512 relu\n"
     "dense D sigmoid\nloss bce\n"},
    {"vae-conv", "variational, 28x28 images: stride-2 convs 32-64, dense 16, "
                 "latent 2 gaussian, transposed convs back (Keras's VAE)",
     "input IMAGE\nconv 32 3x3 relu stride=2 same\n"
     "conv 64 3x3 relu stride=2 same\nflatten\ndense 16 relu\n"
     "latent 2 gaussian\ndense 3136 relu\nreshape 7x7x64\n"
     "deconv 64 3x3 relu stride=2 same\ndeconv 32 3x3 relu stride=2 same\n"
     "deconv C 3x3 sigmoid same\nloss bce\n"},
};

/* Presets with IMAGE in their text take 28 x 28 images. */
static int takes_images(const char *text) { return strstr(text, "IMAGE") != NULL; }

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

/* The word at p, if it is token. */
static int is_word(const char *text, const char *p, const char *token)
{
    size_t n = strlen(token);
    return strncmp(p, token, n) == 0 &&
           (p == text || p[-1] == ' ' || p[-1] == '\n') &&
           (p[n] == ' ' || p[n] == '\n' || !p[n]);
}

/* The template with its words D, IMAGE and C replaced. */
static char *instantiate(const char *text, size_t input,
                         const clae_image_shape *image)
{
    char values[3][48];
    const char *tokens[3] = {"D", "IMAGE", "C"};
    snprintf(values[0], sizeof values[0], "%zu", input);
    snprintf(values[1], sizeof values[1], "%ux%ux%u", image->height,
             image->width, image->channels);
    snprintf(values[2], sizeof values[2], "%u", image->channels);
    char *out = malloc(strlen(text) * sizeof values[0] + 1), *o = out;
    if (!out) return NULL;
    for (const char *p = text; *p;) {
        int t = 0;
        while (t < 3 && !is_word(text, p, tokens[t])) t++;
        if (t < 3) {
            o += sprintf(o, "%s", values[t]);
            p += strlen(tokens[t]);
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

clae_status clae_arch_spec(clae_context *ctx, const char *name, size_t input,
                           const clae_image_shape *image, char **spec_text)
{
    *spec_text = NULL;
    const clae_image_shape none = {0, 0, 0};
    for (size_t i = 0; i < PRESET_COUNT; i++) {
        if (strcmp(presets[i].name, name) != 0) continue;
        if (takes_images(presets[i].text) &&
            (!image || image->height != 28 || image->width != 28))
            return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                             "preset '%s' takes 28x28 images, not %s", name,
                             image ? "images of another size"
                                   : "data without an image shape");
        char *text = instantiate(presets[i].text, input, image ? image : &none);
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
