/* Losses: per-sample loss sums and the gradient of the mean loss.
 * Shapes: out, target, grad are (rows, cols) row-major.
 * kind: 0 bce on probabilities, 1 mse, 2 bce on logits (out is the
 * pre-sigmoid z of a sigmoid output layer, which is stable for any z). */

#define LOSS_BCE 0
#define LOSS_MSE 1
#define LOSS_BCE_LOGITS 2

/* Keras clips probabilities to [EPS, 1 - EPS] before the log. */
#define EPS 1e-7f

/* The loss of each lane, and its derivative in *dv. */
float8 loss8(uint kind, float8 v, float8 t, float8 *dv)
{
    if (kind == LOSS_BCE_LOGITS) {
        /* One exp serves both: e = exp(-|v|) never overflows, and
         * sigmoid(v) is 1 / (1 + e) or e / (1 + e) by the sign of v. */
        const float8 e = exp(-fabs(v));
        *dv = select(e, (float8)1.0f, isgreaterequal(v, 0.0f)) / (1.0f + e) - t;
        return fmax(v, 0.0f) - v * t + log1p(e);
    }
    if (kind == LOSS_BCE) {
        const float8 p = clamp(v, EPS, 1.0f - EPS);
        const int8 inside = isgreater(v, EPS) & isless(v, 1.0f - EPS);
        *dv = select((float8)0.0f, (p - t) / (p * (1.0f - p)), inside);
        return -(t * log(p) + (1.0f - t) * log(1.0f - p));
    }
    const float8 d = v - t;
    *dv = 2.0f * d;
    return d * d;
}

/* partial (rows, chunks) = each chunk's loss sum, where chunks =
 * ceil(cols / CHUNK); when write_grad, grad = grad_scale * d loss / d out
 * (grad_scale is 1 / (rows * cols): the mean over all elements).
 * Global size (chunks, rows). */
__kernel void loss_chunks(__global const float *out,
                          __global const float *target, uint target_off,
                          __global float *grad, __global float *partial,
                          uint cols, uint kind, float grad_scale,
                          uint write_grad)
{
    const uint chunk = get_global_id(0), chunks = get_global_size(0);
    const size_t row = get_global_id(1);
    const uint c0 = chunk * CHUNK, n = chunk_width(c0, cols);
    const size_t at = row * cols + c0;
    float8 dv;
    const float8 loss = loss8(kind, load_chunk(out + at, n),
                              load_chunk(target + target_off + at, n), &dv);
    if (write_grad) store_chunk(grad + at, dv * grad_scale, n);
    partial[row * chunks + chunk] = chunk_sum(loss, n);
}

/* sample_loss[loss_off + r] = the sum of row r of partial (rows, chunks),
 * in order, so the result is the same on every run. Global size (rows). */
__kernel void loss_row_sums(__global const float *partial, uint chunks,
                            __global float *sample_loss, uint loss_off)
{
    const size_t row = get_global_id(0);
    float sum = 0.0f;
    for (uint k = 0; k < chunks; k++) sum += partial[row * chunks + k];
    sample_loss[loss_off + row] = sum;
}
