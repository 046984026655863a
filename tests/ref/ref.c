#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref.h"

void ref_gemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb,
              float beta, float *c, size_t ldc)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double sum = 0.0;
            for (size_t p = 0; p < k; p++)
                sum += (double)(ta ? a[p * lda + i] : a[i * lda + p]) *
                       (double)(tb ? b[j * ldb + p] : b[p * ldb + j]);
            double prior = beta == 0.0f ? 0.0 : (double)beta * c[i * ldc + j];
            c[i * ldc + j] = (float)(alpha * sum + prior);
        }
}

float ref_activate(clae_activation act, float z)
{
    switch (act) {
    case CLAE_ACT_RELU: return z > 0.0f ? z : 0.0f;
    case CLAE_ACT_SIGMOID: return (float)(1.0 / (1.0 + exp(-(double)z)));
    case CLAE_ACT_TANH: return (float)tanh((double)z);
    default: return z;
    }
}

static double derivative_from_output(clae_activation act, double y)
{
    switch (act) {
    case CLAE_ACT_RELU: return y > 0.0 ? 1.0 : 0.0;
    case CLAE_ACT_SIGMOID: return y * (1.0 - y);
    case CLAE_ACT_TANH: return 1.0 - y * y;
    default: return 1.0;
    }
}

void ref_bias_act_forward(float *z, float *a, const float *bias, size_t rows,
                          size_t cols, clae_activation act)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            size_t i = r * cols + c;
            z[i] += bias[c];
            a[i] = ref_activate(act, z[i]);
        }
}

void ref_bias_act_backward(float *dz, const float *a, size_t rows, size_t cols,
                           clae_activation act, float *grad)
{
    for (size_t c = 0; c < cols; c++) {
        double sum = 0.0;
        for (size_t r = 0; r < rows; r++) {
            size_t i = r * cols + c;
            if (act != CLAE_ACT_LINEAR)
                dz[i] = (float)(dz[i] * derivative_from_output(act, a[i]));
            sum += dz[i];
        }
        grad[c] = (float)sum;
    }
}

/* Loss of one element and its derivative with respect to the output. */
static double element_loss(clae_loss_kernel kind, double y, double t,
                           double *dy)
{
    const double eps = 1e-7;
    if (kind == CLAE_LOSS_KERNEL_BCE_LOGITS) {
        double s = 1.0 / (1.0 + exp(-y));
        *dy = s - t;
        return (y > 0 ? y : 0) - y * t + log1p(exp(-fabs(y)));
    }
    if (kind == CLAE_LOSS_KERNEL_BCE) {
        double p = y < eps ? eps : y > 1 - eps ? 1 - eps : y;
        *dy = (y > eps && y < 1 - eps) ? (p - t) / (p * (1 - p)) : 0.0;
        return -(t * log(p) + (1 - t) * log(1 - p));
    }
    *dy = 2.0 * (y - t);
    return (y - t) * (y - t);
}

/* The loss kernels' output value at (r, c). */
static float loss_input(const ref_loss_input *in, size_t r, size_t c)
{
    float v = in->out[r * in->cols + c];
    return in->bias ? v + in->bias[c] : v;
}

void ref_loss_rows(const ref_loss_input *in, float *sample_loss)
{
    for (size_t r = 0; r < in->rows; r++) {
        double sum = 0.0, dy;
        for (size_t c = 0; c < in->cols; c++)
            sum += element_loss(in->kind, loss_input(in, r, c),
                                in->target[r * in->cols + c], &dy);
        sample_loss[r] = (float)sum;
    }
}

void ref_loss_backward(const ref_loss_input *in, clae_activation act,
                       float grad_scale, float *grad, float *bias_grad,
                       float *chunk_loss)
{
    size_t chunks = (in->cols + CLAE_CHUNK - 1) / CLAE_CHUNK;
    for (size_t k = 0; k < chunks; k++) chunk_loss[k] = 0.0f;
    for (size_t c = 0; c < in->cols; c++) {
        double loss = 0.0, column = 0.0;
        for (size_t r = 0; r < in->rows; r++) {
            size_t i = r * in->cols + c;
            double y = loss_input(in, r, c), dy;
            loss += element_loss(in->kind, y, in->target[i], &dy);
            dy *= derivative_from_output(act, y) * grad_scale;
            grad[i] = (float)dy;
            column += dy;
        }
        bias_grad[c] = (float)column;
        chunk_loss[c / CLAE_CHUNK] += (float)loss;
    }
}

void ref_gather_rows(float *dst, const float *src, const unsigned *index,
                     size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++)
        memcpy(dst + r * cols, src + (size_t)index[r] * cols,
               cols * sizeof *dst);
}

void ref_adam(float *p, const float *g, float *m, float *v, size_t n, float lr,
              float beta1, float beta2, float eps, unsigned t)
{
    ref_adamw(p, g, m, v, n, lr, beta1, beta2, eps, 0.0f, t);
}

void ref_adamw(float *p, const float *g, float *m, float *v, size_t n,
               float lr, float beta1, float beta2, float eps,
               float weight_decay, unsigned t)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (float)(p[i] * (1.0 - (double)lr * weight_decay));
        m[i] = (float)(beta1 * (double)m[i] + (1.0 - beta1) * g[i]);
        v[i] = (float)(beta2 * (double)v[i] + (1.0 - beta2) * g[i] * g[i]);
        double mhat = m[i] / (1.0 - pow(beta1, t));
        double vhat = v[i] / (1.0 - pow(beta2, t));
        p[i] = (float)(p[i] - lr * mhat / (sqrt(vhat) + eps));
    }
}

void ref_sgd(float *p, const float *g, size_t n, float lr)
{
    for (size_t i = 0; i < n; i++) p[i] -= lr * g[i];
}

void ref_sgd_momentum(float *p, const float *g, float *buf, size_t n, float lr,
                      float momentum, int nesterov)
{
    for (size_t i = 0; i < n; i++) {
        buf[i] = (float)((double)momentum * buf[i] + g[i]);
        double step = nesterov ? g[i] + (double)momentum * buf[i] : buf[i];
        p[i] = (float)(p[i] - lr * step);
    }
}

void ref_rmsprop(float *p, const float *g, float *v, size_t n, float lr,
                 float rho, float eps)
{
    for (size_t i = 0; i < n; i++) {
        v[i] = (float)((double)rho * v[i] + (1.0 - rho) * g[i] * (double)g[i]);
        p[i] = (float)(p[i] - lr * (double)g[i] / (sqrt((double)v[i]) + eps));
    }
}

static double sign_of(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }

void ref_penalty_sums(const float *x, size_t n, size_t block, float l1,
                      float l2, float *grads, float *sums)
{
    for (size_t k = 0; k * block < n; k++) {
        double sum = 0.0;
        for (size_t i = k * block; i < n && i < (k + 1) * block; i++) {
            sum += l1 * fabs((double)x[i]) + (double)l2 * x[i] * x[i];
            if (grads)
                grads[i] = (float)(grads[i] + l1 * sign_of(x[i]) +
                                   2.0 * l2 * x[i]);
        }
        sums[k] = (float)sum;
    }
}

void ref_clip_grad_norm(float *g, size_t n, float max_norm)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)g[i] * g[i];
    double scale = max_norm / (sqrt(sum) + 1e-6);
    if (scale < 1.0)
        for (size_t i = 0; i < n; i++) g[i] = (float)(g[i] * scale);
}

double ref_weight_penalty(const float *params, size_t input,
                          const size_t *widths, size_t count, float l1,
                          float l2)
{
    double sum = 0.0;
    size_t in = input, off = 0;
    for (size_t l = 0; l < count; l++) {
        for (size_t i = 0; i < widths[l] * in; i++) {
            double w = params[off + i];
            sum += l1 * fabs(w) + l2 * w * w;
        }
        off += widths[l] * in + widths[l];
        in = widths[l];
    }
    return sum;
}

double ref_model_loss(const float *params, size_t input, const size_t *widths,
                      const clae_activation *acts, size_t count, clae_loss loss,
                      const float *x, size_t rows)
{
    size_t widest = input;
    for (size_t l = 0; l < count; l++)
        if (widths[l] > widest) widest = widths[l];
    double *cur = malloc(rows * widest * sizeof *cur);
    double *next = malloc(rows * widest * sizeof *next);
    for (size_t i = 0; i < rows * input; i++) cur[i] = x[i];
    size_t in = input, off = 0;
    int logits = 0;
    for (size_t l = 0; l < count; l++) {
        size_t out = widths[l];
        const float *w = params + off, *b = params + off + out * in;
        int last = l + 1 == count;
        logits = last && loss == CLAE_LOSS_BCE && acts[l] == CLAE_ACT_SIGMOID;
        for (size_t r = 0; r < rows; r++)
            for (size_t o = 0; o < out; o++) {
                double z = b[o];
                for (size_t i = 0; i < in; i++)
                    z += (double)w[o * in + i] * cur[r * in + i];
                /* A sigmoid output feeding BCE stays as logits, as on the
                 * device; other activations are applied in double. */
                next[r * out + o] =
                    logits ? z
                    : acts[l] == CLAE_ACT_RELU ? (z > 0 ? z : 0)
                    : acts[l] == CLAE_ACT_SIGMOID ? 1.0 / (1.0 + exp(-z))
                    : acts[l] == CLAE_ACT_TANH ? tanh(z)
                                               : z;
            }
        double *t = cur;
        cur = next;
        next = t;
        off += out * in + out;
        in = out;
    }
    clae_loss_kernel kind = logits ? CLAE_LOSS_KERNEL_BCE_LOGITS
                            : loss == CLAE_LOSS_MSE ? CLAE_LOSS_KERNEL_MSE
                                                    : CLAE_LOSS_KERNEL_BCE;
    double sum = 0.0, dy;
    for (size_t i = 0; i < rows * input; i++)
        sum += element_loss(kind, cur[i], x[i], &dy);
    free(cur);
    free(next);
    return sum / ((double)rows * (double)input);
}
