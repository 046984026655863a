/* The names of enum values, as spec text and flags spell them. */
#include <string.h>

#include "spec.h"

static const char *const activation_names[] = {
    "linear", "relu", "sigmoid", "tanh", "leaky_relu", "elu", "softmax"};
static const char *const loss_names[] = {"bce", "mse", "mae", "cce"};
static const char *const optimizer_names[] = {"adam", "sgd", "adamw",
                                              "rmsprop"};
static const char *const lr_schedule_names[] = {"constant", "step", "cosine"};
static const char *const on_nan_names[] = {"stop", "skip-batch"};
static const char *const device_type_names[] = {"default", "gpu", "cpu", "any"};
static const char *const init_names[] = {"glorot_uniform", "glorot_normal",
                                         "he_uniform",     "he_normal",
                                         "normal",         "uniform"};
static const char *const noise_names[] = {"gaussian", "mask", "salt_pepper"};

#define COUNT(a) (sizeof(a) / sizeof *(a))

static int find_name(const char *const *names, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0) return (int)i;
    return -1;
}

/* Sets *out to the index of name in names (an enum's order), or fails. */
#define PARSE_NAME(names, name, out, type)                                   \
    do {                                                                     \
        int i_ = find_name((names), COUNT(names), (name));                   \
        if (i_ < 0) return CLAE_ERR_USAGE;                                   \
        *(out) = (type)i_;                                                   \
        return CLAE_SUCCESS;                                                 \
    } while (0)

#define NAME(names, value) \
    ((size_t)(value) < COUNT(names) ? (names)[value] : "?")

const char *clae_activation_name(clae_activation act)
{
    return NAME(activation_names, act);
}

const char *clae_loss_name(clae_loss loss) { return NAME(loss_names, loss); }
const char *clae__init_name(clae_init init) { return NAME(init_names, init); }
const char *clae__noise_name(clae_noise_kernel noise)
{
    return NAME(noise_names, noise);
}

clae_status clae_activation_parse(const char *name, clae_activation *out)
{
    PARSE_NAME(activation_names, name, out, clae_activation);
}

clae_status clae_loss_parse(const char *name, clae_loss *out)
{
    PARSE_NAME(loss_names, name, out, clae_loss);
}

const char *clae_optimizer_name(clae_optimizer o)
{
    return NAME(optimizer_names, o);
}

clae_status clae_optimizer_parse(const char *name, clae_optimizer *out)
{
    PARSE_NAME(optimizer_names, name, out, clae_optimizer);
}

clae_status clae_lr_schedule_parse(const char *name, clae_lr_schedule *out)
{
    PARSE_NAME(lr_schedule_names, name, out, clae_lr_schedule);
}

clae_status clae_on_nan_parse(const char *name, clae_on_nan *out)
{
    PARSE_NAME(on_nan_names, name, out, clae_on_nan);
}

clae_status clae_device_type_parse(const char *name, clae_device_type *out)
{
    PARSE_NAME(device_type_names, name, out, clae_device_type);
}

clae_status clae__init_parse(const char *name, clae_init *out)
{
    PARSE_NAME(init_names, name, out, clae_init);
}

clae_status clae__noise_parse(const char *name, clae_noise_kernel *out)
{
    PARSE_NAME(noise_names, name, out, clae_noise_kernel);
}
