/* What clae train says while it trains: the progress bar, a line per
 * epoch, the metrics CSV and the checkpoints every checkpoint_every epochs
 * (src/cli/train_report.c; the run's last is cmd_train's). */
#ifndef CLAE_CLI_TRAIN_REPORT_H
#define CLAE_CLI_TRAIN_REPORT_H

#include "cli.h"

typedef struct {
    clae_context *ctx;
    clae_model *model;
    unsigned epochs; /* the run's last epoch, counting earlier runs */
    int quiet;
    int bar_shown; /* the progress bar is on the terminal's last line */
    const char *metrics_path;
    char *csv;
    size_t csv_len, csv_cap;
    const char *checkpoint_path;
    unsigned checkpoint_every;
    clae_status status; /* of the last write */
    int variational; /* the metrics have the VAE's loss parts */
} reporter;

/* Starts the metrics CSV: its header, then, when resuming a model that
 * has trained epochs, the rows of those epochs from an existing file at
 * the metrics path (so the file reads as one run). */
clae_status report_begin(reporter *r, unsigned trained_epochs);
void report_end(reporter *r);

/* clae_train_options callbacks; user is the reporter. */
void report_progress(void *user, const clae_progress *progress);
int report_epoch(void *user, const clae_epoch_metrics *metrics);

#endif
