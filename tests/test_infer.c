/* Using a trained model: encode, decode, reconstruct and score against the
 * layers run on the host (tests/ref), over a sample count that is not a
 * multiple of the batch; labels, one-class selection and the ranking
 * metrics of anomaly scores on known cases. */
#include "test_util.h"

#include "model.h"
#include "ref/ref.h"

enum { ROWS = 37, BATCH = 8 };

/* A small model with the code in the middle, its outputs of every kind:
 * a BCE sigmoid output (whose loss reads the logits) and an MSE one; and
 * a convolutional one, its decoder a transposed convolution; a
 * variational one. */
static const char *const specs[] = {
    "input 12\ndense 7 relu\ndense 3 tanh\ncode\ndropout 0.5\n"
    "dense 7 elu\ndense 12 sigmoid\nloss bce\n",
    "input 12\ndense 5 leaky_relu\ncode\ndense 12 linear\nloss mse\n",
    "input 4x3x1\nconv 3 3x3 elu same\nconv 2 2x2 tanh\ncode\n"
    "deconv 1 2x2 sigmoid\nloss bce\n",
    /* A VAE encodes to its latent means. */
    "input 12\ndense 7 tanh\nlatent 3 gaussian beta=0.5\ndense 12 sigmoid\n",
};

typedef struct {
    clae_model *model;
    float *params;
    clae_data data;
} fixture;

static void open_fixture(clae_context *ctx, const char *spec, fixture *f)
{
    assert_int_equal(clae_model_create(ctx, spec, 11, &f->model), CLAE_SUCCESS);
    clae_model *m = f->model;
    f->params = malloc(m->param_count * sizeof *f->params);
    test_download(ctx, m->params, f->params, m->param_count * sizeof(float));
    f->data = (clae_data){.n = ROWS, .d = 12, .value_bytes = 4};
    f->data.x = malloc(ROWS * 12 * sizeof(float));
    test_fill(f->data.x, ROWS * 12, 5, 0.0f, 1.0f);
}

static void close_fixture(fixture *f)
{
    clae_model_destroy(f->model);
    free(f->params);
    free(f->data.x);
}

/* encode, decode and reconstruct are the host's layers, in evaluation
 * mode (the dropout layer passes everything); decode(encode(x)) is the
 * reconstruction. */
static void test_encode_decode_reconstruct(void **state)
{
    clae_context *ctx = test_context(state);
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
        fixture f;
        open_fixture(ctx, specs[s], &f);
        const clae_spec *spec = &f.model->spec;
        size_t k = clae_model_code_width(f.model), code = spec->code_layer;
        assert_int_equal(k, spec->layers[code].units);
        float *codes, *decoded, *recon, *want = malloc(ROWS * 12 * sizeof *want);

        assert_int_equal(clae_encode(f.model, &f.data, BATCH, &codes), CLAE_SUCCESS);
        ref_model_forward(spec, f.params, f.data.x, ROWS, 0, code + 1, want);
        test_assert_close("codes", codes, want, ROWS * k, 1e-5f, 1e-4f);

        assert_int_equal(clae_reconstruct(f.model, &f.data, BATCH, &recon),
                         CLAE_SUCCESS);
        ref_model_forward(spec, f.params, f.data.x, ROWS, 0, spec->count, want);
        test_assert_close("reconstruction", recon, want, ROWS * 12, 1e-5f, 1e-4f);

        clae_data code_data = {.n = ROWS, .d = k, .x = codes};
        assert_int_equal(clae_decode(f.model, &code_data, BATCH, &decoded),
                         CLAE_SUCCESS);
        test_assert_close("decode(encode(x))", decoded, recon, ROWS * 12, 1e-6f,
                          1e-5f);
        ref_model_forward(spec, f.params, codes, ROWS, code + 1, spec->count, want);
        test_assert_close("decoded", decoded, want, ROWS * 12, 1e-5f, 1e-4f);

        free(codes);
        free(decoded);
        free(recon);
        free(want);
        close_fixture(&f);
    }
}

/* A denoising model's noisy reconstruction: the inputs its mask noise
 * layer corrupts (each value kept or zeroed, about the mask's share
 * zeroed) and the model's reconstructions of exactly those inputs; a
 * model without a noise layer refuses. */
static void test_reconstruct_noisy(void **state)
{
    clae_context *ctx = test_context(state);
    fixture f;
    open_fixture(ctx, "input 12\nnoise mask 0.4\ndense 6 relu\n"
                      "dense 12 sigmoid\n", &f);
    float *noisy, *recon, *clean_recon;
    assert_int_equal(clae_reconstruct_noisy(f.model, &f.data, BATCH, 3, &noisy,
                                            &recon),
                     CLAE_SUCCESS);
    size_t zeroed = 0;
    for (size_t i = 0; i < ROWS * 12; i++) {
        if (noisy[i] != 0.0f && noisy[i] != f.data.x[i])
            fail_msg("noisy input %zu: %g from %g", i, (double)noisy[i],
                     (double)f.data.x[i]);
        zeroed += noisy[i] == 0.0f;
    }
    assert_in_range(zeroed, ROWS * 12 / 4, ROWS * 12 * 11 / 20);
    clae_data noisy_data = {.n = ROWS, .d = 12, .x = noisy, .value_bytes = 4};
    assert_int_equal(clae_reconstruct(f.model, &noisy_data, BATCH, &clean_recon),
                     CLAE_SUCCESS);
    test_assert_close("reconstruction of the noisy inputs", recon, clean_recon,
                      ROWS * 12, 0.0f, 0.0f);
    free(noisy);
    free(recon);
    free(clean_recon);
    close_fixture(&f);
    open_fixture(ctx, specs[1], &f);
    assert_int_equal(clae_reconstruct_noisy(f.model, &f.data, BATCH, 3, &noisy,
                                            &recon),
                     CLAE_ERR_USAGE);
    assert_null(noisy);
    assert_null(recon);
    close_fixture(&f);
}

/* Each sample's score is its loss as the host computes it for that sample
 * alone, and their mean is clae_evaluate's loss. */
static void test_score(void **state)
{
    clae_context *ctx = test_context(state);
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
        fixture f;
        open_fixture(ctx, specs[s], &f);
        if (clae_model_is_variational(f.model)) {
            /* Scored at its means, not as the (sampling) reference's
             * training loss: test_model_spec checks a VAE's scores. */
            close_fixture(&f);
            continue;
        }
        float *scores, want[ROWS];
        assert_int_equal(clae_score(f.model, &f.data, BATCH, &scores), CLAE_SUCCESS);
        double mean = 0.0, loss;
        for (size_t i = 0; i < ROWS; i++) {
            want[i] = (float)ref_model_loss(&f.model->spec, f.params,
                                            f.data.x + i * 12, 1);
            mean += scores[i] / (double)ROWS;
        }
        test_assert_close("scores", scores, want, ROWS, 1e-6f, 1e-4f);
        assert_int_equal(clae_evaluate(f.model, &f.data, BATCH, &loss), CLAE_SUCCESS);
        assert_true(fabs(mean - loss) <= 1e-5 * loss);
        free(scores);
        close_fixture(&f);
    }
}

/* Codes of the wrong width, and a model whose code is its output. */
static void test_decode_refusals(void **state)
{
    clae_context *ctx = test_context(state);
    fixture f;
    open_fixture(ctx, specs[0], &f);
    float *out = (float *)1;
    f.data.d = 4; /* the code is 3 wide */
    f.data.n = 9;
    assert_int_equal(clae_decode(f.model, &f.data, BATCH, &out), CLAE_ERR_INPUT);
    assert_null(out);
    assert_non_null(strstr(clae_last_error(ctx), "4 features per sample but "
                                                 "the model takes 3"));
    close_fixture(&f);

    clae_model *m = NULL;
    assert_int_equal(clae_model_create(ctx, "input 4\ndense 4 sigmoid\ncode\n",
                                       1, &m), CLAE_SUCCESS);
    clae_data codes = {.n = 2, .d = 4, .x = (float[8]){0}};
    assert_int_equal(clae_decode(m, &codes, BATCH, &out), CLAE_ERR_USAGE);
    clae_model_destroy(m);
}

/* ROC AUC and average precision on cases worked by hand (and as
 * scikit-learn's roc_auc_score and average_precision_score give them). */
static void test_anomaly_metrics(void **state)
{
    clae_context *ctx = test_context(state);
    double auc, ap;
    /* Anomalies (label 0 is normal) at 0.35 and 0.8: of the 4 pairs, the
     * anomaly ranks higher in 3; precision 1/1 at 0.8, 2/3 at 0.35. */
    const float scores[] = {0.1f, 0.4f, 0.35f, 0.8f};
    const int labels[] = {0, 0, 7, 3};
    assert_int_equal(clae_anomaly_metrics(ctx, scores, labels, 4, 0, &auc, &ap),
                     CLAE_SUCCESS);
    assert_true(fabs(auc - 0.75) < 1e-12);
    assert_true(fabs(ap - (1.0 + 2.0 / 3.0) / 2.0) < 1e-12);

    /* Ties count half: the anomaly ties one normal and beats the other. */
    const float tied[] = {1.0f, 1.0f, 0.0f};
    const int tied_labels[] = {1, 0, 0};
    assert_int_equal(clae_anomaly_metrics(ctx, tied, tied_labels, 3, 0, &auc, &ap),
                     CLAE_SUCCESS);
    assert_true(fabs(auc - 0.75) < 1e-12);
    assert_true(fabs(ap - 0.5) < 1e-12);

    /* Perfect and reversed rankings. */
    const int split[] = {0, 0, 1, 1};
    const float up[] = {1, 2, 3, 4}, down[] = {4, 3, 2, 1};
    assert_int_equal(clae_anomaly_metrics(ctx, up, split, 4, 0, &auc, &ap),
                     CLAE_SUCCESS);
    assert_true(auc == 1.0 && ap == 1.0);
    assert_int_equal(clae_anomaly_metrics(ctx, down, split, 4, 0, &auc, &ap),
                     CLAE_SUCCESS);
    assert_true(auc == 0.0);

    assert_int_equal(clae_anomaly_metrics(ctx, up, split, 4, 5, &auc, &ap),
                     CLAE_ERR_USAGE); /* no normal sample */
    const float diverged[] = {1, NAN, 3, 4};
    assert_int_equal(clae_anomaly_metrics(ctx, diverged, split, 4, 0, &auc, &ap),
                     CLAE_ERR_INPUT);
}

/* A standardised model works on (x - mean) / std of the data it was given,
 * outputs in the data's units, and keeps the statistics in its file. */
static void test_standardize(void **state)
{
    clae_context *ctx = test_context(state);
    fixture f;
    open_fixture(ctx, specs[1], &f); /* mse, linear output */
    for (size_t i = 0; i < ROWS * 12; i++) /* features of unlike scales */
        f.data.x[i] = f.data.x[i] * (float)(1 + i % 12) + (float)(i % 12);
    assert_int_equal(clae_model_standardize(f.model, &f.data), CLAE_SUCCESS);
    float z[ROWS * 12], want[ROWS * 12], *recon, *scores;
    for (size_t j = 0; j < 12; j++) {
        double mean = 0.0, var = 0.0;
        for (size_t r = 0; r < ROWS; r++) mean += f.data.x[r * 12 + j] / (double)ROWS;
        for (size_t r = 0; r < ROWS; r++) {
            double dev = f.data.x[r * 12 + j] - mean;
            var += dev * dev / (double)ROWS;
        }
        assert_true(fabs(f.model->norm_mean[j] - mean) < 1e-5 * fabs(mean) + 1e-6);
        assert_true(fabs(f.model->norm_std[j] - sqrt(var)) < 1e-5 * sqrt(var));
        for (size_t r = 0; r < ROWS; r++)
            z[r * 12 + j] = (float)((f.data.x[r * 12 + j] - mean) / sqrt(var));
    }
    const clae_spec *spec = &f.model->spec;
    ref_model_forward(spec, f.params, z, ROWS, 0, spec->count, want);
    for (size_t i = 0; i < ROWS * 12; i++)
        want[i] = want[i] * f.model->norm_std[i % 12] + f.model->norm_mean[i % 12];
    assert_int_equal(clae_reconstruct(f.model, &f.data, BATCH, &recon), CLAE_SUCCESS);
    test_assert_close("reconstruction", recon, want, ROWS * 12, 1e-4f, 1e-4f);
    assert_int_equal(clae_score(f.model, &f.data, BATCH, &scores), CLAE_SUCCESS);
    float loss0 = (float)ref_model_loss(spec, f.params, z, 1);
    test_assert_close("score", scores, &loss0, 1, 1e-5f, 1e-4f);
    free(scores);

    char path[512];
    test_tmp_path(path, sizeof path, "standardized.safetensors");
    assert_int_equal(clae_model_save(f.model, path), CLAE_SUCCESS);
    clae_model *loaded = NULL;
    float *again;
    assert_int_equal(clae_model_load(ctx, path, &loaded), CLAE_SUCCESS);
    assert_true(clae_model_get_history(loaded).standardized);
    assert_int_equal(clae_reconstruct(loaded, &f.data, BATCH, &again), CLAE_SUCCESS);
    assert_memory_equal(again, recon, ROWS * 12 * sizeof(float));
    free(again);
    free(recon);
    clae_model_destroy(loaded);
    close_fixture(&f);

    open_fixture(ctx, specs[0], &f); /* bce */
    assert_int_equal(clae_model_standardize(f.model, &f.data), CLAE_ERR_USAGE);
    close_fixture(&f);
}

/* A 5 x 5 grid on a plane in 4-D, spread 3 along one axis and 1 along
 * the other (uncorrelated): the two components are those axes (up to
 * sign), in that order. */
static void test_principal_components(void **state)
{
    clae_context *ctx = test_context(state);
    enum { N = 25, K = 4 };
    const double u[K] = {0.5, 0.5, 0.5, 0.5}, v[K] = {0.5, -0.5, 0.5, -0.5};
    float x[N * K], out[N * 2];
    double a[N], b[N], mean_a = 0.0, mean_b = 0.0;
    for (size_t i = 0; i < N; i++) {
        a[i] = 1.5 * ((double)(i / 5) - 2.0);
        b[i] = 0.5 * ((double)(i % 5) - 2.0);
    }
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < K; j++)
            x[i * K + j] = (float)(7.0 + a[i] * u[j] + b[i] * v[j]);
    assert_int_equal(clae_principal_components(ctx, x, N, K, out), CLAE_SUCCESS);
    const double sign_a = out[0] * (a[0] - mean_a) > 0 ? 1 : -1,
                 sign_b = out[1] * (b[0] - mean_b) > 0 ? 1 : -1;
    for (size_t i = 0; i < N; i++) {
        assert_true(fabs(out[2 * i] - sign_a * (a[i] - mean_a)) < 1e-3);
        assert_true(fabs(out[2 * i + 1] - sign_b * (b[i] - mean_b)) < 1e-3);
    }
}

/* Fashion-MNIST's test labels (IDX), the same as .npy and CSV; keeping
 * one class. */
static void test_labels(void **state)
{
    clae_context *ctx = test_context(state);
    int *labels = NULL;
    size_t n = 0;
    assert_int_equal(clae_labels_load(ctx, TEST_FASHION "t10k-labels-idx1-ubyte.gz",
                                      &labels, &n),
                     CLAE_SUCCESS);
    assert_int_equal(n, 10000);
    /* The first test labels: ankle boot, pullover, trouser, trouser. */
    assert_int_equal(labels[0], 9);
    assert_int_equal(labels[1], 2);
    assert_int_equal(labels[2], 1);
    assert_int_equal(labels[3], 1);
    size_t trousers = 0;
    for (size_t i = 0; i < n; i++) trousers += labels[i] == 1;
    assert_int_equal(trousers, 1000);

    float x[5 * 2] = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4};
    clae_data data = {.n = 5, .d = 2, .x = x};
    const int five[] = {1, 0, 1, 1, 0};
    assert_int_equal(clae_data_keep_class(ctx, &data, five, 5, 1), CLAE_SUCCESS);
    assert_int_equal(data.n, 3);
    assert_true(x[0] == 0 && x[2] == 2 && x[4] == 3 && x[5] == 3);
    assert_int_equal(clae_data_keep_class(ctx, &data, five, 5, 1), CLAE_ERR_INPUT);
    assert_int_equal(clae_data_keep_class(ctx, &data, five, 3, 7), CLAE_ERR_INPUT);
    free(labels);

    char path[512];
    test_tmp_path(path, sizeof path, "labels.csv");
    test_write_bytes(path, "label\n3\n0\n12\n", 13);
    assert_int_equal(clae_labels_load(ctx, path, &labels, &n), CLAE_SUCCESS);
    assert_int_equal(n, 3);
    assert_true(labels[0] == 3 && labels[1] == 0 && labels[2] == 12);
    free(labels);
    test_write_bytes(path, "1\n2.5\n", 6);
    assert_int_equal(clae_labels_load(ctx, path, &labels, &n), CLAE_ERR_INPUT);
    assert_non_null(strstr(clae_last_error(ctx), "label 1 is 2.5"));
    test_write_bytes(path, "1,2\n3,4\n", 8);
    assert_int_equal(clae_labels_load(ctx, path, &labels, &n), CLAE_ERR_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_decode_reconstruct),
        cmocka_unit_test(test_reconstruct_noisy),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_decode_refusals),
        cmocka_unit_test(test_anomaly_metrics),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_principal_components),
        cmocka_unit_test(test_standardize),
    };
    return cmocka_run_group_tests(tests, test_open_tmp_context,
                                  test_close_tmp_context);
}
