/* Plain-C reference math that every clae kernel is checked against. Double
 * accumulation, no OpenCL. Shapes row-major; letters as in src/model.h. */
#ifndef CLAE_REF_H
#define CLAE_REF_H

#include <stddef.h>

#include "clae.h"
#include "kernels.h"

/* C (m, n) = alpha op(A) op(B) + beta C. */
void ref_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
              float alpha, const float *a, size_t lda, const float *b,
              size_t ldb, float beta, float *c, size_t ldc);

float ref_activate(clae_activation act, float z);

/* z (rows, cols) += bias; a = act(z). */
void ref_bias_act_forward(float *z, float *a, const float *bias, size_t rows,
                          size_t cols, clae_activation act);

/* dz (rows, cols) *= act'(from a); grad (cols) = the column sums of dz. */
void ref_bias_act_backward(float *dz, const float *a, size_t rows, size_t cols,
                           clae_activation act, float *grad);

/* The loss kernels' input: out (rows, cols) plus bias (cols, or NULL),
 * against target (rows, cols). */
typedef struct {
    const float *out, *bias, *target;
    size_t rows, cols;
    clae_loss_kernel kind;
} ref_loss_input;

/* Per-row loss sums (cl/loss.cl loss_rows). */
void ref_loss_rows(const ref_loss_input *in, float *sample_loss);

/* cl/loss.cl loss_backward: grad = dz (through act' from out), bias_grad
 * (cols) its column sums, chunk_loss (ceil(cols / 8)) the loss of each
 * chunk of 8 columns summed over the rows. */
void ref_loss_backward(const ref_loss_input *in, clae_activation act,
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

/* torch.nn.utils.clip_grad_norm_: g (n) *= min(1, max_norm / (|g| +
 * 1e-6)). */
void ref_clip_grad_norm(float *g, size_t n, float max_norm);

/* l1 sum |W| + l2 sum W^2 over the weights of a dense model laid out as in
 * ref_model_loss (biases excluded), in double. */
double ref_weight_penalty(const float *params, size_t input,
                          const size_t *widths, size_t count, float l1,
                          float l2);

/* A dense model: layers with widths[i] outputs and acts[i]; params laid out
 * as in src/model.h (W (O, I) then b (O) per layer). Returns the mean loss
 * over all elements of x (rows, input) reconstructing itself, in double. */
double ref_model_loss(const float *params, size_t input, const size_t *widths,
                      const clae_activation *acts, size_t count, clae_loss loss,
                      const float *x, size_t rows);

#endif
