/* Optimizer updates over the whole flat parameter buffer, one launch a step.
 * p, g, m, v are (n) with the same layout. Global size (n). */

/* Adam (Kingma & Ba, as PyTorch computes it): step_size = lr / (1 - beta1^t),
 * v_scale = 1 / sqrt(1 - beta2^t), both from the host for step t. */
__kernel void adam_update(__global float *p, __global const float *g,
                          __global float *m, __global float *v, float step_size,
                          float beta1, float beta2, float eps, float v_scale)
{
    const size_t i = get_global_id(0);
    const float gi = g[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * mi / (sqrt(vi) * v_scale + eps);
}

/* Plain stochastic gradient descent. */
__kernel void sgd_update(__global float *p, __global const float *g, float lr)
{
    const size_t i = get_global_id(0);
    p[i] -= lr * g[i];
}
