/* Model specs: the text of DESIGN.md's "Model specs", parsed once into typed
 * structs. Flags and presets produce the same text, so there is one path. */
#ifndef CLAE_SPEC_H
#define CLAE_SPEC_H

#include "context.h"

typedef enum { CLAE_LAYER_DENSE = 0 } clae_layer_kind;

typedef struct {
    clae_layer_kind kind;
    size_t units;
    clae_activation activation;
} clae_layer_spec;

typedef struct {
    size_t input;                       /* features per sample */
    unsigned height, width, channels;   /* from "input HxWxC", else 0 */
    clae_layer_spec *layers;
    size_t count;
    size_t code_layer;                  /* index into layers */
    clae_loss loss;
} clae_spec;

/* Parses spec text; errors name the line. Free with clae__spec_free. */
clae_status clae__spec_parse(clae_context *ctx, const char *text,
                             clae_spec *spec);
void clae__spec_free(clae_spec *spec);

/* The canonical text of a spec, malloc'ed (NULL when out of memory). */
char *clae__spec_format(const clae_spec *spec);

#endif
