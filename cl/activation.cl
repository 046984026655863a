/* Activations: the fused bias + activation of a dense layer's forward pass
 * and its fused backward pass (activation gradient and bias gradient).
 * Shapes: z, a, dz are (rows, cols) row-major; bias is (cols) at bias_off in
 * the flat parameter buffer. act is one of the ACT_ values of common.cl. */

/* z += bias (in place, kept for the backward pass) and a = act(z).
 * Global size (ceil(cols / CHUNK), rows). */
__kernel void bias_act_forward(__global float *z, __global float *a,
                               __global const float *params, uint bias_off,
                               uint cols, uint act)
{
    const uint c0 = get_global_id(0) * CHUNK, n = chunk_width(c0, cols);
    const size_t at = get_global_id(1) * cols + c0;
    const float8 v = load_chunk(z + at, n) + load_chunk(params + bias_off + c0, n);
    store_chunk(z + at, v, n);
    float8 y = v;
    if (act == ACT_RELU) y = fmax(v, 0.0f);
    else if (act == ACT_SIGMOID) y = 1.0f / (1.0f + exp(-v));
    else if (act == ACT_TANH) y = tanh(v);
    store_chunk(a + at, y, n);
}

/* The backward pass through activation and bias, fused: dz *= act'(.) in
 * place, from the output a (a is not read for linear), and grad[grad_off +
 * c] = the sum of column c of dz over the rows, in order, so the result is
 * the same on every run. One item per chunk of columns, so the dz it scales
 * is still in cache when it sums it. Global size (ceil(cols / CHUNK)). */
__kernel void bias_act_backward(__global float *dz, __global const float *a,
                                __global float *grad, uint grad_off,
                                uint rows, uint cols, uint act)
{
    const uint c0 = get_global_id(0) * CHUNK, n = chunk_width(c0, cols);
    float8 sum = 0.0f;
    for (uint r = 0; r < rows; r++) {
        const size_t at = (size_t)r * cols + c0;
        float8 d = load_chunk(dz + at, n);
        if (act != ACT_LINEAR) {
            d *= act_derivative(act, load_chunk(a + at, n));
            store_chunk(dz + at, d, n);
        }
        sum += d;
    }
    store_chunk(grad + grad_off + c0, sum, n);
}
