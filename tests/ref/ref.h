/* Plain-C reference math that every clae kernel is checked against. Double
 * accumulation, no OpenCL. Shapes row-major; letters as in src/model.h. */
#ifndef CLAE_REF_H
#define CLAE_REF_H

#include <stddef.h>
#include <stdint.h>

#include "blas.h"
#include "clae.h"
#include "kernels.h"
#include "spec.h"

/* C (m, n) = alpha op(A) op(B) + beta C. */
void ref_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
              float alpha, const float *a, size_t lda, const float *b,
              size_t ldb, float beta, float *c, size_t ldc);

/* An element-wise activation (softmax: identity, see ref_softmax_rows) and
 * its derivative from its output y. */
double ref_activate(clae_act act, double z);
double ref_act_derivative(clae_act act, double y);

void ref_softmax_rows(double *a, size_t rows, size_t cols);
/* g = y * (g - sum(g * y)) per row. */
/* A VAE's latent layer over stats (rows, 2k) plus bias (2k): forward
 * into z (rows, k) (sampled with eps, else the means) and kl (rows), with
 * the biased stats written back; backward, stats (biased) into their
 * gradient in place from g (rows, k) and the KL weight kl_scale. */
void ref_latent_forward(float *stats, const float *bias, const float *eps,
                        float *z, float *kl, size_t rows, size_t k,
                        int sample);
void ref_latent_backward(float *stats, const float *eps, const float *g,
                         size_t rows, size_t k, float kl_scale);
void ref_softmax_backward_rows(float *g, const float *y, size_t rows,
                               size_t cols);

/* z (rows, cols) += bias (entry c % period for column c); a = act(z). */
void ref_bias_act_forward(float *z, float *a, const float *bias, size_t period,
                          size_t rows, size_t cols, clae_act act);

/* dz (rows, cols) *= act'(from a); grad (cols) = the column sums of dz. */
void ref_bias_act_backward(float *dz, const float *a, size_t rows, size_t cols,
                           clae_act act, float *grad);

/* One element's loss and, in *dy, its derivative by y. */
double ref_element_loss(clae_loss_kernel kind, double y, double t, double *dy);

/* The loss kernels' input: out (rows, cols) plus bias (entry c %
 * bias_period for column c, or NULL), against target (rows, cols). */
typedef struct {
    const float *out, *bias, *target;
    size_t bias_period, rows, cols;
    clae_loss_kernel kind;
} ref_loss_input;

/* Per-row loss sums (cl/loss.cl loss_rows). */
void ref_loss_rows(const ref_loss_input *in, float *sample_loss);

/* cl/loss.cl loss_backward: grad = dz (through act' from out), bias_grad
 * (cols) its column sums, chunk_loss (ceil(cols / 8)) the loss of each
 * chunk of 8 columns summed over the rows. */
void ref_loss_backward(const ref_loss_input *in, clae_act act,
                       float grad_scale, float *grad, float *bias_grad,
                       float *chunk_loss);

void ref_gather_rows(float *dst, const float *src, const unsigned *index,
                     size_t rows, size_t cols);

/* Adam step t as in the paper: m, v updated, p -= lr mhat / (sqrt vhat + eps). */
void ref_adam(float *p, const float *g, float *m, float *v, size_t n, float lr,
              float beta1, float beta2, float eps, unsigned t);

void ref_sgd(float *p, const float *g, size_t n, float lr);

/* AdamW step t (torch.optim.AdamW): p -= lr wd p, then the Adam step. */
void ref_adamw(float *p, const float *g, float *m, float *v, size_t n,
               float lr, float beta1, float beta2, float eps,
               float weight_decay, unsigned t);

/* torch.optim.SGD with momentum: buf = momentum buf + g; p -= lr (g +
 * momentum buf) with Nesterov, else p -= lr buf. */
void ref_sgd_momentum(float *p, const float *g, float *buf, size_t n, float lr,
                      float momentum, int nesterov);

/* v = rho v + (1 - rho) g^2; p -= lr g / (sqrt(v) + eps). */
void ref_rmsprop(float *p, const float *g, float *v, size_t n, float lr,
                 float rho, float eps);

/* cl/optim.cl penalty_sums: sums[k] = the sum of l1 |x| + l2 x^2 over
 * block k of `block` floats of x (n); grads (n, or NULL) += l1 sign(x) +
 * 2 l2 x. */
void ref_penalty_sums(const float *x, size_t n, size_t block, float l1,
                      float l2, float *grads, float *sums);

/* cl/activation.cl activity_penalty: the sparse code's penalty on its
 * activations a (rows, cols), l1 sum |a| / rows plus beta times the sum
 * over columns of KL(rho || the column's mean), the mean kept inside
 * [1e-6, 1 - 1e-6]. Returned; chunk_sums (ceil(cols / 8), or NULL) gets
 * each chunk of 8 columns' share, g (rows, cols, or NULL) += its gradient
 * (through the kept mean, as the kernel's). */
double ref_activity_penalty(const double *a, size_t rows, size_t cols,
                            float l1, float rho, float beta, float *g,
                            float *chunk_sums);

/* torch.nn.utils.clip_grad_norm_: g (n) *= min(1, max_norm / (|g| +
 * 1e-6)). */
void ref_clip_grad_norm(float *g, size_t n, float max_norm);

/* l1 sum |W| + l2 sum W^2 over the own weights of the dense layers of a
 * model laid out as in ref_model_loss (biases excluded), in double. */
double ref_weight_penalty(const clae_spec *spec, const float *params, float l1,
                          float l2);

/* Batch normalisation of x (rows, cols) in training, in double: each
 * column by its batch mean and biased variance (eps 1e-5), then gamma * .
 * + beta and the activation. */
void ref_batchnorm(double *x, size_t rows, size_t cols, const float *gamma,
                   const float *beta, clae_act act);

/* The training loss of a model given by its parsed spec, with params laid
 * out as src/model.h says (computed here independently), reconstructing x
 * (rows, input): every layer in double, batch norm on the batch's
 * statistics, dropout and noise layers as the identity. The loss is
 * reported as the library reports it in training (mean over elements, per
 * sample for cce, plus the code layer's activity penalty). */
double ref_model_loss(const clae_spec *spec, const float *params,
                      const float *x, size_t rows);

/* Channels-last images, a row each (tests/ref/ref_conv.c). */

/* col = the patches of x in clae__im2col_rows's layout. */
void ref_im2col_rows(const clae_geometry *g, const float *x, size_t rows,
                     float *col);
/* x = col's values added back onto the pixels they came from. */
void ref_col2im_rows(const clae_geometry *g, const float *col, size_t rows,
                     double *x);
/* out (rows, out pixels x kernels) = the convolution of x with kernels w
 * (kernels, kernel_h, kernel_w, in.channels: the device's order) plus bias
 * (kernels). */
void ref_conv(const clae_geometry *g, size_t kernels, const float *w,
              const float *bias, const double *x, size_t rows, double *out);
/* The transposed convolution: out (rows, g->in image) from x (rows,
 * g->out pixels x channels_in) with w (channels_in, kernel_h, kernel_w,
 * g->in.channels: the device's order) and bias (g->in.channels): g runs
 * from the output back to the input, as a deconv layer's geometry does. */
void ref_deconv(const clae_geometry *g, size_t channels_in, const float *w,
                const float *bias, const double *x, size_t rows, double *out);
/* z = for each output pixel the sum over its window positions (i, j) of
 * y at the input pixel under (i, j), column (i, j). */
void ref_patch_sums(const clae_geometry *g, const float *y, size_t rows,
                    double *z);
/* dy = patch_sums's adjoint: each output pixel's dz copied to (pixel
 * under (i, j), column (i, j)) for every position of its window. */
void ref_patch_spread(const clae_geometry *g, const float *dz, size_t rows,
                      float *dy);
/* y = each window of x pooled per channel (max, mean inside the image,
 * or sum). */
void ref_pool(const clae_geometry *g, clae_pool kind, const double *x,
              size_t rows, double *y);
/* dx = the pool's backward pass from dy: max to the window's first
 * largest pixel of x, avg shared, sum copied. */
void ref_pool_backward(const clae_geometry *g, clae_pool kind, const float *x,
                       const float *dy, size_t rows, double *dx);

/* out (rows, output width of layer end - 1) = layers first .. end - 1 in
 * evaluation mode (dropout and noise as the identity, batch norm left out)
 * over x (rows, input width of layer first), every output
 * activated: what inference computes. */
void ref_model_forward(const clae_spec *spec, const float *params,
                       const float *x, size_t rows, size_t first, size_t end,
                       float *out);

/* cl/noise.cl over n elements, from the host's Philox (src/philox.h):
 * element i uses word i % 4 of block i / 4 of (seed, stream, substream),
 * its uniform u = (word >> 8) 2^-24, or the i-th clae__random_normal draw.
 * corrupt: gaussian x + amount z; mask 0 where u < amount; salt and pepper
 * (word & 1) where u < amount. Stream CLAE_STREAM_NOISE. */
void ref_corrupt(float *noisy, const float *clean, size_t n,
                 clae_noise_kernel kind, float amount, uint64_t seed,
                 uint32_t substream);

/* multiplier = 0 where u < p, else 1 / (1 - p) (in float); a = x *
 * multiplier. Stream CLAE_STREAM_DROPOUT. */
void ref_dropout_forward(float *a, float *multiplier, const float *x, size_t n,
                         float p, uint64_t seed, uint32_t substream);

void ref_dropout_backward(float *g, const float *multiplier, size_t n);

#endif
