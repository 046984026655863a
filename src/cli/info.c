/* clae info: what a model file holds. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "usage: clae info --load F\n"
    "Prints a saved model's spec, its layers with their parameter counts,\n"
    "and what the file says of its training: epochs, steps, seeds, the last\n"
    "epoch's losses, the device, and the data it was trained on.\n\n"
    "  --load F              a model saved by clae train --save\n"
    COMMON_HELP;

static const struct option options[] = {
    {"load", required_argument, NULL, OPT_RUN_LOAD},
    COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

/* An image's HxWxC, else the width. */
static void describe_flow(char *text, size_t size, size_t width,
                          clae_image_shape image)
{
    if (image.height)
        snprintf(text, size, "%ux%ux%u", image.height, image.width,
                 image.channels);
    else
        snprintf(text, size, "%zu", width);
}

static void layer_shape(const clae_layer_info *l, char *text, size_t size)
{
    char in[40], out[40];
    describe_flow(in, sizeof in, l->in, l->in_image);
    describe_flow(out, sizeof out, l->out, l->out_image);
    snprintf(text, size, "%s -> %s", in, out);
}

static void print_layers(const clae_model *m)
{
    const size_t count = clae_model_layer_count(m);
    int width = 13; /* the shape column, as wide as its widest entry */
    char shape[96];
    for (size_t i = 0; i < count; i++) {
        clae_layer_info l = clae_model_layer_info(m, i);
        layer_shape(&l, shape, sizeof shape);
        if ((int)strlen(shape) > width) width = (int)strlen(shape);
    }
    printf("layers:\n");
    for (size_t i = 0; i < count; i++) {
        clae_layer_info l = clae_model_layer_info(m, i);
        layer_shape(&l, shape, sizeof shape);
        printf("  %zu  %-9s %-*s %-10s %9zu parameters%s\n", i, l.kind, width,
               shape, l.activation, l.param_count, l.is_code ? "  (code)" : "");
    }
    printf("  total %zu parameters\n", clae_model_param_count(m));
}

static void print_history(const clae_model *m)
{
    clae_model_history h = clae_model_get_history(m);
    printf("training: %u epochs, %" PRIu64 " steps; weights from seed %" PRIu64,
           h.epoch, h.step, h.init_seed);
    if (h.device) printf(", shuffled with seed %" PRIu64, h.train_seed);
    printf("\n");
    if (!isnan(h.train_loss)) {
        printf("last epoch: train_loss %.6g", h.train_loss);
        if (!isnan(h.val_loss)) printf("  val_loss %.6g", h.val_loss);
        printf("\n");
    }
    if (h.device) printf("device: %s\n", h.device);
    if (h.source.data) {
        printf("data: %s", h.source.data);
        if (h.source.height)
            printf(" (%ux%ux%u images)", h.source.height, h.source.width,
                   h.source.channels);
        if (h.source.labels)
            printf(" (class %d of %s)", h.source.class_k, h.source.labels);
        printf("\n");
    }
    if (h.standardized)
        printf("standardised: each feature by the mean and standard deviation "
               "of the training data (stored; later commands apply them)\n");
    if (h.source.scale > 0.0f) {
        printf("scale: values divided by %g (--scale; later commands apply it "
               "too)\n", (double)h.source.scale);
    } else {
        printf("scale: the default (uint8 files divided by 255, others used "
               "as they are)\n");
    }
}

int cmd_info(int argc, char **argv)
{
    cli_run r = {0};
    int rc = cli_run_parse(&r, "info", argc, argv, options, NULL, NULL, "",
                           "--data", NEEDS_LOAD);
    if (rc || r.common.help) {
        if (r.common.help) fputs(help, stdout);
        return rc;
    }
    if ((rc = cli_open("info", &r.common, &r.ctx))) goto done;
    clae_status status = clae_model_load(r.ctx, r.load, &r.model);
    if (status) {
        rc = cli_fail("info", r.ctx, status);
        goto done;
    }
    printf("model %s\nspec:\n", r.load);
    for (const char *p = clae_model_spec(r.model); *p;) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        printf("  %.*s\n", len, p);
        p += len + (nl != NULL);
    }
    print_layers(r.model);
    print_history(r.model);
done:
    cli_run_close(&r);
    return rc;
}
