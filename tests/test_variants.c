/* End to end on Fashion-MNIST subsets: each autoencoder variant does its
 * job. Denoising removes noise; the sparse penalty pulls the code's mean
 * activation to rho; early stopping stops and restores the best epoch;
 * batch norm trains at a learning rate where the same model without it
 * does worse. */
#include "model.h"
#include "test_util.h"

static clae_data *train_, *val_;

static int open_sets(void **state)
{
    return test_open_fashion(state, 4000, 1000, &train_, &val_);
}

static int close_sets(void **state)
{
    return test_close_fashion(state, train_, val_);
}

/* The val losses each epoch reports. */
typedef struct {
    double val[100];
    unsigned epochs;
} history;

static int record(void *user, const clae_epoch_metrics *m)
{
    history *h = user;
    if (h->epochs < 100) h->val[h->epochs++] = m->val_loss;
    return 0;
}

static clae_model *trained(clae_context *ctx, const char *spec,
                           clae_train_options *o, const clae_data *train,
                           history *h)
{
    clae_model *m = NULL;
    assert_int_equal(clae_model_create(ctx, spec, 1, &m), CLAE_SUCCESS);
    o->on_epoch = record;
    o->user = h;
    if (clae_train(m, train, val_, o) != CLAE_SUCCESS)
        fail_msg("%s", clae_last_error(ctx));
    return m;
}

static clae_train_options options(unsigned epochs)
{
    clae_train_options o;
    clae_train_options_default(&o);
    o.epochs = epochs;
    o.batch_size = 64;
    return o;
}

/* Gaussian noise of std 0.3 on the inputs: the noisy inputs themselves are
 * 0.09 (the noise's variance) from the clean ones in MSE; the trained
 * model's reconstruction from noisy inputs is within a third of that. */
static void test_denoising(void **state)
{
    clae_context *ctx = test_context(state);
    clae_train_options o = options(5);
    history h = {0};
    clae_model *m = trained(ctx, "input 784\nnoise gaussian 0.3\n"
                                 "dense 128 relu\ndense 784 sigmoid\nloss mse\n",
                            &o, train_, &h);
    double clean, noisy;
    assert_int_equal(clae_evaluate(m, val_, 256, &clean), CLAE_SUCCESS);
    assert_int_equal(clae_evaluate_noisy(m, val_, 256, 9, &noisy), CLAE_SUCCESS);
    printf("denoising: noisy inputs 0.09 from clean; reconstructions from "
           "noisy %.4f, from clean %.4f\n", noisy, clean);
    assert_true(noisy < 0.09 / 3);
    assert_true(noisy > clean); /* the noise did act */
    clae_model_destroy(m);
}

/* The mean activation of the code layer over val_. */
static double mean_code_activation(clae_context *ctx, clae_model *m)
{
    clae_workspace *ws = NULL;
    size_t n = val_->n, d = val_->d, code = m->spec.code_layer,
           width = m->layers[code].out;
    assert_int_equal(clae__workspace_create(m, n, &ws), CLAE_SUCCESS);
    cl_mem x = test_upload(ctx, val_->x, n * d * 4);
    assert_int_equal(clae__model_forward(m, ws, x, 0, n), CLAE_SUCCESS);
    float *a = malloc(n * width * 4);
    test_download(ctx, ws->a[code], a, n * width * 4);
    double sum = 0.0;
    for (size_t i = 0; i < n * width; i++) sum += a[i];
    free(a);
    clReleaseMemObject(x);
    clae__workspace_destroy(ws);
    return sum / (double)(n * width);
}

/* The KL sparsity penalty toward rho 0.05 (beta 0.1) brings the sigmoid code's mean
 * activation to within 0.02 of rho; without it the mean is far above. */
static void test_sparse(void **state)
{
    clae_context *ctx = test_context(state);
    clae_train_options o = options(5);
    history h = {0}, h_plain = {0};
    clae_model *sparse = trained(ctx, "input 784\ndense 64 sigmoid\n"
                                      "code rho=0.05 beta=0.1\n"
                                      "dense 784 sigmoid\n", &o, train_, &h);
    clae_model *plain = trained(ctx, "input 784\ndense 64 sigmoid\n"
                                     "dense 784 sigmoid\n", &o, train_, &h_plain);
    double with = mean_code_activation(ctx, sparse),
           without = mean_code_activation(ctx, plain);
    printf("sparse: mean code activation %.4f (rho 0.05), %.4f without the "
           "penalty\n", with, without);
    assert_true(fabs(with - 0.05) < 0.02);
    assert_true(without > 0.15);
    clae_model_destroy(sparse);
    clae_model_destroy(plain);
}

/* A wide model on 200 samples overfits: early stopping with patience 3
 * stops well before 60 epochs, 3 epochs after the best, and the model
 * left has the best epoch's validation loss. */
static void test_early_stopping(void **state)
{
    clae_context *ctx = test_context(state);
    clae_data small = *train_;
    small.n = 200;
    small.source = NULL;
    small.x = train_->x;
    clae_train_options o = options(60);
    o.learning_rate = 3e-3f;
    o.patience = 3;
    history h = {0};
    clae_model *m = trained(ctx, "input 784\ndense 512 relu\ndense 784 sigmoid\n",
                            &o, &small, &h);
    unsigned best = 0;
    for (unsigned e = 1; e < h.epochs; e++)
        if (h.val[e] < h.val[best]) best = e;
    printf("early stopping: stopped after %u epochs, best epoch %u (val %.5f)\n",
           h.epochs, best + 1, h.val[best]);
    assert_true(h.epochs < 60);
    assert_int_equal(h.epochs, best + 1 + 3);
    double now;
    assert_int_equal(clae_evaluate(m, val_, 64, &now), CLAE_SUCCESS);
    assert_true(now == h.val[best]);
    clae_model_destroy(m);
}

/* Plain SGD at lr 2 on a deep sigmoid stack: with batch norm after each
 * hidden layer it reaches a clearly lower validation loss in 3 epochs. */
static void test_batchnorm_high_lr(void **state)
{
    clae_context *ctx = test_context(state);
    clae_train_options o = options(3);
    o.optimizer = CLAE_OPTIMIZER_SGD;
    o.learning_rate = 2.0f;
    history plain = {0}, normed = {0};
    clae_model *a = trained(ctx, "input 784\ndense 256 sigmoid\n"
                                 "dense 64 sigmoid\ndense 256 sigmoid\n"
                                 "dense 784 sigmoid\n", &o, train_, &plain);
    clae_model *b = trained(ctx, "input 784\ndense 256\nbatchnorm sigmoid\n"
                                 "dense 64\nbatchnorm sigmoid\ndense 256\n"
                                 "batchnorm sigmoid\ndense 784 sigmoid\n",
                            &o, train_, &normed);
    double va = plain.val[plain.epochs - 1], vb = normed.val[normed.epochs - 1];
    printf("batch norm at sgd lr 2: val %.4f with, %.4f without\n", vb, va);
    assert_true(vb < va - 0.02);
    clae_model_destroy(a);
    clae_model_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_denoising),
        cmocka_unit_test(test_sparse),
        cmocka_unit_test(test_early_stopping),
        cmocka_unit_test(test_batchnorm_high_lr),
    };
    return cmocka_run_group_tests_name("variants", tests, open_sets, close_sets);
}
