/* clae score: each sample's reconstruction error, the anomaly score. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "usage: clae score --load F [--data F] --out SCORES.csv\n"
    "                  [--threshold-percentile P [--ref F]]\n"
    "                  [--labels F --normal-class K] [--batch-size B]\n"
    "Writes each sample's reconstruction error (its loss, the mean over its\n"
    "features as training reports it) as CSV rows index,score: the anomaly\n"
    "score of a model trained on normal data.\n\n"
    RUN_HELP
    "  --data F              the data to score (default: the Fashion-MNIST\n"
    "                        test set)\n"
    "  --out F               the scores (CSV)\n"
    "  --threshold-percentile P\n"
    "                        adds a column anomaly (1 when the score is above\n"
    "                        the P-th percentile of the reference set's\n"
    "                        scores, else 0)\n"
    "  --ref F               the reference set (default: the data the model\n"
    "                        was trained on)\n"
    "  --labels F            class labels of --data (IDX, .npy or CSV): prints\n"
    "                        ROC AUC and average precision of the scores for\n"
    "                        telling the other classes from --normal-class\n"
    "  --normal-class K      the class the model was trained on\n"
    "  --elbo                a variational model's negative ELBO instead: the\n"
    "                        reconstruction loss summed over the features\n"
    "                        plus the code's KL divergence from N(0, I)\n"
    DATA_HELP
    COMMON_HELP;

enum {
    OPT_PERCENTILE = OPT_FIRST_COMMAND_OPTION,
    OPT_REF,
    OPT_LABELS,
    OPT_NORMAL_CLASS,
    OPT_ELBO
};

static const struct option options[] = {
    RUN_OPTIONS,
    {"threshold-percentile", required_argument, NULL, OPT_PERCENTILE},
    {"ref", required_argument, NULL, OPT_REF},
    {"labels", required_argument, NULL, OPT_LABELS},
    {"normal-class", required_argument, NULL, OPT_NORMAL_CLASS},
    {"elbo", no_argument, NULL, OPT_ELBO},
    DATA_OPTIONS,
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

typedef struct {
    float percentile; /* < 0: no threshold */
    const char *ref, *labels;
    long normal_class; /* < 0: not given */
    int elbo;
} score_args;

/* Each sample's score of the kind the flags ask for. */
static clae_status score_data(const cli_run *r, const score_args *a,
                              const clae_data *data, float **scores)
{
    return a->elbo ? clae_score_elbo(r->model, data, r->batch, scores)
                   : clae_score(r->model, data, r->batch, scores);
}

static int score_option(void *user, int opt, const char *arg)
{
    score_args *a = user;
    switch (opt) {
    case OPT_PERCENTILE:
        if (!cli_parse_float(arg, &a->percentile) || !(a->percentile >= 0.0f) ||
            !(a->percentile <= 100.0f))
            return cli_usage_error("score", "--threshold-percentile: '%s' is "
                                            "not a number in [0, 100]", arg);
        return 0;
    case OPT_REF: a->ref = arg; return 0;
    case OPT_LABELS: a->labels = arg; return 0;
    case OPT_ELBO: a->elbo = 1; return 0;
    default: /* OPT_NORMAL_CLASS */
        if (!cli_parse_class(arg, &a->normal_class))
            return cli_usage_error("score", "--normal-class: '%s' is not a "
                                            "class number", arg);
        return 0;
    }
}

static int by_value(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile of n values, interpolated linearly between the two
 * nearest ranks (numpy.percentile's default). Sorts the values. */
static double percentile(float *values, size_t n, double p)
{
    qsort(values, n, sizeof *values, by_value);
    double rank = p / 100.0 * (double)(n - 1);
    size_t below = (size_t)rank;
    if (below + 1 >= n) return values[n - 1];
    double frac = rank - (double)below;
    return values[below] + frac * (values[below + 1] - values[below]);
}

/* The reference set: --ref, else what the model was trained on (the same
 * class of it, when training kept one). */
static int load_reference(cli_run *r, const score_args *a, clae_data **data)
{
    clae_train_source source = {.data = a->ref, .class_k = -1};
    if (!a->ref) source = clae_model_train_source(r->model);
    if (!source.data)
        return cli_usage_error("score", "--threshold-percentile: the model does "
                                        "not say what it was trained on; give "
                                        "--ref F");
    int rc = cli_load_data("score", r->ctx, &r->common, source.data, data);
    if (rc || !source.labels) return rc;
    return cli_keep_class("score", r->ctx, source.labels, source.class_k, *data);
}

/* The threshold from the reference set's scores. */
static int threshold_from(cli_run *r, const score_args *a, double *threshold)
{
    clae_data *data = NULL;
    float *scores = NULL;
    int rc = load_reference(r, a, &data);
    if (rc) goto done;
    clae_status status = score_data(r, a, data, &scores);
    if (status) {
        rc = cli_fail("score", r->ctx, status);
        goto done;
    }
    for (size_t i = 0; i < data->n; i++)
        if (!isfinite(scores[i])) {
            fprintf(stderr, "clae score: %s: sample %zu scores %g: no threshold "
                            "from scores that are not finite\n",
                    data->source, i, (double)scores[i]);
            rc = EXIT_RUNTIME;
            goto done;
        }
    *threshold = percentile(scores, data->n, a->percentile);
    printf("threshold %.6g: the %g-th percentile of the scores of %zu "
           "reference samples (%s)\n", *threshold, (double)a->percentile,
           data->n, data->source);
done:
    free(scores);
    clae_data_free(data);
    return rc;
}

/* index,score[,anomaly] rows, written atomically. */
static int write_scores(cli_run *r, const float *scores, size_t n,
                        double threshold, int flag, size_t *flagged)
{
    size_t cap = 64 + n * 48, used = 0;
    char *text = malloc(cap);
    if (!text) {
        fprintf(stderr, "clae score: out of host memory\n");
        return EXIT_RUNTIME;
    }
    used += (size_t)snprintf(text, cap, flag ? "index,score,anomaly\n"
                                             : "index,score\n");
    *flagged = 0;
    for (size_t i = 0; i < n; i++) {
        int anomaly = scores[i] > threshold;
        *flagged += (size_t)anomaly;
        used += (size_t)snprintf(text + used, cap - used,
                                 flag ? "%zu,%.9g,%d\n" : "%zu,%.9g\n", i,
                                 (double)scores[i], anomaly);
    }
    clae_status status = clae_file_write_atomic(r->ctx, r->out, text, used);
    free(text);
    return status ? cli_fail("score", r->ctx, status) : 0;
}

/* How well the scores rank the samples of --labels that are not of the
 * normal class above those that are. */
static int ranking(cli_run *r, const score_args *a, const float *scores,
                   double *auc, double *ap)
{
    int *labels = NULL;
    int rc = cli_run_labels(r, "score", a->labels, &labels);
    if (rc) return rc;
    clae_status status = clae_anomaly_metrics(r->ctx, scores, labels, r->input->n,
                                              (int)a->normal_class, auc, ap);
    free(labels);
    return status ? cli_fail("score", r->ctx, status) : 0;
}

int cmd_score(int argc, char **argv)
{
    cli_run r = {0};
    score_args a = {.percentile = -1.0f, .normal_class = -1};
    float *scores = NULL;
    double threshold = INFINITY, auc = 0.0, ap = 0.0;
    size_t flagged = 0;
    int rc = cli_run_parse(&r, "score", argc, argv, options, score_option, &a,
                           FASHION_TEST, "--data", NEEDS_LOAD | NEEDS_OUT);
    if (rc || r.common.help) {
        if (r.common.help) fputs(help, stdout);
        return rc;
    }
    if (!a.labels != (a.normal_class < 0)) {
        rc = cli_usage_error("score", "--labels and --normal-class go together");
        goto done;
    }
    if (a.ref && a.percentile < 0.0f) {
        rc = cli_usage_error("score", "--ref needs --threshold-percentile");
        goto done;
    }
    if ((rc = cli_run_open(&r, "score"))) goto done;
    clae_status status = score_data(&r, &a, r.input, &scores);
    if (status) {
        rc = cli_fail("score", r.ctx, status);
        goto done;
    }
    if (a.percentile >= 0.0f && (rc = threshold_from(&r, &a, &threshold)))
        goto done;
    /* Bad labels are found before the scores are written: no file then. */
    if (a.labels && (rc = ranking(&r, &a, scores, &auc, &ap))) goto done;
    if ((rc = write_scores(&r, scores, r.input->n, threshold,
                           a.percentile >= 0.0f, &flagged)))
        goto done;
    printf("scored %zu samples: %s", r.input->n, r.out);
    if (a.percentile >= 0.0f)
        printf(", %zu above the threshold (%.1f %%)", flagged,
               100.0 * (double)flagged / (double)r.input->n);
    printf("\n");
    if (a.labels)
        printf("ROC AUC %.4f  average precision %.4f  (anomalies: classes "
               "other than %ld)\n", auc, ap, a.normal_class);
done:
    free(scores);
    cli_run_close(&r);
    return rc;
}
