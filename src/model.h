/* The model: a stack of layers over one flat parameter buffer.
 *
 * Letters: B rows of the batch, I a layer's input width, O its output width.
 * A dense layer's weight W is (O, I) row-major, as torch.nn.Linear's, at
 * param_off of the flat buffer; its bias b (O) follows it (a tied layer has
 * only b, and uses its mirror's W transposed). Gradients (and optimizer
 * state) use the same layout in buffers of the same size. Running
 * statistics, which are not trained, live in a state buffer. */
#ifndef CLAE_MODEL_H
#define CLAE_MODEL_H

#include "blas.h"
#include "kernels.h"
#include "spec.h"

typedef struct clae_layer clae_layer;
typedef struct clae_workspace clae_workspace;

enum {
    CLAE_MAX_LAYER_GEMMS = 3,
    CLAE_MAX_LAYER_TENSORS = 4,
    CLAE_MAX_TENSOR_DIMS = 4
};

/* A named tensor of a layer in a model file, and where it lives: in the
 * parameters (trained) or in the state (running statistics). */
typedef struct {
    const char *name; /* "weight", "bias", "running_mean", ... */
    size_t shape[CLAE_MAX_TENSOR_DIMS];
    int dims;
    int in_state;
    size_t off; /* floats into its buffer */
    /* The device holds it with its second dimension last (a 4-D conv
     * weight as (shape[0], shape[2], shape[3], shape[1])). */
    int channels_last;
} clae_tensor;

/* What every layer kind provides; one table per kind. Optional entries may
 * be NULL. */
typedef struct {
    size_t (*param_count)(const clae_layer *layer);
    size_t (*state_count)(const clae_layer *layer); /* optional */
    /* Floats of scratch the layer keeps in ws->aux for batches of up to
     * `batch` rows. Optional. */
    size_t (*aux_count)(const clae_layer *layer, size_t batch);
    /* Fills the layer's slices of the host parameter and state arrays
     * (whole arrays; the layer knows its offsets). Optional. */
    void (*init)(const clae_layer *layer, float *params, float *state,
                 uint64_t seed);
    /* ws->a[index] = layer(input rows at in_off), rows <= ws->batch. */
    clae_status (*forward)(clae_model *model, const clae_layer *layer,
                           clae_workspace *ws, cl_mem input, size_t in_off,
                           size_t rows);
    /* Given ws->g[index] = dLoss/d(output), writes the parameter gradients
     * into ws->grads and, unless index is 0, dLoss/d(input) into
     * ws->g[index - 1]. For the last layer the loss kernel has already gone
     * back through activation and bias (except softmax's): ws->g holds
     * dLoss/dz and the bias gradient is written. */
    clae_status (*backward)(clae_model *model, const clae_layer *layer,
                            clae_workspace *ws, cl_mem input, size_t in_off,
                            size_t rows);
    /* The GEMMs one training step of this layer runs at `rows` rows, in
     * order (forward, then backward); ws may be NULL when only the shapes
     * matter (sizing CLBlast's scratch, benchmarks). Returns the count.
     * Optional (layers without GEMMs). */
    size_t (*gemms)(const clae_model *model, const clae_layer *layer,
                    const clae_workspace *ws, cl_mem input, size_t in_off,
                    size_t rows, clae_gemm out[CLAE_MAX_LAYER_GEMMS]);
    /* The tensors a model file holds for the layer. */
    size_t (*tensors)(const clae_model *model, const clae_layer *layer,
                      clae_tensor out[CLAE_MAX_LAYER_TENSORS]);
    /* Where the output layer's loss kernel writes the column sums of dz:
     * *buf at *off. Optional: by default into ws->grads at the bias, which
     * has an entry per column. */
    void (*bias_sums)(const clae_layer *layer, const clae_workspace *ws,
                      cl_mem *buf, size_t *off);
    /* Nonzero: backward turns ws->g[index] into dLoss/d(input) in place,
     * and the workspace makes it the layer below's gradient buffer. */
    int gradient_in_place;
} clae_layer_ops;

struct clae_layer {
    const clae_layer_ops *ops;
    const clae_layer_spec *spec;
    size_t index;
    size_t in, out;
    /* Its output's channels (out for a plain width): a bias has an entry
     * per channel, and rows of out values hold out / channels pixels. */
    size_t channels;
    clae_geometry geometry; /* spatial layers' window pass */
    clae_act act;
    size_t param_off; /* its own parameters */
    size_t state_off;
    int loss_through_activation; /* the loss reads z (BCE on logits) */
    /* A tied layer above writes this layer's weight gradient first; this
     * layer adds to it. */
    int weights_shared;
};

struct clae_model {
    clae_context *ctx;
    clae_spec spec;
    char *spec_text;
    clae_layer *layers;
    size_t count;
    size_t param_count, state_count;
    cl_mem params;
    cl_mem state; /* NULL when no layer keeps state */
    /* Optimizer state, kept from one training run to the next and saved in
     * checkpoints: the first and second moments (Adam's m and v, SGD's
     * momentum buffer as moment1, RMSprop's v as moment2; NULL when the
     * optimizer keeps none) of the optimizer moments_of. */
    cl_mem moment1, moment2;
    clae_optimizer moments_of;
    uint64_t moment_steps; /* steps the moments have seen: Adam's t */
    int optimizer_known;   /* trained, or loaded from a checkpoint */
    /* Per-feature standardisation of inputs (clae_model_standardize): one
     * allocation, norm_std = norm_mean + input; NULL when none. */
    float *norm_mean, *norm_std;
    clae_loss_kernel loss_kernel;
    char *train_data, *train_labels; /* see clae_train_source */
    int train_class;
    float train_scale;
    unsigned train_height, train_width, train_channels;
    /* What clae_model_history reports. */
    uint64_t init_seed, train_seed;
    double train_loss, val_loss;
    char *device;
    unsigned epoch;    /* epochs trained so far */
    uint64_t step;     /* optimizer steps so far */
    /* An epoch stopped part-way (clae_train_options.interrupt): its first
     * partial_batches batches of partial_batch_size rows are done, and
     * partial_sums (partial_count floats, malloc'ed) holds what they
     * added to the epoch's per-batch sums (see train.c), which the resumed
     * epoch puts back, so that it reports what an uninterrupted one does.
     * Checkpoints keep them. */
    size_t partial_batches, partial_batch_size, partial_count;
    float *partial_sums;
    /* Early stopping's state (clae_train_options.patience), for checkpoints:
     * the best validation loss so far, its epoch (0: none yet), the epochs
     * since, and that epoch's parameters then state (malloc'ed,
     * clae__model_weights(m) floats; NULL until an epoch improves, and a
     * checkpoint saves the state only then), so that a resumed run stops
     * when, and restores what, an uninterrupted one does. */
    double best_val_loss;
    unsigned best_epoch, waited;
    float *best_weights;
};

/* Buffers of one (model, batch size), made once and reused every batch:
 * per layer the pre-activation z, the output a and the gradient g, all
 * (batch, O) (a layer whose loss reads z, loss_through_activation, leaves
 * its a unwritten and its z without the bias, which the loss kernel adds);
 * per layer its aux scratch (NULL when it needs none); the parameter
 * gradients; CLBlast's scratch. training: dropout and noise layers act,
 * batchnorm uses the batch's statistics; noisy: noise layers act even when
 * not training (evaluating on corrupted inputs); outputs: inference wants
 * the activated output. The caller sets seed and
 * draw before each batch. */
struct clae_workspace {
    clae_context *ctx;
    size_t batch;
    size_t count;
    cl_mem *z, *a, *g, *aux;
    cl_mem grads;
    cl_mem temp;
    int training, noisy;
    int outputs; /* the output layer writes a even when the loss reads z */
    uint64_t seed; /* keys dropout and noise */
    uint32_t draw; /* tells their batches apart: the step, or the batch */
    /* Where the code layer's activity penalty of the batch goes
     * (clae__chunks(code width) floats), when the spec has one. */
    cl_mem penalty;
    size_t penalty_off;
    /* A variational model's latent layer writes each row's KL divergence
     * at kl_off of kl when kl is set, and weighs the KL term's gradient by
     * kl_weight (its spec's beta unless a warm-up lowers it). */
    cl_mem kl;
    size_t kl_off;
    float kl_weight;
    /* The rows the loss is a mean over when they are not the rows at hand:
     * a replica's share of a batch is weighed as part of the whole batch
     * (clae_train_options.replicas), so that the replicas' gradients add
     * up to the batch's; 0: the rows at hand. */
    size_t mean_rows;
    /* Called after each layer's backward pass is enqueued, last layer
     * first: its parameters' gradient slice is then final (a tied layer
     * above has added to it already), so replicas can start summing it
     * while the device goes on (NULL: nobody). */
    clae_status (*layer_done)(void *user, size_t layer);
    void *layer_done_user;
};

/* The rows a loss over `rows` rows of ws is a mean over (ws->mean_rows). */
size_t clae__mean_rows(const clae_workspace *ws, size_t rows);

/* The key of the random draws of a layer of the workspace's seed. */
uint64_t clae__layer_key(const clae_workspace *ws, const clae_layer *layer);

/* The layer's GEMMs of one training step (see clae_layer_ops.gemms); 0
 * for layers without any. */
size_t clae__layer_gemms(const clae_model *model, const clae_layer *layer,
                         const clae_workspace *ws, cl_mem input, size_t in_off,
                         size_t rows, clae_gemm out[CLAE_MAX_LAYER_GEMMS]);

extern const clae_layer_ops clae__dense_ops, clae__batchnorm_ops,
    clae__dropout_ops, clae__noise_ops, clae__conv_ops, clae__pool_ops,
    clae__upsample_ops, clae__latent_ops;

/* The param_count and tensors of layers without parameters. */
size_t clae__no_params(const clae_layer *layer);
size_t clae__no_tensors(const clae_model *model, const clae_layer *layer,
                        clae_tensor out[CLAE_MAX_LAYER_TENSORS]);

/* The matrix multiply of dense and convolutional layers: z (rows, out) =
 * input (rows, in at in_off) W^T with W (out, in) at w_off of the
 * parameters, or input W with a transposed W (in, out) (a tied dense
 * layer's, a deconv's). Backward: W's gradient from dz, written (or added
 * to, when accumulate) at w_off of ws->grads; and dinput = dz W (or dz
 * W^T), unless dinput is NULL. */
typedef struct {
    cl_mem input;
    size_t in_off, rows, in, out;
    size_t w_off;
    int transposed, accumulate;
    cl_mem z, dz, dinput;
} clae_matmul;

/* Its GEMMs: forward, weight gradient, input gradient (whose c is dinput:
 * the caller runs it or not). ws may be NULL when only shapes matter. */
enum { CLAE_GEMM_FORWARD, CLAE_GEMM_WEIGHT_GRAD, CLAE_GEMM_INPUT_GRAD };
void clae__matmul_gemms(const clae_model *model, const clae_workspace *ws,
                          const clae_matmul *mm,
                          clae_gemm out[CLAE_MAX_LAYER_GEMMS]);

/* Fills the layer's n weights at w from its spec's initialiser, with the
 * fans a Keras or PyTorch layer of its kind has. */
void clae__init_weights(const clae_layer *layer, float *w, size_t n,
                        size_t fan_in, size_t fan_out, uint64_t seed);

/* The offset of the layer's bias: its parameters end with one entry per
 * output channel. */
size_t clae__bias_off(const clae_layer *layer);

clae_status clae__workspace_create(clae_model *model, size_t batch,
                                   clae_workspace **ws);
void clae__workspace_destroy(clae_workspace *ws);

/* The output (rows, D) of the whole model is ws->a[count - 1]. */
clae_status clae__model_forward(clae_model *model, clae_workspace *ws,
                                cl_mem input, size_t in_off, size_t rows);
/* Layers first .. end - 1 only: input feeds layer first, and the output is
 * ws->a[end - 1]. */
clae_status clae__model_forward_layers(clae_model *model, clae_workspace *ws,
                                       size_t first, size_t end, cl_mem input,
                                       size_t in_off, size_t rows);

/* CLAE_ERR_INPUT naming the data (its source, else what) unless it has
 * samples of `width` features. */
clae_status clae__check_width(clae_model *model, const clae_data *data,
                              size_t width, const char *what);

/* What a loss summed over `rows` samples is divided by to report it:
 * samples times features (the mean over elements), or samples for
 * categorical cross-entropy and variational models (summed over features,
 * as Keras reports them). */
size_t clae__loss_divisor(const clae_model *model, size_t rows);

/* Evaluation: per-row losses into sample_loss[loss_off ..]. */
clae_status clae__model_loss(clae_model *model, clae_workspace *ws,
                             cl_mem target, size_t target_off, size_t rows,
                             cl_mem sample_loss, size_t loss_off);

/* Training: the loss summed per chunk of output columns into
 * chunk_loss[loss_off ..] (clae__chunks(D) floats), and the last layer's
 * backward pass through its activation and bias: dLoss/dz of the batch's
 * mean loss into its ws->g, and its bias gradient into ws->grads. */
clae_status clae__model_loss_backward(clae_model *model, clae_workspace *ws,
                                      cl_mem target, size_t target_off,
                                      size_t rows, cl_mem chunk_loss,
                                      size_t loss_off);

/* The other parameter gradients into ws->grads (after
 * clae__model_loss_backward). */
clae_status clae__model_backward(clae_model *model, clae_workspace *ws,
                                 cl_mem input, size_t in_off, size_t rows);

/* Where a layer's own weights lie in the parameter buffer (*count floats
 * at *off; biases excluded): what weight penalties apply to. Returns 0,
 * leaving both unset, for a layer without weights of its own (a tied
 * layer uses its mirror's; batch norm's scale is not a weight). */
int clae__layer_weights(const clae_layer *layer, size_t *off, size_t *count);

/* *use = data standardised as the model says (src/standardize.c): a copy
 * in *copy, which the caller frees with clae_data_free, or data itself
 * (*copy NULL) when the model standardises nothing. */
clae_status clae__standardized(clae_model *model, const clae_data *data,
                               const clae_data **use, clae_data **copy);
/* rows of model outputs (input width) back into the data's units. */
void clae__unstandardize(const clae_model *model, float *x, size_t rows);

/* Records that training starts on the model's device with this seed. */
clae_status clae__model_note_training(clae_model *model, uint64_t seed);

/* The most parameters (and running statistics) a model may hold: far
 * beyond any device, and small enough that their sizes in bytes, with
 * gradients and optimizer moments, never overflow. */
#define CLAE_MAX_MODEL_FLOATS (SIZE_MAX / 64)

/* The floats of parameters and running statistics the spec's layers hold
 * (SIZE_MAX when the count overflows), without building the model. */
size_t clae__spec_floats(const clae_spec *spec);

/* A model from a parsed spec, its parameters initialised from the seed.
 * Takes ownership of spec (and clears it); refuses (CLAE_ERR_SPEC) more
 * than CLAE_MAX_MODEL_FLOATS. */
clae_status clae__model_build(clae_context *ctx, clae_spec *spec,
                              uint64_t seed, clae_model **model);

/* The floats of the parameters and the state together. */
size_t clae__model_weights(const clae_model *m);

#endif
