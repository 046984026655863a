/* Optimizers, learning-rate schedules and weight penalties end to end: the
 * schedules' values, each optimizer training the reference model on the
 * first 2,000 Fashion-MNIST training images (validated on 500 test images),
 * and the penalties' share of the reported losses. */
#include "optim.h"
#include "ref/ref.h"
#include "test_util.h"

#define TRAIN_N 2000
#define VAL_N 500
#define EPOCHS 3

static clae_data *train_set, *val_set;

static int setup(void **state)
{
    return test_open_fashion(state, TRAIN_N, VAL_N, &train_set, &val_set);
}

static int teardown(void **state)
{
    return test_close_fashion(state, train_set, val_set);
}

/* ---- learning-rate schedules (host only) ------------------------------- */

static clae_train_options schedule(clae_lr_schedule kind)
{
    clae_train_options o;
    clae_train_options_default(&o);
    o.learning_rate = 0.1f;
    o.lr_schedule = kind;
    return o;
}

/* Constant: the same rate at every step. */
static void test_lr_constant(void **state)
{
    (void)state;
    clae_train_options o = schedule(CLAE_LR_CONSTANT);
    for (uint64_t t = 0; t < 100; t += 7)
        assert_true(clae__scheduled_lr(&o, t, 10, 100) == 0.1f);
}

/* Step, every 2 epochs of 3 steps times 0.5: steps 0-5 at lr, 6-11 at
 * lr / 2, 12-17 at lr / 4 (torch's StepLR stepped per epoch). */
static void test_lr_step(void **state)
{
    (void)state;
    clae_train_options o = schedule(CLAE_LR_STEP);
    o.lr_step_epochs = 2;
    o.lr_gamma = 0.5f;
    const float want[] = {0.1f, 0.05f, 0.025f};
    for (uint64_t t = 0; t < 18; t++)
        assert_float_equal(clae__scheduled_lr(&o, t, 3, 18), want[t / 6],
                           1e-8);
}

/* Cosine over 40 steps: lr at the start, (1 + cos(pi / 4)) / 2 of it a
 * quarter of the way, half of it halfway, near 0 at the last step, and
 * falling all the way. */
static void test_lr_cosine(void **state)
{
    (void)state;
    clae_train_options o = schedule(CLAE_LR_COSINE);
    assert_float_equal(clae__scheduled_lr(&o, 0, 10, 40), 0.1, 1e-8);
    assert_float_equal(clae__scheduled_lr(&o, 10, 10, 40),
                       0.1 * (1 + sqrt(0.5)) / 2, 1e-8);
    assert_float_equal(clae__scheduled_lr(&o, 20, 10, 40), 0.05, 1e-8);
    assert_float_equal(clae__scheduled_lr(&o, 39, 10, 40),
                       0.05 * (1 + cos(3.14159265358979 * 39 / 40)), 1e-8);
    for (uint64_t t = 1; t < 40; t++)
        assert_true(clae__scheduled_lr(&o, t, 10, 40) <
                    clae__scheduled_lr(&o, t - 1, 10, 40));
}

/* ---- training ---------------------------------------------------------- */

typedef struct {
    clae_epoch_metrics epochs[EPOCHS];
    unsigned count;
} history;

static int record(void *user, const clae_epoch_metrics *m)
{
    history *h = user;
    h->epochs[h->count++] = *m;
    return 0;
}

/* Trains the reference model (seed 0) with o for EPOCHS epochs into h;
 * returns the model. */
static clae_model *train_with(clae_context *ctx, clae_train_options o,
                              history *h)
{
    clae_model *model = test_reference_model(ctx, train_set->d, 0);
    o.epochs = EPOCHS;
    o.on_epoch = record;
    o.user = h;
    if (clae_train(model, train_set, val_set, &o) != CLAE_SUCCESS)
        fail_msg("%s", clae_last_error(ctx));
    assert_int_equal(h->count, EPOCHS);
    return model;
}

static clae_train_options with_optimizer(clae_optimizer opt, float lr)
{
    clae_train_options o;
    clae_train_options_default(&o);
    o.optimizer = opt;
    o.learning_rate = lr;
    o.batch_size = 64; /* 32 steps an epoch */
    return o;
}

/* The training and validation losses fall every epoch and the validation
 * BCE ends below 0.45, under the 0.49 of predicting every image by the
 * mean image (see test_train.c), which a model ignoring its input cannot
 * beat. */
static void expect_learns(const char *what, const history *h)
{
    printf("%-28s val BCE by epoch:", what);
    for (unsigned e = 0; e < EPOCHS; e++) printf(" %.6f", h->epochs[e].val_loss);
    printf("\n");
    for (unsigned e = 1; e < EPOCHS; e++) {
        assert_true(h->epochs[e].train_loss < h->epochs[e - 1].train_loss);
        assert_true(h->epochs[e].val_loss < h->epochs[e - 1].val_loss);
    }
    assert_true(h->epochs[EPOCHS - 1].val_loss < 0.45);
}

/* Each optimizer, and the schedules and clipping on top of one, learns.
 * SGD's rates are large because the loss is a mean over 784 elements. */
static void test_each_optimizer_learns(void **state)
{
    clae_context *ctx = test_context(state);
    struct {
        const char *what;
        clae_train_options o;
    } runs[] = {
        {"sgd momentum 0.9", with_optimizer(CLAE_OPTIMIZER_SGD, 0.5f)},
        {"sgd nesterov 0.9", with_optimizer(CLAE_OPTIMIZER_SGD, 0.5f)},
        {"adamw", with_optimizer(CLAE_OPTIMIZER_ADAMW, 1e-3f)},
        {"rmsprop", with_optimizer(CLAE_OPTIMIZER_RMSPROP, 1e-3f)},
        {"adam, cosine, clip 0.05", with_optimizer(CLAE_OPTIMIZER_ADAM, 2e-3f)},
        {"adam, step 1 x 0.5", with_optimizer(CLAE_OPTIMIZER_ADAM, 2e-3f)},
    };
    runs[0].o.momentum = runs[1].o.momentum = 0.9f;
    runs[1].o.nesterov = 1;
    runs[4].o.lr_schedule = CLAE_LR_COSINE;
    runs[4].o.clip_norm = 0.05f;
    runs[5].o.lr_schedule = CLAE_LR_STEP;
    runs[5].o.lr_step_epochs = 1;
    runs[5].o.lr_gamma = 0.5f;
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        history h = {0};
        clae_model_destroy(train_with(ctx, runs[i].o, &h));
        expect_learns(runs[i].what, &h);
    }
}

/* AdamW with no decay is Adam bit for bit; with decay it is not. */
static void test_adamw_decay(void **state)
{
    clae_context *ctx = test_context(state);
    history adam = {0}, no_decay = {0}, decay = {0};
    clae_train_options o = with_optimizer(CLAE_OPTIMIZER_ADAMW, 1e-3f);
    clae_model_destroy(
        train_with(ctx, with_optimizer(CLAE_OPTIMIZER_ADAM, 1e-3f), &adam));
    o.weight_decay = 0.0f;
    clae_model_destroy(train_with(ctx, o, &no_decay));
    o.weight_decay = 0.5f;
    clae_model_destroy(train_with(ctx, o, &decay));
    assert_memory_equal(&adam.epochs[EPOCHS - 1].val_loss,
                        &no_decay.epochs[EPOCHS - 1].val_loss, sizeof(double));
    assert_true(decay.epochs[EPOCHS - 1].val_loss !=
                adam.epochs[EPOCHS - 1].val_loss);
}

/* How far one epoch of o moves the reference model's parameters (L2). */
static double epoch_displacement(clae_context *ctx, clae_train_options o)
{
    clae_model *m = test_reference_model(ctx, train_set->d, 0);
    size_t n = m->param_count;
    float *before = malloc(n * 4), *after = malloc(n * 4);
    test_download(ctx, m->params, before, n * 4);
    o.epochs = 1;
    assert_int_equal(clae_train(m, train_set, NULL, &o), CLAE_SUCCESS);
    test_download(ctx, m->params, after, n * 4);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += ((double)after[i] - before[i]) * ((double)after[i] - before[i]);
    free(before);
    free(after);
    clae_model_destroy(m);
    return sqrt(sum);
}

/* Clipping acts in training: a plain SGD step moves the parameters by lr
 * times the gradient, so with clipping to C an epoch of S steps moves them
 * by at most S lr C, and without it by more. */
static void test_clipping_bounds_steps(void **state)
{
    clae_context *ctx = test_context(state);
    clae_train_options o = with_optimizer(CLAE_OPTIMIZER_SGD, 0.5f);
    const double steps = TRAIN_N / 64 + 1, bound = steps * 0.5 * 1e-3;
    double free_run = epoch_displacement(ctx, o);
    o.clip_norm = 1e-3f;
    double clipped = epoch_displacement(ctx, o);
    printf("displacement: clipped %.6g (bound %.6g), unclipped %.6g\n",
           clipped, bound, free_run);
    assert_true(clipped > 0.0);
    assert_true(clipped <= bound * (1 + 1e-4));
    assert_true(free_run > 2 * bound);
}

/* The model's weights on the host and their reference penalty. */
static double host_penalty(clae_context *ctx, clae_model *m, float l1,
                           float l2)
{
    float *params = malloc(m->param_count * 4);
    test_download(ctx, m->params, params, m->param_count * 4);
    double p = ref_weight_penalty(&m->spec, params, l1, l2);
    free(params);
    return p;
}

/* The reported losses count the penalty as Keras's do: in one batch (the
 * whole set) the training loss is the data loss plus the penalty at the
 * starting weights; the validation loss is the data loss (clae_evaluate)
 * plus the penalty at the final weights. */
static void test_penalty_in_losses(void **state)
{
    clae_context *ctx = test_context(state);
    const float l1 = 1e-4f, l2 = 1e-3f;
    clae_model *m = test_reference_model(ctx, train_set->d, 0);
    double data_before, data_val;
    double before = host_penalty(ctx, m, l1, l2);
    assert_int_equal(clae_evaluate(m, train_set, 256, &data_before),
                     CLAE_SUCCESS);
    clae_train_options o = with_optimizer(CLAE_OPTIMIZER_ADAM, 1e-3f);
    history h = {0};
    o.l1 = l1;
    o.l2 = l2;
    o.batch_size = TRAIN_N;
    o.epochs = 1;
    o.on_epoch = record;
    o.user = &h;
    assert_int_equal(clae_train(m, train_set, val_set, &o), CLAE_SUCCESS);
    /* The penalty is a sizeable part of the loss, so dropping it fails. */
    assert_true(before > 0.1 * data_before);
    assert_float_equal(h.epochs[0].train_loss, data_before + before,
                       1e-5 * h.epochs[0].train_loss);
    assert_int_equal(clae_evaluate(m, val_set, 256, &data_val), CLAE_SUCCESS);
    double after = host_penalty(ctx, m, l1, l2);
    assert_float_equal(h.epochs[0].val_loss, data_val + after,
                       1e-5 * h.epochs[0].val_loss);
    clae_model_destroy(m);
}

/* Settings no optimizer can use are refused before training. */
static void test_bad_options(void **state)
{
    clae_context *ctx = test_context(state);
    clae_model *m = test_reference_model(ctx, train_set->d, 0);
    clae_train_options bad[6];
    for (int i = 0; i < 6; i++) bad[i] = with_optimizer(CLAE_OPTIMIZER_SGD, 0.1f);
    bad[0].momentum = 1.0f;
    bad[1].nesterov = 1;
    bad[2].rho = NAN;
    bad[3].lr_schedule = CLAE_LR_STEP; /* lr_step_epochs 0 */
    bad[4].clip_norm = -1.0f;
    bad[5].l2 = -1e-3f;
    for (int i = 0; i < 6; i++) {
        bad[i].epochs = 1;
        assert_int_equal(clae_train(m, train_set, NULL, &bad[i]),
                         CLAE_ERR_USAGE);
    }
    clae_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lr_constant),
        cmocka_unit_test(test_lr_step),
        cmocka_unit_test(test_lr_cosine),
        cmocka_unit_test(test_each_optimizer_learns),
        cmocka_unit_test(test_adamw_decay),
        cmocka_unit_test(test_clipping_bounds_steps),
        cmocka_unit_test(test_penalty_in_losses),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests_name("optim", tests, setup, teardown);
}
