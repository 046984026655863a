/* The command line: one file per subcommand over the public API. */
#ifndef CLAE_CLI_H
#define CLAE_CLI_H

#include <getopt.h>

#include "clae.h"

/* Exit codes of DESIGN.md. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define FASHION_TRAIN FASHION_DIR "/train-images-idx3-ubyte.gz"
#define FASHION_TEST FASHION_DIR "/t10k-images-idx3-ubyte.gz"

/* Options every command takes; their getopt values start at 1000. */
enum {
    OPT_DEVICE = 1000,
    OPT_DEVICE_TYPE,
    OPT_HELP,
    OPT_DEVICE_MEMORY,
    OPT_SCALE,
    OPT_RUN_LOAD,
    OPT_RUN_DATA,
    OPT_RUN_OUT,
    OPT_RUN_BATCH,
    OPT_FIRST_COMMAND_OPTION
};
#define COMMON_OPTIONS                                                       \
    {"device", required_argument, NULL, OPT_DEVICE},                         \
    {"device-type", required_argument, NULL, OPT_DEVICE_TYPE},               \
    {"help", no_argument, NULL, OPT_HELP}

#define COMMON_HELP                                                          \
    "  --device P:D          platform and device index (see clae-devices);\n" \
    "                        also $CLAE_DEVICE\n"                            \
    "  --device-type T       gpu, cpu or any when no P:D is given\n"         \
    "                        (default: the first GPU, else the first device)\n" \
    "  --help                this text\n"

/* The commands that read data sets also take --device-memory and --scale. */
#define DATA_OPTIONS                                                         \
    {"device-memory", required_argument, NULL, OPT_DEVICE_MEMORY},           \
    {"scale", required_argument, NULL, OPT_SCALE}

#define DATA_HELP                                                            \
    "data files: .npy (float32, float64, uint8), .csv (numbers, optional\n"  \
    "header line), else IDX (plain or .gz)\n"                               \
    "  --scale S             divide every value by S (default: 255 for\n"    \
    "                        uint8 files, so pixels land in [0, 1], else 1)\n" \
    "  --device-memory SIZE  device memory the data sets may take (e.g. 512M,\n" \
    "                        2G); a larger set is streamed in chunks\n"      \
    "                        (default: half the device's global memory)\n"

typedef struct {
    clae_context_options context;
    clae_data_options data;
    int help;
} cli_common;

/* Handles a common option; returns 0 on success, EXIT_USAGE on a bad one. */
int cli_common_option(cli_common *common, int opt, const char *arg);

/* Reports a usage error ("clae CMD: message") and returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reports a failed library call and returns its exit code: 2 for the
 * user's mistakes (bad input, bad flags, no such device), else 1. */
int cli_fail(const char *command, clae_context *ctx, clae_status status);

/* Reads a data set with the --scale given; returns 0 or the exit code,
 * after saying what went wrong. */
int cli_load_data(const char *command, clae_context *ctx,
                  const cli_common *common, const char *path,
                  clae_data **data);

/* Keeps the samples of data whose label in labels_path is class_k (one-
 * class training and its reference set); 0 or the exit code. */
int cli_keep_class(const char *command, clae_context *ctx,
                   const char *labels_path, int class_k, clae_data *data);

/* Commands that run a saved model over a data file (eval, encode,
 * decode, score, reconstruct, interpolate) share --load, --data, --out,
 * --batch-size and the data and common options. */
#define RUN_OPTIONS                                                          \
    RUN_MODEL_OPTIONS,                                                       \
    {"data", required_argument, NULL, OPT_RUN_DATA}
/* Without --data, for commands that read no data (generate, manifold). */
#define RUN_MODEL_OPTIONS                                                    \
    {"load", required_argument, NULL, OPT_RUN_LOAD},                         \
    {"out", required_argument, NULL, OPT_RUN_OUT},                           \
    {"batch-size", required_argument, NULL, OPT_RUN_BATCH}

#define RUN_HELP                                                             \
    "  --load F              a model saved by clae train --save\n"           \
    "  --batch-size B        rows per pass (default 256)\n"

typedef struct {
    cli_common common;
    const char *load, *data, *out;
    size_t batch;
    clae_context *ctx;
    clae_model *model;
    clae_data *input; /* what --data names */
    int input_is_codes; /* decode: no scale of the model's applies */
} cli_run;

/* Parses the command line: RUN_OPTIONS, the data and common options, and
 * through command_option (returning 0 or an exit code) the command's own,
 * numbered from OPT_FIRST_COMMAND_OPTION. Returns 0, or the exit code
 * after saying why; r->common.help is set for --help. data defaults to
 * data_default (NULL: required, named data_flag in messages); needs says
 * which of --load and --out are required. */
enum { NEEDS_LOAD = 1, NEEDS_OUT = 2 };
int cli_run_parse(cli_run *r, const char *command, int argc, char **argv,
                  const struct option *options,
                  int (*command_option)(void *user, int opt, const char *arg),
                  void *user, const char *data_default, const char *data_flag,
                  int needs);

/* Opens the context, loads the model and the data; 0 or the exit code. */
int cli_run_open(cli_run *r, const char *command);
/* Its two halves: the context and the model (all that commands without
 * data need), then the data. */
int cli_run_open_model(cli_run *r, const char *command);
int cli_run_open_data(cli_run *r, const char *command);
/* 0 when the loaded model is variational, else EXIT_USAGE after saying
 * so (generate, interpolate and manifold need one). */
int cli_run_need_variational(const cli_run *r, const char *command);
/* *labels = the labels in path (malloc'ed), one for each sample of
 * r->input; 0 or the exit code. */
int cli_run_labels(cli_run *r, const char *command, const char *path,
                   int **labels);
void cli_run_close(cli_run *r);

/* Opens the context for a command, reporting failures; 0 when ready. */
int cli_open(const char *command, const cli_common *common, clae_context **ctx);
/* The library's warnings from here on name the MPI rank (not rank 0's). */
void cli_speak_as_rank(unsigned rank);

/* Fails early (EXIT_USAGE) when path's directory cannot be written, so a
 * long run does not end in an unwritable --save; 0 when path is NULL. */
int cli_check_output(const char *command, const char *flag, const char *path);

/* Parses numbers whole or fails: nonzero on success. */
int cli_parse_size(const char *text, size_t *out);
int cli_parse_float(const char *text, float *out);
int cli_parse_u64(const char *text, uint64_t *out);
/* --input of arch and tune: a width D, or an image HxWxC (*image then
 * set, else zeros), at most 2^24 values. */
int cli_parse_input(const char *text, size_t *width, clae_image_shape *image);
/* "grayscale" for one channel, else "RGB": how the commands that write
 * pictures name their images. */
const char *cli_image_colours(const clae_image_shape *shape);
/* A byte count with an optional K, M or G (powers of 1024) suffix. */
int cli_parse_bytes(const char *text, uint64_t *out);
/* A class number of labels: 0 to 2^30. */
int cli_parse_class(const char *text, long *out);

/* After getopt_long returned '?' (with opterr = 0): names the option that
 * is unknown or lacks its value. Returns EXIT_USAGE. */
int cli_unknown_option(const char *command, char **argv);

/* ===== clae train across the processes of an MPI job ===================
 * The transport is src/cli/replicas/mpi.c (built when mpicc is found, the
 * one file that includes mpi.h) or src/cli/replicas/single.c (no MPI: a
 * process is replica 0 of 1); src/cli/replicas/replica.c is what clae
 * train does with it. */
typedef struct {
    unsigned rank, size; /* this process's number among the job's; 0 of 1 */
    unsigned local_rank; /* its number among the job's on this machine */
    /* Spent in cli_replica_sum_across so far: the communication. */
    double sum_seconds;
    unsigned long sum_calls;
} cli_replicas;

/* Joins the MPI job when an MPI launcher started this process (it set
 * OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK), so that clae started
 * alone needs no MPI runtime; else *r is 0 of 1. Returns 0, or the exit
 * code after saying why. */
int cli_replicas_start(int *argc, char ***argv, cli_replicas *r);
/* Replaces data[0 .. count) by its elementwise sum over all ranks, which
 * make the same calls in the same order; nonzero when that failed. */
int cli_replicas_sum(float *data, size_t count);
/* *same = 1 when every rank passed the same value, else 0; nonzero when
 * the ranks could not compare. */
int cli_replicas_agree(uint64_t value, int *same);
/* Ends every rank of the job with code: a rank that fails must not leave
 * the others waiting in a sum for ever. */
_Noreturn void cli_replicas_abort(int code);
/* Leaves the job; every rank calls it once its command has returned. */
void cli_replicas_finish(void);

/* A monotonic clock in seconds, which times the sums and the run. */
double cli_seconds(void);
/* clae_train_options.sum_across: cli_replicas_sum, its time added to the
 * cli_replicas that user points to. */
int cli_replica_sum_across(void *user, float *data, size_t count);
/* The device of rank r when no --device or $CLAE_DEVICE names one, as
 * "P:D" in device: the (local rank mod count)-th of the count devices of
 * type (CLAE_DEVICE_DEFAULT: the GPUs if any, else all) in clae-devices'
 * order, so that each rank on a machine has its own while there are
 * enough. NULL when there is none (opening the context then says why). */
const char *cli_replica_device(const cli_replicas *r, clae_device_type type,
                               char *device, size_t size);
/* *same = 1 when every rank's model holds the same parameters, bit for
 * bit (compared by a hash of them). Returns 0, or the exit code after
 * saying why the ranks could not compare. */
int cli_replicas_same_params(const char *command, clae_context *ctx,
                             clae_model *model, int *same);

int cmd_train(int argc, char **argv, cli_replicas *replicas);
int cmd_eval(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_reconstruct(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_plot_codes(int argc, char **argv);
int cmd_arch(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_interpolate(int argc, char **argv);
int cmd_manifold(int argc, char **argv);

#endif
