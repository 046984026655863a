/* Model breadth at the spec and model level: the syntax of every layer
 * kind and option (round trips and errors), the presets, initialiser
 * statistics, and model files holding batch-norm statistics and tied
 * layers. */
#include <math.h>

#include <unistd.h>

#include "files.h"
#include "model.h"
#include "test_util.h"

/* text parses, formats to canonical text that parses and formats to
 * itself, and (when want is not NULL) the canonical text is want. */
static void assert_canonical(clae_context *ctx, const char *text,
                             const char *want)
{
    clae_spec spec, again;
    if (clae__spec_parse(ctx, text, &spec) != CLAE_SUCCESS)
        fail_msg("%s\ndoes not parse: %s", text, clae_last_error(ctx));
    char *formatted = clae__spec_format(&spec);
    assert_non_null(formatted);
    assert_int_equal(clae__spec_parse(ctx, formatted, &again), CLAE_SUCCESS);
    char *twice = clae__spec_format(&again);
    assert_string_equal(twice, formatted);
    if (want) assert_string_equal(formatted, want);
    free(formatted);
    free(twice);
    clae__spec_free(&spec);
    clae__spec_free(&again);
}

/* Every layer kind and option survives formatting; defaults are left out
 * of the canonical text. */
static void test_spec_every_option(void **state)
{
    clae_context *ctx = test_context(state);
    static const char text[] =
        "input 20\n"
        "noise salt_pepper 0.1\n"
        "dense 16 leaky_relu slope=0.2 init=he_normal\n"
        "dropout 0.25\n"
        "dense 8 elu alpha=0.5 init=normal(0.05)\n"
        "batchnorm relu\n"
        "dense 4 sigmoid init=uniform(0.1)\n"
        "code l1=0.001 rho=0.1 beta=0.5\n"
        "dense 8 tanh init=glorot_normal\n"
        "dense 16 softmax tied\n"
        "dense 20 linear init=he_uniform\n"
        "loss mae\n";
    assert_canonical(ctx, text, text);
    assert_canonical(ctx, "input 5\ndense 3 leaky_relu slope=0.01 "
                          "init=glorot_uniform\ndense 5 elu alpha=1\n",
                     "input 5\ndense 3 leaky_relu\ncode\ndense 5 elu\nloss bce\n");
    assert_canonical(ctx, "input 6\nnoise mask 0.5\ndense 6 softmax\n"
                          "loss cce\n", NULL);
}

/* The parse error of text names each fragment. */
static void assert_rejected(clae_context *ctx, const char *text,
                            const char *fragment)
{
    clae_spec spec;
    if (clae__spec_parse(ctx, text, &spec) != CLAE_ERR_SPEC)
        fail_msg("accepted:\n%s", text);
    if (!strstr(clae_last_error(ctx), fragment))
        fail_msg("error \"%s\" does not name \"%s\"", clae_last_error(ctx),
                 fragment);
}

static void test_spec_option_errors(void **state)
{
    clae_context *ctx = test_context(state);
    assert_rejected(ctx, "input 4\ndense 4 relu init=xavier\n", "'xavier'");
    assert_rejected(ctx, "input 4\ndense 4 relu init=normal\n", "initialiser");
    assert_rejected(ctx, "input 4\ndense 4 relu init=he_normal(2)\n", "initialiser");
    assert_rejected(ctx, "input 4\ndense 4 relu slope=0.1\n", "'slope=0.1'");
    assert_rejected(ctx, "input 4\ndense 4 leaky_relu slope=2\n", "slope");
    assert_rejected(ctx, "input 4\ndense 4 elu alpha=-1\n", "alpha");
    assert_rejected(ctx, "input 4\ndense 4 relu width=3\n", "'width=3'");
    assert_rejected(ctx, "input 4\ndropout 1.5\ndense 4\n", "line 2:");
    assert_rejected(ctx, "input 4\ndropout\ndense 4\n", "dropout RATE");
    assert_rejected(ctx, "input 4\nnoise pink 0.1\ndense 4\n", "noise gaussian");
    assert_rejected(ctx, "input 4\nnoise mask 2\ndense 4\n", "line 2:");
    assert_rejected(ctx, "input 4\ndense 4\nnoise mask 0.1\ndense 4\n",
                    "goes first");
    assert_rejected(ctx, "input 4\nbatchnorm softmax\ndense 4\n", "element-wise");
    assert_rejected(ctx, "input 4\ndense 2\ncode rho=0.1\ndense 4\n", "rho");
    assert_rejected(ctx, "input 4\ndense 2\ncode rho=1 beta=1\ndense 4\n", "rho");
    assert_rejected(ctx, "input 4\ndense 2\ncode sparse\ndense 4\n", "code [l1=");
    assert_rejected(ctx, "input 4\ndense 4 sigmoid\ncode l1=0.1\n", "below the output");
    assert_rejected(ctx, "input 4\ndense 4 sigmoid\nloss cce\n", "softmax");
    assert_rejected(ctx, "input 4\ndense 4\nbatchnorm\n", "must be dense");
    /* A tied layer needs an untied mirror of the transposed shape. */
    assert_rejected(ctx, "input 4\ndense 4 tied\n", "tied");
    assert_rejected(ctx, "input 6\ndense 3\ndense 5\ndense 6 tied\n", "tied");
    assert_rejected(ctx, "input 6\ndense 3 tied\ndense 6 tied\n", "tied");
}

/* Every preset parses, builds at another input width (the dense ones) or
 * for colour images (the convolutional ones, which want 28x28 images and
 * refuse other data) and formats to the text clae arch prints. */
static void test_presets(void **state)
{
    clae_context *ctx = test_context(state);
    const clae_image_shape colour = {28, 28, 3}, small = {14, 14, 1};
    for (const char *const *name = clae_arch_names(); *name; name++) {
        char *text = NULL;
        int conv = strstr(*name, "conv") != NULL;
        size_t width = conv ? 28 * 28 * 3 : 64;
        assert_int_equal(clae_arch_spec(ctx, *name, width, conv ? &colour : NULL,
                                        &text),
                         CLAE_SUCCESS);
        assert_non_null(clae_arch_description(*name));
        assert_canonical(ctx, text, text);
        assert_non_null(strstr(text, conv ? "input 28x28x3\n" : "input 64\n"));
        clae_model *m = NULL;
        if (clae_model_create(ctx, text, 1, &m) != CLAE_SUCCESS)
            fail_msg("preset %s: %s", *name, clae_last_error(ctx));
        assert_int_equal(clae_model_input_width(m), width);
        clae_model_destroy(m);
        free(text);
        if (!conv) continue;
        assert_int_equal(clae_arch_spec(ctx, *name, 784, NULL, &text),
                         CLAE_ERR_USAGE);
        assert_int_equal(clae_arch_spec(ctx, *name, 196, &small, &text),
                         CLAE_ERR_USAGE);
    }
    const char *const wanted[] = {"reference", "deep",  "bottleneck10",
                                  "sparse",    "denoising", "tied",
                                  "conv",      "conv-deconv", "vae",
                                  "vae-conv"};
    for (size_t i = 0; i < 10; i++) assert_non_null(clae_arch_description(wanted[i]));
}

/* Image sizes through convolutions, pools and upsampling, the Keras
 * blog's model's among them (28 -> 14 -> 7 -> 4 -> 8 -> 16 -> 14 -> 28);
 * its default code is the 4x4x8 pooled image; flatten and reshape
 * survive formatting only where they change what flows. */
static void test_conv_shapes(void **state)
{
    clae_context *ctx = test_context(state);
    char *text = NULL;
    const clae_image_shape fashion = {28, 28, 1};
    assert_int_equal(clae_arch_spec(ctx, "conv", 784, &fashion, &text),
                     CLAE_SUCCESS);
    clae_spec spec;
    assert_int_equal(clae__spec_parse(ctx, text, &spec), CLAE_SUCCESS);
    const size_t sides[] = {28, 14, 14, 7, 7, 4, 4, 8, 8, 16, 14, 28, 28};
    const size_t channels[] = {16, 16, 8, 8, 8, 8, 8, 8, 8, 8, 16, 16, 1};
    assert_int_equal(spec.count, 13);
    for (size_t i = 0; i < spec.count; i++) {
        assert_int_equal(spec.layers[i].out.shape.height, sides[i]);
        assert_int_equal(spec.layers[i].out.shape.width, sides[i]);
        assert_int_equal(spec.layers[i].out.shape.channels, channels[i]);
    }
    assert_int_equal(spec.code_layer, 5);
    clae__spec_free(&spec);
    free(text);
    /* Odd sizes: stride 2 same keeps ceil(n / 2); valid pools floor; a
     * 3x3 transposed convolution with stride 2 doubles. */
    assert_int_equal(clae__spec_parse(ctx, "input 7x5x2\nconv 3 3x3 stride=2 same\n"
                                           "maxpool 2\ndeconv 4 3x3 stride=2 same\n"
                                           "flatten\ndense 70\n", &spec),
                     CLAE_SUCCESS);
    assert_int_equal(spec.layers[0].out.shape.height, 4);
    assert_int_equal(spec.layers[0].out.shape.width, 3);
    assert_int_equal(spec.layers[1].out.shape.height, 2);
    assert_int_equal(spec.layers[1].out.shape.width, 1);
    assert_int_equal(spec.layers[2].out.shape.height, 4);
    assert_int_equal(spec.layers[2].out.shape.width, 2);
    assert_int_equal(spec.layers[2].units, 32);
    clae__spec_free(&spec);
    assert_canonical(ctx, "input 4x4x1\nconv 2 3x3 relu same\ndense 8 relu\n"
                          "reshape 2x2x2\nupsample 2\nconv 1 1x1 sigmoid\n",
                     "input 4x4x1\nconv 2 3x3 relu same\ndense 8 relu\n"
                     "code\nreshape 2x2x2\nupsample 2\nconv 1 1x1 sigmoid\n"
                     "loss bce\n");
    assert_canonical(ctx, "input 4x4x1\nconv 2 3x3 relu same\nflatten\n"
                          "batchnorm\ndense 16\n", NULL);
}

/* Convolution option and shape errors name the problem. */
static void test_conv_errors(void **state)
{
    clae_context *ctx = test_context(state);
    assert_rejected(ctx, "input 16\nconv 2 3x3\ndense 16\n", "'input HxWxC'");
    assert_rejected(ctx, "input 4x4x1\nconv 2 2x2 same\ndense 16\n", "odd kernel");
    assert_rejected(ctx, "input 4x4x1\nconv 2 5x5\ndense 16\n", "does not fit");
    assert_rejected(ctx, "input 4x4x1\nconv 2 3x3 softmax\ndense 16\n",
                    "element-wise");
    assert_rejected(ctx, "input 4x4x1\nconv 2 3x3 stride=0\ndense 16\n", "stride");
    assert_rejected(ctx, "input 4x4x1\nconv 2 3x3 tight\ndense 16\n", "'tight'");
    assert_rejected(ctx, "input 4x4x1\nconv 2\ndense 16\n", "KHxKW");
    assert_rejected(ctx, "input 4x4x1\nmaxpool 0\ndense 16\n", "maxpool SIZE");
    assert_rejected(ctx, "input 4x4x1\nupsample\ndense 16\n", "upsample FACTOR");
    assert_rejected(ctx, "input 16\nreshape 3x3x2\ndense 16\n", "18 values");
    assert_rejected(ctx, "input 16\ndense 16\nreshape 4x4x1\n", "after the last");
    assert_rejected(ctx, "input 4x4x1\nconv 1 3x3 same\nupsample 1\n",
                    "must be dense, conv or deconv");
    /* Sizes whose product would wrap a 64-bit count. */
    assert_rejected(ctx, "input 32768x32768x1\ndeconv 65536 1x1 stride=1024 same\n"
                         "conv 1 1x1 stride=1024\n", "too large");
    assert_rejected(ctx, "input 32768x32768x1\nupsample 2\nconv 1 2x2 stride=2\n",
                    "too large");
}

/* The first layer's weights of a model with the given init, as host floats. */
static float *first_weights(clae_context *ctx, const char *init, size_t in,
                            size_t out)
{
    char spec[160];
    snprintf(spec, sizeof spec, "input %zu\ndense %zu relu init=%s\ndense %zu\n",
             in, out, init, in);
    clae_model *m = NULL;
    assert_int_equal(clae_model_create(ctx, spec, 3, &m), CLAE_SUCCESS);
    float *w = malloc(in * out * sizeof *w);
    assert_int_equal(clEnqueueReadBuffer(ctx->queue, m->params, CL_TRUE, 0,
                                         in * out * sizeof *w, w, 0, NULL, NULL),
                     CL_SUCCESS);
    clae_model_destroy(m);
    return w;
}

/* Each initialiser's weights have its mean 0 and its standard deviation
 * (a uniform of limit L has std L / sqrt 3), within 3 % over 100,000
 * draws (the standard error of a std estimate is about 0.2 % there), and
 * uniform ones stay inside their limit. */
static void test_init_statistics(void **state)
{
    clae_context *ctx = test_context(state);
    const size_t in = 400, out = 250, n = in * out;
    const struct {
        const char *init;
        double std, limit; /* limit 0: unbounded */
    } cases[] = {
        {"glorot_uniform", sqrt(6.0 / 650) / sqrt(3.0), sqrt(6.0 / 650)},
        {"glorot_normal", sqrt(2.0 / 650), 0},
        {"he_uniform", sqrt(6.0 / 400) / sqrt(3.0), sqrt(6.0 / 400)},
        {"he_normal", sqrt(2.0 / 400), 0},
        {"normal(0.05)", 0.05, 0},
        {"uniform(0.2)", 0.2 / sqrt(3.0), 0.2},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        float *w = first_weights(ctx, cases[k].init, in, out);
        double sum = 0.0, squares = 0.0, most = 0.0;
        for (size_t i = 0; i < n; i++) {
            sum += w[i];
            squares += (double)w[i] * w[i];
            if (fabs(w[i]) > most) most = fabs(w[i]);
        }
        double mean = sum / (double)n, std = sqrt(squares / (double)n - mean * mean);
        if (fabs(mean) > 0.01 * cases[k].std || fabs(std / cases[k].std - 1) > 0.03)
            fail_msg("%s: mean %g std %g, want 0 and %g", cases[k].init, mean, std,
                     cases[k].std);
        /* The limit is rounded to float. */
        if (cases[k].limit > 0) assert_true(most < cases[k].limit * (1 + 1e-6));
        free(w);
    }
}

/* A model with batch norm and a tied layer saves its running statistics
 * and only its own tensors (no weight for the tied layer), and loads to
 * the same evaluation loss. */
static void test_save_load_batchnorm_tied(void **state)
{
    clae_context *ctx = test_context(state);
    static const char spec[] = "input 784\ndense 64\nbatchnorm relu\n"
                               "dense 784 sigmoid tied\nloss bce\n";
    clae_data *data = test_load_prefix(ctx, TEST_FASHION "t10k-images-idx3-ubyte.gz",
                                       512);
    clae_model *m = NULL, *loaded = NULL;
    assert_int_equal(clae_model_create(ctx, spec, 5, &m), CLAE_SUCCESS);
    clae_train_options o;
    clae_train_options_default(&o);
    o.epochs = 1;
    o.batch_size = 64;
    assert_int_equal(clae_train(m, data, NULL, &o), CLAE_SUCCESS);
    char path[] = "/tmp/clae-test-bn-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(clae_model_save(m, path), CLAE_SUCCESS);
    assert_int_equal(clae_model_load(ctx, path, &loaded), CLAE_SUCCESS);
    double before, after;
    assert_int_equal(clae_evaluate(m, data, 100, &before), CLAE_SUCCESS);
    assert_int_equal(clae_evaluate(loaded, data, 100, &after), CLAE_SUCCESS);
    assert_true(before == after);

    /* The running statistics moved away from their start (0 and 1). */
    float stats[128];
    assert_int_equal(clEnqueueReadBuffer(ctx->queue, loaded->state, CL_TRUE, 0,
                                         sizeof stats, stats, 0, NULL, NULL),
                     CL_SUCCESS);
    int moved = 0;
    for (int i = 0; i < 64; i++) moved += stats[i] != 0.0f && stats[64 + i] != 1.0f;
    assert_true(moved > 32);

    size_t size;
    char *file = clae__read_file(path, &size);
    assert_non_null(file);
    const char *names[] = {"layers.0.weight", "layers.0.bias", "layers.1.weight",
                           "layers.1.bias", "layers.1.running_mean",
                           "layers.1.running_var", "layers.2.bias"};
    for (size_t i = 0; i < 7; i++) assert_non_null(strstr(file + 8, names[i]));
    assert_null(strstr(file + 8, "layers.2.weight"));
    free(file);
    unlink(path);
    clae_model_destroy(loaded);
    clae_model_destroy(m);
    clae_data_free(data);
}

/* The file's value of a (A, B, H, W) tensor at (a, b, h, w) equals the
 * device's, which holds it (A, H, W, B). */
static void assert_channels_last(const float *file, const float *device,
                                 size_t a_n, size_t b_n, size_t hw)
{
    for (size_t a = 0; a < a_n; a++)
        for (size_t b = 0; b < b_n; b++)
            for (size_t p = 0; p < hw; p++)
                if (file[(a * b_n + b) * hw + p] != device[(a * hw + p) * b_n + b])
                    fail_msg("weight (%zu, %zu, %zu): file %g, device %g", a, b,
                             p, (double)file[(a * b_n + b) * hw + p],
                             (double)device[(a * hw + p) * b_n + b]);
}

/* A convolutional model learns (its loss falls in four epochs on real
 * images), saves its kernels in PyTorch's layouts (Conv2d (out, in, kh,
 * kw), ConvTranspose2d (in, out, kh, kw), which the device holds with the
 * second dimension last) and its per-channel batch norm, and loads to the
 * same evaluation loss. */
static void test_save_load_conv(void **state)
{
    clae_context *ctx = test_context(state);
    static const char spec[] = "input 28x28x1\nconv 4 3x3 stride=2 same\n"
                               "batchnorm relu\nmaxpool 2 same\nupsample 2\n"
                               "conv 3 3x3 relu same\n"
                               "deconv 2 3x3 stride=2 same\n"
                               "conv 1 1x1 sigmoid\nloss bce\n";
    clae_data *data = test_load_prefix(ctx, TEST_FASHION "t10k-images-idx3-ubyte.gz",
                                       512);
    clae_model *m = NULL, *loaded = NULL;
    assert_int_equal(clae_model_create(ctx, spec, 5, &m), CLAE_SUCCESS);
    double untrained, before, after;
    assert_int_equal(clae_evaluate(m, data, 100, &untrained), CLAE_SUCCESS);
    clae_train_options o;
    clae_train_options_default(&o);
    o.epochs = 4;
    o.batch_size = 16;
    assert_int_equal(clae_train(m, data, NULL, &o), CLAE_SUCCESS);
    assert_int_equal(clae_evaluate(m, data, 100, &before), CLAE_SUCCESS);
    if (!(before < 0.85 * untrained))
        fail_msg("loss %g after training, %g before", before, untrained);
    char path[] = "/tmp/clae-test-conv-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(clae_model_save(m, path), CLAE_SUCCESS);
    assert_int_equal(clae_model_load(ctx, path, &loaded), CLAE_SUCCESS);
    assert_int_equal(clae_evaluate(loaded, data, 100, &after), CLAE_SUCCESS);
    assert_true(before == after);
    size_t size;
    char *file = clae__read_file(path, &size);
    assert_non_null(file);
    const char *wanted[] = {
        "\"layers.0.weight\":{\"shape\":[4,1,3,3]",
        "\"layers.0.bias\":{\"shape\":[4]",
        "\"layers.1.running_var\":{\"shape\":[4]",
        "\"layers.4.weight\":{\"shape\":[3,4,3,3]",
        "\"layers.5.weight\":{\"shape\":[3,2,3,3]",
        "\"layers.5.bias\":{\"shape\":[2]"};
    for (size_t i = 0; i < 6; i++)
        if (!strstr(file + 8, wanted[i]))
            fail_msg("%s not in the header %.600s", wanted[i], file + 8);
    /* The values: a conv's and a deconv's kernels, in the file's order. */
    uint64_t header = 0;
    for (int i = 0; i < 8; i++) header |= (uint64_t)(unsigned char)file[i] << (8 * i);
    const float *values = (const float *)(file + 8 + header);
    float *device = malloc(m->param_count * sizeof *device);
    test_download(ctx, m->params, device, m->param_count * sizeof *device);
    const clae_layer *conv = &m->layers[4], *deconv = &m->layers[5];
    assert_channels_last(values + conv->param_off, device + conv->param_off,
                         3, 4, 9);
    assert_channels_last(values + deconv->param_off, device + deconv->param_off,
                         3, 2, 9);
    free(device);
    free(file);
    unlink(path);
    clae_model_destroy(m);
    clae_model_destroy(loaded);
    clae_data_free(data);
}

/* The latent layer's syntax: its options survive formatting, it is the
 * code, and what a variational model cannot be is refused by name. */
static void test_latent_spec(void **state)
{
    clae_context *ctx = test_context(state);
    static const char text[] = "input 8\ndense 6 relu\n"
                               "latent 3 gaussian beta=0.25 init=he_normal\n"
                               "code\ndense 8 sigmoid\nloss bce\n";
    assert_canonical(ctx, text, text);
    assert_canonical(ctx, "input 8\nlatent 2 gaussian beta=1\ndense 8\n",
                     "input 8\nlatent 2 gaussian\ncode\ndense 8 linear\nloss bce\n");
    assert_rejected(ctx, "input 8\nlatent 2 normal\ndense 8\n", "gaussian");
    assert_rejected(ctx, "input 8\nlatent 2\ndense 8\n", "gaussian");
    assert_rejected(ctx, "input 8\nlatent 2 gaussian beta=-1\ndense 8\n", "beta");
    assert_rejected(ctx, "input 8\nlatent 2 gaussian rho=1\ndense 8\n", "'rho=1'");
    assert_rejected(ctx, "input 8\nlatent 2 gaussian\nlatent 2 gaussian\n"
                         "dense 8\n", "second 'latent'");
    assert_rejected(ctx, "input 8\ndense 4\nlatent 8 gaussian\n", "must be dense");
    assert_rejected(ctx, "input 8\ndense 4\ncode\nlatent 2 gaussian\n"
                         "dense 8\n", "latent layer");
    assert_rejected(ctx, "input 8\nlatent 2 gaussian\ncode l1=0.1\ndense 8\n",
                    "KL");
    assert_rejected(ctx, "input 8\nlatent 2 gaussian\ndense 8\nloss mae\n",
                    "bce or mse");
}

/* A VAE trained on real data: its loss falls; clae_evaluate is the mean
 * reconstruction loss plus beta times the mean KL, which the per-sample
 * scores give apart; a saved model keeps its beta and its losses, and
 * clae_model_set_beta changes both. Other models refuse both calls. */
static void test_variational_model(void **state)
{
    clae_context *ctx = test_context(state);
    static const char spec[] = "input 784\ndense 64 relu\n"
                               "latent 4 gaussian beta=0.5\ndense 64 relu\n"
                               "dense 784 sigmoid\nloss bce\n";
    clae_data *data = test_load_prefix(ctx, TEST_FASHION "t10k-images-idx3-ubyte.gz",
                                       512);
    clae_model *m = NULL, *loaded = NULL;
    assert_int_equal(clae_model_create(ctx, spec, 5, &m), CLAE_SUCCESS);
    assert_true(clae_model_is_variational(m));
    double untrained, loss, after;
    assert_int_equal(clae_evaluate(m, data, 100, &untrained), CLAE_SUCCESS);
    clae_train_options o;
    clae_train_options_default(&o);
    o.epochs = 3;
    o.batch_size = 32;
    o.kl_warmup = 1;
    assert_int_equal(clae_train(m, data, NULL, &o), CLAE_SUCCESS);
    assert_int_equal(clae_evaluate(m, data, 100, &loss), CLAE_SUCCESS);
    if (!(loss < 0.8 * untrained))
        fail_msg("loss %g after training, %g before", loss, untrained);

    float *recon = NULL, *elbo = NULL;
    assert_int_equal(clae_score(m, data, 100, &recon), CLAE_SUCCESS);
    assert_int_equal(clae_score_elbo(m, data, 100, &elbo), CLAE_SUCCESS);
    double recon_sum = 0.0, kl_sum = 0.0;
    for (size_t i = 0; i < data->n; i++) {
        assert_true(elbo[i] > recon[i]); /* a KL divergence is positive */
        recon_sum += recon[i];
        kl_sum += elbo[i] - recon[i];
    }
    const double n = (double)data->n;
    assert_float_equal(loss, recon_sum / n + 0.5 * kl_sum / n, 1e-4 * loss);

    char path[] = "/tmp/clae-test-vae-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(clae_model_save(m, path), CLAE_SUCCESS);
    assert_int_equal(clae_model_load(ctx, path, &loaded), CLAE_SUCCESS);
    assert_string_equal(clae_model_spec(loaded), clae_model_spec(m));
    assert_int_equal(clae_evaluate(loaded, data, 100, &after), CLAE_SUCCESS);
    assert_true(loss == after);
    assert_int_equal(clae_model_set_beta(loaded, 2.0f), CLAE_SUCCESS);
    assert_non_null(strstr(clae_model_spec(loaded), "latent 4 gaussian beta=2\n"));
    assert_int_equal(clae_evaluate(loaded, data, 100, &after), CLAE_SUCCESS);
    assert_float_equal(after, recon_sum / n + 2.0 * kl_sum / n, 1e-4 * after);
    assert_int_equal(clae_model_set_beta(loaded, -1.0f), CLAE_ERR_USAGE);
    unlink(path);
    clae_model_destroy(loaded);
    clae_model_destroy(m);

    assert_int_equal(clae_model_create(ctx, "input 784\ndense 8\ndense 784\n",
                                       5, &m), CLAE_SUCCESS);
    assert_false(clae_model_is_variational(m));
    free(elbo);
    assert_int_equal(clae_score_elbo(m, data, 100, &elbo), CLAE_ERR_USAGE);
    assert_int_equal(clae_model_set_beta(m, 1.0f), CLAE_ERR_USAGE);
    clae_model_destroy(m);
    free(recon);
    clae_data_free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_every_option),
        cmocka_unit_test(test_spec_option_errors),
        cmocka_unit_test(test_presets),
        cmocka_unit_test(test_conv_shapes),
        cmocka_unit_test(test_conv_errors),
        cmocka_unit_test(test_init_statistics),
        cmocka_unit_test(test_save_load_batchnorm_tied),
        cmocka_unit_test(test_save_load_conv),
        cmocka_unit_test(test_latent_spec),
        cmocka_unit_test(test_variational_model),
    };
    return cmocka_run_group_tests_name("model spec", tests, test_open_context,
                                       test_close_context);
}
