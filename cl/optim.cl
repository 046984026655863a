/* Optimizer updates over the whole flat parameter buffer, one launch a step,
 * and what may come before them: the weight penalties' sums and gradients,
 * and gradient clipping by global norm.
 * p, g, m, v are (n) with the same layout. Global size ceil(n / CHUNK)
 * rounded up to whole work-groups (items past n do nothing) unless a
 * kernel says otherwise. */

/* Adam (Kingma & Ba, as PyTorch computes it): step_size = lr / (1 - beta1^t),
 * v_scale = 1 / sqrt(1 - beta2^t), both from the host for step t. decay is
 * AdamW's decoupled weight decay lr * weight_decay (0 for Adam), applied to
 * p before the Adam step as torch.optim.AdamW does. */
__kernel void adam_update(__global float *p, __global const float *g,
                          __global float *m, __global float *v, uint n,
                          float step_size, float beta1, float beta2, float eps,
                          float v_scale, float decay)
{
    const uint i = get_global_id(0) * CHUNK;
    if (i >= n) return; /* the launch rounds up to whole groups */
    const uint w = chunk_width(i, n);
    const float16 gi = load_chunk(g + i, w);
    const float16 mi = beta1 * load_chunk(m + i, w) + (1.0f - beta1) * gi;
    const float16 vi = beta2 * load_chunk(v + i, w) + (1.0f - beta2) * gi * gi;
    const float16 pi = load_chunk(p + i, w) * (1.0f - decay);
    store_chunk(m + i, mi, w);
    store_chunk(v + i, vi, w);
    store_chunk(p + i, pi - step_size * mi / (sqrt(vi) * v_scale + eps), w);
}

/* Plain stochastic gradient descent. */
__kernel void sgd_update(__global float *p, __global const float *g, uint n,
                         float lr)
{
    const uint i = get_global_id(0) * CHUNK;
    if (i >= n) return; /* the launch rounds up to whole groups */
    const uint w = chunk_width(i, n);
    store_chunk(p + i, load_chunk(p + i, w) - lr * load_chunk(g + i, w), w);
}

/* SGD with momentum as torch.optim.SGD (no dampening): buf = momentum buf +
 * g; p -= lr (g + momentum buf) with Nesterov, else p -= lr buf. buf starts
 * at zero, so the first step's buf is g, as PyTorch's. */
__kernel void sgd_momentum_update(__global float *p, __global const float *g,
                                  __global float *buf, uint n, float lr,
                                  float momentum, uint nesterov)
{
    const uint i = get_global_id(0) * CHUNK;
    if (i >= n) return; /* the launch rounds up to whole groups */
    const uint w = chunk_width(i, n);
    const float16 gi = load_chunk(g + i, w);
    const float16 bi = momentum * load_chunk(buf + i, w) + gi;
    const float16 step = nesterov ? gi + momentum * bi : bi;
    store_chunk(buf + i, bi, w);
    store_chunk(p + i, load_chunk(p + i, w) - lr * step, w);
}

/* RMSprop: v = rho v + (1 - rho) g^2; p -= lr g / (sqrt(v) + eps). */
__kernel void rmsprop_update(__global float *p, __global const float *g,
                             __global float *v, uint n, float lr, float rho,
                             float eps)
{
    const uint i = get_global_id(0) * CHUNK;
    if (i >= n) return; /* the launch rounds up to whole groups */
    const uint w = chunk_width(i, n);
    const float16 gi = load_chunk(g + i, w);
    const float16 vi = rho * load_chunk(v + i, w) + (1.0f - rho) * gi * gi;
    store_chunk(v + i, vi, w);
    store_chunk(p + i, load_chunk(p + i, w) - lr * gi / (sqrt(vi) + eps), w);
}

/* Floats each item of penalty_sums reduces; the host's CLAE_SUM_BLOCK. */
#ifndef SUM_BLOCK
#define SUM_BLOCK 1024
#endif

/* Over x (n floats at off), in blocks of SUM_BLOCK: sums[sums_off + k] =
 * block k's sum of l1 |x| + l2 x^2 (its lanes, then lanes in order: the same
 * result on every run). With add_grad, grads (x's layout, also at off) +=
 * l1 sign(x) + 2 l2 x, the penalty's gradient.
 * The weight penalties use both; clipping uses l1 = 0, l2 = 1 on the
 * gradients for their squared norm. Global size (ceil(n / SUM_BLOCK)). */
__kernel void penalty_sums(__global const float *x, uint off, uint n,
                           float l1, float l2, __global float *grads,
                           uint add_grad, __global float *sums, uint sums_off)
{
    const uint block = get_global_id(0), start = block * SUM_BLOCK;
    const uint end = n - start < SUM_BLOCK ? n : start + SUM_BLOCK;
    float16 whole = 0.0f; /* the full chunks, per lane */
    float tail = 0.0f;   /* x's partial last chunk */
    for (uint i = start; i < end; i += CHUNK) {
        const uint w = chunk_width(i, n);
        const float16 xi = load_chunk(x + off + i, w);
        const float16 term = l1 * fabs(xi) + l2 * xi * xi;
        if (w == CHUNK) whole += term;
        else tail = chunk_sum(term, w);
        if (add_grad)
            store_chunk(grads + off + i,
                        load_chunk(grads + off + i, w) + l1 * sign(xi) +
                            2.0f * l2 * xi,
                        w);
    }
    sums[sums_off + block] = chunk_sum(whole, CHUNK) + tail;
}

/* One item: scale[0] = min(1, max_norm / (norm + 1e-6)), the factor of
 * torch.nn.utils.clip_grad_norm_, where norm^2 is the sum of sums[0 ..
 * count), added in order. */
__kernel void clip_scale(__global const float *sums, uint count,
                         float max_norm, __global float *scale)
{
    float sum = 0.0f;
    for (uint i = 0; i < count; i++) sum += sums[i];
    scale[0] = fmin(1.0f, max_norm / (sqrt(sum) + 1e-6f));
}

/* x (n) *= scale[0]. */
__kernel void scale_by(__global float *x, uint n, __global const float *scale)
{
    const uint i = get_global_id(0) * CHUNK;
    if (i >= n) return; /* the launch rounds up to whole groups */
    const uint w = chunk_width(i, n);
    store_chunk(x + i, load_chunk(x + i, w) * scale[0], w);
}
