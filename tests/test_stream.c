/* Data sets larger than the device budget: streamed in chunks, they train
 * and evaluate exactly as resident ones, in less device memory. Real data:
 * the first 4,000 Fashion-MNIST training images and 1,000 test images
 * (12.5 MB and 3.1 MB), in batches of 96 so that chunks (3 batches under a
 * 4 MiB budget) and the last batch (64 rows) both come out partial. */
#include "test_util.h"

#define TRAIN_N 4000
#define VAL_N 1000
#define BATCH 96
#define EPOCHS 3
#define SMALL_BUDGET (4u << 20)

static clae_data *train_set, *val_set;

static int setup(void **state)
{
    (void)state;
    train_set = test_load_prefix(NULL, TEST_FASHION "train-images-idx3-ubyte.gz",
                                 TRAIN_N);
    val_set = test_load_prefix(NULL, TEST_FASHION "t10k-images-idx3-ubyte.gz",
                               VAL_N);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    clae_data_free(train_set);
    clae_data_free(val_set);
    return 0;
}

static void count_streaming_notes(void *user, clae_log_level level,
                                  const char *msg)
{
    (void)level;
    if (strstr(msg, "streaming")) ++*(int *)user;
}

/* A context whose data sets may take `budget` bytes (0: the default);
 * counts the "streaming" notes into *notes. Skips without a device. */
static clae_context *open_with_budget(uint64_t budget, int *notes)
{
    clae_context_options o = {.device_memory = budget,
                              .log = count_streaming_notes,
                              .log_user = notes};
    clae_context *ctx = NULL;
    if (clae_context_create(&o, &ctx) != CLAE_SUCCESS) {
        fprintf(stderr, "no usable OpenCL device: %s\n", clae_last_error(ctx));
        clae_context_destroy(ctx);
        skip();
    }
    return ctx;
}

typedef struct {
    double train[EPOCHS], val[EPOCHS];
    unsigned count;
} curve;

static int record(void *user, const clae_epoch_metrics *m)
{
    curve *c = user;
    c->train[c->count] = m->train_loss;
    c->val[c->count] = m->val_loss;
    c->count++;
    return 0;
}

typedef struct {
    curve curve;
    double eval_loss; /* clae_evaluate on the validation set afterwards */
    uint64_t peak;    /* device memory peak of the whole run */
    int notes;
} run;

static run train_with_budget(uint64_t budget)
{
    run r = {0};
    clae_context *ctx = open_with_budget(budget, &r.notes);
    clae_model *model = test_reference_model(ctx, train_set->d, 0);
    clae_train_options o;
    clae_train_options_default(&o);
    o.batch_size = BATCH;
    o.epochs = EPOCHS;
    o.on_epoch = record;
    o.user = &r.curve;
    if (clae_train(model, train_set, val_set, &o) != CLAE_SUCCESS)
        fail_msg("%s", clae_last_error(ctx));
    if (clae_evaluate(model, val_set, BATCH, &r.eval_loss) != CLAE_SUCCESS)
        fail_msg("%s", clae_last_error(ctx));
    r.peak = clae_device_memory_peak(ctx);
    clae_model_destroy(model);
    clae_context_destroy(ctx);
    return r;
}

/* Streamed batches hold the same rows in the same order as resident ones
 * (streamed as floats, resident as bytes decoded by the gather), so the
 * loss curves agree to the last bit, and the streamed run holds at
 * most the budget for data where the resident one holds all of it. */
static void test_streamed_training_matches_resident(void **state)
{
    (void)state;
    run resident = train_with_budget(0);
    run streamed = train_with_budget(SMALL_BUDGET);
    assert_int_equal(resident.notes, 0);
    /* train and val; clae_evaluate alone has room for the val set */
    assert_int_equal(streamed.notes, 2);
    assert_int_equal(resident.curve.count, EPOCHS);
    assert_int_equal(streamed.curve.count, EPOCHS);
    for (unsigned e = 0; e < EPOCHS; e++) {
        printf("epoch %u: train %.9f / %.9f  val %.9f / %.9f\n", e + 1,
               resident.curve.train[e], streamed.curve.train[e],
               resident.curve.val[e], streamed.curve.val[e]);
        assert_memory_equal(&resident.curve.train[e], &streamed.curve.train[e],
                            sizeof(double));
        assert_memory_equal(&resident.curve.val[e], &streamed.curve.val[e],
                            sizeof(double));
    }
    assert_true(resident.curve.train[EPOCHS - 1] < resident.curve.train[0]);
    assert_memory_equal(&resident.eval_loss, &streamed.eval_loss,
                        sizeof(double));
    assert_memory_equal(&streamed.eval_loss, &streamed.curve.val[EPOCHS - 1],
                        sizeof(double));

    /* Resident, the training set is held as its bytes (feed.h). */
    uint64_t data = (uint64_t)TRAIN_N * train_set->d +
                    (uint64_t)VAL_N * val_set->d * sizeof(float);
    printf("device memory peak: resident %llu, streamed %llu bytes\n",
           (unsigned long long)resident.peak,
           (unsigned long long)streamed.peak);
    assert_true(resident.peak - streamed.peak >= data - SMALL_BUDGET);
}

/* A budget below one batch still streams, one batch per chunk, and gets
 * the resident loss. */
static void test_budget_below_one_batch(void **state)
{
    (void)state;
    int notes = 0;
    clae_context *ctx = open_with_budget(1024, &notes);
    clae_model *model = test_reference_model(ctx, val_set->d, 7);
    double streamed = 0.0, resident = 0.0;
    assert_int_equal(clae_evaluate(model, val_set, BATCH, &streamed),
                     CLAE_SUCCESS);
    assert_int_equal(notes, 1);
    ctx->device_memory = 0; /* the default budget holds the set */
    assert_int_equal(clae_evaluate(model, val_set, BATCH, &resident),
                     CLAE_SUCCESS);
    assert_int_equal(notes, 1);
    assert_memory_equal(&streamed, &resident, sizeof(double));
    assert_true(resident > 0.3 && resident < 1.0); /* an untrained model */
    clae_model_destroy(model);
    clae_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streamed_training_matches_resident),
        cmocka_unit_test(test_budget_below_one_batch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
