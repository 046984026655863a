/*
 * clae: train autoencoders on any OpenCL device.
 *
 * Every matrix multiply goes to CLBlast; activations, losses, gradients and
 * optimizer updates run as clae's own OpenCL kernels. The library never
 * prints and never exits: functions return a clae_status, and a context keeps
 * the message of its last error (clae_last_error).
 *
 * Order of this header: version, status, enums, parameter structs, opaque
 * handles, then functions by area.
 */
#ifndef CLAE_H
#define CLAE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ===== Version ========================================================== */

#define CLAE_VERSION_STRING "0.1.0"

const char *clae_version(void);         /* clae's version, "0.1.0" */
const char *clae_clblast_version(void); /* CLBlast's, as built against */

/* ===== Status =========================================================== */

/* 0 is success. OpenCL's CL_* codes (0 .. -72) and CLBlast's codes
 * (-1007 .. -2050) are kept as they are; clae's own live in -4000 .. -4099. */
typedef int clae_status;

enum {
    CLAE_SUCCESS = 0,
    CLAE_ERR_NO_PLATFORM = -4001, /* no OpenCL platform or device at all */
    CLAE_ERR_NO_DEVICE = -4002,   /* the requested device does not exist */
    CLAE_ERR_USAGE = -4003,       /* an argument or option value is invalid */
    CLAE_ERR_INPUT = -4004,       /* an input file is missing or malformed */
    CLAE_ERR_IO = -4005,          /* an output file could not be written */
    CLAE_ERR_HOST_MEMORY = -4006, /* malloc failed */
    CLAE_ERR_SPEC = -4007,        /* a model spec is malformed */
    CLAE_ERR_DIVERGED = -4008,    /* the loss became NaN or infinite */
    CLAE_ERR_INTERRUPTED = -4009, /* clae_train_options.interrupt was set */
    CLAE_ERR_REPLICAS = -4010,    /* clae_train_options.sum_across failed */
};

/* Symbolic name of any status: "CL_OUT_OF_RESOURCES", "CLAE_ERR_INPUT". */
const char *clae_strerror(clae_status status);

/* Nonzero when the status is the caller's fault (bad usage, bad input, a
 * device that does not exist) rather than a device or runtime failure. */
int clae_status_is_user_error(clae_status status);

/* ===== Enums ============================================================ */

typedef enum {
    CLAE_DEVICE_DEFAULT = 0, /* first GPU, else the first device */
    CLAE_DEVICE_GPU,
    CLAE_DEVICE_CPU,
    CLAE_DEVICE_ANY,
} clae_device_type;

typedef enum {
    CLAE_ACT_LINEAR = 0,
    CLAE_ACT_RELU,
    CLAE_ACT_SIGMOID,
    CLAE_ACT_TANH,
    CLAE_ACT_LEAKY_RELU, /* slope (default 0.01) below 0 */
    CLAE_ACT_ELU,        /* alpha (default 1) * (exp(x) - 1) below 0 */
    CLAE_ACT_SOFTMAX,    /* over the features of each sample */
} clae_activation;

typedef enum {
    CLAE_LOSS_BCE = 0, /* binary cross-entropy, mean over elements */
    CLAE_LOSS_MSE,     /* mean squared error, mean over elements */
    CLAE_LOSS_MAE,     /* mean absolute error, mean over elements */
    CLAE_LOSS_CCE,     /* categorical cross-entropy of a softmax output:
                          summed over features, mean over samples (Keras) */
} clae_loss;

typedef enum {
    CLAE_OPTIMIZER_ADAM = 0,
    CLAE_OPTIMIZER_SGD,     /* with momentum and Nesterov's as options */
    CLAE_OPTIMIZER_ADAMW,   /* Adam with decoupled weight decay */
    CLAE_OPTIMIZER_RMSPROP,
} clae_optimizer;

/* How the learning rate changes over a run (see clae_train_options). */
typedef enum {
    CLAE_LR_CONSTANT = 0,
    CLAE_LR_STEP,   /* lr gamma^floor(epoch / step_epochs) */
    CLAE_LR_COSINE, /* lr (1 + cos(pi t / T)) / 2 at step t of T */
} clae_lr_schedule;

/* What training does when a batch's loss or gradient is not finite. */
typedef enum {
    CLAE_ON_NAN_STOP = 0,   /* stop: CLAE_ERR_DIVERGED, naming the batch */
    CLAE_ON_NAN_SKIP_BATCH, /* leave the batch out and go on */
} clae_on_nan;

/* Name <-> enum; the *_parse functions return CLAE_ERR_USAGE on an unknown
 * name. Names are those of the spec text: "relu", "bce", "adam", ... */
const char *clae_activation_name(clae_activation act);
clae_status clae_activation_parse(const char *name, clae_activation *out);
const char *clae_loss_name(clae_loss loss);
clae_status clae_loss_parse(const char *name, clae_loss *out);
const char *clae_optimizer_name(clae_optimizer optimizer);
clae_status clae_optimizer_parse(const char *name, clae_optimizer *out);
/* "constant", "step", "cosine". */
clae_status clae_lr_schedule_parse(const char *name, clae_lr_schedule *out);
clae_status clae_on_nan_parse(const char *name, clae_on_nan *out);
clae_status clae_device_type_parse(const char *name, clae_device_type *out);
/* CLAE_SUCCESS when name is an initialiser a spec's init= accepts
 * ("he_uniform", "normal(0.05)", ...), else CLAE_ERR_USAGE. */
clae_status clae_init_check(const char *name);

/* ===== Parameter structs ================================================ */

/* One OpenCL device, as clae-devices lists it. */
typedef struct {
    unsigned platform_index, device_index; /* the P:D of --device */
    char platform_name[128];
    char platform_version[128];
    char name[128];
    char vendor[128];
    char type[16]; /* "GPU", "CPU", "ACCELERATOR" or "OTHER" */
    char opencl_version[128];
    char driver_version[128];
    unsigned compute_units;
    unsigned clock_mhz;
    uint64_t global_mem_bytes;
    uint64_t local_mem_bytes;
    uint64_t max_alloc_bytes;
} clae_device_info;

typedef enum { CLAE_LOG_INFO = 0, CLAE_LOG_WARNING } clae_log_level;

/* The parts an epoch's time is split into when profiling. */
typedef enum {
    CLAE_PROFILE_GEMM = 0,        /* CLBlast SGEMM calls */
    CLAE_PROFILE_BIAS_ACT,        /* fused bias + activation */
    CLAE_PROFILE_LOSS,            /* loss and output gradient */
    CLAE_PROFILE_BIAS_ACT_BACKWARD, /* activation and bias gradients */
    CLAE_PROFILE_GATHER,          /* building each batch */
    CLAE_PROFILE_OPTIMIZER,       /* the parameter update */
    CLAE_PROFILE_TRANSFER,        /* host <-> device copies */
    CLAE_PROFILE_HOST,            /* the rest of the wall time: the device
                                     waiting for the host */
    CLAE_PROFILE_NOISE,           /* random draws, corruption, dropout */
    CLAE_PROFILE_WINDOW,          /* im2col, col2im, pooling, upsampling */
    CLAE_PROFILE_PARTS
} clae_profile_part;

/* "gemm", "bias_act", "loss", "bias_act_backward", ... "noise", "window". */
const char *clae_profile_part_name(clae_profile_part part);

typedef struct {
    double seconds[CLAE_PROFILE_PARTS];
} clae_profile;

typedef struct {
    const char *device;           /* "P:D"; NULL: $CLAE_DEVICE, else by type */
    clae_device_type device_type; /* used when no P:D is given */
    const char *kernel_dir;       /* NULL: $CLAE_KERNEL_DIR, else embedded */
    /* Nonzero: time every command with OpenCL profiling events; training
     * then reports where each epoch's time went (clae_epoch_metrics). */
    int profile;
    /* Bytes data sets may take on the device; a larger set is streamed in
     * chunks, its upload overlapping training. 0: half the device's global
     * memory. */
    uint64_t device_memory;
    /* Receives what the library has to say while it works (warnings). */
    void (*log)(void *user, clae_log_level level, const char *message);
    void *log_user;
} clae_context_options;

/* A data set in host memory: n samples of d floats, row-major. */
typedef struct {
    size_t n, d;
    unsigned height, width, channels; /* image shape when known, else 0 */
    float *x;                         /* n * d values, owned by the struct */
    float scale; /* what the file's values were divided by */
    /* Bytes a value took in the file: 1 (uint8), 4 (float32), 8
     * (float64); 4 for CSV and arrays (as float32). */
    unsigned value_bytes;
    char *source; /* the file it came from, owned; NULL for arrays */
} clae_data;

/* What a dense spec built from flags contains (see clae_spec_dense). */
typedef struct {
    size_t input;          /* features per sample */
    const size_t *hidden;  /* widths of the hidden layers */
    size_t hidden_count;
    clae_activation activation;        /* of the hidden layers */
    clae_activation output_activation; /* of the output layer */
    clae_loss loss;
    /* The weights' initialiser as a spec's init= names it ("he_uniform",
     * "normal(0.05)", ...); NULL for the default, glorot_uniform. */
    const char *init;
} clae_dense_spec;

typedef struct {
    unsigned epoch;    /* 1-based */
    double train_loss; /* mean over all elements of the epoch's batches */
    double val_loss;   /* NaN without a validation set */
    double seconds;    /* the epoch's training wall time */
    /* A variational model's loss, a mean over samples, is recon + beta *
     * kl: these are its parts (the reconstruction loss summed over each
     * sample's features, and the KL divergence of its latent code from
     * N(0, I)). NaN for other models, and val_ ones without a validation
     * set. */
    double train_recon, train_kl, val_recon, val_kl;
    /* Batches left out under CLAE_ON_NAN_SKIP_BATCH (the train losses are
     * means over the others), and the 1-based number of the first. */
    size_t skipped_batches, first_skipped;
    /* Where those seconds went; NULL unless the context profiles. */
    const clae_profile *profile;
} clae_epoch_metrics;

/* Where an epoch is, for progress displays. */
typedef struct {
    unsigned epoch;            /* 1-based, as in clae_epoch_metrics */
    size_t batch, batches;     /* batches done, of the epoch's */
    double seconds;            /* since the epoch started */
    double samples_per_second;
    double running_loss;       /* the mean loss of the batches done */
} clae_progress;

typedef struct {
    clae_optimizer optimizer;
    float learning_rate;
    float beta1, beta2, epsilon; /* Adam's and AdamW's; epsilon RMSprop's too */
    /* Each optimizer reads its own fields and ignores the others' (which
     * must still hold valid values: the defaults do). */
    float momentum;     /* SGD's, in [0, 1); 0: plain SGD */
    int nesterov;       /* SGD: Nesterov momentum (needs momentum > 0) */
    float weight_decay; /* AdamW's decoupled decay: p -= lr wd p each step */
    float rho;          /* RMSprop's decay of the mean square, in [0, 1) */
    /* The learning rate of each step: constant; step, times lr_gamma every
     * lr_step_epochs epochs (needs lr_step_epochs > 0); or cosine, from
     * learning_rate toward 0 over the run's steps. Epochs and steps count
     * from 0 at the start of each clae_train call. */
    clae_lr_schedule lr_schedule;
    unsigned lr_step_epochs;
    float lr_gamma;
    /* Scales all gradients by min(1, clip_norm / (norm + 1e-6)), norm
     * their global L2 norm, before each step; 0: off. */
    float clip_norm;
    /* Weight penalties l1 sum |w| + l2 sum w^2 over the weights (not the
     * biases) of every layer that has them, in the loss and its gradient. The reported
     * train and validation losses include it, as Keras's do. */
    float l1, l2;
    /* Early stopping on the validation loss (Keras's EarlyStopping with
     * restore_best_weights): stop after `patience` epochs (0: never) whose
     * val_loss is not below the best by more than min_delta, then restore
     * the best epoch's weights. Needs a validation set. The model keeps
     * the best loss, its epoch's weights and the epochs waited, and a
     * checkpoint saves them: training resumed from one with a patience
     * carries on counting (without one, they are dropped). */
    unsigned patience;
    float min_delta;
    /* Variational models: the KL term's weight rises linearly from 0 to
     * the spec's beta over this many epochs of steps (KL annealing, Bowman
     * et al. 2016), counted from the model's first step; 0: none. The
     * reported losses weigh the KL by beta throughout. */
    unsigned kl_warmup;
    size_t batch_size;
    unsigned epochs;
    uint64_t seed; /* keys the shuffling */
    /* Called after every epoch; a nonzero return stops training early. */
    int (*on_epoch)(void *user, const clae_epoch_metrics *metrics);
    /* Called every progress_batches batches (0: about 20 times an epoch)
     * and after the last. Each call waits for the device to finish the
     * batches so far: leave it NULL when nobody watches. */
    void (*on_progress)(void *user, const clae_progress *progress);
    size_t progress_batches;
    void *user;
    /* When *interrupt becomes nonzero (a signal handler may set it),
     * training stops after the batch under way and returns
     * CLAE_ERR_INTERRUPTED; the model then holds the parameters after that
     * batch and where the epoch stood, so that a checkpoint of it
     * (clae_model_save_checkpoint) resumed by clae_train with the same
     * data, batch size and options finishes the epoch with the metrics an
     * uninterrupted run reports. NULL: never. */
    const volatile sig_atomic_t *interrupt;
    /* CLAE_ON_NAN_STOP (the default): an epoch whose loss is not finite
     * stops training with CLAE_ERR_DIVERGED, naming its first bad batch.
     * CLAE_ON_NAN_SKIP_BATCH: a batch whose loss or gradient holds a NaN
     * or infinity leaves the parameters and the optimizer's state as they
     * were (as PyTorch's GradScaler skips a step) and is left out of the
     * epoch's train losses; only an epoch whose every batch is skipped
     * diverges. The host then waits for each batch's check, which costs
     * some speed. */
    clae_on_nan on_nan;
    /* Data parallelism: `replicas` processes (e.g. MPI ranks, each with its
     * own context and an identical model) train together, replica number
     * `replica` (0-based) taking its share of every batch: rows
     * [rows * replica / replicas, rows * (replica + 1) / replicas) of it.
     * After each batch's backward pass sum_across(replica_user, data,
     * count) must replace data[0 .. count) by its elementwise sum over all
     * replicas (MPI_Allreduce with MPI_SUM, in place) and return 0, or
     * nonzero when that failed; every replica makes the same calls in the
     * same order. The summed gradients make the same update on every
     * replica, the one a single process makes from the whole batch up to
     * the order of float additions; the reported losses are the whole
     * data's. Batch norm and activity penalties see a replica's share of
     * the batch (as PyTorch's DistributedDataParallel without SyncBatchNorm
     * does). 0 or 1: alone (sum_across unused). Not with
     * CLAE_ON_NAN_SKIP_BATCH. */
    unsigned replicas, replica;
    int (*sum_across)(void *replica_user, float *data, size_t count);
    void *replica_user;
} clae_train_options;

/* ===== Opaque handles =================================================== */

typedef struct clae_context clae_context;
typedef struct clae_model clae_model;

/* ===== Devices ========================================================== */

/* Lists every device of every platform into a malloc'ed array the caller
 * frees with free(). Returns CLAE_ERR_NO_PLATFORM when there is none. */
clae_status clae_devices_list(clae_device_info **devices, size_t *count);

/* Version string of the first OpenCL platform, or "none". */
const char *clae_opencl_platform_version(char *buffer, size_t size);

/* ===== Context ========================================================== */

/* Opens the chosen device (options may be NULL) and builds the kernels.
 * *context is set even on failure, when memory allows, so that
 * clae_last_error can say why; destroy it in every case. */
clae_status clae_context_create(const clae_context_options *options,
                                clae_context **context);
void clae_context_destroy(clae_context *context); /* NULL-safe */

/* The last error's message with its call site; "" when none. */
const char *clae_last_error(const clae_context *context);
const clae_device_info *clae_context_device(const clae_context *context);

/* The most bytes clae's own device buffers (data, parameters, workspace,
 * optimizer state, CLBlast's scratch) have held at once in this context. */
uint64_t clae_device_memory_peak(const clae_context *context);

/* ===== Data ============================================================= */

/* How clae_data_load turns a file's values into the floats it trains on. */
typedef struct {
    /* Every value is divided by it; 0: 255 for files of uint8 (IDX, uint8
     * .npy), so that pixels land in [0, 1], and 1 for everything else. */
    float scale;
} clae_data_options;

/* Reads a data set of n samples: a .npy file (float32, float64 or uint8,
 * C order; N x D, N x H x W or N x H x W x C), a CSV file (name ending in
 * .csv: numbers, one sample a row, an optional header line), or an IDX
 * file (plain or gzip; N x H x W or N x H x W x C uint8). Image shapes are
 * kept in height, width and channels. options may be NULL (defaults).
 * Values that are not finite are an error. */
clae_status clae_data_load(clae_context *context, const char *path,
                           const clae_data_options *options, clae_data **data);
/* A data set of n samples of d values copied from the row-major array x
 * (scale 1), for data made in memory; NaN or infinite values are refused
 * as in files. Free it with clae_data_free. */
clae_status clae_data_from_array(clae_context *context, const float *x,
                                 size_t n, size_t d, clae_data **data);
void clae_data_free(clae_data *data); /* NULL-safe */

/* Reads class labels, one a sample: an IDX file of uint8 (such as
 * Fashion-MNIST's t10k-labels-idx1-ubyte.gz), a .npy vector (or N x 1) of
 * uint8 or whole-number floats, or a one-column CSV. *labels (n) is
 * malloc'ed. */
clae_status clae_labels_load(clae_context *context, const char *path,
                             int **labels, size_t *n);

/* Keeps the samples of data whose label (labels has one per sample) is
 * k, in order: one-class training for anomaly detection. CLAE_ERR_INPUT
 * when the counts differ or no sample is of class k. */
clae_status clae_data_keep_class(clae_context *context, clae_data *data,
                                 const int *labels, size_t n_labels, int k);

/* Ranking quality of anomaly scores (higher = more anomalous) against
 * labels, the samples whose label is not normal_class being the anomalies:
 * the area under the ROC curve (ties counted half) and the average
 * precision (the mean, over the anomalies, of the precision among the
 * samples scored at least as high). CLAE_ERR_USAGE when either group is
 * empty, CLAE_ERR_INPUT for a score that is not finite. */
clae_status clae_anomaly_metrics(clae_context *context, const float *scores,
                                 const int *labels, size_t n, int normal_class,
                                 double *roc_auc, double *average_precision);

/* Writes values as a float32 .npy array of dims dimensions (1 to 8) and the
 * given shape, C order, atomically; numpy.load reads it. */
clae_status clae_npy_write(clae_context *context, const char *path,
                           const float *values, int dims,
                           const uint64_t *shape);

/* ===== Model specs ====================================================== */

/* Writes the spec text of a dense autoencoder to a malloc'ed string. */
clae_status clae_spec_dense(clae_context *context, const clae_dense_spec *dense,
                            char **spec_text);

/* Reads a spec file into a malloc'ed string (parsed by clae_model_create). */
clae_status clae_spec_load(clae_context *context, const char *path,
                           char **spec_text);

/* An image's shape, channels last. */
typedef struct {
    unsigned height, width, channels;
} clae_image_shape;

/* Preset names, NULL-terminated; clae_arch_spec writes one preset's text,
 * with the input width given (784 for Fashion-MNIST), to a malloc'ed
 * string. The convolutional presets take 28 x 28 images of any channel
 * count: image is the data's shape, or NULL when the data are not images
 * (CLAE_ERR_USAGE for those presets). */
const char *const *clae_arch_names(void);
const char *clae_arch_description(const char *name); /* NULL if unknown */
clae_status clae_arch_spec(clae_context *context, const char *name,
                           size_t input, const clae_image_shape *image,
                           char **spec_text);

/* ===== Model ============================================================ */

/* Parses the spec, allocates the parameters on the device and initialises
 * them (Glorot-uniform weights from the seed, zero biases). */
clae_status clae_model_create(clae_context *context, const char *spec_text,
                              uint64_t seed, clae_model **model);
void clae_model_destroy(clae_model *model); /* NULL-safe */

/* The width of the samples the model takes (its spec's input). */
size_t clae_model_input_width(const clae_model *model);
/* The canonical spec text; owned by the model. */
const char *clae_model_spec(const clae_model *model);

/* Nonzero for a variational model (its spec has a `latent` layer). */
int clae_model_is_variational(const clae_model *model);
/* Sets a variational model's KL weight beta (its spec's beta=, which the
 * spec text and saved files then carry). CLAE_ERR_USAGE for other models
 * or a beta outside [0, 1e6]. */
clae_status clae_model_set_beta(clae_model *model, float beta);

/* From now on the model standardises every input feature, (x - mean) /
 * std with data's statistics, wherever it takes data (training,
 * evaluation, encode, reconstruct, score), and un-standardises its
 * reconstructions and decoded outputs; the statistics are saved with it.
 * For models whose loss takes any target (mse, mae): CLAE_ERR_USAGE for
 * bce and cce. */
clae_status clae_model_standardize(clae_model *model, const clae_data *data);

/* Where the training data came from, kept in the model file for later
 * commands (clae score's reference set): the data file and, when training
 * kept one class (clae_data_keep_class), the labels file and the class.
 * The caller of clae_train records it; strings are owned by the model. */
typedef struct {
    const char *data;   /* NULL: unknown */
    const char *labels; /* NULL: every sample of data */
    int class_k;
    float scale; /* a scale given for the data (clae_data_options); 0: the
                    default, which later data files get too */
    unsigned height, width, channels; /* the data's image shape; 0: none */
} clae_train_source;
clae_train_source clae_model_train_source(const clae_model *model);
clae_status clae_model_set_train_source(clae_model *model,
                                        const clae_train_source *source);

/* What a model's file says of its training. */
typedef struct {
    unsigned epoch;               /* epochs trained */
    uint64_t step;                /* optimizer steps taken */
    uint64_t init_seed;           /* the weights' seed (clae_model_create) */
    uint64_t train_seed;          /* the last training run's seed */
    double train_loss, val_loss;  /* of the last epoch; NaN when none */
    const char *device;           /* where it was last trained; NULL: never */
    clae_train_source source;
    int standardized;             /* see clae_model_standardize */
    /* The optimizer whose state the model holds (after training, or
     * loaded from a checkpoint); NULL: none. */
    const char *optimizer;
} clae_model_history;
clae_model_history clae_model_get_history(const clae_model *model);

/* The layers as `clae info` lists them. */
typedef struct {
    const char *kind;       /* "dense", "conv", "maxpool", "batchnorm", ... */
    size_t in, out;         /* features */
    /* The images the layer takes and makes (H x W x C); zeros where a
     * plain width flows. */
    clae_image_shape in_image, out_image;
    const char *activation; /* dense and batchnorm; "" for the others */
    size_t param_count;     /* trained parameters (a tied layer: its bias) */
    int is_code;            /* the code layer */
} clae_layer_info;
size_t clae_model_layer_count(const clae_model *model);
clae_layer_info clae_model_layer_info(const clae_model *model, size_t index);
size_t clae_model_param_count(const clae_model *model);
/* Copies the parameters, clae_model_param_count floats in the order of the
 * model's flat buffer, into out (the caller's). */
clae_status clae_model_read_params(clae_model *model, float *out);

/* Safetensors files; writes are atomic (temporary file, fsync, rename). */
clae_status clae_model_save(clae_model *model, const char *path);
/* The same plus the optimizer's state (its moments, after the model's
 * tensors): clae_model_load of a checkpoint and clae_train with the same
 * optimizer continue the run exactly where it stopped. */
clae_status clae_model_save_checkpoint(clae_model *model, const char *path);
clae_status clae_model_load(clae_context *context, const char *path,
                            clae_model **model);

/* ===== Files ============================================================ */

/* Writes size bytes to path atomically (temporary file in the same
 * directory, fsync, rename): an existing file is replaced, never truncated. */
clae_status clae_file_write_atomic(clae_context *context, const char *path,
                                   const void *data, size_t size);

/* ===== Training ========================================================= */

/* The reference settings: Adam 1e-3 / 0.9 / 0.999 / 1e-7, batch 256,
 * 10 epochs, seed 0, no callback; constant learning rate, no clipping, no
 * penalties. For the other optimizers: SGD without momentum, AdamW's weight
 * decay 0.01 (torch.optim.AdamW's), RMSprop's rho 0.9 (Keras's); a step
 * schedule's gamma 0.1 (torch's StepLR). */
void clae_train_options_default(clae_train_options *options);

/* Trains on train (and reports the loss on val, which may be NULL).
 * Both must have the model's input width. */
clae_status clae_train(clae_model *model, const clae_data *train,
                       const clae_data *val, const clae_train_options *options);

/* ===== GEMM tuning ====================================================== */

typedef struct {
    double max_seconds; /* the search's time budget; 0: 600 */
    /* After each candidate: its parameters as text and the milliseconds of
     * one step's GEMMs, negative when it computed wrong results. A nonzero
     * return ends the search. */
    int (*on_candidate)(void *user, const char *params, double ms);
    void *user;
} clae_tune_options;

typedef struct {
    char shape_class[64]; /* "128-256-1024": what the entry serves */
    double baseline_ms;   /* one step's GEMMs with the built-in parameters */
    double best_ms;       /* ... with the best candidate */
    char best[512];       /* its parameters as text */
    char path[4096];      /* where it was stored; "" when none beat the
                             built-in parameters */
    unsigned tried, wrong;
} clae_tune_result;

/* Searches CLBlast GEMM parameters for the context's device at the GEMMs
 * of one training step of model at batch_size, checking each candidate's
 * results against a host GEMM, and stores the fastest (when it beats the
 * built-in parameters) in $XDG_CACHE_HOME/clae/gemm-tuning.json for this
 * device, driver version and shape class. Training and evaluation apply it
 * from then on, in every process. PoCL compiles each candidate on first use
 * (seconds each): options->max_seconds bounds the search. */
clae_status clae_tune_gemm(clae_model *model, size_t batch_size,
                           const clae_tune_options *options,
                           clae_tune_result *result);

/* Mean loss of the model over all elements of data. */
clae_status clae_evaluate(clae_model *model, const clae_data *data,
                          size_t batch_size, double *mean_loss);

/* The same with the model's noise layer acting on the inputs, its draws
 * keyed by seed, while the loss compares with the clean data: how well a
 * denoising autoencoder removes the noise. */
clae_status clae_evaluate_noisy(clae_model *model, const clae_data *data,
                                size_t batch_size, uint64_t seed,
                                double *mean_loss);

/* ===== Using a trained model ============================================
 * All run in evaluation mode (no dropout or noise, batch norm's running
 * statistics), batch_size rows at a time, and return malloc'ed arrays the
 * caller frees, row-major, one row per sample. */

/* Features of the code (the output of the spec's code layer). */
size_t clae_model_code_width(const clae_model *model);
/* codes (n x code width) = the encoder's output for each sample. */
clae_status clae_encode(clae_model *model, const clae_data *data,
                        size_t batch_size, float **codes);
/* out (n x input width) = the decoder's output for each code (codes->d
 * must be the code width): the layers after the code layer. */
clae_status clae_decode(clae_model *model, const clae_data *codes,
                        size_t batch_size, float **out);
/* out (n x input width) = the model's reconstruction of each sample. */
clae_status clae_reconstruct(clae_model *model, const clae_data *data,
                             size_t batch_size, float **out);
/* The same with the model's noise layer corrupting the inputs, its draws
 * keyed by seed (as clae_evaluate_noisy's): *inputs (n x D) gets the
 * corrupted inputs, *out their reconstructions; the caller frees both.
 * CLAE_ERR_USAGE when the model has no noise layer. */
clae_status clae_reconstruct_noisy(clae_model *model, const clae_data *data,
                                   size_t batch_size, uint64_t seed,
                                   float **inputs, float **out);
/* scores (n) = each sample's loss (the mean over its features, or for
 * cce the sum, as clae_evaluate averages them): its reconstruction error,
 * the anomaly score. A variational model's is the reconstruction loss at
 * its means, summed over its features, without clae_evaluate's beta * KL
 * (clae_score_elbo adds the KL). */
clae_status clae_score(clae_model *model, const clae_data *data,
                       size_t batch_size, float **scores);
/* For a variational model, scores (n) = each sample's negative evidence
 * lower bound at its mean code: reconstruction loss plus KL divergence
 * (beta 1 whatever the spec's). CLAE_ERR_USAGE for other models. */
clae_status clae_score_elbo(clae_model *model, const clae_data *data,
                            size_t batch_size, float **scores);

/* ===== Variational models ===============================================
 * Pictures a variational model (clae_model_is_variational) makes from codes
 * of its latent space: each function builds n codes on the host, runs the
 * decoder over them as clae_decode does, and returns malloc'ed arrays the
 * caller frees, row-major: *images (n x input width) and, when codes is
 * not NULL, *codes (n x code width), the codes decoded. CLAE_ERR_USAGE for
 * other models. */

/* n codes z ~ N(0, I), the model's prior, drawn from seed by clae's
 * counter-based generator (the same codes on every device). */
clae_status clae_generate(clae_model *model, size_t n, uint64_t seed,
                          size_t batch_size, float **codes, float **images);

/* steps (2 or more) codes on the line from the code (the latent mean) of
 * sample `from` of data to that of sample `to`, both ends included: code
 * i is (1 - t) a + t b, t = i / (steps - 1), so the first and last are
 * the two samples' codes exactly. CLAE_ERR_USAGE for a sample beyond
 * data->n. */
clae_status clae_interpolate(clae_model *model, const clae_data *data,
                             size_t from, size_t to, size_t steps,
                             size_t batch_size, float **codes,
                             float **images);

/* For a 2-D latent space, n x n codes spread over the prior as Keras's
 * VAE example draws its manifold: with q_i the normal quantile of p_i,
 * p evenly spaced from 0.05 to 0.95 (0.05 alone when n is 1), code
 * r * n + c is (q_c, q_(n-1-r)): the first coordinate grows along each
 * row, the second falls down the rows. CLAE_ERR_USAGE when the code width
 * is not 2. */
clae_status clae_manifold(clae_model *model, size_t n, size_t batch_size,
                          float **codes, float **images);

/* ===== Pictures ========================================================= */

/* The model's inputs as images: the spec's `input HxWxC`, else the shape
 * of the data it was trained on (clae_train_source), else data's image
 * shape (data may be NULL), else square grayscale when the width is a
 * perfect square. CLAE_ERR_USAGE when none fits. */
clae_status clae_image_shape_of(clae_model *model, const clae_data *data,
                                clae_image_shape *shape);

/* Writes count images (each height x width x channels floats, row-major,
 * drawn as [0, 1] and clipped; 1 or 3 channels) as one PNG, a grid of
 * `columns` images a row, atomically. */
clae_status clae_png_write_grid(clae_context *context, const char *path,
                                const float *images, size_t count,
                                const clae_image_shape *shape, size_t columns);

/* ===== Charts =========================================================== */

/* Reads the train_loss and val_loss columns (NaN where empty) of a
 * metrics CSV as clae train --metrics writes it; both malloc'ed. */
clae_status clae_metrics_load(clae_context *context, const char *path,
                              double **train, double **val, size_t *epochs);

/* Train and validation loss per epoch (val may be NULL, its NaN entries
 * are gaps) as a line chart, PNG, atomically. */
clae_status clae_plot_losses(clae_context *context, const char *path,
                             const double *train, const double *val,
                             size_t epochs);
/* n points (x, y pairs) as a scatter coloured by labels (NULL: one
 * colour), axes named "<axis> 1" and "<axis> 2"; PNG, atomically. */
clae_status clae_plot_codes(clae_context *context, const char *path,
                            const float *points, size_t n, const int *labels,
                            const char *axis);
/* out (n x 2) = the n points of k features (x, n x k) projected on their
 * first two principal components (centred). */
clae_status clae_principal_components(clae_context *context, const float *x,
                                      size_t n, size_t k, float *out);

#ifdef __cplusplus
}
#endif

#endif /* CLAE_H */
