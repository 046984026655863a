#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "philox.h"
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

double ref_activate(clae_act act, double z)
{
    switch (act.kind) {
    case CLAE_ACT_RELU: return z > 0.0 ? z : 0.0;
    case CLAE_ACT_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case CLAE_ACT_TANH: return tanh(z);
    case CLAE_ACT_LEAKY_RELU: return z > 0.0 ? z : act.param * z;
    case CLAE_ACT_ELU: return z > 0.0 ? z : act.param * expm1(z);
    default: return z; /* linear; softmax works on rows */
    }
}

double ref_act_derivative(clae_act act, double y)
{
    switch (act.kind) {
    case CLAE_ACT_RELU: return y > 0.0 ? 1.0 : 0.0;
    case CLAE_ACT_SIGMOID: return y * (1.0 - y);
    case CLAE_ACT_TANH: return 1.0 - y * y;
    case CLAE_ACT_LEAKY_RELU: return y > 0.0 ? 1.0 : act.param;
    case CLAE_ACT_ELU: return y > 0.0 ? 1.0 : y + act.param;
    default: return 1.0;
    }
}

void ref_softmax_rows(double *a, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++) {
        double *row = a + r * cols, top = row[0], sum = 0.0;
        for (size_t c = 1; c < cols; c++) top = row[c] > top ? row[c] : top;
        for (size_t c = 0; c < cols; c++) sum += (row[c] = exp(row[c] - top));
        for (size_t c = 0; c < cols; c++) row[c] /= sum;
    }
}

void ref_softmax_backward_rows(float *g, const float *y, size_t rows,
                               size_t cols)
{
    for (size_t r = 0; r < rows; r++) {
        float *gr = g + r * cols;
        const float *yr = y + r * cols;
        double dot = 0.0;
        for (size_t c = 0; c < cols; c++) dot += (double)gr[c] * yr[c];
        for (size_t c = 0; c < cols; c++)
            gr[c] = (float)(yr[c] * (gr[c] - dot));
    }
}

void ref_bias_act_forward(float *z, float *a, const float *bias, size_t period,
                          size_t rows, size_t cols, clae_act act)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            size_t i = r * cols + c;
            z[i] += bias[c % period];
            a[i] = (float)ref_activate(act, z[i]);
        }
}

void ref_bias_act_backward(float *dz, const float *a, size_t rows, size_t cols,
                           clae_act act, float *grad)
{
    for (size_t c = 0; c < cols; c++) {
        double sum = 0.0;
        for (size_t r = 0; r < rows; r++) {
            size_t i = r * cols + c;
            if (act.kind != CLAE_ACT_LINEAR)
                dz[i] = (float)(dz[i] * ref_act_derivative(act, a[i]));
            sum += dz[i];
        }
        grad[c] = (float)sum;
    }
}

/* Loss of one element and its derivative with respect to the output. */
double ref_element_loss(clae_loss_kernel kind, double y, double t, double *dy)
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
    if (kind == CLAE_LOSS_KERNEL_CCE) {
        double p = y < eps ? eps : y > 1 - eps ? 1 - eps : y;
        *dy = (y > eps && y < 1 - eps) ? -t / p : 0.0;
        return -t * log(p);
    }
    if (kind == CLAE_LOSS_KERNEL_MAE) {
        *dy = y > t ? 1.0 : y < t ? -1.0 : 0.0;
        return fabs(y - t);
    }
    *dy = 2.0 * (y - t);
    return (y - t) * (y - t);
}

/* The loss kernels' output value at (r, c). */
static float loss_input(const ref_loss_input *in, size_t r, size_t c)
{
    float v = in->out[r * in->cols + c];
    return in->bias ? v + in->bias[c % in->bias_period] : v;
}

void ref_loss_rows(const ref_loss_input *in, float *sample_loss)
{
    for (size_t r = 0; r < in->rows; r++) {
        double sum = 0.0, dy;
        for (size_t c = 0; c < in->cols; c++)
            sum += ref_element_loss(in->kind, loss_input(in, r, c),
                                in->target[r * in->cols + c], &dy);
        sample_loss[r] = (float)sum;
    }
}

void ref_loss_backward(const ref_loss_input *in, clae_act act,
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
            loss += ref_element_loss(in->kind, y, in->target[i], &dy);
            dy *= ref_act_derivative(act, y) * grad_scale;
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

/* Column c's share of the activity penalty, and in *kl_grad its KL
 * term's derivative by each of the column's activations. The column's
 * mean is kept inside [1e-6, 1 - 1e-6] as the kernel keeps it (its float
 * bounds). */
static double column_penalty(const double *a, size_t rows, size_t cols,
                             size_t c, float l1, float rho, float beta,
                             double *kl_grad)
{
    double sum = 0.0, magnitude = 0.0;
    for (size_t r = 0; r < rows; r++) {
        sum += a[r * cols + c];
        magnitude += fabs(a[r * cols + c]);
    }
    double value = l1 * magnitude / (double)rows;
    *kl_grad = 0.0;
    if (beta > 0.0f) {
        const double lo = 1e-6f, hi = 1.0f - 1e-6f, m = sum / (double)rows,
                     mean = m < lo ? lo : m > hi ? hi : m;
        value += beta * (rho * log(rho / mean) +
                         (1.0 - rho) * log((1.0 - rho) / (1.0 - mean)));
        *kl_grad = beta * ((1.0 - rho) / (1.0 - mean) - rho / mean) /
                   (double)rows;
    }
    return value;
}

double ref_activity_penalty(const double *a, size_t rows, size_t cols,
                            float l1, float rho, float beta, float *g,
                            float *chunk_sums)
{
    double total = 0.0, chunk = 0.0, kl_grad;
    for (size_t c = 0; c < cols; c++) {
        chunk += column_penalty(a, rows, cols, c, l1, rho, beta, &kl_grad);
        for (size_t r = 0; g && r < rows; r++) {
            const size_t i = r * cols + c;
            g[i] = (float)(g[i] + l1 * sign_of(a[i]) / (double)rows + kl_grad);
        }
        if (c % CLAE_CHUNK == CLAE_CHUNK - 1 || c + 1 == cols) {
            if (chunk_sums) chunk_sums[c / CLAE_CHUNK] = (float)chunk;
            total += chunk;
            chunk = 0.0;
        }
    }
    return total;
}

void ref_clip_grad_norm(float *g, size_t n, float max_norm)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)g[i] * g[i];
    double scale = max_norm / (sqrt(sum) + 1e-6);
    if (scale < 1.0)
        for (size_t i = 0; i < n; i++) g[i] = (float)(g[i] * scale);
}

/* Word `index` of (seed, stream, substream), one Philox block per call:
 * slow, and plain. */
static uint32_t ref_word(uint64_t seed, uint32_t stream, uint32_t substream,
                         size_t index)
{
    uint32_t block[4];
    clae__random_block(seed, stream, substream, index / 4, block);
    return block[index % 4];
}

static float ref_unit(uint32_t word)
{
    return (float)((double)(word >> 8) / 16777216.0);
}

void ref_corrupt(float *noisy, const float *clean, size_t n,
                 clae_noise_kernel kind, float amount, uint64_t seed,
                 uint32_t substream)
{
    if (kind == CLAE_NOISE_KERNEL_GAUSSIAN) {
        clae__random_normal(noisy, n, seed, CLAE_STREAM_NOISE, substream, 0.0f,
                            1.0f);
        for (size_t i = 0; i < n; i++) noisy[i] = clean[i] + amount * noisy[i];
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t word = ref_word(seed, CLAE_STREAM_NOISE, substream, i);
        float fill = kind == CLAE_NOISE_KERNEL_MASK ? 0.0f : (float)(word & 1);
        noisy[i] = ref_unit(word) < amount ? fill : clean[i];
    }
}

void ref_dropout_forward(float *a, float *multiplier, const float *x, size_t n,
                         float p, uint64_t seed, uint32_t substream)
{
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        uint32_t word = ref_word(seed, CLAE_STREAM_DROPOUT, substream, i);
        multiplier[i] = ref_unit(word) < p ? 0.0f : scale;
        a[i] = x[i] * multiplier[i];
    }
}

void ref_dropout_backward(float *g, const float *multiplier, size_t n)
{
    for (size_t i = 0; i < n; i++) g[i] *= multiplier[i];
}

void ref_latent_forward(float *stats, const float *bias, const float *eps,
                        float *z, float *kl, size_t rows, size_t k,
                        int sample)
{
    for (size_t r = 0; r < rows; r++) {
        float *mu = stats + r * 2 * k, *lv = mu + k;
        double sum = 0.0;
        for (size_t j = 0; j < k; j++) {
            mu[j] += bias[j];
            lv[j] += bias[k + j];
            z[r * k + j] = sample ? (float)(mu[j] + exp(0.5 * lv[j]) *
                                                        eps[r * k + j])
                                  : mu[j];
            sum += 1.0 + lv[j] - (double)mu[j] * mu[j] - exp(lv[j]);
        }
        kl[r] = (float)(-0.5 * sum);
    }
}

void ref_latent_backward(float *stats, const float *eps, const float *g,
                         size_t rows, size_t k, float kl_scale)
{
    for (size_t r = 0; r < rows; r++) {
        float *mu = stats + r * 2 * k, *lv = mu + k;
        for (size_t j = 0; j < k; j++) {
            const double dz = g[r * k + j];
            mu[j] = (float)(dz + kl_scale * mu[j]);
            lv[j] = (float)(0.5 * (dz * eps[r * k + j] * exp(0.5 * lv[j]) +
                                   kl_scale * (exp(lv[j]) - 1.0)));
        }
    }
}
