/* The own-kernel table and its launches. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "context.h"
#include "philox.h"
#include "program.h"

static const char *const program_names[CLAE_PROGRAM_COUNT] = {
    "activation.cl", "loss.cl", "gather.cl", "optim.cl", "batchnorm.cl",
    "noise.cl", "conv.cl", "latent.cl",
};

/* Which program holds each kernel, and where its handle lives. */
static const struct {
    int program;
    const char *name;
    size_t offset;
} kernel_table[] = {
    {0, "bias_act_forward", offsetof(clae_kernels, bias_act_forward)},
    {0, "bias_act_backward", offsetof(clae_kernels, bias_act_backward)},
    {0, "softmax_rows", offsetof(clae_kernels, softmax_rows)},
    {0, "softmax_backward_rows", offsetof(clae_kernels, softmax_backward_rows)},
    {0, "activity_penalty", offsetof(clae_kernels, activity_penalty)},
    {1, "loss_rows", offsetof(clae_kernels, loss_rows)},
    {1, "loss_backward", offsetof(clae_kernels, loss_backward)},
    {2, "gather_rows", offsetof(clae_kernels, gather_rows)},
    {2, "gather_codes", offsetof(clae_kernels, gather_codes)},
    {3, "adam_update", offsetof(clae_kernels, adam_update)},
    {3, "sgd_update", offsetof(clae_kernels, sgd_update)},
    {4, "batchnorm_forward", offsetof(clae_kernels, batchnorm_forward)},
    {4, "batchnorm_backward", offsetof(clae_kernels, batchnorm_backward)},
    {5, "random_bits", offsetof(clae_kernels, random_bits)},
    {5, "random_fill", offsetof(clae_kernels, random_fill)},
    {5, "corrupt", offsetof(clae_kernels, corrupt)},
    {5, "dropout_forward", offsetof(clae_kernels, dropout_forward)},
    {5, "dropout_backward", offsetof(clae_kernels, dropout_backward)},
    {3, "sgd_momentum_update", offsetof(clae_kernels, sgd_momentum_update)},
    {3, "rmsprop_update", offsetof(clae_kernels, rmsprop_update)},
    {3, "penalty_sums", offsetof(clae_kernels, penalty_sums)},
    {3, "clip_scale", offsetof(clae_kernels, clip_scale)},
    {3, "scale_by", offsetof(clae_kernels, scale_by)},
    {6, "im2col_rows", offsetof(clae_kernels, im2col_rows)},
    {6, "col2im_rows", offsetof(clae_kernels, col2im_rows)},
    {6, "patch_sums", offsetof(clae_kernels, patch_sums)},
    {6, "patch_spread", offsetof(clae_kernels, patch_spread)},
    {6, "pool_forward", offsetof(clae_kernels, pool_forward)},
    {6, "pool_backward", offsetof(clae_kernels, pool_backward)},
    {6, "channel_sums", offsetof(clae_kernels, channel_sums)},
    {7, "latent_forward", offsetof(clae_kernels, latent_forward)},
    {7, "latent_backward", offsetof(clae_kernels, latent_backward)},
};

#define KERNEL_COUNT (sizeof kernel_table / sizeof *kernel_table)

static cl_kernel *kernel_slot(clae_kernels *k, size_t i)
{
    return (cl_kernel *)((char *)k + kernel_table[i].offset);
}

/* A CPU runs one item per row fastest (its items are loop iterations);
 * other devices get up to 64 items sharing a row. */
static clae_status choose_loss_group(clae_context *ctx, clae_kernels *k)
{
    clae_status status = CLAE_SUCCESS;
    size_t most = 1;
    k->loss_group = 1;
    if (strcmp(ctx->info.type, "CPU") == 0) return CLAE_SUCCESS;
    CL_CHECK(ctx, clGetKernelWorkGroupInfo(k->loss_rows, ctx->device,
                                           CL_KERNEL_WORK_GROUP_SIZE,
                                           sizeof most, &most, NULL));
    while (k->loss_group * 2 <= most && k->loss_group < 64) k->loss_group *= 2;
fail:
    return status;
}

/* The optimizer updates run in groups of up to 64 items (see launch_flat),
 * fewer where a kernel allows less on the device. */
static clae_status choose_flat_group(clae_context *ctx, clae_kernels *k)
{
    clae_status status = CLAE_SUCCESS;
    const cl_kernel flat[] = {k->adam_update, k->sgd_update,
                              k->sgd_momentum_update, k->rmsprop_update,
                              k->scale_by};
    k->flat_group = 64;
    for (size_t i = 0; i < sizeof flat / sizeof *flat; i++) {
        size_t most = 1;
        CL_CHECK(ctx, clGetKernelWorkGroupInfo(flat[i], ctx->device,
                                               CL_KERNEL_WORK_GROUP_SIZE,
                                               sizeof most, &most, NULL));
        while (k->flat_group > most) k->flat_group /= 2;
    }
fail:
    return status;
}

clae_status clae__kernels_create(clae_context *ctx, clae_kernels *k)
{
    clae_status status = CLAE_SUCCESS;
    const char *options = "-cl-std=CL1.2";
    for (int p = 0; p < CLAE_PROGRAM_COUNT; p++)
        CLAE_TRY(clae__program_build(ctx, program_names[p], options,
                                     &k->programs[p]));
    for (size_t i = 0; i < KERNEL_COUNT; i++) {
        cl_int err;
        *kernel_slot(k, i) = clCreateKernel(
            k->programs[kernel_table[i].program], kernel_table[i].name, &err);
        if (err != CL_SUCCESS) {
            status = CLAE_FAIL(ctx, err, "clCreateKernel(%s): %s",
                               kernel_table[i].name, clae_strerror(err));
            goto fail;
        }
    }
    CLAE_TRY(choose_loss_group(ctx, k));
    CLAE_TRY(choose_flat_group(ctx, k));
    return CLAE_SUCCESS;
fail:
    clae__kernels_release(k);
    return status;
}

void clae__kernels_release(clae_kernels *k)
{
    for (size_t i = 0; i < KERNEL_COUNT; i++) {
        cl_kernel *slot = kernel_slot(k, i);
        if (*slot) clReleaseKernel(*slot);
        *slot = NULL;
    }
    for (int p = 0; p < CLAE_PROGRAM_COUNT; p++) {
        if (k->programs[p]) clReleaseProgram(k->programs[p]);
        k->programs[p] = NULL;
    }
}

struct arg { size_t size; const void *value; };
#define ARG(x) { sizeof(x), &(x) }

/* Sets the arguments and enqueues; a zero-sized launch does nothing. */
static clae_status launch(clae_context *ctx, cl_kernel kernel, const char *name,
                          clae_profile_part part, const struct arg *args,
                          cl_uint nargs, cl_uint dims, const size_t *global,
                          const size_t *local)
{
    clae_status status = CLAE_SUCCESS;
    for (cl_uint d = 0; d < dims; d++)
        if (global[d] == 0) return CLAE_SUCCESS;
    for (cl_uint i = 0; i < nargs; i++) {
        cl_int rc = clSetKernelArg(kernel, i, args[i].size, args[i].value);
        if (rc != CL_SUCCESS)
            return CLAE_FAIL(ctx, rc, "clSetKernelArg(%s, %u): %s", name, i,
                             clae_strerror(rc));
    }
    CL_CHECK(ctx, clEnqueueNDRangeKernel(ctx->queue, kernel, dims, NULL, global,
                                         local, 0, NULL,
                                         clae__profile_event(ctx, part)));
fail:
    return status;
}

/* Kernel offsets and sizes are 32-bit; larger ones are refused up front. */
static int fits_uint(size_t v) { return v <= 0xffffffffu; }

#define CHECK_FITS(ctx, v)                                                   \
    if (!fits_uint(v))                                                       \
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "%s = %zu exceeds 2^32 - 1",   \
                         #v, (size_t)(v))

/* Kernels with one item per chunk of columns (or per block of a
 * reduction) have few items (16 for 128 columns): CPU drivers left to
 * choose put them all in one work-group, on one core, so each item is a
 * group of its own there. */
static const size_t *column_local(const clae_context *ctx)
{
    static const size_t one = 1;
    return strcmp(ctx->info.type, "CPU") == 0 ? &one : NULL;
}

size_t clae__chunks(size_t cols) { return (cols + CLAE_CHUNK - 1) / CLAE_CHUNK; }

/* A launch over n floats a chunk per item, in groups of flat_group items
 * (the kernel skips those past n): left to choose, a CPU driver splits an
 * awkward count (25,202 chunks is 2 x 12,601) into groups of two. */
static clae_status launch_flat(clae_context *ctx, cl_kernel kernel,
                               const char *name, clae_profile_part part,
                               const struct arg *args, cl_uint nargs, size_t n)
{
    const size_t local = ctx->kernels.flat_group,
                 global = (clae__chunks(n) + local - 1) / local * local;
    return launch(ctx, kernel, name, part, args, nargs, 1, &global, &local);
}

clae_status clae__bias_act_forward(clae_context *ctx, cl_mem z, cl_mem a,
                                   cl_mem params, size_t bias_off,
                                   size_t period, size_t rows, size_t cols,
                                   clae_act act)
{
    CHECK_FITS(ctx, bias_off);
    CHECK_FITS(ctx, cols);
    cl_uint off = (cl_uint)bias_off, p = (cl_uint)period, c = (cl_uint)cols,
            kind = (cl_uint)act.kind;
    struct arg args[] = {ARG(z), ARG(a),    ARG(params),   ARG(off), ARG(p),
                         ARG(c), ARG(kind), ARG(act.param)};
    size_t global[2] = {clae__chunks(cols), rows};
    return launch(ctx, ctx->kernels.bias_act_forward, "bias_act_forward",
                  CLAE_PROFILE_BIAS_ACT, args, 8, 2, global, NULL);
}

clae_status clae__bias_act_backward(clae_context *ctx, cl_mem dz, cl_mem a,
                                    cl_mem grad, size_t grad_off, size_t rows,
                                    size_t cols, clae_act act)
{
    CHECK_FITS(ctx, grad_off);
    CHECK_FITS(ctx, rows);
    CHECK_FITS(ctx, cols);
    cl_uint off = (cl_uint)grad_off, r = (cl_uint)rows, c = (cl_uint)cols,
            kind = (cl_uint)act.kind;
    struct arg args[] = {ARG(dz), ARG(a), ARG(grad),    ARG(off),
                         ARG(r),  ARG(c), ARG(kind), ARG(act.param)};
    size_t chunks = clae__chunks(cols);
    return launch(ctx, ctx->kernels.bias_act_backward, "bias_act_backward",
                  CLAE_PROFILE_BIAS_ACT_BACKWARD, args, 8, 1, &chunks,
                  column_local(ctx));
}

clae_status clae__softmax_rows(clae_context *ctx, cl_mem a, size_t rows,
                               size_t cols)
{
    CHECK_FITS(ctx, cols);
    cl_uint c = (cl_uint)cols;
    struct arg args[] = {ARG(a), ARG(c)};
    return launch(ctx, ctx->kernels.softmax_rows, "softmax_rows",
                  CLAE_PROFILE_BIAS_ACT, args, 2, 1, &rows, NULL);
}

clae_status clae__softmax_backward_rows(clae_context *ctx, cl_mem g, cl_mem y,
                                        size_t rows, size_t cols)
{
    CHECK_FITS(ctx, cols);
    cl_uint c = (cl_uint)cols;
    struct arg args[] = {ARG(g), ARG(y), ARG(c)};
    return launch(ctx, ctx->kernels.softmax_backward_rows,
                  "softmax_backward_rows", CLAE_PROFILE_BIAS_ACT_BACKWARD, args,
                  3, 1, &rows, NULL);
}

clae_status clae__loss_rows(clae_context *ctx, const clae_loss_launch *l)
{
    CHECK_FITS(ctx, l->bias_off);
    CHECK_FITS(ctx, l->target_off);
    CHECK_FITS(ctx, l->loss_off);
    CHECK_FITS(ctx, l->cols);
    cl_uint bias_off = (cl_uint)l->bias_off, add_bias = l->bias ? 1u : 0u,
            period = (cl_uint)l->bias_period, t_off = (cl_uint)l->target_off,
            loss_off = (cl_uint)l->loss_off, cols = (cl_uint)l->cols,
            kind = (cl_uint)l->kind;
    size_t group = ctx->kernels.loss_group;
    struct arg args[] = {
        ARG(l->out),    ARG(l->bias), ARG(bias_off), ARG(period),
        ARG(add_bias),  ARG(l->target), ARG(t_off),  ARG(l->loss),
        ARG(loss_off),  ARG(cols),    ARG(kind),     {group * sizeof(float), NULL},
    };
    size_t global[2] = {group, l->rows}, local[2] = {group, 1};
    return launch(ctx, ctx->kernels.loss_rows, "loss_rows", CLAE_PROFILE_LOSS,
                  args, 12, 2, global, local);
}

clae_status clae__loss_backward(clae_context *ctx, const clae_loss_launch *l)
{
    CHECK_FITS(ctx, l->bias_off);
    CHECK_FITS(ctx, l->target_off);
    CHECK_FITS(ctx, l->loss_off);
    CHECK_FITS(ctx, l->bias_grad_off);
    CHECK_FITS(ctx, l->rows);
    CHECK_FITS(ctx, l->cols);
    cl_uint bias_off = (cl_uint)l->bias_off, add_bias = l->bias ? 1u : 0u,
            period = (cl_uint)l->bias_period, act = (cl_uint)l->act.kind,
            t_off = (cl_uint)l->target_off,
            loss_off = (cl_uint)l->loss_off,
            bias_grad_off = (cl_uint)l->bias_grad_off,
            rows = (cl_uint)l->rows, cols = (cl_uint)l->cols,
            kind = (cl_uint)l->kind;
    struct arg args[] = {
        ARG(l->out),      ARG(l->bias),      ARG(bias_off),
        ARG(period),      ARG(add_bias),     ARG(act),
        ARG(l->act.param), ARG(l->target),   ARG(t_off),
        ARG(l->loss),     ARG(loss_off),     ARG(l->grad),
        ARG(l->bias_grad), ARG(bias_grad_off), ARG(rows),
        ARG(cols),        ARG(kind),         ARG(l->grad_scale),
    };
    size_t chunks = clae__chunks(l->cols);
    return launch(ctx, ctx->kernels.loss_backward, "loss_backward",
                  CLAE_PROFILE_LOSS, args, 18, 1, &chunks,
                  column_local(ctx));
}

clae_status clae__gather_rows(clae_context *ctx, cl_mem dst, cl_mem src,
                              cl_mem index, size_t index_off, size_t rows,
                              size_t cols)
{
    CHECK_FITS(ctx, index_off);
    CHECK_FITS(ctx, cols);
    cl_uint off = (cl_uint)index_off, c = (cl_uint)cols;
    struct arg args[] = {ARG(dst), ARG(src), ARG(index), ARG(off), ARG(c)};
    size_t global[2] = {rows, clae__chunks(cols)};
    return launch(ctx, ctx->kernels.gather_rows, "gather_rows",
                  CLAE_PROFILE_GATHER, args, 5, 2, global, NULL);
}

/* gather_codes' decoding, on the host: fmaf and the device's fma both
 * round once, so the two agree. */
static float decode(float k, float scale, float inverse)
{
    const float q = k * inverse;
    return fmaf(fmaf(-q, scale, k), inverse, q);
}

int clae__codes_exact(float scale, float *table)
{
    const float inverse = 1.0f / scale;
    for (int k = 0; k < 256; k++) {
        table[k] = decode((float)k, scale, inverse);
        if (table[k] != (float)k / scale) return 0;
    }
    return 1;
}

clae_status clae__gather_codes(clae_context *ctx, cl_mem dst, cl_mem codes,
                               cl_mem index, size_t index_off, size_t rows,
                               size_t cols, float scale)
{
    CHECK_FITS(ctx, index_off);
    CHECK_FITS(ctx, cols);
    cl_uint off = (cl_uint)index_off, c = (cl_uint)cols;
    float inverse = 1.0f / scale;
    struct arg args[] = {ARG(dst), ARG(codes), ARG(index), ARG(off),
                         ARG(c),   ARG(scale), ARG(inverse)};
    size_t global[2] = {rows, clae__chunks(cols)};
    return launch(ctx, ctx->kernels.gather_codes, "gather_codes",
                  CLAE_PROFILE_GATHER, args, 7, 2, global, NULL);
}

clae_status clae__adam_update(clae_context *ctx, cl_mem p, cl_mem g, cl_mem m,
                              cl_mem v, size_t n, float step_size, float beta1,
                              float beta2, float eps, float v_scale,
                              float decay)
{
    CHECK_FITS(ctx, n);
    cl_uint n_ = (cl_uint)n;
    struct arg args[] = {ARG(p),     ARG(g),       ARG(m),         ARG(v),
                         ARG(n_),    ARG(step_size), ARG(beta1),   ARG(beta2),
                         ARG(eps),   ARG(v_scale), ARG(decay)};
    return launch_flat(ctx, ctx->kernels.adam_update, "adam_update",
                       CLAE_PROFILE_OPTIMIZER, args, 11, n);
}

clae_status clae__sgd_update(clae_context *ctx, cl_mem p, cl_mem g, size_t n,
                             float lr)
{
    CHECK_FITS(ctx, n);
    cl_uint n_ = (cl_uint)n;
    struct arg args[] = {ARG(p), ARG(g), ARG(n_), ARG(lr)};
    return launch_flat(ctx, ctx->kernels.sgd_update, "sgd_update",
                       CLAE_PROFILE_OPTIMIZER, args, 4, n);
}

clae_status clae__batchnorm_forward(clae_context *ctx,
                                    const clae_batchnorm_launch *b)
{
    CHECK_FITS(ctx, b->x_off);
    CHECK_FITS(ctx, b->gamma_off);
    CHECK_FITS(ctx, b->state_off);
    CHECK_FITS(ctx, b->rows);
    CHECK_FITS(ctx, b->cols);
    cl_uint x_off = (cl_uint)b->x_off, gamma_off = (cl_uint)b->gamma_off,
            state_off = (cl_uint)b->state_off, rows = (cl_uint)b->rows,
            cols = (cl_uint)b->cols, training = b->training ? 1u : 0u,
            act = (cl_uint)b->act.kind;
    struct arg args[] = {
        ARG(b->x),     ARG(x_off),     ARG(b->xhat),     ARG(b->a),
        ARG(b->params), ARG(gamma_off), ARG(b->state),   ARG(state_off),
        ARG(b->invstd), ARG(rows),      ARG(cols),       ARG(training),
        ARG(b->momentum), ARG(b->eps),  ARG(act),        ARG(b->act.param),
    };
    size_t chunks = clae__chunks(b->cols);
    return launch(ctx, ctx->kernels.batchnorm_forward, "batchnorm_forward",
                  CLAE_PROFILE_BIAS_ACT, args, 16, 1, &chunks,
                  column_local(ctx));
}

clae_status clae__batchnorm_backward(clae_context *ctx,
                                     const clae_batchnorm_launch *b)
{
    CHECK_FITS(ctx, b->gamma_off);
    CHECK_FITS(ctx, b->grad_off);
    CHECK_FITS(ctx, b->rows);
    CHECK_FITS(ctx, b->cols);
    cl_uint gamma_off = (cl_uint)b->gamma_off, grad_off = (cl_uint)b->grad_off,
            write_dx = b->dx ? 1u : 0u, rows = (cl_uint)b->rows,
            cols = (cl_uint)b->cols, act = (cl_uint)b->act.kind;
    /* Without dx the kernel writes nothing there; any buffer will do. */
    cl_mem dx = b->dx ? b->dx : b->grads;
    struct arg args[] = {
        ARG(b->g),      ARG(b->a),     ARG(b->xhat),  ARG(b->invstd),
        ARG(b->params), ARG(gamma_off), ARG(b->grads), ARG(grad_off),
        ARG(dx),        ARG(write_dx), ARG(rows),     ARG(cols),
        ARG(act),       ARG(b->act.param),
    };
    size_t chunks = clae__chunks(b->cols);
    return launch(ctx, ctx->kernels.batchnorm_backward, "batchnorm_backward",
                  CLAE_PROFILE_BIAS_ACT_BACKWARD, args, 14, 1, &chunks,
                  column_local(ctx));
}

clae_status clae__random_bits(clae_context *ctx, cl_mem out, size_t blocks,
                              uint64_t seed, uint32_t stream,
                              uint32_t substream, uint64_t first_block)
{
    cl_ulong blocks_ = blocks, seed_ = seed, first = first_block;
    cl_uint stream_ = stream, sub = substream;
    struct arg args[] = {ARG(out), ARG(blocks_), ARG(seed_), ARG(stream_),
                         ARG(sub), ARG(first)};
    size_t per_item = CLAE_RANDOM_CHUNK / 4; /* 4 words a block */
    size_t items = (blocks + per_item - 1) / per_item;
    return launch(ctx, ctx->kernels.random_bits, "random_bits",
                  CLAE_PROFILE_NOISE, args, 6, 1, &items, NULL);
}

/* Work items of random_fill, corrupt and dropout_forward over n elements. */
static size_t random_items(size_t n)
{
    return (n + CLAE_RANDOM_CHUNK - 1) / CLAE_RANDOM_CHUNK;
}

/* random_fill's distributions, as cl/noise.cl numbers them. */
enum { DIST_UNIFORM = 0, DIST_NORMAL = 1 };

static clae_status random_fill(clae_context *ctx, cl_mem out, size_t n,
                               uint64_t seed, uint32_t stream,
                               uint32_t substream, cl_uint dist, float a,
                               float b)
{
    CHECK_FITS(ctx, n);
    cl_ulong seed_ = seed;
    cl_uint n_ = (cl_uint)n, stream_ = stream, sub = substream;
    struct arg args[] = {ARG(out), ARG(n_),   ARG(seed_), ARG(stream_),
                         ARG(sub), ARG(dist), ARG(a),     ARG(b)};
    size_t items = random_items(n);
    return launch(ctx, ctx->kernels.random_fill, "random_fill",
                  CLAE_PROFILE_NOISE, args, 8, 1, &items, NULL);
}

clae_status clae__random_uniform_device(clae_context *ctx, cl_mem out,
                                        size_t n, uint64_t seed,
                                        uint32_t stream, uint32_t substream,
                                        float lo, float hi)
{
    return random_fill(ctx, out, n, seed, stream, substream, DIST_UNIFORM, lo,
                       hi);
}

clae_status clae__random_normal_device(clae_context *ctx, cl_mem out, size_t n,
                                       uint64_t seed, uint32_t stream,
                                       uint32_t substream, float mean,
                                       float std)
{
    return random_fill(ctx, out, n, seed, stream, substream, DIST_NORMAL, mean,
                       std);
}

/* Written so that NaN fails too. */
static int is_probability(float p) { return p >= 0.0f && p <= 1.0f; }

static int noise_amount_ok(clae_noise_kernel kind, float amount)
{
    switch (kind) {
    case CLAE_NOISE_KERNEL_GAUSSIAN: return amount >= 0.0f;
    case CLAE_NOISE_KERNEL_MASK:
    case CLAE_NOISE_KERNEL_SALT_PEPPER: return is_probability(amount);
    }
    return 0;
}

clae_status clae__corrupt(clae_context *ctx, cl_mem noisy, cl_mem clean,
                          size_t clean_off, size_t rows, size_t cols,
                          clae_noise_kernel kind, float amount, uint64_t seed,
                          uint32_t substream)
{
    size_t n = rows * cols;
    CHECK_FITS(ctx, clean_off);
    CHECK_FITS(ctx, n);
    if (!noise_amount_ok(kind, amount))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "corrupt: kind %d with amount %g", (int)kind,
                         (double)amount);
    cl_ulong seed_ = seed;
    cl_uint off = (cl_uint)clean_off, n_ = (cl_uint)n, kind_ = (cl_uint)kind,
            stream = CLAE_STREAM_NOISE, sub = substream;
    struct arg args[] = {ARG(noisy),  ARG(clean), ARG(off),
                         ARG(n_),     ARG(kind_), ARG(amount),
                         ARG(seed_),  ARG(stream), ARG(sub)};
    size_t items = random_items(n);
    return launch(ctx, ctx->kernels.corrupt, "corrupt", CLAE_PROFILE_NOISE,
                  args, 9, 1, &items, NULL);
}

clae_status clae__dropout_forward(clae_context *ctx, cl_mem a,
                                  cl_mem multiplier, cl_mem x, size_t x_off,
                                  size_t rows, size_t cols, float p,
                                  uint64_t seed, uint32_t substream)
{
    size_t n = rows * cols;
    CHECK_FITS(ctx, x_off);
    CHECK_FITS(ctx, n);
    if (!(is_probability(p) && p < 1.0f))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "dropout: drop probability %g is not in [0, 1)",
                         (double)p);
    /* Here rather than in the kernel: OpenCL's float division may be off
     * by 2.5 ulp, the host's is exact, and the reference uses the same. */
    float scale = 1.0f / (1.0f - p);
    cl_ulong seed_ = seed;
    cl_uint off = (cl_uint)x_off, n_ = (cl_uint)n,
            stream = CLAE_STREAM_DROPOUT, sub = substream;
    struct arg args[] = {ARG(a), ARG(multiplier), ARG(x),     ARG(off),
                         ARG(n_), ARG(p),         ARG(scale), ARG(seed_),
                         ARG(stream), ARG(sub)};
    size_t items = random_items(n);
    return launch(ctx, ctx->kernels.dropout_forward, "dropout_forward",
                  CLAE_PROFILE_NOISE, args, 10, 1, &items, NULL);
}

clae_status clae__dropout_backward(clae_context *ctx, cl_mem g,
                                   cl_mem multiplier, size_t rows,
                                   size_t cols)
{
    size_t n = rows * cols;
    CHECK_FITS(ctx, n);
    cl_uint n_ = (cl_uint)n;
    struct arg args[] = {ARG(g), ARG(multiplier), ARG(n_)};
    size_t chunks = clae__chunks(n);
    return launch(ctx, ctx->kernels.dropout_backward, "dropout_backward",
                  CLAE_PROFILE_NOISE, args, 3, 1, &chunks, NULL);
}

clae_status clae__sgd_momentum_update(clae_context *ctx, cl_mem p, cl_mem g,
                                      cl_mem buf, size_t n, float lr,
                                      float momentum, int nesterov)
{
    CHECK_FITS(ctx, n);
    cl_uint n_ = (cl_uint)n, nesterov_ = nesterov ? 1u : 0u;
    struct arg args[] = {ARG(p),  ARG(g),        ARG(buf),      ARG(n_),
                         ARG(lr), ARG(momentum), ARG(nesterov_)};
    return launch_flat(ctx, ctx->kernels.sgd_momentum_update,
                       "sgd_momentum_update", CLAE_PROFILE_OPTIMIZER, args, 7,
                       n);
}

clae_status clae__rmsprop_update(clae_context *ctx, cl_mem p, cl_mem g,
                                 cl_mem v, size_t n, float lr, float rho,
                                 float eps)
{
    CHECK_FITS(ctx, n);
    cl_uint n_ = (cl_uint)n;
    struct arg args[] = {ARG(p),  ARG(g),   ARG(v),  ARG(n_),
                         ARG(lr), ARG(rho), ARG(eps)};
    return launch_flat(ctx, ctx->kernels.rmsprop_update, "rmsprop_update",
                       CLAE_PROFILE_OPTIMIZER, args, 7, n);
}

size_t clae__sum_blocks(size_t n)
{
    return (n + CLAE_SUM_BLOCK - 1) / CLAE_SUM_BLOCK;
}

/* Penalties and clipping count as the optimizer's time when profiling. */
clae_status clae__penalty_sums(clae_context *ctx, cl_mem x, size_t off,
                               size_t n, float l1, float l2, cl_mem grads,
                               cl_mem sums, size_t sums_off)
{
    CHECK_FITS(ctx, off + n);
    CHECK_FITS(ctx, sums_off);
    cl_uint off_ = (cl_uint)off, n_ = (cl_uint)n, add_grad = grads ? 1u : 0u,
            sums_off_ = (cl_uint)sums_off;
    struct arg args[] = {ARG(x),     ARG(off_),     ARG(n_),
                         ARG(l1),    ARG(l2),       ARG(grads),
                         ARG(add_grad), ARG(sums),  ARG(sums_off_)};
    size_t blocks = clae__sum_blocks(n);
    return launch(ctx, ctx->kernels.penalty_sums, "penalty_sums",
                  CLAE_PROFILE_OPTIMIZER, args, 9, 1, &blocks,
                  column_local(ctx));
}

clae_status clae__clip_scale(clae_context *ctx, cl_mem sums, size_t count,
                             float max_norm, cl_mem scale)
{
    CHECK_FITS(ctx, count);
    cl_uint count_ = (cl_uint)count;
    struct arg args[] = {ARG(sums), ARG(count_), ARG(max_norm), ARG(scale)};
    const size_t one = 1;
    return launch(ctx, ctx->kernels.clip_scale, "clip_scale",
                  CLAE_PROFILE_OPTIMIZER, args, 4, 1, &one, &one);
}

clae_status clae__scale_by(clae_context *ctx, cl_mem x, size_t n, cl_mem scale)
{
    CHECK_FITS(ctx, n);
    cl_uint n_ = (cl_uint)n;
    struct arg args[] = {ARG(x), ARG(n_), ARG(scale)};
    return launch_flat(ctx, ctx->kernels.scale_by, "scale_by",
                       CLAE_PROFILE_OPTIMIZER, args, 3, n);
}

clae_status clae__activity_penalty(clae_context *ctx, cl_mem a, cl_mem g,
                                   size_t rows, size_t cols, float l1,
                                   float rho, float beta, cl_mem penalty,
                                   size_t penalty_off)
{
    CHECK_FITS(ctx, rows);
    CHECK_FITS(ctx, cols);
    CHECK_FITS(ctx, penalty_off);
    cl_uint r = (cl_uint)rows, c = (cl_uint)cols, off = (cl_uint)penalty_off;
    struct arg args[] = {ARG(a),   ARG(g),    ARG(r),       ARG(c),  ARG(l1),
                         ARG(rho), ARG(beta), ARG(penalty), ARG(off)};
    size_t chunks = clae__chunks(cols);
    return launch(ctx, ctx->kernels.activity_penalty, "activity_penalty",
                  CLAE_PROFILE_BIAS_ACT_BACKWARD, args, 9, 1, &chunks,
                  column_local(ctx));
}

/* cl/conv.cl's uint16 geometry. */
static clae_status geometry_arg(clae_context *ctx, const clae_geometry *g,
                                cl_uint16 *out)
{
    const size_t v[10] = {g->in.height,       g->in.width,
                          g->in.channels,     g->out.height,
                          g->out.width,       g->window.kernel_h,
                          g->window.kernel_w, g->window.stride,
                          g->window.pad_h,    g->window.pad_w};
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 10; i++) {
        CHECK_FITS(ctx, v[i]);
        out->s[i] = (cl_uint)v[i];
    }
    return CLAE_SUCCESS;
}

static size_t pixels(const clae_shape *s) { return s->height * s->width; }

clae_status clae__im2col_rows(clae_context *ctx, const clae_geometry *g,
                              cl_mem x, size_t x_off, size_t rows, cl_mem col)
{
    CHECK_FITS(ctx, x_off);
    cl_uint16 geometry;
    clae_status status = geometry_arg(ctx, g, &geometry);
    if (status != CLAE_SUCCESS) return status;
    cl_uint off = (cl_uint)x_off;
    struct arg args[] = {ARG(x), ARG(off), ARG(col), ARG(geometry)};
    size_t global[2] = {clae__chunks(g->in.channels), rows * pixels(&g->out)};
    return launch(ctx, ctx->kernels.im2col_rows, "im2col_rows",
                  CLAE_PROFILE_WINDOW, args, 4, 2, global, NULL);
}


/* The launches of cl/conv.cl that take two buffers and the geometry, one
 * item per pixel (of g's out or in image) and chunk of chunk_of channels,
 * or per pixel when chunk_of is 0. */
static clae_status window_launch(clae_context *ctx, cl_kernel kernel,
                                 const char *name, const clae_geometry *g,
                                 cl_mem from, cl_mem to, size_t pixel_count,
                                 size_t chunk_of)
{
    cl_uint16 geometry;
    clae_status status = geometry_arg(ctx, g, &geometry);
    if (status != CLAE_SUCCESS) return status;
    struct arg args[] = {ARG(from), ARG(to), ARG(geometry)};
    size_t global[2] = {clae__chunks(chunk_of), pixel_count};
    return launch(ctx, kernel, name, CLAE_PROFILE_WINDOW, args, 3,
                  chunk_of ? 2 : 1, chunk_of ? global : &pixel_count, NULL);
}

clae_status clae__col2im_rows(clae_context *ctx, const clae_geometry *g,
                              cl_mem col, size_t rows, cl_mem x)
{
    return window_launch(ctx, ctx->kernels.col2im_rows, "col2im_rows", g, col,
                         x, rows * pixels(&g->in), g->in.channels);
}

clae_status clae__patch_sums(clae_context *ctx, const clae_geometry *g,
                             cl_mem y, size_t rows, cl_mem z)
{
    return window_launch(ctx, ctx->kernels.patch_sums, "patch_sums", g, y, z,
                         rows * pixels(&g->out), 0);
}

clae_status clae__patch_spread(clae_context *ctx, const clae_geometry *g,
                               cl_mem dz, size_t rows, cl_mem dy)
{
    return window_launch(ctx, ctx->kernels.patch_spread, "patch_spread", g, dz,
                         dy, rows * pixels(&g->in), 0);
}

/* pool_forward and pool_backward alike: from (at from_off) to, one item
 * per pixel (pixel_count of them) and chunk of channels. */
static clae_status pool_launch(clae_context *ctx, cl_kernel kernel,
                               const char *name, const clae_geometry *g,
                               clae_pool kind, cl_mem from, size_t from_off,
                               cl_mem to, cl_mem argmax, size_t pixel_count)
{
    CHECK_FITS(ctx, from_off);
    cl_uint16 geometry;
    clae_status status = geometry_arg(ctx, g, &geometry);
    if (status != CLAE_SUCCESS) return status;
    cl_uint off = (cl_uint)from_off, k = (cl_uint)kind;
    struct arg args[] = {ARG(from),   ARG(off), ARG(to),
                         ARG(argmax), ARG(k),   ARG(geometry)};
    size_t global[2] = {clae__chunks(g->in.channels), pixel_count};
    return launch(ctx, kernel, name, CLAE_PROFILE_WINDOW, args, 6, 2, global,
                  NULL);
}

clae_status clae__pool_forward(clae_context *ctx, const clae_geometry *g,
                               clae_pool kind, cl_mem x, size_t x_off,
                               size_t rows, cl_mem y, cl_mem argmax)
{
    return pool_launch(ctx, ctx->kernels.pool_forward, "pool_forward", g, kind,
                       x, x_off, y, argmax, rows * pixels(&g->out));
}

clae_status clae__pool_backward(clae_context *ctx, const clae_geometry *g,
                                clae_pool kind, cl_mem dy, size_t dy_off,
                                cl_mem argmax, size_t rows, cl_mem dx)
{
    return pool_launch(ctx, ctx->kernels.pool_backward, "pool_backward", g,
                       kind, dy, dy_off, dx, argmax, rows * pixels(&g->in));
}

clae_status clae__channel_sums(clae_context *ctx, cl_mem sums, size_t sums_off,
                               cl_mem grad, size_t grad_off,
                               size_t pixel_count, size_t channels)
{
    CHECK_FITS(ctx, sums_off + pixel_count * channels);
    CHECK_FITS(ctx, grad_off);
    cl_uint s_off = (cl_uint)sums_off, off = (cl_uint)grad_off,
            p = (cl_uint)pixel_count, c = (cl_uint)channels;
    struct arg args[] = {ARG(sums), ARG(s_off), ARG(grad),
                         ARG(off),  ARG(p),     ARG(c)};
    return launch(ctx, ctx->kernels.channel_sums, "channel_sums",
                  CLAE_PROFILE_BIAS_ACT_BACKWARD, args, 6, 1, &channels,
                  column_local(ctx));
}

clae_status clae__latent_forward(clae_context *ctx, cl_mem stats, cl_mem params,
                                 size_t bias_off, cl_mem eps, cl_mem z,
                                 cl_mem kl, size_t kl_off, size_t rows,
                                 size_t k, int sample)
{
    CHECK_FITS(ctx, bias_off);
    CHECK_FITS(ctx, kl_off);
    CHECK_FITS(ctx, 2 * k);
    cl_uint bias_ = (cl_uint)bias_off, kl_ = (cl_uint)kl_off, k_ = (cl_uint)k,
            sample_ = sample ? 1u : 0u;
    struct arg args[] = {ARG(stats), ARG(params), ARG(bias_), ARG(eps),
                         ARG(z),     ARG(kl),     ARG(kl_),   ARG(k_),
                         ARG(sample_)};
    return launch(ctx, ctx->kernels.latent_forward, "latent_forward",
                  CLAE_PROFILE_BIAS_ACT, args, 9, 1, &rows, NULL);
}

clae_status clae__latent_backward(clae_context *ctx, cl_mem stats, cl_mem eps,
                                  cl_mem g, size_t rows, size_t k,
                                  float kl_scale)
{
    CHECK_FITS(ctx, 2 * k);
    cl_uint k_ = (cl_uint)k;
    struct arg args[] = {ARG(stats), ARG(eps), ARG(g), ARG(k_), ARG(kl_scale)};
    return launch(ctx, ctx->kernels.latent_backward, "latent_backward",
                  CLAE_PROFILE_BIAS_ACT_BACKWARD, args, 5, 1, &rows, NULL);
}
