/* Activations: the fused bias + activation of a dense layer's forward pass
 * and its fused backward pass (activation gradient and bias gradient).
 * Shapes: z, a, dz are (rows, cols) row-major; bias is (cols) at bias_off in
 * the flat parameter buffer. act is one of the ACT_ values of common.cl. */

/* z += bias (in place, kept for the backward pass) and a = act(z); the
 * bias repeats every period columns (load_bias).
 * Global size (ceil(cols / CHUNK), rows). */
__kernel void bias_act_forward(__global float *z, __global float *a,
                               __global const float *params, uint bias_off,
                               uint period, uint cols, uint act, float param)
{
    const uint c0 = get_global_id(0) * CHUNK, n = chunk_width(c0, cols);
    const size_t at = get_global_id(1) * cols + c0;
    const float16 v =
        load_chunk(z + at, n) + load_bias(params + bias_off, c0, n, period);
    store_chunk(z + at, v, n);
    store_chunk(a + at, act_forward(act, v, param), n);
}

/* bias_act_backward's work on one chunk of columns, dz and a pointing at
 * the chunk's first row: the column sums of dz after scaling. */
inline float16 scale_column(__global float *dz, __global const float *a,
                           uint rows, uint cols, uint n, uint act,
                           float param)
{
    float16 sum = 0.0f;
    for (uint r = 0; r < rows; r++) {
        const size_t at = (size_t)r * cols;
        float16 d = load_chunk(dz + at, n);
        if (act != ACT_LINEAR) {
            d *= act_derivative(act, load_chunk(a + at, n), param);
            store_chunk(dz + at, d, n);
        }
        sum += d;
    }
    return sum;
}

/* The backward pass through activation and bias, fused: dz *= act'(.) in
 * place, from the output a (a is not read for linear), and grad[grad_off +
 * c] = the sum of column c of dz over the rows, in order, so the result is
 * the same on every run. One item per chunk of columns, so the dz it scales
 * is still in cache when it sums it. Global size (ceil(cols / CHUNK)). */
__kernel void bias_act_backward(__global float *dz, __global const float *a,
                                __global float *grad, uint grad_off,
                                uint rows, uint cols, uint act, float param)
{
    const uint c0 = get_global_id(0) * CHUNK, n = chunk_width(c0, cols);
    /* A constant act takes its branches out of the loop (as in loss.cl). */
    const float16 sum =
        act == ACT_RELU
            ? scale_column(dz + c0, a + c0, rows, cols, n, ACT_RELU, param)
            : scale_column(dz + c0, a + c0, rows, cols, n, act, param);
    store_chunk(grad + grad_off + c0, sum, n);
}

/* Softmax over each row of a (rows, cols), in place: a = exp(a - max) /
 * sum. One item per row; global size (rows). */
__kernel void softmax_rows(__global float *a, uint cols)
{
    __global float *row = a + get_global_id(0) * cols;
    float top = -INFINITY;
    for (uint c0 = 0; c0 < cols; c0 += CHUNK) {
        const uint n = chunk_width(c0, cols);
        const float16 v = load_chunk(row + c0, n);
        const float lanes[CHUNK] = CHUNK_LANES(v);
        for (uint i = 0; i < n; i++) top = fmax(top, lanes[i]);
    }
    float sum = 0.0f;
    for (uint c0 = 0; c0 < cols; c0 += CHUNK) {
        const uint n = chunk_width(c0, cols);
        const float16 e = exp(load_chunk(row + c0, n) - top);
        store_chunk(row + c0, e, n);
        sum += chunk_sum(e, n);
    }
    const float scale = 1.0f / sum;
    for (uint c0 = 0; c0 < cols; c0 += CHUNK) {
        const uint n = chunk_width(c0, cols);
        store_chunk(row + c0, load_chunk(row + c0, n) * scale, n);
    }
}

/* The backward pass of a row softmax y: g = y * (g - sum(g * y)) per row,
 * in place (g is dLoss/dy on entry, dLoss/dz on return). Global size
 * (rows). */
__kernel void softmax_backward_rows(__global float *g, __global const float *y,
                                    uint cols)
{
    const size_t base = get_global_id(0) * cols;
    float dot = 0.0f;
    for (uint c0 = 0; c0 < cols; c0 += CHUNK) {
        const uint n = chunk_width(c0, cols);
        dot += chunk_sum(load_chunk(g + base + c0, n) *
                         load_chunk(y + base + c0, n), n);
    }
    for (uint c0 = 0; c0 < cols; c0 += CHUNK) {
        const uint n = chunk_width(c0, cols);
        const float16 yv = load_chunk(y + base + c0, n);
        store_chunk(g + base + c0, yv * (load_chunk(g + base + c0, n) - dot), n);
    }
}

/* The sparse autoencoder's penalties on the code layer's activations a
 * (rows, cols), per chunk of columns over the rows in order:
 *   l1 * sum |a| / rows (Keras's activity L1, per sample);
 *   beta * sum over units of KL(rho || mean activation of the unit in the
 *   batch), the mean clamped into (0, 1);
 * their gradients added to g = dLoss/da, and the chunk's penalty into
 * penalty[penalty_off + chunk]. Global size (ceil(cols / CHUNK)). */
__kernel void activity_penalty(__global const float *a, __global float *g,
                               uint rows, uint cols, float l1, float rho,
                               float beta, __global float *penalty,
                               uint penalty_off)
{
    const uint chunk = get_global_id(0), c0 = chunk * CHUNK;
    const uint n = chunk_width(c0, cols);
    float16 sum = 0.0f, magnitude = 0.0f;
    for (uint r = 0; r < rows; r++) {
        const float16 v = load_chunk(a + (size_t)r * cols + c0, n);
        sum += v;
        magnitude += fabs(v);
    }
    float16 value = l1 * magnitude / (float)rows, kl_grad = 0.0f;
    if (beta > 0.0f) {
        const float16 mean = clamp(sum / (float)rows, 1e-6f, 1.0f - 1e-6f);
        value += beta * (rho * log(rho / mean) +
                         (1.0f - rho) * log((1.0f - rho) / (1.0f - mean)));
        kl_grad = beta * ((1.0f - rho) / (1.0f - mean) - rho / mean) / (float)rows;
    }
    for (uint r = 0; r < rows; r++) {
        const size_t at = (size_t)r * cols + c0;
        const float16 v = load_chunk(a + at, n);
        store_chunk(g + at, load_chunk(g + at, n) + l1 * sign(v) / (float)rows +
                                kl_grad, n);
    }
    penalty[penalty_off + chunk] = chunk_sum(value, n);
}
