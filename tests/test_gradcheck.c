/* Finite-difference gradient checks of whole small models: for each loss,
 * activation and layer kind, the device's backward pass (own kernels +
 * CLBlast) against central differences of the plain-C reference loss in
 * double (tests/ref/ref_model.c). */
#include "model.h"
#include "penalty.h"
#include "test_util.h"
#include "ref/ref.h"

#define ROWS 5  /* fewer than the workspace's batch: a partial batch */
#define BATCH 8

/* The reference loss plus the weight penalty. */
static double ref_total_loss(const clae_spec *spec, const float *params,
                             const float *x, float l1, float l2)
{
    return ref_model_loss(spec, params, x, ROWS) +
           ref_weight_penalty(spec, params, l1, l2);
}

/* Checks one model with weight penalties l1 and l2 (0 for none): device
 * loss == reference loss, device gradient == finite differences. */
static void check_model_penalized(clae_context *ctx, const char *spec_text,
                                  float l1, float l2)
{
    clae_model *m = NULL;
    clae_workspace *ws = NULL;
    assert_int_equal(clae_model_create(ctx, spec_text, 7, &m), CLAE_SUCCESS);
    assert_int_equal(clae__workspace_create(m, BATCH, &ws), CLAE_SUCCESS);
    ws->training = 1; /* batch norm on the batch's statistics */
    clae_train_options o;
    clae_train_options_default(&o);
    o.l1 = l1;
    o.l2 = l2;
    clae_penalty penalty;
    assert_int_equal(clae__penalty_create(m, &o, 1, &penalty), CLAE_SUCCESS);

    size_t d = m->spec.input, np = m->param_count;
    float *x = malloc(ROWS * d * 4), *params = malloc(np * 4),
          *grads = malloc(np * 4), *chunk_loss = malloc(clae__chunks(d) * 4);
    test_fill(x, ROWS * d, 91, 0.0f, 1.0f);
    /* Larger weights than Glorot's make every activation work off its
     * linear region; biases nonzero so their gradients are exercised. */
    test_fill(params, np, 92, -0.9f, 0.9f);
    cl_mem dx = test_upload(ctx, x, ROWS * d * 4);
    size_t chunks = clae__chunks(d);
    cl_mem dl = test_upload(ctx, NULL, chunks * 4);
    /* A variational model's KL divergence of each row. */
    float kl[ROWS];
    ws->kl = test_upload(ctx, NULL, sizeof kl);
    assert_int_equal(clEnqueueWriteBuffer(ctx->queue, m->params, CL_TRUE, 0,
                                          np * 4, params, 0, NULL, NULL),
                     CL_SUCCESS);

    assert_int_equal(clae__model_forward(m, ws, dx, 0, ROWS), CLAE_SUCCESS);
    assert_int_equal(clae__model_loss_backward(m, ws, dx, 0, ROWS, dl, 0),
                     CLAE_SUCCESS);
    clae__penalty_activity_slot(&penalty, 0, ws);
    assert_int_equal(clae__model_backward(m, ws, dx, 0, ROWS), CLAE_SUCCESS);
    assert_int_equal(clae__penalty_batch(m, &penalty, ws->grads, 0),
                     CLAE_SUCCESS);
    double device_penalty;
    assert_int_equal(clae__penalty_epoch(m, &penalty, ROWS, BATCH, NULL,
                                         ROWS, &device_penalty),
                     CLAE_SUCCESS);
    test_download(ctx, ws->grads, grads, np * 4);
    test_download(ctx, dl, chunk_loss, chunks * 4);

    double device_loss = 0.0;
    for (size_t c = 0; c < chunks; c++) device_loss += chunk_loss[c];
    if (clae__spec_is_variational(&m->spec)) {
        test_download(ctx, ws->kl, kl, sizeof kl);
        for (size_t r = 0; r < ROWS; r++)
            device_loss += m->spec.layers[m->spec.latent].beta * kl[r];
    }
    device_loss = device_loss / (double)clae__loss_divisor(m, ROWS) +
                  device_penalty;
    double ref_loss = ref_total_loss(&m->spec, params, x, l1, l2);
    assert_float_equal(device_loss, ref_loss, 1e-5 * fabs(ref_loss) + 1e-7);

    /* Central differences in double over a step small enough that ReLU's
     * kink or a max pool's change of winner rarely falls inside it. */
    for (size_t i = 0; i < np; i++) {
        float saved = params[i];
        params[i] = saved + 1e-4f;
        double up = ref_total_loss(&m->spec, params, x, l1, l2);
        double h = (double)params[i];
        params[i] = saved - 1e-4f;
        double down = ref_total_loss(&m->spec, params, x, l1, l2);
        h -= (double)params[i];
        params[i] = saved;
        double fd = (up - down) / h;
        /* float32 gradients against double differences: 2e-3 relative,
         * 2e-6 absolute (the gradients here are of order 1e-2). */
        if (fabs(grads[i] - fd) > 2e-6 + 2e-3 * fabs(fd))
            fail_msg("%s\nparameter %zu: backward %.8g, finite difference %.8g",
                     spec_text, i, (double)grads[i], fd);
    }
    clReleaseMemObject(dx);
    clReleaseMemObject(dl);
    clReleaseMemObject(ws->kl);
    clae__penalty_release(&penalty);
    clae__workspace_destroy(ws);
    clae_model_destroy(m);
    free(x); free(params); free(grads); free(chunk_loss);
}

static void check_model(clae_context *ctx, const char *spec_text)
{
    check_model_penalized(ctx, spec_text, 0.0f, 0.0f);
}

/* BCE on a sigmoid output (the fused logits path) under each hidden
 * activation, through two hidden layers so gradients cross layers. */
static void test_bce_each_hidden_activation(void **state)
{
    clae_context *ctx = test_context(state);
    const char *acts[] = {"relu", "sigmoid", "tanh", "linear",
                          "leaky_relu slope=0.2", "elu alpha=0.7", "softmax"};
    for (int i = 0; i < 7; i++) {
        char spec[256];
        snprintf(spec, sizeof spec,
                 "input 6\ndense 5 %s\ndense 3 %s\ndense 6 sigmoid\nloss bce\n",
                 acts[i], acts[i]);
        check_model(ctx, spec);
    }
}

/* MSE under each output activation (the activation's own backward). */
static void test_mse_each_output_activation(void **state)
{
    clae_context *ctx = test_context(state);
    const char *acts[] = {"linear", "sigmoid", "tanh", "relu"};
    for (int i = 0; i < 4; i++) {
        char spec[256];
        snprintf(spec, sizeof spec,
                 "input 7\ndense 4 tanh\ndense 7 %s\nloss mse\n", acts[i]);
        check_model(ctx, spec);
    }
}

/* MAE; categorical cross-entropy on a softmax output (the softmax's row
 * backward after the loss); BCE on a softmax output (probabilities, not
 * logits). */
static void test_other_losses(void **state)
{
    clae_context *ctx = test_context(state);
    check_model(ctx, "input 6\ndense 4 elu\ndense 6 linear\nloss mae\n");
    check_model(ctx, "input 6\ndense 4 tanh\ndense 6 softmax\nloss cce\n");
    check_model(ctx, "input 6\ndense 4 relu\ndense 6 softmax\nloss bce\n");
}

/* Tied decoder layers use the transposed weights of their mirrors; the
 * shared weights' gradient is the sum of both uses. */
static void test_tied(void **state)
{
    check_model(test_context(state), "input 7\ndense 5 tanh\ndense 3 relu\n"
                                     "dense 5 tanh tied\ndense 7 sigmoid tied\n"
                                     "loss bce\n");
}

/* Batch norm on the batch's statistics: after a linear dense layer with
 * its own activation, and first (on the input, with no input gradient). */
static void test_batchnorm(void **state)
{
    clae_context *ctx = test_context(state);
    check_model(ctx, "input 6\ndense 4\nbatchnorm relu\ndense 6 sigmoid\n"
                     "loss bce\n");
    check_model(ctx, "input 6\nbatchnorm\ndense 3 tanh\nbatchnorm elu\n"
                     "dense 6 linear\nloss mse\n");
}

/* The sparse autoencoder's penalties on the code layer: activity L1, the
 * KL sparsity penalty, both, and on a code layer below others. */
static void test_activity_penalties(void **state)
{
    clae_context *ctx = test_context(state);
    check_model(ctx, "input 6\ndense 4 relu\ncode l1=0.05\ndense 6 sigmoid\n");
    check_model(ctx, "input 6\ndense 4 sigmoid\ncode rho=0.1 beta=0.3\n"
                     "dense 6 sigmoid\n");
    check_model(ctx, "input 6\ndense 5 tanh\ndense 3 sigmoid\n"
                     "code l1=0.02 rho=0.2 beta=0.1\ndense 5 elu\n"
                     "dense 6 linear\nloss mse\n");
}

/* A single layer (the code is the output): no input-gradient GEMM. */
static void test_single_layer(void **state)
{
    check_model(test_context(state), "input 5\ndense 5 sigmoid\nloss bce\n");
}

/* L1 and L2 weight penalties, each alone and together, in the loss and the
 * gradient of every weight (biases get none). No weight lies within the
 * finite difference's step of 0, where |w| has its kink. */
static void test_weight_penalties(void **state)
{
    clae_context *ctx = test_context(state);
    const char *spec = "input 6\ndense 4 tanh\ndense 6 sigmoid\nloss bce\n";
    const float penalties[][2] = {{0.01f, 0.0f}, {0.0f, 0.02f}, {0.01f, 0.02f}};
    for (int i = 0; i < 3; i++)
        check_model_penalized(ctx, spec, penalties[i][0], penalties[i][1]);
}

/* Convolutions: odd image sizes, same and valid padding, strides, 1x1
 * and rectangular kernels, kernels larger than their stride, several
 * channels in and out; a conv output layer (BCE on logits, and MSE
 * through its activation); both ways of computing a conv to one
 * channel. */
static void test_conv(void **state)
{
    clae_context *ctx = test_context(state);
    check_model(ctx, "input 5x7x1\nconv 3 3x3 tanh same\nconv 1 3x3 sigmoid "
                     "same\nloss bce\n");
    check_model(ctx, "input 6x5x2\nconv 4 3x2 relu stride=2\nflatten\n"
                     "dense 60 linear\nloss mse\n");
    check_model(ctx, "input 7x7x3\nconv 2 1x1 elu\nconv 3 5x5 tanh stride=2 "
                     "same\nflatten\ndense 147 sigmoid\n");
    check_model(ctx, "input 4x4x2\nconv 2 3x3 tanh same\n"
                     "conv 2 3x3 linear same\nloss mse\n");
    /* Convolutions to one channel from the input's pixels (patch sums):
     * strided with padding, and valid. */
    check_model(ctx, "input 5x5x8\nconv 1 3x3 tanh stride=2 same\nflatten\n"
                     "dense 200 linear\nloss mse\n");
    check_model(ctx, "input 6x5x3\nconv 4 3x3 tanh same\nconv 1 2x3 elu\n"
                     "flatten\ndense 90 sigmoid\n");
}

/* Transposed convolutions: same (doubling) and valid, a stride of 1 and
 * 3 with a kernel smaller than it, as a decoder and as the output. */
static void test_deconv(void **state)
{
    clae_context *ctx = test_context(state);
    check_model(ctx, "input 6x6x1\nconv 3 3x3 relu stride=2 same\n"
                     "deconv 1 3x3 sigmoid stride=2 same\nloss bce\n");
    check_model(ctx, "input 5x5x2\nconv 2 3x3 tanh\ndeconv 2 3x3 linear\n"
                     "loss mse\n");
    check_model(ctx, "input 6x3x1\nconv 2 2x1 tanh stride=3\n"
                     "deconv 3 2x1 elu stride=3\nflatten\ndense 18 sigmoid\n");
}

/* Pooling and upsampling between convolutions: max (same, with a partial
 * window at the edge; overlapping windows; padding before the image),
 * average (valid and same), and nearest-neighbour upsampling back to the
 * input size. */
static void test_pool_upsample(void **state)
{
    clae_context *ctx = test_context(state);
    check_model(ctx, "input 7x7x1\nconv 2 3x3 tanh same\nmaxpool 2 same\n"
                     "conv 2 3x3 tanh same\nupsample 2\nconv 1 2x2 sigmoid\n"
                     "loss bce\n");
    check_model(ctx, "input 7x6x2\nconv 3 3x3 tanh same\nmaxpool 3 stride=2\n"
                     "flatten\ndense 84 linear\nloss mse\n");
    check_model(ctx, "input 7x7x1\nconv 2 3x3 tanh same\nmaxpool 3 stride=2 same\n"
                     "flatten\ndense 49 sigmoid\n");
    check_model(ctx, "input 6x6x2\nconv 2 3x3 elu same\navgpool 2\n"
                     "avgpool 2 same\nupsample 3\nconv 2 3x3 linear same\n"
                     "loss mse\n");
}

/* Batch norm per channel after a convolution, and dense layers reshaped
 * into an image for a convolutional decoder. */
static void test_conv_batchnorm_reshape(void **state)
{
    clae_context *ctx = test_context(state);
    check_model(ctx, "input 5x5x2\nconv 3 3x3 linear same\nbatchnorm relu\n"
                     "conv 2 3x3 sigmoid same\nloss bce\n");
    check_model(ctx, "input 6x6x1\nconv 2 3x3 tanh stride=2 same\nflatten\n"
                     "dense 5 tanh\ndense 18 relu\nreshape 3x3x2\n"
                     "deconv 1 3x3 sigmoid stride=2 same\nloss bce\n");
}

/* Variational models: the latent layer's split into mean and
 * log-variance, the reparameterised sample (the reference draws the same
 * eps) and the KL term, weighted by beta, as the first layer, between
 * dense layers, with more than a chunk of latent units, and in a conv
 * model. */
static void test_variational(void **state)
{
    clae_context *ctx = test_context(state);
    check_model(ctx, "input 6\ndense 5 tanh\nlatent 2 gaussian\n"
                     "dense 6 sigmoid\nloss bce\n");
    check_model(ctx, "input 6\nlatent 2 gaussian\ndense 6 sigmoid\n");
    check_model(ctx, "input 7\ndense 4 elu\nlatent 3 gaussian beta=0.5\n"
                     "dense 4 relu\ndense 7 linear\nloss mse\n");
    check_model(ctx, "input 5\ndense 4 tanh\nlatent 17 gaussian beta=2\n"
                     "dense 5 sigmoid\n");
    check_model(ctx, "input 6x6x1\nconv 2 3x3 tanh stride=2 same\nflatten\n"
                     "latent 2 gaussian\ndense 18 relu\nreshape 3x3x2\n"
                     "deconv 1 3x3 sigmoid stride=2 same\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bce_each_hidden_activation),
        cmocka_unit_test(test_mse_each_output_activation),
        cmocka_unit_test(test_other_losses),
        cmocka_unit_test(test_tied),
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_activity_penalties),
        cmocka_unit_test(test_single_layer),
        cmocka_unit_test(test_weight_penalties),
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_deconv),
        cmocka_unit_test(test_pool_upsample),
        cmocka_unit_test(test_conv_batchnorm_reshape),
        cmocka_unit_test(test_variational),
    };
    return cmocka_run_group_tests_name("gradcheck", tests, test_open_context,
                                       test_close_context);
}
