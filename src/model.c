/* The layer stack, its parameter arena, and the passes over all layers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_tuning.h"
#include "model.h"

static const clae_layer_ops *const layer_ops[] = {
    [CLAE_LAYER_DENSE] = &clae__dense_ops,
    [CLAE_LAYER_DROPOUT] = &clae__dropout_ops,
    [CLAE_LAYER_NOISE] = &clae__noise_ops,
    [CLAE_LAYER_BATCHNORM] = &clae__batchnorm_ops,
    [CLAE_LAYER_CONV] = &clae__conv_ops,
    [CLAE_LAYER_DECONV] = &clae__conv_ops,
    [CLAE_LAYER_MAXPOOL] = &clae__pool_ops,
    [CLAE_LAYER_AVGPOOL] = &clae__pool_ops,
    [CLAE_LAYER_UPSAMPLE] = &clae__upsample_ops,
    [CLAE_LAYER_LATENT] = &clae__latent_ops,
};

size_t clae__no_params(const clae_layer *l)
{
    (void)l;
    return 0;
}

size_t clae__no_tensors(const clae_model *m, const clae_layer *l,
                        clae_tensor out[CLAE_MAX_LAYER_TENSORS])
{
    (void)m;
    (void)l;
    (void)out;
    return 0;
}

/* BCE on a sigmoid output is computed from the logits: stable, and its
 * gradient is that of the pre-activation, skipping the sigmoid's backward. */
static int loss_goes_through_sigmoid(const clae_spec *spec)
{
    return spec->loss == CLAE_LOSS_BCE &&
           spec->layers[spec->count - 1].act.kind == CLAE_ACT_SIGMOID;
}

static clae_loss_kernel loss_kernel(const clae_spec *spec)
{
    if (loss_goes_through_sigmoid(spec)) return CLAE_LOSS_KERNEL_BCE_LOGITS;
    switch (spec->loss) {
    case CLAE_LOSS_MSE: return CLAE_LOSS_KERNEL_MSE;
    case CLAE_LOSS_MAE: return CLAE_LOSS_KERNEL_MAE;
    case CLAE_LOSS_CCE: return CLAE_LOSS_KERNEL_CCE;
    default: return CLAE_LOSS_KERNEL_BCE;
    }
}

static size_t optional_count(size_t (*count)(const clae_layer *),
                             const clae_layer *l)
{
    return count ? count(l) : 0;
}

/* a + b, or SIZE_MAX when that overflows. */
static size_t add_capped(size_t a, size_t b)
{
    return b > SIZE_MAX - a ? SIZE_MAX : a + b;
}

/* Offsets and counts of the layers' parameters and state; a spec whose
 * counts overflow leaves them at SIZE_MAX. */
static void lay_out(clae_model *m)
{
    size_t in = m->spec.input, off = 0, state = 0;
    for (size_t i = 0; i < m->count; i++) {
        clae_layer *l = &m->layers[i];
        const clae_layer_spec *s = &m->spec.layers[i];
        *l = (clae_layer){.ops = layer_ops[s->kind], .spec = s, .index = i,
                          .in = in, .out = s->units,
                          .channels = s->out.spatial ? s->out.shape.channels
                                                     : s->units,
                          .geometry = clae__layer_geometry(s), .act = s->act,
                          .param_off = off, .state_off = state};
        off = add_capped(off, l->ops->param_count(l));
        state = add_capped(state, optional_count(l->ops->state_count, l));
        in = l->out;
    }
    for (size_t i = 0; i < m->count; i++)
        if (m->spec.layers[i].tied)
            m->layers[m->spec.layers[i].mirror].weights_shared = 1;
    m->param_count = off;
    m->state_count = state;
    m->layers[m->count - 1].loss_through_activation =
        loss_goes_through_sigmoid(&m->spec);
    m->loss_kernel = loss_kernel(&m->spec);
}

/* Host copies of the initial parameters and state go to the device. */
static clae_status upload_init(clae_model *m, uint64_t seed)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    float *params = malloc(m->param_count * sizeof *params),
          *state = malloc((m->state_count + 1) * sizeof *state);
    if (!params || !state) {
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    for (size_t i = 0; i < m->count; i++)
        if (m->layers[i].ops->init)
            m->layers[i].ops->init(&m->layers[i], params, state, seed);
    CLAE_TRY(clae__buffer(ctx, m->param_count * sizeof(float), "parameters",
                          &m->params));
    CL_CHECK(ctx, clEnqueueWriteBuffer(ctx->queue, m->params, CL_TRUE, 0,
                                       m->param_count * sizeof(float), params,
                                       0, NULL, NULL));
    if (m->state_count) {
        CLAE_TRY(clae__buffer(ctx, m->state_count * sizeof(float),
                              "running statistics", &m->state));
        CL_CHECK(ctx, clEnqueueWriteBuffer(ctx->queue, m->state, CL_TRUE, 0,
                                           m->state_count * sizeof(float),
                                           state, 0, NULL, NULL));
    }
fail:
    free(params);
    free(state);
    return status;
}

size_t clae__model_weights(const clae_model *m)
{
    return m->param_count + (m->state ? m->state_count : 0);
}

clae_status clae__model_build(clae_context *ctx, clae_spec *spec,
                              uint64_t seed, clae_model **out)
{
    clae_status status = CLAE_SUCCESS;
    clae_model *m = calloc(1, sizeof *m);
    *out = NULL;
    if (!m) {
        clae__spec_free(spec);
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    }
    m->ctx = ctx;
    m->init_seed = seed;
    m->train_loss = m->val_loss = NAN;
    m->spec = *spec;
    memset(spec, 0, sizeof *spec);
    m->count = m->spec.count;
    m->layers = calloc(m->count, sizeof *m->layers);
    m->spec_text = clae__spec_format(&m->spec);
    if (!m->layers || !m->spec_text) {
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    lay_out(m);
    if (add_capped(m->param_count, m->state_count) > CLAE_MAX_MODEL_FLOATS) {
        status = CLAE_FAIL(ctx, CLAE_ERR_SPEC, "spec: the layers hold more "
                           "than %zu parameters", CLAE_MAX_MODEL_FLOATS);
        goto fail;
    }
    CLAE_TRY(upload_init(m, seed));
    *out = m;
    return CLAE_SUCCESS;
fail:
    clae_model_destroy(m);
    return status;
}

size_t clae__spec_floats(const clae_spec *spec)
{
    clae_model m = {.spec = *spec, .count = spec->count};
    if (!(m.layers = calloc(m.count, sizeof *m.layers))) return SIZE_MAX;
    lay_out(&m);
    free(m.layers);
    return add_capped(m.param_count, m.state_count);
}

clae_status clae_model_create(clae_context *ctx, const char *spec_text,
                              uint64_t seed, clae_model **model)
{
    clae_spec spec;
    clae_status status = clae__spec_parse(ctx, spec_text, &spec);
    if (status != CLAE_SUCCESS) return status;
    return clae__model_build(ctx, &spec, seed, model);
}

void clae_model_destroy(clae_model *m)
{
    if (!m) return;
    clae__release_mem(&m->params);
    clae__release_mem(&m->state);
    clae__release_mem(&m->moment1);
    clae__release_mem(&m->moment2);
    clae__spec_free(&m->spec);
    free(m->spec_text);
    free(m->train_data);
    free(m->train_labels);
    free(m->device);
    free(m->norm_mean);
    free(m->partial_sums);
    free(m->best_weights);
    free(m->layers);
    free(m);
}

clae_status clae__model_note_training(clae_model *m, uint64_t seed)
{
    char *device = strdup(m->ctx->info.name);
    if (!device) return CLAE_FAIL(m->ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    free(m->device);
    m->device = device;
    m->train_seed = seed;
    return CLAE_SUCCESS;
}

clae_model_history clae_model_get_history(const clae_model *m)
{
    return (clae_model_history){
        .epoch = m->epoch, .step = m->step, .init_seed = m->init_seed,
        .train_seed = m->train_seed, .train_loss = m->train_loss,
        .val_loss = m->val_loss, .device = m->device,
        .source = clae_model_train_source(m),
        .standardized = m->norm_mean != NULL,
        .optimizer = m->optimizer_known ? clae_optimizer_name(m->moments_of)
                                        : NULL};
}

static const char *const kind_names[] = {
    "dense", "dropout", "noise", "batchnorm", "conv",
    "deconv", "maxpool", "avgpool", "upsample", "latent"};

size_t clae_model_layer_count(const clae_model *m) { return m->count; }
size_t clae_model_param_count(const clae_model *m) { return m->param_count; }

size_t clae__mean_rows(const clae_workspace *ws, size_t rows)
{
    return ws->mean_rows ? ws->mean_rows : rows;
}

clae_status clae_model_read_params(clae_model *m, float *out)
{
    clae_status status = CLAE_SUCCESS;
    CL_CHECK(m->ctx, clEnqueueReadBuffer(m->ctx->queue, m->params, CL_TRUE, 0,
                                         m->param_count * sizeof *out, out, 0,
                                         NULL, NULL));
fail:
    return status;
}

static clae_image_shape image_of(const clae_flow *f)
{
    const clae_shape *s = &f->shape;
    return f->image ? (clae_image_shape){(unsigned)s->height, (unsigned)s->width,
                                         (unsigned)s->channels}
                    : (clae_image_shape){0, 0, 0};
}

clae_layer_info clae_model_layer_info(const clae_model *m, size_t i)
{
    const clae_layer *l = &m->layers[i];
    const clae_layer_kind kind = l->spec->kind;
    const int activated = kind == CLAE_LAYER_DENSE || kind == CLAE_LAYER_CONV ||
                          kind == CLAE_LAYER_DECONV ||
                          kind == CLAE_LAYER_BATCHNORM;
    return (clae_layer_info){
        .kind = kind_names[l->spec->kind], .in = l->in, .out = l->out,
        .in_image = image_of(&l->spec->in), .out_image = image_of(&l->spec->out),
        .activation = activated ? clae_activation_name(l->act.kind) : "",
        .param_count = l->ops->param_count(l),
        .is_code = i == m->spec.code_layer};
}

clae_train_source clae_model_train_source(const clae_model *m)
{
    return (clae_train_source){m->train_data,   m->train_labels,
                               m->train_class,  m->train_scale,
                               m->train_height, m->train_width,
                               m->train_channels};
}

clae_status clae_model_set_train_source(clae_model *m,
                                        const clae_train_source *source)
{
    if (source->height && (size_t)source->height * source->width *
                                  source->channels != m->spec.input)
        return CLAE_FAIL(m->ctx, CLAE_ERR_INPUT,
                         "%s: %ux%ux%u images but the model takes %zu inputs",
                         source->data ? source->data : "the data",
                         source->height, source->width, source->channels,
                         m->spec.input);
    char *data = source->data ? strdup(source->data) : NULL,
         *labels = source->labels ? strdup(source->labels) : NULL;
    if ((source->data && !data) || (source->labels && !labels)) {
        free(data);
        free(labels);
        return CLAE_FAIL(m->ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    }
    free(m->train_data);
    free(m->train_labels);
    m->train_data = data;
    m->train_labels = labels;
    m->train_class = source->class_k;
    m->train_scale = source->scale;
    m->train_height = source->height;
    m->train_width = source->width;
    m->train_channels = source->channels;
    return CLAE_SUCCESS;
}

size_t clae_model_input_width(const clae_model *m) { return m->spec.input; }

int clae_model_is_variational(const clae_model *m)
{
    return clae__spec_is_variational(&m->spec);
}

clae_status clae_model_set_beta(clae_model *m, float beta)
{
    if (!clae_model_is_variational(m))
        return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE,
                         "beta applies to variational models (a 'latent' layer)");
    if (!(beta >= 0.0f && beta <= 1e6f))
        return CLAE_FAIL(m->ctx, CLAE_ERR_USAGE, "beta %g is not in [0, 1e6]",
                         (double)beta);
    clae_layer_spec *latent = &m->spec.layers[m->spec.latent];
    const float old = latent->beta;
    latent->beta = beta;
    char *text = clae__spec_format(&m->spec);
    if (!text) {
        latent->beta = old;
        return CLAE_FAIL(m->ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    }
    free(m->spec_text);
    m->spec_text = text;
    return CLAE_SUCCESS;
}
const char *clae_model_spec(const clae_model *m) { return m->spec_text; }

size_t clae__layer_gemms(const clae_model *m, const clae_layer *l,
                         const clae_workspace *ws, cl_mem input, size_t in_off,
                         size_t rows, clae_gemm out[CLAE_MAX_LAYER_GEMMS])
{
    return l->ops->gemms ? l->ops->gemms(m, l, ws, input, in_off, rows, out)
                         : 0;
}

/* Raises *most to the CLBlast scratch the layer's GEMMs need at `batch`.
 * CLBlast's indirect GEMM copies an operand into the scratch when its rows
 * need padding (a partial batch) or its offset is not 0 (evaluation walks
 * a resident set): size for the worst of both. */
static clae_status layer_temp_bytes(clae_model *m, const clae_layer *l,
                                    size_t batch, size_t *most)
{
    clae_status status = CLAE_SUCCESS;
    const size_t rows[2] = {batch, batch > 1 ? batch - 1 : batch};
    for (int r = 0; r < 2; r++)
        for (size_t in_off = 0; in_off < 2; in_off++) {
            clae_gemm gemms[CLAE_MAX_LAYER_GEMMS];
            size_t count =
                clae__layer_gemms(m, l, NULL, NULL, in_off, rows[r], gemms);
            for (size_t g = 0; g < count; g++) {
                size_t need;
                CLAE_TRY(clae__gemm_temp_bytes(m->ctx, &gemms[g], &need));
                if (need > *most) *most = need;
            }
        }
fail:
    return status;
}

clae_status clae__workspace_create(clae_model *m, size_t batch,
                                   clae_workspace **out)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    *out = NULL;
    status = clae__gemm_use_stored(m, batch);
    if (status != CLAE_SUCCESS) return status;
    clae_workspace *ws = calloc(1, sizeof *ws);
    if (!ws || !(ws->z = calloc(m->count, sizeof(cl_mem))) ||
        !(ws->a = calloc(m->count, sizeof(cl_mem))) ||
        !(ws->g = calloc(m->count, sizeof(cl_mem))) ||
        !(ws->aux = calloc(m->count, sizeof(cl_mem)))) {
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    ws->ctx = ctx;
    ws->batch = batch;
    if (clae__spec_is_variational(&m->spec))
        ws->kl_weight = m->spec.layers[m->spec.latent].beta;
    ws->count = m->count;
    size_t temp_bytes = 0;
    for (size_t i = 0; i < m->count; i++) {
        const clae_layer *l = &m->layers[i];
        size_t bytes = batch * l->out * sizeof(float),
               aux = l->ops->aux_count ? l->ops->aux_count(l, batch) : 0;
        CLAE_TRY(clae__buffer(ctx, bytes, "pre-activations", &ws->z[i]));
        CLAE_TRY(clae__buffer(ctx, bytes, "activations", &ws->a[i]));
        if (i && l->ops->gradient_in_place) {
            ws->g[i] = ws->g[i - 1];
            CL_CHECK(ctx, clRetainMemObject(ws->g[i]));
        } else {
            CLAE_TRY(clae__buffer(ctx, bytes, "gradients", &ws->g[i]));
        }
        if (aux)
            CLAE_TRY(clae__buffer(ctx, aux * sizeof(float), "layer scratch",
                                  &ws->aux[i]));
        CLAE_TRY(layer_temp_bytes(m, l, batch, &temp_bytes));
    }
    CLAE_TRY(clae__buffer(ctx, m->param_count * sizeof(float),
                          "parameter gradients", &ws->grads));
    if (temp_bytes)
        CLAE_TRY(clae__buffer(ctx, temp_bytes, "CLBlast scratch", &ws->temp));
    *out = ws;
    return CLAE_SUCCESS;
fail:
    clae__workspace_destroy(ws);
    return status;
}

void clae__workspace_destroy(clae_workspace *ws)
{
    if (!ws) return;
    /* Commands in flight keep their buffers alive; with them done, the
     * driver frees each buffer as it is released, so the device memory
     * the context counts (clae_device_memory_peak) does not depend on
     * timing. */
    if (ws->ctx) clae__finish_before_release(ws->ctx, ws->ctx->queue);
    for (size_t i = 0; i < ws->count; i++) {
        if (ws->z) clae__release_mem(&ws->z[i]);
        if (ws->a) clae__release_mem(&ws->a[i]);
        if (ws->g) clae__release_mem(&ws->g[i]);
        if (ws->aux) clae__release_mem(&ws->aux[i]);
    }
    clae__release_mem(&ws->grads);
    clae__release_mem(&ws->temp);
    free(ws->z);
    free(ws->a);
    free(ws->g);
    free(ws->aux);
    free(ws);
}

clae_status clae__model_forward_layers(clae_model *m, clae_workspace *ws,
                                       size_t first, size_t end, cl_mem input,
                                       size_t in_off, size_t rows)
{
    clae_status status = CLAE_SUCCESS;
    for (size_t i = first; i < end; i++) {
        const clae_layer *l = &m->layers[i];
        CLAE_TRY(l->ops->forward(m, l, ws, i > first ? ws->a[i - 1] : input,
                                 i > first ? 0 : in_off, rows));
    }
fail:
    return status;
}

clae_status clae__model_forward(clae_model *m, clae_workspace *ws,
                                cl_mem input, size_t in_off, size_t rows)
{
    return clae__model_forward_layers(m, ws, 0, m->count, input, in_off, rows);
}

clae_status clae__check_width(clae_model *m, const clae_data *data,
                              size_t width, const char *what)
{
    const char *name = data->source ? data->source : what;
    if (data->d != width) {
        char shape[64] = "";
        if (data->height)
            snprintf(shape, sizeof shape, " (%ux%ux%u images)", data->height,
                     data->width, data->channels);
        return CLAE_FAIL(m->ctx, CLAE_ERR_INPUT,
                         "%s: %zu features per sample%s but the model takes %zu",
                         name, data->d, shape, width);
    }
    if (data->n == 0)
        return CLAE_FAIL(m->ctx, CLAE_ERR_INPUT, "%s: no samples", name);
    return CLAE_SUCCESS;
}

/* The loss kernels' view of the output layer: z plus its bias (which ends
 * the layer's parameters) when the loss goes through the activation, else
 * a, whose activation the gradient then goes through. */
static clae_loss_launch output_launch(const clae_model *m,
                                      const clae_workspace *ws, cl_mem target,
                                      size_t target_off, size_t rows)
{
    size_t last = m->count - 1;
    const clae_layer *l = &m->layers[last];
    const clae_act linear = {CLAE_ACT_LINEAR, 0.0f};
    clae_loss_launch launch = {
        .out = ws->a[last], .target = target, .target_off = target_off,
        .rows = rows, .cols = l->out, .kind = m->loss_kernel,
        /* a softmax's backward needs whole rows: the layer does it */
        .act = l->act.kind == CLAE_ACT_SOFTMAX ? linear : l->act,
        .bias_grad = ws->grads, .bias_grad_off = clae__bias_off(l),
    };
    if (l->ops->bias_sums)
        l->ops->bias_sums(l, ws, &launch.bias_grad, &launch.bias_grad_off);
    if (l->loss_through_activation) {
        launch.out = ws->z[last];
        launch.bias = m->params;
        launch.bias_off = clae__bias_off(l);
        launch.bias_period = l->channels;
        launch.act = linear;
    }
    return launch;
}

size_t clae__loss_divisor(const clae_model *m, size_t rows)
{
    return m->spec.loss == CLAE_LOSS_CCE || clae__spec_is_variational(&m->spec)
               ? rows
               : rows * m->spec.input;
}

clae_status clae__model_loss(clae_model *m, clae_workspace *ws, cl_mem target,
                             size_t target_off, size_t rows, cl_mem sample_loss,
                             size_t loss_off)
{
    clae_loss_launch launch = output_launch(m, ws, target, target_off, rows);
    launch.loss = sample_loss;
    launch.loss_off = loss_off;
    return clae__loss_rows(m->ctx, &launch);
}

clae_status clae__model_loss_backward(clae_model *m, clae_workspace *ws,
                                      cl_mem target, size_t target_off,
                                      size_t rows, cl_mem chunk_loss,
                                      size_t loss_off)
{
    clae_loss_launch launch = output_launch(m, ws, target, target_off, rows);
    launch.loss = chunk_loss;
    launch.loss_off = loss_off;
    launch.grad = ws->g[m->count - 1];
    launch.grad_scale =
        1.0f / (float)clae__loss_divisor(m, clae__mean_rows(ws, rows));
    return clae__loss_backward(m->ctx, &launch);
}

clae_status clae__model_backward(clae_model *m, clae_workspace *ws,
                                 cl_mem input, size_t in_off, size_t rows)
{
    clae_status status = CLAE_SUCCESS;
    const clae_spec *s = &m->spec;
    for (size_t i = m->count; i-- > 0;) {
        const clae_layer *l = &m->layers[i];
        if (i == s->code_layer && clae__spec_has_activity_penalty(s))
            CLAE_TRY(clae__activity_penalty(m->ctx, ws->a[i], ws->g[i], rows,
                                            l->out, s->code_l1, s->sparsity_rho,
                                            s->sparsity_beta, ws->penalty,
                                            ws->penalty_off));
        CLAE_TRY(l->ops->backward(m, l, ws, i ? ws->a[i - 1] : input,
                                  i ? 0 : in_off, rows));
        if (ws->layer_done) CLAE_TRY(ws->layer_done(ws->layer_done_user, i));
    }
fail:
    return status;
}
