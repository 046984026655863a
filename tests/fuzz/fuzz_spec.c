/* Model-spec text (src/spec.c, src/spec_format.c): the input is the text.
 * A spec that parses must also lay out (clae__spec_floats, what model
 * files and clae_spec_load check), and its canonical text (what model
 * files store) must parse again to the same canonical text: a saved model
 * whose spec does not read back could never be loaded. */
#include "fuzz.h"
#include "model.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, bytes, size);
    text[size] = '\0';

    clae_context *ctx = fuzz_host_context();
    clae_spec spec;
    clae_status status = clae__spec_parse(ctx, text, &spec);
    fuzz_expect_message(ctx, status, "clae__spec_parse");
    free(text);
    if (status != CLAE_SUCCESS) return 0;

    (void)clae__spec_floats(&spec);
    char *canonical = clae__spec_format(&spec);
    clae__spec_free(&spec);
    if (!canonical) return 0; /* out of memory */
    clae_spec again;
    ctx = fuzz_host_context();
    if (clae__spec_parse(ctx, canonical, &again) != CLAE_SUCCESS) {
        fprintf(stderr, "the canonical text does not parse: %s\n---\n%s---\n",
                ctx->last_error, canonical);
        abort();
    }
    char *twice = clae__spec_format(&again);
    clae__spec_free(&again);
    if (twice && strcmp(canonical, twice) != 0) {
        fprintf(stderr, "the canonical text changes when parsed again:\n"
                        "---\n%s---\n%s---\n", canonical, twice);
        abort();
    }
    free(twice);
    free(canonical);
    return 0;
}
