/* Optimizer updates over the whole flat parameter buffer, one launch a step.
 * p, g, m, v are (n) with the same layout. Global size (ceil(n / CHUNK)). */

/* Adam (Kingma & Ba, as PyTorch computes it): step_size = lr / (1 - beta1^t),
 * v_scale = 1 / sqrt(1 - beta2^t), both from the host for step t. */
__kernel void adam_update(__global float *p, __global const float *g,
                          __global float *m, __global float *v, uint n,
                          float step_size, float beta1, float beta2, float eps,
                          float v_scale)
{
    const uint i = get_global_id(0) * CHUNK, w = chunk_width(i, n);
    const float8 gi = load_chunk(g + i, w);
    const float8 mi = beta1 * load_chunk(m + i, w) + (1.0f - beta1) * gi;
    const float8 vi = beta2 * load_chunk(v + i, w) + (1.0f - beta2) * gi * gi;
    store_chunk(m + i, mi, w);
    store_chunk(v + i, vi, w);
    store_chunk(p + i,
                load_chunk(p + i, w) - step_size * mi / (sqrt(vi) * v_scale + eps),
                w);
}

/* Plain stochastic gradient descent. */
__kernel void sgd_update(__global float *p, __global const float *g, uint n,
                         float lr)
{
    const uint i = get_global_id(0) * CHUNK, w = chunk_width(i, n);
    store_chunk(p + i, load_chunk(p + i, w) - lr * load_chunk(g + i, w), w);
}
