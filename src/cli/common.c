/* What every subcommand shares: device flags, number parsing, errors. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* What the library's messages start with: "clae", or on the ranks after
 * the first of an MPI job "clae (rank N)", so that a warning says where. */
static char speaker[32] = "clae";

void cli_speak_as_rank(unsigned rank)
{
    snprintf(speaker, sizeof speaker, "clae (rank %u)", rank);
}

static void print_warning(void *user, clae_log_level level, const char *msg)
{
    (void)user;
    fprintf(stderr, "%s: %s%s\n", speaker,
            level == CLAE_LOG_WARNING ? "warning: " : "", msg);
}

int cli_common_option(cli_common *c, int opt, const char *arg)
{
    switch (opt) {
    case OPT_DEVICE:
        c->context.device = arg;
        return 0;
    case OPT_DEVICE_TYPE:
        if (clae_device_type_parse(arg, &c->context.device_type) != CLAE_SUCCESS ||
            c->context.device_type == CLAE_DEVICE_DEFAULT)
            return cli_usage_error("", "--device-type: '%s' is not gpu, cpu or any",
                                   arg);
        return 0;
    case OPT_HELP:
        c->help = 1;
        return 0;
    case OPT_SCALE:
        if (!cli_parse_float(arg, &c->data.scale) || !(c->data.scale > 0.0f) ||
            !isfinite(c->data.scale))
            return cli_usage_error("", "--scale: '%s' is not a positive number",
                                   arg);
        return 0;
    case OPT_DEVICE_MEMORY:
        if (!cli_parse_bytes(arg, &c->context.device_memory) ||
            c->context.device_memory == 0)
            return cli_usage_error("", "--device-memory: '%s' is not a size "
                                   "such as 512M or 2G", arg);
        return 0;
    }
    return EXIT_USAGE;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "clae%s%s: ", *command ? " " : "", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

int cli_fail(const char *command, clae_context *ctx, clae_status status)
{
    const char *message = clae_last_error(ctx);
    fprintf(stderr, "clae %s: %s\n", command,
            *message ? message : clae_strerror(status));
    return clae_status_is_user_error(status) ? EXIT_USAGE : EXIT_RUNTIME;
}

int cli_load_data(const char *command, clae_context *ctx,
                  const cli_common *common, const char *path, clae_data **data)
{
    clae_status status = clae_data_load(ctx, path, &common->data, data);
    if (status == CLAE_SUCCESS) return 0;
    if (strncmp(path, FASHION_DIR, strlen(FASHION_DIR)) == 0)
        fprintf(stderr, "clae %s: the default data set comes from Debian's "
                        "dataset-fashion-mnist package (make deps installs it)\n",
                command);
    return cli_fail(command, ctx, status);
}

int cli_keep_class(const char *command, clae_context *ctx,
                   const char *labels_path, int class_k, clae_data *data)
{
    int *labels = NULL;
    size_t n = 0;
    clae_status status = clae_labels_load(ctx, labels_path, &labels, &n);
    if (!status) status = clae_data_keep_class(ctx, data, labels, n, class_k);
    free(labels);
    return status ? cli_fail(command, ctx, status) : 0;
}

int cli_open(const char *command, const cli_common *common, clae_context **ctx)
{
    clae_context_options options = common->context;
    options.log = print_warning;
    clae_status status = clae_context_create(&options, ctx);
    if (status == CLAE_SUCCESS) return 0;
    return cli_fail(command, *ctx, status);
}

int cli_parse_size(const char *text, size_t *out)
{
    char *end;
    errno = 0;
    if (!text || *text < '0' || *text > '9') return 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end) return 0;
    *out = (size_t)v;
    return 1;
}

/* --input's HxWxC: sscanf only splits the digits ("%u" would read
 * 4294967298 as 2), cli_parse_size converts each side. */
static int parse_image(const char *text, size_t max, clae_image_shape *image)
{
    char digits[3][16], tail;
    size_t side[3], values = 1;
    if (sscanf(text, "%15[0-9]x%15[0-9]x%15[0-9]%c", digits[0], digits[1],
               digits[2], &tail) != 3)
        return 0;
    for (int i = 0; i < 3; i++) {
        if (!cli_parse_size(digits[i], &side[i]) || side[i] == 0 ||
            side[i] > max / values)
            return 0;
        values *= side[i];
    }
    *image = (clae_image_shape){(unsigned)side[0], (unsigned)side[1],
                                (unsigned)side[2]};
    return 1;
}

int cli_parse_input(const char *text, size_t *width, clae_image_shape *image)
{
    const size_t max = 1u << 24;
    if (parse_image(text, max, image)) {
        *width = (size_t)image->height * image->width * image->channels;
        return 1;
    }
    *image = (clae_image_shape){0, 0, 0};
    return cli_parse_size(text, width) && *width && *width <= max;
}

int cli_parse_class(const char *text, long *out)
{
    char *end;
    errno = 0;
    if (!text || *text < '0' || *text > '9') return 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v > 1L << 30) return 0;
    *out = v;
    return 1;
}

int cli_parse_u64(const char *text, uint64_t *out)
{
    size_t v;
    if (!cli_parse_size(text, &v)) return 0;
    *out = v;
    return 1;
}

int cli_parse_bytes(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!text || *text < '0' || *text > '9') return 0;
    unsigned long long v = strtoull(text, &end, 10);
    const char *units = "KMG";
    const char *unit = *end ? strchr(units, *end) : NULL;
    int shift = unit ? 10 * (int)(unit - units + 1) : 0;
    if (errno || (*end && (!unit || end[1])) || v > (UINT64_MAX >> shift))
        return 0;
    *out = (uint64_t)v << shift;
    return 1;
}

int cli_parse_float(const char *text, float *out)
{
    char *end;
    errno = 0;
    float v = strtof(text, &end);
    if (errno || end == text || *end || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

int cli_unknown_option(const char *command, char **argv)
{
    const char *bad = argv[optind - 1];
    if (optopt)
        return cli_usage_error(command, "%s needs a value (see clae %s --help)",
                               bad, command);
    return cli_usage_error(command, "unknown option '%s' (see clae %s --help)",
                           bad, command);
}

int cli_check_output(const char *command, const char *flag, const char *path)
{
    if (!path) return 0;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return cli_usage_error(command, "%s %s: is a directory", flag, path);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else slash[slash == dir] = '\0'; /* keep "/" itself */
    if (access(dir, W_OK) != 0)
        return cli_usage_error(command, "%s %s: cannot write in %s: %s", flag,
                               path, dir, strerror(errno));
    return 0;
}

const char *cli_image_colours(const clae_image_shape *shape)
{
    return shape->channels == 1 ? "grayscale" : "RGB";
}
