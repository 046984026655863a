/* Model specs: the text of DESIGN.md's "Model specs", parsed once into typed
 * structs. Flags and presets produce the same text, so there is one path. */
#ifndef CLAE_SPEC_H
#define CLAE_SPEC_H

#include "context.h"
#include "kernels.h"

typedef enum {
    CLAE_LAYER_DENSE = 0,
    CLAE_LAYER_DROPOUT,   /* training only: zeroes a fraction, rescales */
    CLAE_LAYER_NOISE,     /* training only: corrupts its input */
    CLAE_LAYER_BATCHNORM, /* per feature, or per channel of an image from a
                             convolutional layer; its own activation */
    CLAE_LAYER_CONV,      /* convolution, bias per channel, activation */
    CLAE_LAYER_DECONV,    /* transposed convolution, as conv */
    CLAE_LAYER_MAXPOOL,
    CLAE_LAYER_AVGPOOL,
    CLAE_LAYER_UPSAMPLE,  /* nearest neighbour by an integer factor */
    CLAE_LAYER_LATENT,    /* a VAE's Gaussian latent layer: a dense
                             projection to mean and log-variance, and a
                             sample of N(mean, exp(log-variance)) */
} clae_layer_kind;

/* Weight initialisers; biases start at zero. */
typedef enum {
    CLAE_INIT_GLOROT_UNIFORM = 0, /* limit sqrt(6 / (in + out)) */
    CLAE_INIT_GLOROT_NORMAL,      /* std sqrt(2 / (in + out)) */
    CLAE_INIT_HE_UNIFORM,         /* limit sqrt(6 / in) */
    CLAE_INIT_HE_NORMAL,          /* std sqrt(2 / in) */
    CLAE_INIT_NORMAL,             /* std init_scale */
    CLAE_INIT_UNIFORM,            /* limit init_scale */
} clae_init;

/* What flows between layers: a width of units, or an image (shape H x W x
 * C, channels last; a plain width is 1 x 1 x units). spatial: the image
 * comes from a convolutional layer (conv, deconv, pool, upsample) or a
 * reshape, so batch norm takes it per channel. */
typedef struct {
    clae_shape shape;
    int image, spatial;
} clae_flow;

typedef struct {
    clae_layer_kind kind;
    size_t units;     /* output width (out's values) */
    clae_flow in, out; /* its input, after any flatten or reshape line */
    /* conv and deconv: kernel_h x kernel_w, stride, padding; pools: the
     * window; upsample: factor x factor windows. deconv's and upsample's
     * window slides over their output (they reverse a conv or a pool). */
    clae_window window;
    int same;         /* conv, deconv, pools: "same" padding, not "valid" */
    clae_act act;     /* dense, conv, deconv and batchnorm */
    clae_init init;   /* dense, conv and deconv */
    float init_scale; /* the std of normal, the limit of uniform */
    int tied;         /* dense: W is the transpose of its mirror layer's */
    size_t mirror;    /* tied: the dense layer whose weights it uses */
    clae_noise_kernel noise; /* noise: the kind of corruption */
    float rate;       /* dropout's fraction; noise's std or fraction */
    float beta;       /* latent: the KL term's weight */
} clae_layer_spec;

typedef struct {
    size_t input;                       /* features per sample */
    unsigned height, width, channels;   /* from "input HxWxC", else 0 */
    clae_layer_spec *layers;
    size_t count;
    size_t code_layer;                  /* index into layers */
    /* Penalties on the code layer's activations: l1 * mean over samples of
     * sum |a| (Keras's activity L1), and beta * the sum over units of
     * KL(rho || mean activation) (the sparse autoencoder's). 0: off. */
    float code_l1, sparsity_rho, sparsity_beta;
    clae_loss loss;
    /* A variational model: the index of its latent layer (also its code
     * layer); else SIZE_MAX. */
    size_t latent;
} clae_spec;

/* Names of the spec's own enums, as the spec text spells them. */
const char *clae__init_name(clae_init init);
clae_status clae__init_parse(const char *name, clae_init *out);
/* An init= value ("he_normal", "normal(0.05)", "uniform(0.1)") into
 * layer's init and init_scale; 0 when it names none. */
int clae__spec_parse_init(const char *word, clae_layer_spec *layer);
#define CLAE_INIT_NAMES                                                      \
    "glorot_uniform, glorot_normal, he_uniform, he_normal, normal(STD), "   \
    "uniform(LIMIT)"
const char *clae__noise_name(clae_noise_kernel noise);
clae_status clae__noise_parse(const char *name, clae_noise_kernel *out);

/* The default parameter of an activation (leaky_relu's slope 0.01 as
 * PyTorch's, elu's alpha 1); 0 for the others. */
float clae__act_default_param(clae_activation act);

/* Nonzero for conv, deconv, the pools and upsample. */
int clae__layer_is_spatial(clae_layer_kind kind);

/* The window pass of a spatial layer (see clae_layer_spec.window): from
 * its input to its output, or the reverse for deconv and upsample. */
clae_geometry clae__layer_geometry(const clae_layer_spec *layer);

/* Nonzero for a variational model (one with a latent layer). */
int clae__spec_is_variational(const clae_spec *spec);

/* Nonzero when the code layer's activations are penalised. */
int clae__spec_has_activity_penalty(const clae_spec *spec);

/* The width of layer index's input. */
size_t clae__spec_layer_input(const clae_spec *spec, size_t index);

/* The code layer when the spec marks none: the narrowest dense layer. */
size_t clae__spec_default_code(const clae_spec *spec);

/* Parses spec text; errors name the line. Free with clae__spec_free. */
clae_status clae__spec_parse(clae_context *ctx, const char *text,
                             clae_spec *spec);
void clae__spec_free(clae_spec *spec);

/* The canonical text of a spec, malloc'ed (NULL when out of memory). */
char *clae__spec_format(const clae_spec *spec);

#endif
