/* Activations: the fused bias + activation of a dense layer's forward pass
 * and the activation's backward pass.
 * Shapes: z, a, dz are (rows, cols) row-major; bias is (cols) at bias_off in
 * the flat parameter buffer. act: 0 linear, 1 relu, 2 sigmoid, 3 tanh
 * (clae_activation). */

#define ACT_LINEAR 0
#define ACT_RELU 1
#define ACT_SIGMOID 2
#define ACT_TANH 3

/* z += bias (in place, kept for the loss) and, when store_a, a = act(z).
 * Global size (ceil(cols / CHUNK), rows). */
__kernel void bias_act_forward(__global float *z, __global float *a,
                               __global const float *params, uint bias_off,
                               uint cols, uint act, uint store_a)
{
    const uint c0 = get_global_id(0) * CHUNK, n = chunk_width(c0, cols);
    const size_t at = get_global_id(1) * cols + c0;
    const float8 v = load_chunk(z + at, n) + load_chunk(params + bias_off + c0, n);
    store_chunk(z + at, v, n);
    if (!store_a) return;
    float8 y = v;
    if (act == ACT_RELU) y = fmax(v, 0.0f);
    else if (act == ACT_SIGMOID) y = 1.0f / (1.0f + exp(-v));
    else if (act == ACT_TANH) y = tanh(v);
    store_chunk(a + at, y, n);
}

/* dz = da * act'(.), in place, with the derivative taken from the output a;
 * both are (n) flat. Global size (ceil(n / CHUNK)). */
__kernel void act_backward(__global float *dz, __global const float *a, uint n,
                           uint act)
{
    const uint i = get_global_id(0) * CHUNK, w = chunk_width(i, n);
    const float8 y = load_chunk(a + i, w);
    float8 d = 1.0f;
    if (act == ACT_RELU) d = select((float8)0.0f, (float8)1.0f, y > 0.0f);
    else if (act == ACT_SIGMOID) d = y * (1.0f - y);
    else if (act == ACT_TANH) d = 1.0f - y * y;
    store_chunk(dz + i, load_chunk(dz + i, w) * d, w);
}
