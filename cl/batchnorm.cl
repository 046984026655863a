/* Batch normalisation over the rows of a batch, per feature (column), as
 * torch.nn.BatchNorm1d computes it, followed by the layer's activation.
 * x, xhat, a, g, dx are (rows, cols) row-major; gamma and beta are (cols)
 * at gamma_off and gamma_off + cols of the parameters; the running mean
 * and variance (cols each) at state_off of the state; invstd (cols) is the
 * batch's 1 / sqrt(var + eps), kept for the backward pass. One item per
 * chunk of columns walks the rows in order, so the sums are the same on
 * every run. Global size (ceil(cols / CHUNK)). */

/* Training (training != 0): normalise by the batch's mean and biased
 * variance and move the running statistics by momentum (the running
 * variance takes the unbiased one, as PyTorch). Evaluation: normalise by
 * the running statistics. Then xhat = the normalised x, a = act(gamma *
 * xhat + beta). */
__kernel void batchnorm_forward(__global const float *x, uint x_off,
                                __global float *xhat, __global float *a,
                                __global const float *params, uint gamma_off,
                                __global float *state, uint state_off,
                                __global float *invstd, uint rows, uint cols,
                                uint training, float momentum, float eps,
                                uint act, float act_param)
{
    const uint c0 = get_global_id(0) * CHUNK, n = chunk_width(c0, cols);
    __global const float *in = x + x_off;
    __global float *running_mean = state + state_off,
                   *running_var = state + state_off + cols;
    float16 mean = load_chunk(running_mean + c0, n),
           var = load_chunk(running_var + c0, n);
    if (training) {
        float16 sum = 0.0f, squares = 0.0f;
        for (uint r = 0; r < rows; r++)
            sum += load_chunk(in + (size_t)r * cols + c0, n);
        mean = sum / (float)rows;
        for (uint r = 0; r < rows; r++) {
            const float16 d = load_chunk(in + (size_t)r * cols + c0, n) - mean;
            squares += d * d;
        }
        var = squares / (float)rows;
        const float16 unbiased = rows > 1 ? squares / (float)(rows - 1) : var;
        store_chunk(running_mean + c0,
                    (1.0f - momentum) * load_chunk(running_mean + c0, n) +
                        momentum * mean, n);
        store_chunk(running_var + c0,
                    (1.0f - momentum) * load_chunk(running_var + c0, n) +
                        momentum * unbiased, n);
    }
    const float16 inv = rsqrt(var + eps);
    if (training) store_chunk(invstd + c0, inv, n);
    const float16 gamma = load_chunk(params + gamma_off + c0, n),
                 beta = load_chunk(params + gamma_off + cols + c0, n);
    for (uint r = 0; r < rows; r++) {
        const size_t at = (size_t)r * cols + c0;
        const float16 h = (load_chunk(in + at, n) - mean) * inv;
        store_chunk(xhat + at, h, n);
        store_chunk(a + at, act_forward(act, gamma * h + beta, act_param), n);
    }
}

/* Given g = dLoss/da: dy = g * act'(.) from a; the gradients of gamma and
 * beta (sums over rows of dy * xhat and dy) into grads at grad_off and
 * grad_off + cols; when write_dx, dx = gamma * invstd / rows * (rows * dy -
 * sum dy - xhat * sum dy * xhat), dLoss/dx of the training pass. */
__kernel void batchnorm_backward(__global const float *g,
                                 __global const float *a,
                                 __global const float *xhat,
                                 __global const float *invstd,
                                 __global const float *params, uint gamma_off,
                                 __global float *grads, uint grad_off,
                                 __global float *dx, uint write_dx, uint rows,
                                 uint cols, uint act, float act_param)
{
    const uint c0 = get_global_id(0) * CHUNK, n = chunk_width(c0, cols);
    float16 sum_dy = 0.0f, sum_dy_xhat = 0.0f;
    for (uint r = 0; r < rows; r++) {
        const size_t at = (size_t)r * cols + c0;
        const float16 dy = load_chunk(g + at, n) *
                          act_derivative(act, load_chunk(a + at, n), act_param);
        sum_dy += dy;
        sum_dy_xhat += dy * load_chunk(xhat + at, n);
    }
    store_chunk(grads + grad_off + c0, sum_dy_xhat, n);
    store_chunk(grads + grad_off + cols + c0, sum_dy, n);
    if (!write_dx) return;
    const float16 scale = load_chunk(params + gamma_off + c0, n) *
                         load_chunk(invstd + c0, n) / (float)rows;
    for (uint r = 0; r < rows; r++) {
        const size_t at = (size_t)r * cols + c0;
        const float16 dy = load_chunk(g + at, n) *
                          act_derivative(act, load_chunk(a + at, n), act_param);
        store_chunk(dx + at,
                    scale * ((float)rows * dy - sum_dy -
                             load_chunk(xhat + at, n) * sum_dy_xhat), n);
    }
}
