/* clae train: builds the model from flags, a preset or a spec file, trains
 * it, prints a line per epoch and writes the metrics CSV and the model. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "train_report.h"

static const char help[] =
    "usage: clae train [OPTIONS]\n"
    "Trains an autoencoder. With no options: the reference model (784 -> 128\n"
    "relu -> 784 sigmoid, bce, Adam 1e-3, batch 256) on Fashion-MNIST, with its\n"
    "test set for validation.\n\n"
    "data:\n"
    "  --data F              training data: .npy, .csv or IDX (.gz or plain)\n"
    "                        (default: " FASHION_TRAIN ")\n"
    "  --val F               validation data (default with no --data: the\n"
    "                        Fashion-MNIST test set; with --data: none)\n"
    "  --val-split R         hold out the last fraction R of --data instead\n"
    "  --standardize         standardise each feature by the training data's\n"
    "                        mean and standard deviation (stored in the model,\n"
    "                        which applies them wherever it takes data; for\n"
    "                        loss mse or mae)\n"
    "  --labels F --class K  train only on the samples of --data whose label\n"
    "                        in F (IDX, .npy or CSV) is K: one class, the\n"
    "                        normal one, for anomaly detection\n"
    "model (one of):\n"
    "  --arch NAME           a preset (clae arch lists them)\n"
    "  --model F             a spec file (see clae arch reference)\n"
    "  --hidden N[,N...]     hidden layer widths (default 128)\n"
    "  --activation A        of hidden layers: relu, leaky_relu, elu,\n"
    "                        sigmoid, tanh, linear, softmax\n"
    "  --output-activation A of the output layer (default sigmoid)\n"
    "  --loss L              bce, mse, mae or cce (default bce)\n"
    "  --init I              weights of every layer: glorot_uniform\n"
    "                        (default), glorot_normal, he_uniform, he_normal,\n"
    "                        normal(STD), uniform(LIMIT)\n"
    "training:\n"
    "  --optimizer O         adam, adamw, sgd or rmsprop (default adam)\n"
    "  --lr X                learning rate (default 1e-3)\n"
    "  --momentum M          sgd: momentum in [0, 1) (default 0, plain sgd)\n"
    "  --nesterov            sgd: Nesterov momentum (needs --momentum)\n"
    "  --weight-decay W      adamw: decoupled weight decay (default 0.01)\n"
    "  --rho R               rmsprop: decay of the mean square, in [0, 1)\n"
    "                        (default 0.9)\n"
    "  --lr-schedule S       constant, step or cosine (default constant);\n"
    "                        cosine: lr (1 + cos(pi t / T)) / 2 at step t of\n"
    "                        the run's T steps\n"
    "  --lr-step-epochs N    step: multiply the rate by --lr-gamma every N\n"
    "                        epochs (required with step)\n"
    "  --lr-gamma G          step: the factor (default 0.1)\n"
    "  --clip-norm C         scale the gradients down to global norm C when\n"
    "                        above it (default: no clipping)\n"
    "  --l1 X                L1 penalty X sum |w| on the layers' weights\n"
    "  --l2 X                L2 penalty X sum w^2 on the layers' weights\n"
    "                        (both counted in train and val loss, as Keras)\n"
    "  --patience N          stop when val_loss has not improved for N\n"
    "                        epochs, and restore the best epoch's weights\n"
    "  --min-delta D         the least decrease that counts as improving\n"
    "                        (default 0)\n"
    "  --beta B              variational models: the KL term's weight\n"
    "                        (default: the spec's beta=, 1)\n"
    "  --kl-warmup E         variational models: raise the KL weight from 0\n"
    "                        to beta linearly over the first E epochs\n"
    "  --batch-size B        (default 256)\n"
    "  --epochs E            (default 10)\n"
    "  --seed S              weights and shuffling (default 0)\n"
    "  --on-nan A            when a loss or gradient is NaN or infinite:\n"
    "                        stop (default: exit 1 naming the epoch and\n"
    "                        batch, the last checkpoint kept) or skip-batch\n"
    "                        (leave that batch out, warn, and go on; the\n"
    "                        device then waits for each batch's check)\n"
    "output:\n"
    "  --metrics F.csv       epoch,train_loss,val_loss,seconds per epoch (a\n"
    "                        VAE's adds train_recon,train_kl,val_recon,val_kl)\n"
    "  --save F              the trained model (safetensors)\n"
    "  --checkpoint F        save a checkpoint (the model and the optimizer's\n"
    "                        state) to F every --checkpoint-every epochs\n"
    "  --checkpoint-every N  epochs between checkpoints (default 1)\n"
    "  --resume F            continue training from the checkpoint F (the\n"
    "                        model flags come from it; give the data and\n"
    "                        training flags of the first run): --epochs E\n"
    "                        counts every epoch, so the run ends after the\n"
    "                        E-th, as an uninterrupted run would\n"
    "  --quiet               print nothing but errors and warnings (on a\n"
    "                        terminal there is otherwise a progress bar)\n"
    "Ctrl-C (SIGINT) or SIGTERM stops training after the batch under way and\n"
    "saves a checkpoint to --checkpoint F, else beside --save M as\n"
    "M's name with .ckpt.safetensors, else ./clae-checkpoint.safetensors;\n"
    "--resume continues it to the same results (exit code 130 or 143).\n"
    "Started by mpirun -np N, N processes train the model together, each on\n"
    "its share of every batch, on its own device unless --device names one;\n"
    "rank 0 alone prints and writes (README: Training on several processes).\n"
    "  --profile             after each epoch, where its time went: CLBlast\n"
    "                        GEMMs, each own kernel family, transfers, host\n"
    DATA_HELP
    COMMON_HELP;

enum {
    OPT_DATA = OPT_FIRST_COMMAND_OPTION, OPT_VAL, OPT_VAL_SPLIT, OPT_ARCH,
    OPT_MODEL, OPT_HIDDEN, OPT_ACTIVATION, OPT_OUTPUT_ACTIVATION, OPT_LOSS,
    OPT_INIT,
    OPT_OPTIMIZER, OPT_LR, OPT_BATCH, OPT_EPOCHS, OPT_SEED, OPT_METRICS,
    OPT_SAVE, OPT_PROFILE, OPT_MOMENTUM, OPT_NESTEROV, OPT_WEIGHT_DECAY,
    OPT_RHO, OPT_LR_SCHEDULE, OPT_LR_STEP_EPOCHS, OPT_LR_GAMMA, OPT_CLIP_NORM,
    OPT_L1, OPT_L2, OPT_PATIENCE, OPT_MIN_DELTA, OPT_LABELS, OPT_CLASS,
    OPT_QUIET, OPT_CHECKPOINT, OPT_CHECKPOINT_EVERY, OPT_RESUME,
    OPT_STANDARDIZE, OPT_BETA, OPT_KL_WARMUP, OPT_ON_NAN,
};

static const struct option options[] = {
    {"data", required_argument, NULL, OPT_DATA},
    {"val", required_argument, NULL, OPT_VAL},
    {"val-split", required_argument, NULL, OPT_VAL_SPLIT},
    {"labels", required_argument, NULL, OPT_LABELS},
    {"class", required_argument, NULL, OPT_CLASS},
    {"arch", required_argument, NULL, OPT_ARCH},
    {"model", required_argument, NULL, OPT_MODEL},
    {"hidden", required_argument, NULL, OPT_HIDDEN},
    {"activation", required_argument, NULL, OPT_ACTIVATION},
    {"init", required_argument, NULL, OPT_INIT},
    {"output-activation", required_argument, NULL, OPT_OUTPUT_ACTIVATION},
    {"loss", required_argument, NULL, OPT_LOSS},
    {"optimizer", required_argument, NULL, OPT_OPTIMIZER},
    {"lr", required_argument, NULL, OPT_LR},
    {"batch-size", required_argument, NULL, OPT_BATCH},
    {"epochs", required_argument, NULL, OPT_EPOCHS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"metrics", required_argument, NULL, OPT_METRICS},
    {"save", required_argument, NULL, OPT_SAVE},
    {"profile", no_argument, NULL, OPT_PROFILE},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"checkpoint-every", required_argument, NULL, OPT_CHECKPOINT_EVERY},
    {"resume", required_argument, NULL, OPT_RESUME},
    {"standardize", no_argument, NULL, OPT_STANDARDIZE},
    {"momentum", required_argument, NULL, OPT_MOMENTUM},
    {"nesterov", no_argument, NULL, OPT_NESTEROV},
    {"weight-decay", required_argument, NULL, OPT_WEIGHT_DECAY},
    {"rho", required_argument, NULL, OPT_RHO},
    {"lr-schedule", required_argument, NULL, OPT_LR_SCHEDULE},
    {"on-nan", required_argument, NULL, OPT_ON_NAN},
    {"lr-step-epochs", required_argument, NULL, OPT_LR_STEP_EPOCHS},
    {"lr-gamma", required_argument, NULL, OPT_LR_GAMMA},
    {"clip-norm", required_argument, NULL, OPT_CLIP_NORM},
    {"l1", required_argument, NULL, OPT_L1},
    {"l2", required_argument, NULL, OPT_L2},
    {"patience", required_argument, NULL, OPT_PATIENCE},
    {"min-delta", required_argument, NULL, OPT_MIN_DELTA},
    {"beta", required_argument, NULL, OPT_BETA},
    {"kl-warmup", required_argument, NULL, OPT_KL_WARMUP},
    DATA_OPTIONS,
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

#define MAX_HIDDEN 64

/* How messages name the command: "train", on the ranks after the first of
 * an MPI job "train (rank N)", so that an error says where it happened. */
static char command[32] = "train";

typedef struct {
    cli_common common;
    const char *data, *val, *arch, *model, *metrics, *save, *labels;
    const char *checkpoint, *resume;
    size_t checkpoint_every;
    int quiet, standardize;
    long class_k; /* --class; -1: none */
    float val_split;
    float beta; /* --beta; negative: the spec's */
    size_t hidden[MAX_HIDDEN], hidden_count;
    int dense_flags; /* any of --hidden, --activation, ... given */
    uint64_t given;  /* bit (opt - OPT_DATA) for each option given */
    clae_dense_spec dense;
    clae_train_options train;
} train_args;

/* "256,64,256": positive widths, no empty fields. */
static int parse_hidden(const char *text, train_args *a)
{
    a->hidden_count = 0;
    for (const char *p = text;;) {
        size_t len = strcspn(p, ","), v;
        char word[32];
        if (len == 0 || len >= sizeof word || a->hidden_count == MAX_HIDDEN)
            return 0;
        memcpy(word, p, len);
        word[len] = '\0';
        if (!cli_parse_size(word, &v) || v == 0 || v >= (1u << 24)) return 0;
        a->hidden[a->hidden_count++] = v;
        if (p[len] == '\0') return 1;
        p += len + 1;
    }
}

#define GIVEN(a, opt) (((a)->given >> ((opt) - OPT_DATA)) & 1u)

/* A finite number above lo (or at it, with lo_closed) and below hi into
 * *out; else the usage error "flag: 'arg' is not <what>". */
static int parse_number(const char *flag, const char *arg, float lo, float hi,
                        int lo_closed, const char *what, float *out)
{
    float v;
    if (!cli_parse_float(arg, &v) || !(lo_closed ? v >= lo : v > lo) ||
        !(v < hi))
        return cli_usage_error(command, "%s: '%s' is not %s", flag, arg, what);
    *out = v;
    return 0;
}

static int parse_option(train_args *a, int opt, const char *arg)
{
    const char *cmd = command;
    if (opt >= OPT_DATA) a->given |= (uint64_t)1 << (opt - OPT_DATA);
    switch (opt) {
    case OPT_DATA: a->data = arg; break;
    case OPT_VAL: a->val = arg; break;
    case OPT_LABELS: a->labels = arg; break;
    case OPT_CLASS:
        if (!cli_parse_class(arg, &a->class_k))
            return cli_usage_error(cmd, "--class: '%s' is not a class number", arg);
        break;
    case OPT_VAL_SPLIT:
        if (!cli_parse_float(arg, &a->val_split) || !(a->val_split > 0.0f) ||
            !(a->val_split < 1.0f))
            return cli_usage_error(cmd, "--val-split: '%s' is not between 0 and 1", arg);
        break;
    case OPT_ARCH: a->arch = arg; break;
    case OPT_MODEL: a->model = arg; break;
    case OPT_HIDDEN:
        a->dense_flags = 1;
        if (!parse_hidden(arg, a))
            return cli_usage_error(cmd, "--hidden: '%s' is not a list of positive "
                                        "widths like 256,64,256", arg);
        break;
    case OPT_ACTIVATION:
    case OPT_OUTPUT_ACTIVATION:
        a->dense_flags = 1;
        if (clae_activation_parse(arg, opt == OPT_ACTIVATION
                                           ? &a->dense.activation
                                           : &a->dense.output_activation))
            return cli_usage_error(cmd, "--%s: unknown activation '%s' (relu, "
                                        "leaky_relu, elu, sigmoid, tanh, "
                                        "linear, softmax)",
                                   opt == OPT_ACTIVATION ? "activation"
                                                         : "output-activation",
                                   arg);
        break;
    case OPT_INIT:
        a->dense_flags = 1;
        a->dense.init = arg;
        if (clae_init_check(arg))
            return cli_usage_error(cmd, "--init: unknown initialiser '%s' "
                                        "(glorot_uniform, glorot_normal, "
                                        "he_uniform, he_normal, normal(STD), "
                                        "uniform(LIMIT))", arg);
        break;
    case OPT_LOSS:
        a->dense_flags = 1;
        if (clae_loss_parse(arg, &a->dense.loss))
            return cli_usage_error(cmd, "--loss: unknown loss '%s' (bce, mse, mae, cce)", arg);
        break;
    case OPT_OPTIMIZER:
        if (clae_optimizer_parse(arg, &a->train.optimizer))
            return cli_usage_error(cmd, "--optimizer: unknown optimizer '%s' "
                                        "(adam, adamw, sgd, rmsprop)", arg);
        break;
    case OPT_MOMENTUM:
        return parse_number("--momentum", arg, 0.0f, 1.0f, 1,
                            "a number in [0, 1)", &a->train.momentum);
    case OPT_NESTEROV: a->train.nesterov = 1; break;
    case OPT_WEIGHT_DECAY:
        return parse_number("--weight-decay", arg, 0.0f, INFINITY, 1,
                            "a non-negative number", &a->train.weight_decay);
    case OPT_RHO:
        return parse_number("--rho", arg, 0.0f, 1.0f, 1, "a number in [0, 1)",
                            &a->train.rho);
    case OPT_LR_SCHEDULE:
        if (clae_lr_schedule_parse(arg, &a->train.lr_schedule))
            return cli_usage_error(cmd, "--lr-schedule: unknown schedule '%s' "
                                        "(constant, step, cosine)", arg);
        break;
    case OPT_ON_NAN:
        if (clae_on_nan_parse(arg, &a->train.on_nan))
            return cli_usage_error(cmd, "--on-nan: unknown choice '%s' "
                                        "(stop, skip-batch)", arg);
        break;
    case OPT_LR_STEP_EPOCHS: {
        size_t e;
        if (!cli_parse_size(arg, &e) || e == 0 || e > 1000000)
            return cli_usage_error(cmd, "--lr-step-epochs: '%s' is not a "
                                        "positive integer", arg);
        a->train.lr_step_epochs = (unsigned)e;
        break;
    }
    case OPT_LR_GAMMA:
        return parse_number("--lr-gamma", arg, 0.0f, INFINITY, 0,
                            "a positive number", &a->train.lr_gamma);
    case OPT_CLIP_NORM:
        return parse_number("--clip-norm", arg, 0.0f, INFINITY, 0,
                            "a positive number", &a->train.clip_norm);
    case OPT_PATIENCE: {
        size_t p;
        if (!cli_parse_size(arg, &p) || p == 0 || p > 1000000)
            return cli_usage_error(cmd, "--patience: '%s' is not a positive "
                                        "integer", arg);
        a->train.patience = (unsigned)p;
        break;
    }
    case OPT_BETA:
        return parse_number("--beta", arg, 0.0f, 1e6f, 1,
                            "a number in [0, 1e6)", &a->beta);
    case OPT_KL_WARMUP: {
        size_t e;
        if (!cli_parse_size(arg, &e) || e == 0 || e > 1000000)
            return cli_usage_error(cmd, "--kl-warmup: '%s' is not a positive "
                                        "integer", arg);
        a->train.kl_warmup = (unsigned)e;
        break;
    }
    case OPT_MIN_DELTA:
        return parse_number("--min-delta", arg, 0.0f, INFINITY, 1,
                            "a non-negative number", &a->train.min_delta);
    case OPT_L1:
    case OPT_L2:
        return parse_number(opt == OPT_L1 ? "--l1" : "--l2", arg, 0.0f,
                            INFINITY, 1, "a non-negative number",
                            opt == OPT_L1 ? &a->train.l1 : &a->train.l2);
    case OPT_LR:
        if (!cli_parse_float(arg, &a->train.learning_rate) ||
            !(a->train.learning_rate > 0.0f))
            return cli_usage_error(cmd, "--lr: '%s' is not a positive number", arg);
        break;
    case OPT_BATCH:
        if (!cli_parse_size(arg, &a->train.batch_size) ||
            a->train.batch_size == 0 || a->train.batch_size > (1u << 24))
            return cli_usage_error(cmd, "--batch-size: '%s' is not a positive "
                                        "integer up to 16777216", arg);
        break;
    case OPT_EPOCHS: {
        size_t e;
        if (!cli_parse_size(arg, &e) || e == 0 || e > 1000000)
            return cli_usage_error(cmd, "--epochs: '%s' is not a positive integer",
                                   arg);
        a->train.epochs = (unsigned)e;
        break;
    }
    case OPT_SEED:
        if (!cli_parse_u64(arg, &a->train.seed))
            return cli_usage_error(cmd, "--seed: '%s' is not a non-negative integer",
                                   arg);
        break;
    case OPT_METRICS: a->metrics = arg; break;
    case OPT_SAVE: a->save = arg; break;
    case OPT_PROFILE: a->common.context.profile = 1; break;
    case OPT_QUIET: a->quiet = 1; break;
    case OPT_STANDARDIZE: a->standardize = 1; break;
    case OPT_CHECKPOINT: a->checkpoint = arg; break;
    case OPT_RESUME: a->resume = arg; break;
    case OPT_CHECKPOINT_EVERY:
        if (!cli_parse_size(arg, &a->checkpoint_every) ||
            a->checkpoint_every == 0 || a->checkpoint_every > 1000000)
            return cli_usage_error(cmd, "--checkpoint-every: '%s' is not a "
                                        "positive number of epochs", arg);
        break;
    default: return cli_common_option(&a->common, opt, arg);
    }
    return 0;
}

/* Flags that only one optimizer or schedule reads are refused with the
 * others rather than silently ignored. */
static int check_training_flags(const train_args *a)
{
    const char *cmd = command;
    const clae_train_options *t = &a->train;
    if ((GIVEN(a, OPT_MOMENTUM) || t->nesterov) &&
        t->optimizer != CLAE_OPTIMIZER_SGD)
        return cli_usage_error(cmd, "--%s applies to --optimizer sgd only",
                               t->nesterov ? "nesterov" : "momentum");
    if (t->nesterov && t->momentum == 0.0f)
        return cli_usage_error(cmd, "--nesterov needs --momentum above 0");
    if (GIVEN(a, OPT_WEIGHT_DECAY) && t->optimizer != CLAE_OPTIMIZER_ADAMW)
        return cli_usage_error(cmd, "--weight-decay applies to --optimizer "
                                    "adamw only (--l2 is a penalty for any)");
    if (GIVEN(a, OPT_RHO) && t->optimizer != CLAE_OPTIMIZER_RMSPROP)
        return cli_usage_error(cmd, "--rho applies to --optimizer rmsprop only");
    if ((GIVEN(a, OPT_LR_STEP_EPOCHS) || GIVEN(a, OPT_LR_GAMMA)) &&
        t->lr_schedule != CLAE_LR_STEP)
        return cli_usage_error(cmd, "--%s applies to --lr-schedule step only",
                               GIVEN(a, OPT_LR_GAMMA) ? "lr-gamma"
                                                      : "lr-step-epochs");
    if (t->lr_schedule == CLAE_LR_STEP && t->lr_step_epochs == 0)
        return cli_usage_error(cmd, "--lr-schedule step needs --lr-step-epochs N");
    return 0;
}

static int parse_args(int argc, char **argv, train_args *a)
{
    clae_train_options_default(&a->train);
    a->class_k = -1;
    a->beta = -1.0f;
    a->hidden[0] = 128;
    a->hidden_count = 1;
    a->dense = (clae_dense_spec){.activation = CLAE_ACT_RELU,
                                 .output_activation = CLAE_ACT_SIGMOID,
                                 .loss = CLAE_LOSS_BCE};
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == '?') return cli_unknown_option(command, argv);
        int rc = parse_option(a, opt, optarg);
        if (rc) return rc;
    }
    if (optind < argc)
        return cli_usage_error(command, "unexpected argument '%s'", argv[optind]);
    if ((a->arch != NULL) + (a->model != NULL) + a->dense_flags > 1)
        return cli_usage_error(command, "choose one of --arch, --model and the "
                                        "--hidden/--activation/--init/--loss flags");
    if (a->val && a->val_split > 0.0f)
        return cli_usage_error(command, "choose one of --val and --val-split");
    if (!a->labels != (a->class_k < 0))
        return cli_usage_error(command, "--labels and --class go together");
    if (a->resume && a->beta >= 0.0f)
        return cli_usage_error(command, "--beta: a resumed run keeps the "
                                        "checkpoint's beta");
    if (a->resume && (a->arch || a->model || a->dense_flags))
        return cli_usage_error(command, "--resume takes the model from the "
                                        "checkpoint: drop --arch, --model and "
                                        "the --hidden/--activation/--init/"
                                        "--loss flags");
    if (a->resume && a->standardize)
        return cli_usage_error(command, "--standardize: a resumed run keeps the "
                                        "checkpoint's standardisation");
    if (a->checkpoint_every && !a->checkpoint)
        return cli_usage_error(command, "--checkpoint-every needs --checkpoint F");
    return check_training_flags(a);
}

/* Fails early (EXIT_USAGE) on an output that cannot be written, rather
 * than at the end of a long run. */
static int check_outputs(const train_args *a)
{
    int rc = cli_check_output(command, "--save", a->save);
    if (!rc) rc = cli_check_output(command, "--checkpoint", a->checkpoint);
    return rc ? rc : cli_check_output(command, "--metrics", a->metrics);
}

/* One rank of an MPI job (README, Training on several processes): the
 * library takes this rank's share of every batch and sums the gradients
 * and losses across the ranks; each rank takes its own device unless one
 * is named; rank 0 alone prints and writes, the others only say what
 * goes wrong. device (size bytes) holds the device's name. */
static int join_replicas(train_args *a, cli_replicas *replicas, char *device,
                         size_t size)
{
    if (a->train.on_nan == CLAE_ON_NAN_SKIP_BATCH)
        return cli_usage_error(command, "--on-nan skip-batch: not with "
                                        "several ranks");
    a->train.replicas = replicas->size;
    a->train.replica = replicas->rank;
    a->train.sum_across = cli_replica_sum_across;
    a->train.replica_user = replicas;
    if (!a->common.context.device && !getenv("CLAE_DEVICE"))
        a->common.context.device = cli_replica_device(
            replicas, a->common.context.device_type, device, size);
    if (replicas->rank > 0) {
        a->quiet = 1;
        a->common.context.profile = 0;
        a->metrics = a->save = a->checkpoint = NULL;
    }
    return 0;
}

/* After training across ranks: every rank must hold the model that rank
 * 0 saves; rank 0 says so, and what the sums cost it. */
static int check_replicas(const train_args *a, clae_context *ctx,
                          clae_model *model, const cli_replicas *replicas,
                          double train_seconds)
{
    int same = 0;
    int rc = cli_replicas_same_params(command, ctx, model, &same);
    if (rc) return rc;
    if (!same) {
        fprintf(stderr, "clae %s: the %u ranks ended with different "
                        "parameters\n", command, replicas->size);
        return EXIT_RUNTIME;
    }
    if (a->quiet) return 0;
    printf("%u ranks hold identical parameters\n", replicas->size);
    printf("allreduce: %lu sums took %.2f s, %.0f %% of training's %.2f s\n",
           replicas->sum_calls, replicas->sum_seconds,
           train_seconds > 0.0 ? 100.0 * replicas->sum_seconds / train_seconds
                               : 0.0,
           train_seconds);
    return 0;
}

/* The spec text for the data, from whichever flags were given. */
static clae_status make_spec(clae_context *ctx, train_args *a,
                             const clae_data *data, char **spec)
{
    const clae_image_shape image = {data->height, data->width, data->channels};
    if (a->model) return clae_spec_load(ctx, a->model, spec);
    if (a->arch)
        return clae_arch_spec(ctx, a->arch, data->d,
                              data->height ? &image : NULL, spec);
    a->dense.input = data->d;
    a->dense.hidden = a->hidden;
    a->dense.hidden_count = a->hidden_count;
    return clae_spec_dense(ctx, &a->dense, spec);
}

/* --resume F: the checkpoint, whose data scale and shuffling seed the run
 * keeps unless the flags say otherwise. */
static int load_checkpoint(clae_context *ctx, train_args *a, clae_model **model)
{
    clae_status status = clae_model_load(ctx, a->resume, model);
    if (status) return cli_fail(command, ctx, status);
    const clae_model_history h = clae_model_get_history(*model);
    if (!h.optimizer)
        return cli_usage_error(command, "--resume %s: a model file without "
                                        "the optimizer's state (--checkpoint F "
                                        "writes checkpoints)", a->resume);
    if (h.epoch >= a->train.epochs)
        return cli_usage_error(command, "--resume %s: the checkpoint has "
                                        "trained %u epochs already, --epochs %u",
                               a->resume, h.epoch, a->train.epochs);
    if (a->common.data.scale == 0.0f) a->common.data.scale = h.source.scale;
    if (!GIVEN(a, OPT_SEED)) a->train.seed = h.train_seed;
    return 0;
}

/* The signal that asked training to stop (SIGINT or SIGTERM), 0 before. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) { stop_signal = sig; }

/* SIGINT and SIGTERM set stop_signal once; a second one acts as usual
 * (SA_RESETHAND), so a run that does not stop can still be killed. */
static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Where an interrupted run saves its checkpoint (DESIGN.md): --checkpoint,
 * else beside --save (model.safetensors -> model.ckpt.safetensors), else
 * in the working directory. */
static void interrupt_checkpoint_path(const train_args *a, char *path,
                                      size_t size)
{
    static const char ext[] = ".safetensors";
    if (a->checkpoint) {
        snprintf(path, size, "%s", a->checkpoint);
    } else if (a->save) {
        size_t n = strlen(a->save), k = strlen(ext);
        if (n > k && strcmp(a->save + n - k, ext) == 0) n -= k;
        snprintf(path, size, "%.*s.ckpt%s", (int)n, a->save, ext);
    } else {
        snprintf(path, size, "clae-checkpoint%s", ext);
    }
}

/* After an interrupt: the checkpoint, and the exit code 128 + signal. */
static int save_interrupted(const train_args *a, clae_context *ctx,
                            clae_model *model)
{
    char path[4096], why[512];
    snprintf(why, sizeof why, "%s", clae_last_error(ctx));
    interrupt_checkpoint_path(a, path, sizeof path);
    clae_status status = clae_model_save_checkpoint(model, path);
    if (status) return cli_fail(command, ctx, status);
    fprintf(stderr, "clae train: %s; saved a checkpoint to %s (continue "
                    "with --resume %s)\n", why, path, path);
    return 128 + stop_signal;
}

/* Holds out the last fraction of data as the validation set; 0, or the
 * exit code after saying why. */
static int split_off(clae_data *data, float fraction, clae_data **val)
{
    size_t n_val = (size_t)((double)data->n * fraction);
    if (n_val == 0 || n_val >= data->n)
        return cli_usage_error(command, "--val-split leaves no training or "
                                        "validation samples");
    clae_data *v = malloc(sizeof *v);
    float *x = malloc(n_val * data->d * sizeof *x);
    if (!v || !x) {
        free(v);
        free(x);
        fprintf(stderr, "clae %s: out of host memory\n", command);
        return EXIT_RUNTIME;
    }
    *v = *data;
    v->n = n_val;
    v->x = x;
    v->source = NULL; /* named "the validation data" in messages */
    data->n -= n_val;
    memcpy(v->x, data->x + data->n * data->d, n_val * data->d * sizeof(float));
    *val = v;
    return 0;
}

int cmd_train(int argc, char **argv, cli_replicas *replicas)
{
    const int several = replicas->size > 1;
    if (replicas->rank > 0) {
        snprintf(command, sizeof command, "train (rank %u)", replicas->rank);
        cli_speak_as_rank(replicas->rank);
    }
    train_args a = {0};
    char device[32];
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    if (a.common.help) {
        if (replicas->rank == 0) fputs(help, stdout);
        return EXIT_OK;
    }
    if (several && (rc = join_replicas(&a, replicas, device, sizeof device)))
        return rc;
    if ((rc = check_outputs(&a))) return rc;
    clae_context *ctx = NULL;
    clae_data *train = NULL, *val = NULL;
    clae_model *model = NULL;
    char *spec = NULL;
    reporter r = {.metrics_path = a.metrics, .epochs = a.train.epochs,
                  .quiet = a.quiet, .checkpoint_path = a.checkpoint,
                  .checkpoint_every = a.checkpoint_every
                                          ? (unsigned)a.checkpoint_every
                                          : 1};
    clae_status status = CLAE_SUCCESS;

    if ((rc = cli_open(command, &a.common, &ctx))) goto done;
    if (a.resume && (rc = load_checkpoint(ctx, &a, &model))) goto done;
    const char *val_path = a.val ? a.val
                           : !a.data && a.val_split == 0.0f ? FASHION_TEST
                                                            : NULL;
    if ((rc = cli_load_data(command, ctx, &a.common, a.data ? a.data : FASHION_TRAIN,
                             &train)))
        goto done;
    if (val_path && (rc = cli_load_data(command, ctx, &a.common, val_path, &val)))
        goto done;
    if (a.labels &&
        (rc = cli_keep_class(command, ctx, a.labels, (int)a.class_k, train)))
        goto done;
    if (a.val_split > 0.0f && (rc = split_off(train, a.val_split, &val)))
        goto done;
    if (!a.resume && ((status = make_spec(ctx, &a, train, &spec)) ||
                      (status = clae_model_create(ctx, spec, a.train.seed, &model))))
        goto fail;
    if (a.standardize && (status = clae_model_standardize(model, train)))
        goto fail;
    const unsigned trained = clae_model_get_history(model).epoch;
    a.train.epochs -= trained; /* --epochs counts the checkpoint's too */
    const clae_train_source source = {
        .data = train->source, .labels = a.labels, .class_k = (int)a.class_k,
        .scale = a.common.data.scale, .height = train->height,
        .width = train->width, .channels = train->channels};
    r.variational = clae_model_is_variational(model);
    if ((status = clae_model_set_train_source(model, &source)) ||
        (a.beta >= 0.0f && (status = clae_model_set_beta(model, a.beta))) ||
        (status = report_begin(&r, trained)))
        goto fail;
    r.ctx = ctx;
    r.model = model;
    a.train.on_epoch = report_epoch;
    a.train.user = &r;
    /* A bar only for somebody watching: not into files, not with --quiet,
     * not while profiling (its waits would be in the profile), not under
     * mpirun (Open MPI gives its ranks a terminal wherever mpirun's own
     * output goes). */
    if (!a.quiet && !a.common.context.profile && !several &&
        isatty(STDOUT_FILENO))
        a.train.on_progress = report_progress;
    const clae_device_info *dev = clae_context_device(ctx);
    if (!a.quiet) {
        printf("device %u:%u %s", dev->platform_index, dev->device_index,
               dev->name);
        if (several) printf(", rank 0 of %u", replicas->size);
        printf("; training on %zu samples", train->n);
        if (val) printf(", validating on %zu", val->n);
        if (trained) printf("; resuming after epoch %u of %s", trained, a.resume);
        printf("\n");
    }
    a.train.interrupt = &stop_signal;
    catch_stop_signals();
    /* The ranks start training together (a sum of nothing), so that the
     * time reported for the sums is communication, not the wait of the
     * first for the slowest to load its data. */
    float nothing = 0.0f;
    if (several && cli_replicas_sum(&nothing, 1)) {
        fprintf(stderr, "clae %s: the ranks could not meet (MPI_Allreduce "
                        "failed)\n", command);
        rc = EXIT_RUNTIME;
        goto done;
    }
    const double started = cli_seconds();
    status = clae_train(model, train, val, &a.train);
    const double train_seconds = cli_seconds() - started;
    if (status == CLAE_ERR_INTERRUPTED) {
        rc = replicas->rank == 0 ? save_interrupted(&a, ctx, model)
                                 : 128 + stop_signal;
        goto done;
    }
    if (status == CLAE_SUCCESS) status = r.status;
    if (status == CLAE_SUCCESS && several &&
        (rc = check_replicas(&a, ctx, model, replicas, train_seconds)))
        goto done;
    /* The last checkpoint holds the end of the run (after early stopping,
     * the best epoch's weights it restored). */
    if (status == CLAE_SUCCESS && a.checkpoint)
        status = clae_model_save_checkpoint(model, a.checkpoint);
    if (status) goto fail;
    if (a.common.context.profile)
        printf("device memory: peak %.1f MiB in clae's buffers\n",
               (double)clae_device_memory_peak(ctx) / (1024.0 * 1024.0));
    if (a.save) {
        if ((status = clae_model_save(model, a.save))) goto fail;
        if (!a.quiet) printf("saved %s\n", a.save);
    }
    goto done;
fail:
    rc = cli_fail(command, ctx, status);
done:
    report_end(&r);
    free(spec);
    clae_model_destroy(model);
    clae_data_free(train);
    clae_data_free(val);
    clae_context_destroy(ctx);
    return rc;
}
