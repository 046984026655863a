/* What clae train says while it trains. The metrics CSV is rewritten
 * atomically after every epoch, so it is never seen half-written, and so
 * is the checkpoint every --checkpoint-every epochs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train_report.h"


/* Adds a line to the CSV text; 0 when out of memory. */
static int csv_append(reporter *r, const char *line)
{
    size_t n = strlen(line);
    if (r->csv_len + n + 1 > r->csv_cap) {
        size_t cap = 2 * (r->csv_cap + n + 1);
        char *grown = realloc(r->csv, cap);
        if (!grown) return 0;
        r->csv = grown;
        r->csv_cap = cap;
    }
    memcpy(r->csv + r->csv_len, line, n + 1);
    r->csv_len += n;
    return 1;
}

/* "  profile  gemm 1.85 s 51 %  loss 0.20 s 6 % ...", largest first. */
static void print_profile(const clae_profile *p, double seconds)
{
    int order[CLAE_PROFILE_PARTS];
    for (int i = 0; i < CLAE_PROFILE_PARTS; i++) {
        int j = i;
        for (; j > 0 && p->seconds[order[j - 1]] < p->seconds[i]; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    printf("  profile");
    for (int i = 0; i < CLAE_PROFILE_PARTS; i++) {
        double s = p->seconds[order[i]];
        printf("  %s %.3f s %.0f %%", clae_profile_part_name(order[i]), s,
               seconds > 0.0 ? 100.0 * s / seconds : 0.0);
    }
    printf("\n");
}

/* The terminal's progress bar, redrawn in place:
 * epoch 3/10 [#########---------------]  104/235  61204 samples/s  ETA 0.6 s  loss 0.2893 */
void report_progress(void *user, const clae_progress *p)
{
    reporter *r = user;
    enum { WIDTH = 24 };
    char bar[WIDTH + 1];
    size_t filled = p->batch * WIDTH / p->batches;
    for (size_t i = 0; i < WIDTH; i++) bar[i] = i < filled ? '#' : '-';
    bar[WIDTH] = '\0';
    double eta = p->seconds / (double)p->batch * (double)(p->batches - p->batch);
    printf("\r\033[Kepoch %u/%u [%s]  %zu/%zu  %.0f samples/s  ETA %.1f s  "
           "loss %.4g", p->epoch, r->epochs, bar, p->batch, p->batches,
           p->samples_per_second, eta, p->running_loss);
    fflush(stdout);
    r->bar_shown = 1;
}

/* " (recon 263.1, kl 6.93)" after a VAE's loss, "" elsewhere. */
static void loss_parts(char *out, size_t size, double recon, double kl)
{
    *out = '\0';
    if (!isnan(recon)) snprintf(out, size, " (recon %.6g, kl %.6g)", recon, kl);
}

/* A number for the CSV; empty for NaN. */
static void csv_number(char *out, size_t size, double v)
{
    *out = '\0';
    if (!isnan(v)) snprintf(out, size, "%.6g", v);
}

int report_epoch(void *user, const clae_epoch_metrics *m)
{
    reporter *r = user;
    char val[32], parts[4][32], train_parts[64], val_parts[64], line[320];
    csv_number(val, sizeof val, m->val_loss);
    loss_parts(train_parts, sizeof train_parts, m->train_recon, m->train_kl);
    loss_parts(val_parts, sizeof val_parts, m->val_recon, m->val_kl);
    if (r->bar_shown) printf("\r\033[K");
    r->bar_shown = 0;
    if (!r->quiet)
        printf("epoch %u/%u  train_loss %.6g%s  val_loss %s%s  seconds %.2f\n",
               m->epoch, r->epochs, m->train_loss, train_parts,
               *val ? val : "-", val_parts, m->seconds);
    if (m->profile) print_profile(m->profile, m->seconds);
    fflush(stdout);
    if (m->skipped_batches)
        fprintf(stderr,
                "clae: warning: epoch %u: left out %zu batch%s whose loss or "
                "gradient was not finite (the first: batch %zu)\n",
                m->epoch, m->skipped_batches,
                m->skipped_batches == 1 ? "" : "es", m->first_skipped);
    if (r->metrics_path) {
        const double part[4] = {m->train_recon, m->train_kl, m->val_recon,
                                m->val_kl};
        for (int i = 0; i < 4; i++)
            csv_number(parts[i], sizeof parts[i], part[i]);
        if (r->variational)
            snprintf(line, sizeof line, "%u,%.6g,%s,%.3f,%s,%s,%s,%s\n",
                     m->epoch, m->train_loss, val, m->seconds, parts[0],
                     parts[1], parts[2], parts[3]);
        else
            snprintf(line, sizeof line, "%u,%.6g,%s,%.3f\n", m->epoch,
                     m->train_loss, val, m->seconds);
        if (!csv_append(r, line)) {
            r->status = CLAE_ERR_HOST_MEMORY;
            return 1;
        }
        r->status = clae_file_write_atomic(r->ctx, r->metrics_path, r->csv,
                                           r->csv_len);
        if (r->status) return 1;
    }
    if (r->checkpoint_path && m->epoch % r->checkpoint_every == 0) {
        r->status = clae_model_save_checkpoint(r->model, r->checkpoint_path);
        if (r->status) return 1;
    }
    return 0;
}


/* A variational model's CSV adds its loss parts (DESIGN.md). */
static const char metrics_header[] = "epoch,train_loss,val_loss,seconds\n",
                  vae_metrics_header[] = "epoch,train_loss,val_loss,seconds,"
                                         "train_recon,train_kl,val_recon,"
                                         "val_kl\n";

clae_status report_begin(reporter *r, unsigned trained_epochs)
{
    const char *header = r->variational ? vae_metrics_header : metrics_header;
    if (!csv_append(r, header)) return CLAE_ERR_HOST_MEMORY;
    if (!r->metrics_path || trained_epochs == 0) return CLAE_SUCCESS;
    FILE *f = fopen(r->metrics_path, "r");
    if (!f) return CLAE_SUCCESS; /* nothing to continue */
    char line[256];
    int ours = fgets(line, sizeof line, f) && strcmp(line, header) == 0,
        ok = 1;
    while (ours && ok && fgets(line, sizeof line, f)) {
        unsigned epoch = (unsigned)strtoul(line, NULL, 10);
        if (epoch >= 1 && epoch <= trained_epochs) ok = csv_append(r, line);
    }
    fclose(f);
    return ok ? CLAE_SUCCESS : CLAE_ERR_HOST_MEMORY;
}

void report_end(reporter *r)
{
    free(r->csv);
    r->csv = NULL;
}
