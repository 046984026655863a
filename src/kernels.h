/* clae's own kernels (cl/): the table built per context and one launch
 * function per kernel. Every launch is enqueued on the context's queue and
 * returns without waiting. Shapes are row-major; offsets count floats. */
#ifndef CLAE_KERNELS_H
#define CLAE_KERNELS_H

#include <CL/cl.h>

#include "clae.h"

enum { CLAE_PROGRAM_COUNT = 8 };

typedef struct {
    cl_program programs[CLAE_PROGRAM_COUNT];
    cl_kernel bias_act_forward, bias_act_backward, softmax_rows,
        softmax_backward_rows, activity_penalty, loss_rows, loss_backward, gather_rows,
        gather_codes,        adam_update, sgd_update, batchnorm_forward, batchnorm_backward,
        random_bits, random_fill, corrupt, dropout_forward, dropout_backward;
    cl_kernel im2col_rows, col2im_rows, patch_sums, patch_spread,
        pool_forward, pool_backward, channel_sums;
    cl_kernel latent_forward, latent_backward;
    cl_kernel sgd_momentum_update, rmsprop_update, penalty_sums, clip_scale,
        scale_by;
    size_t loss_group; /* work items per row of loss_rows */
    size_t flat_group; /* work items per group of the optimizer updates */
} clae_kernels;

/* Element-wise kernels take a row CLAE_CHUNK floats at a time (the CHUNK
 * of cl/common.cl); clae__chunks(cols) is the number of chunks of a row. */
enum { CLAE_CHUNK = 16 };
/* The kernels of cl/noise.cl take CLAE_RANDOM_CHUNK elements (sixteen
 * Philox blocks) per work item (its RANDOM_CHUNK). */
enum { CLAE_RANDOM_CHUNK = 64 };
size_t clae__chunks(size_t cols);

/* How the loss kernel reads the output: BCE on logits is used for a sigmoid
 * output layer, where it is stable and its gradient is that of z. */
typedef enum {
    CLAE_LOSS_KERNEL_BCE = 0,
    CLAE_LOSS_KERNEL_MSE = 1,
    CLAE_LOSS_KERNEL_BCE_LOGITS = 2,
    CLAE_LOSS_KERNEL_MAE = 3,
    CLAE_LOSS_KERNEL_CCE = 4,
} clae_loss_kernel;

/* How corrupt (cl/noise.cl) damages an input, with its `amount`. */
typedef enum {
    CLAE_NOISE_KERNEL_GAUSSIAN = 0,    /* x + amount N(0, 1) */
    CLAE_NOISE_KERNEL_MASK = 1,        /* 0 with probability amount */
    CLAE_NOISE_KERNEL_SALT_PEPPER = 2, /* 0 or 1 with probability amount */
} clae_noise_kernel;

clae_status clae__kernels_create(clae_context *ctx, clae_kernels *kernels);
void clae__kernels_release(clae_kernels *kernels);

/* An activation and its parameter (leaky_relu's slope, elu's alpha). */
typedef struct {
    clae_activation kind;
    float param;
} clae_act;

/* z (rows, cols) += bias (at bias_off of params, repeating every period
 * columns: cols for a dense layer, the channels of a convolution's
 * channels-last pixels); a = act(z), where softmax counts as linear
 * (clae__softmax_rows follows). */
clae_status clae__bias_act_forward(clae_context *ctx, cl_mem z, cl_mem a,
                                   cl_mem params, size_t bias_off,
                                   size_t period, size_t rows, size_t cols,
                                   clae_act act);

/* dz (rows, cols) *= act'(.), taken from the activation output a (not read
 * for linear and softmax, whose backward is clae__softmax_backward_rows);
 * grad[grad_off + c] = the sum of column c of dz. */
clae_status clae__bias_act_backward(clae_context *ctx, cl_mem dz, cl_mem a,
                                    cl_mem grad, size_t grad_off, size_t rows,
                                    size_t cols, clae_act act);

/* a (rows, cols) = softmax of each row, in place. */
clae_status clae__softmax_rows(clae_context *ctx, cl_mem a, size_t rows,
                               size_t cols);

/* g (rows, cols) = dLoss/dz from dLoss/dy of y = softmax rows, in place. */
clae_status clae__softmax_backward_rows(clae_context *ctx, cl_mem g, cl_mem y,
                                        size_t rows, size_t cols);

/* A launch of a loss kernel over out (rows, cols), plus bias (at bias_off,
 * repeating every bias_period columns) when bias is not NULL, against
 * target (rows, cols at target_off). */
typedef struct {
    cl_mem out, bias, target;
    size_t bias_off, bias_period, target_off;
    size_t rows, cols;
    clae_loss_kernel kind;
    /* loss_rows: one sum per row; loss_backward: one per chunk of columns
     * (clae__chunks(cols) of them). */
    cl_mem loss;
    size_t loss_off;
    /* loss_backward only: grad (rows, cols) = dz = grad_scale * d loss /
     * d z, through act'(.) from out unless act is linear; the column sums
     * of dz into bias_grad at bias_grad_off. */
    clae_act act;
    cl_mem grad, bias_grad;
    size_t bias_grad_off;
    float grad_scale;
} clae_loss_launch;

/* loss[loss_off + r] = row r's summed loss (evaluation). */
clae_status clae__loss_rows(clae_context *ctx, const clae_loss_launch *l);

/* The loss sums per chunk of columns, dz and the bias gradient (training:
 * the loss kernel and the output layer's backward pass through activation
 * and bias in one). */
clae_status clae__loss_backward(clae_context *ctx, const clae_loss_launch *l);

/* The sparse autoencoder's penalties on a code layer's activations a
 * (rows, cols): l1 * sum |a| / rows and beta * sum of KL(rho || each
 * unit's batch mean); gradients added into g (dLoss/da), the penalty per
 * chunk of columns (clae__chunks(cols)) into penalty at penalty_off. */
clae_status clae__activity_penalty(clae_context *ctx, cl_mem a, cl_mem g,
                                   size_t rows, size_t cols, float l1,
                                   float rho, float beta, cl_mem penalty,
                                   size_t penalty_off);

/* A batch normalisation launch (cl/batchnorm.cl): x (rows, cols at x_off)
 * normalised into xhat, a = act(gamma xhat + beta) with gamma, beta at
 * gamma_off of params, running statistics at state_off of state, the
 * batch's inverse deviations in invstd. Backward: g = dLoss/da; gamma's and
 * beta's gradients into grads at grad_off; dLoss/dx into dx unless NULL. */
typedef struct {
    cl_mem x, xhat, a, params, state, invstd, g, grads, dx;
    size_t x_off, gamma_off, state_off, grad_off;
    size_t rows, cols;
    int training;
    float momentum, eps;
    clae_act act;
} clae_batchnorm_launch;

clae_status clae__batchnorm_forward(clae_context *ctx,
                                    const clae_batchnorm_launch *b);
clae_status clae__batchnorm_backward(clae_context *ctx,
                                     const clae_batchnorm_launch *b);

/* Rows of channels-last images and windows sliding over them
 * (cl/conv.cl). */
typedef struct {
    size_t height, width, channels;
} clae_shape;

/* A window of kernel_h x kernel_w pixels moved by stride over an image
 * padded with pad_h rows above and pad_w columns left (and as many below
 * and right as the output needs): zeros for a convolution, left out of a
 * pool. */
typedef struct {
    size_t kernel_h, kernel_w, stride, pad_h, pad_w;
} clae_window;

/* A window's pass from an input image to an output image of in.channels
 * channels (a convolution's col rows, a pool's output). */
typedef struct {
    clae_shape in, out;
    clae_window window;
} clae_geometry;

/* col (rows * out pixels, kernel_h * kernel_w * in.channels) = the patch
 * under each output pixel of each image of x (rows, in at x_off), element
 * (i, j, c) its channel c pixel at window row i, column j; 0 in padding. */
clae_status clae__im2col_rows(clae_context *ctx, const clae_geometry *g,
                              cl_mem x, size_t x_off, size_t rows, cl_mem col);
/* x (rows, in) = the adjoint of clae__im2col_rows: each pixel the sum of
 * col's copies of it. */
clae_status clae__col2im_rows(clae_context *ctx, const clae_geometry *g,
                              cl_mem col, size_t rows, cl_mem x);

/* The one-channel convolution computed from the input's pixels
 * (cl/conv.cl): z (rows * out pixels) = for each output pixel the sum over
 * its window positions (i, j) of y (rows * in pixels, kernel_h *
 * kernel_w) at the pixel under (i, j), column (i, j). */
clae_status clae__patch_sums(clae_context *ctx, const clae_geometry *g,
                             cl_mem y, size_t rows, cl_mem z);
/* Its adjoint: dy at each input pixel, column (i, j) = dz of the output
 * pixel whose window puts (i, j) there, else 0. */
clae_status clae__patch_spread(clae_context *ctx, const clae_geometry *g,
                               cl_mem dz, size_t rows, cl_mem dy);

typedef enum {
    CLAE_POOL_MAX = 0, /* argmax keeps each output's winning pixel */
    CLAE_POOL_AVG = 1, /* the mean over the window's pixels in the image */
    CLAE_POOL_SUM = 2,
} clae_pool;

/* y (rows, out pixels x in.channels) = each window of x (rows, in at x_off)
 * pooled per channel; argmax (as many uints as y) for max, else NULL. */
clae_status clae__pool_forward(clae_context *ctx, const clae_geometry *g,
                               clae_pool kind, cl_mem x, size_t x_off,
                               size_t rows, cl_mem y, cl_mem argmax);
/* dx (rows, in) = the pool's backward pass from dy (at dy_off); for
 * CLAE_POOL_SUM over windows that tile the image, this is nearest-
 * neighbour upsampling of dy. */
clae_status clae__pool_backward(clae_context *ctx, const clae_geometry *g,
                                clae_pool kind, cl_mem dy, size_t dy_off,
                                cl_mem argmax, size_t rows, cl_mem dx);

/* grad[grad_off + k] = the sum over pixels p of sums[sums_off + p *
 * channels + k]. */
clae_status clae__channel_sums(clae_context *ctx, cl_mem sums, size_t sums_off,
                               cl_mem grad, size_t grad_off, size_t pixels,
                               size_t channels);

/* dst (rows, cols) row r = src row index[index_off + r]. */
clae_status clae__gather_rows(clae_context *ctx, cl_mem dst, cl_mem src,
                              cl_mem index, size_t index_off, size_t rows,
                              size_t cols);
/* The same from a set of byte codes: code k is the float k / scale, which
 * the kernel computes exactly when clae__codes_exact(scale). */
clae_status clae__gather_codes(clae_context *ctx, cl_mem dst, cl_mem codes,
                               cl_mem index, size_t index_off, size_t rows,
                               size_t cols, float scale);
/* Whether gather_codes decodes every code k to k / scale rounded to float,
 * which *table then holds (256 floats). */
int clae__codes_exact(float scale, float *table);

/* One Adam step over n parameters; step_size and v_scale carry the bias
 * corrections, decay is AdamW's lr * weight_decay, 0 for Adam (see
 * cl/optim.cl). */
clae_status clae__adam_update(clae_context *ctx, cl_mem p, cl_mem g, cl_mem m,
                              cl_mem v, size_t n, float step_size, float beta1,
                              float beta2, float eps, float v_scale,
                              float decay);

clae_status clae__sgd_update(clae_context *ctx, cl_mem p, cl_mem g, size_t n,
                             float lr);

/* Randomness on the device (cl/noise.cl). Element i of a launch over n =
 * rows * cols elements draws from word i % 4 of Philox block i / 4 of
 * (seed, stream, substream), as the host functions of src/philox.h do, so
 * results do not depend on the device or on how the work is split. Batches
 * are contiguous rows; i is the element's index in the batch. All of these
 * are timed as CLAE_PROFILE_NOISE. */

/* out (4 blocks uints) = the words of blocks first_block .. first_block +
 * blocks - 1, as clae__random_block gives them. */
clae_status clae__random_bits(clae_context *ctx, cl_mem out, size_t blocks,
                              uint64_t seed, uint32_t stream,
                              uint32_t substream, uint64_t first_block);

/* out (n) = clae__random_uniform's draws, bit for bit. */
clae_status clae__random_uniform_device(clae_context *ctx, cl_mem out,
                                        size_t n, uint64_t seed,
                                        uint32_t stream, uint32_t substream,
                                        float lo, float hi);

/* out (n) = clae__random_normal's draws, to within the device's accuracy
 * of log, sqrt, sin and cos (a few ulp). */
clae_status clae__random_normal_device(clae_context *ctx, cl_mem out, size_t n,
                                       uint64_t seed, uint32_t stream,
                                       uint32_t substream, float mean,
                                       float std);

/* noisy (rows, cols) = clean (rows, cols at clean_off) corrupted by kind
 * with amount (a standard deviation >= 0, or a probability in [0, 1]),
 * from stream CLAE_STREAM_NOISE; substream tells batches apart (the
 * optimizer step). noisy is a buffer of its own: the loss still compares
 * with clean. */
clae_status clae__corrupt(clae_context *ctx, cl_mem noisy, cl_mem clean,
                          size_t clean_off, size_t rows, size_t cols,
                          clae_noise_kernel kind, float amount, uint64_t seed,
                          uint32_t substream);

/* Dropout with drop probability p in [0, 1), from stream
 * CLAE_STREAM_DROPOUT: multiplier (rows, cols) = 0 for dropped elements,
 * else 1 / (1 - p); a (rows, cols) = x (rows, cols at x_off) * multiplier.
 * a may be x itself when x_off is 0. */
clae_status clae__dropout_forward(clae_context *ctx, cl_mem a,
                                  cl_mem multiplier, cl_mem x, size_t x_off,
                                  size_t rows, size_t cols, float p,
                                  uint64_t seed, uint32_t substream);

/* g (rows, cols) *= multiplier (rows, cols), in place: dLoss/dx from
 * dLoss/da through the mask dropout_forward drew. */
clae_status clae__dropout_backward(clae_context *ctx, cl_mem g,
                                   cl_mem multiplier, size_t rows,
                                   size_t cols);
/* SGD with momentum (buf: the parameters' layout), Nesterov's when
 * nesterov is nonzero. */
clae_status clae__sgd_momentum_update(clae_context *ctx, cl_mem p, cl_mem g,
                                      cl_mem buf, size_t n, float lr,
                                      float momentum, int nesterov);

/* One RMSprop step; v is the running mean of g^2. */
clae_status clae__rmsprop_update(clae_context *ctx, cl_mem p, cl_mem g,
                                 cl_mem v, size_t n, float lr, float rho,
                                 float eps);

/* Reductions run in blocks of CLAE_SUM_BLOCK floats (the SUM_BLOCK of
 * cl/optim.cl); clae__sum_blocks(n) is the number of partial sums of n. */
enum { CLAE_SUM_BLOCK = 1024 };
size_t clae__sum_blocks(size_t n);

/* Over x (n floats at off): sums[sums_off ..] = clae__sum_blocks(n) partial
 * sums of l1 |x| + l2 x^2; unless grads is NULL, grads (x's layout) +=
 * l1 sign(x) + 2 l2 x. */
clae_status clae__penalty_sums(clae_context *ctx, cl_mem x, size_t off,
                               size_t n, float l1, float l2, cl_mem grads,
                               cl_mem sums, size_t sums_off);

/* scale[0] = min(1, max_norm / (sqrt(the sum of sums[0 .. count)) + 1e-6)),
 * in one work item. */
clae_status clae__clip_scale(clae_context *ctx, cl_mem sums, size_t count,
                             float max_norm, cl_mem scale);

/* x (n) *= scale[0], read on the device. */
clae_status clae__scale_by(clae_context *ctx, cl_mem x, size_t n,
                           cl_mem scale);

/* A VAE's latent layer (cl/latent.cl): over rows of stats (rows, 2k:
 * means, then log-variances) plus the bias at bias_off of params, z (rows,
 * k) = a sample with the noise eps (rows, k) when sample, else the means;
 * kl[kl_off + row] = the row's KL divergence from N(0, I). */
clae_status clae__latent_forward(clae_context *ctx, cl_mem stats, cl_mem params,
                                 size_t bias_off, cl_mem eps, cl_mem z,
                                 cl_mem kl, size_t kl_off, size_t rows,
                                 size_t k, int sample);

/* Its backward pass, stats becoming their gradient in place: from g (rows,
 * k), d loss / d z, and the KL term weighted by kl_scale. */
clae_status clae__latent_backward(clae_context *ctx, cl_mem stats, cl_mem eps,
                                  cl_mem g, size_t rows, size_t k,
                                  float kl_scale);

#endif
