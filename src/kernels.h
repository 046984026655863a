/* clae's own kernels (cl/): the table built per context and one launch
 * function per kernel. Every launch is enqueued on the context's queue and
 * returns without waiting. Shapes are row-major; offsets count floats. */
#ifndef CLAE_KERNELS_H
#define CLAE_KERNELS_H

#include <CL/cl.h>

#include "clae.h"

enum { CLAE_PROGRAM_COUNT = 5 };

typedef struct {
    cl_program programs[CLAE_PROGRAM_COUNT];
    cl_kernel bias_act_forward, bias_act_backward, softmax_rows,
        softmax_backward_rows, loss_rows, loss_backward,
        gather_rows, adam_update, sgd_update, batchnorm_forward,
        batchnorm_backward;
    size_t loss_group; /* work items per row of loss_rows */
} clae_kernels;

/* Element-wise kernels take a row CLAE_CHUNK floats at a time (the CHUNK
 * of cl/common.cl); clae__chunks(cols) is the number of chunks of a row. */
enum { CLAE_CHUNK = 8 };
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

clae_status clae__kernels_create(clae_context *ctx, clae_kernels *kernels);
void clae__kernels_release(clae_kernels *kernels);

/* An activation and its parameter (leaky_relu's slope, elu's alpha). */
typedef struct {
    clae_activation kind;
    float param;
} clae_act;

/* z (rows, cols) += bias (cols at bias_off of params); a = act(z), where
 * softmax counts as linear (clae__softmax_rows follows). */
clae_status clae__bias_act_forward(clae_context *ctx, cl_mem z, cl_mem a,
                                   cl_mem params, size_t bias_off, size_t rows,
                                   size_t cols, clae_act act);

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

/* A launch of a loss kernel over out (rows, cols), plus bias (cols at
 * bias_off) when bias is not NULL, against target (rows, cols at
 * target_off). */
typedef struct {
    cl_mem out, bias, target;
    size_t bias_off, target_off;
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

/* dst (rows, cols) row r = src row index[index_off + r]. */
clae_status clae__gather_rows(clae_context *ctx, cl_mem dst, cl_mem src,
                              cl_mem index, size_t index_off, size_t rows,
                              size_t cols);

/* One Adam step over n parameters; step_size and v_scale carry the bias
 * corrections (see cl/optim.cl). */
clae_status clae__adam_update(clae_context *ctx, cl_mem p, cl_mem g, cl_mem m,
                              cl_mem v, size_t n, float step_size, float beta1,
                              float beta2, float eps, float v_scale);

clae_status clae__sgd_update(clae_context *ctx, cl_mem p, cl_mem g, size_t n,
                             float lr);

#endif
