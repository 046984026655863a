/* Losses: per-sample loss sums and the gradient of the mean loss.
 * Shapes: out, target, grad are (rows, cols) row-major; sample_loss gets one
 * value per row at loss_off. One work-group of WG items per row: the items
 * stride over the columns, then a tree sum in local memory gives the row's
 * loss in a fixed order (no atomics, the same bits on every run).
 * kind: 0 bce on probabilities, 1 mse, 2 bce on logits (out is the
 * pre-sigmoid z of a sigmoid output layer, which is stable for any z). */

#ifndef WG
#define WG 64
#endif

#define LOSS_BCE 0
#define LOSS_MSE 1
#define LOSS_BCE_LOGITS 2

/* Keras clips probabilities to [EPS, 1 - EPS] before the log. */
#define EPS 1e-7f

/* Writes the gradient of sum/(scale) into grad when write_grad is nonzero:
 * grad_scale is 1 / (rows * cols), the mean over all elements. */
__attribute__((reqd_work_group_size(WG, 1, 1)))
__kernel void loss_rows(__global const float *out,
                        __global const float *target, uint target_off,
                        __global float *grad, __global float *sample_loss,
                        uint loss_off, uint cols, uint kind, float grad_scale,
                        uint write_grad)
{
    __local float partial[WG];
    const size_t row = get_group_id(0);
    const size_t lane = get_local_id(0);
    __global const float *y = out + row * cols;
    __global const float *t = target + target_off + row * cols;
    __global float *g = grad + row * cols;

    float sum = 0.0f;
    for (uint c = lane; c < cols; c += WG) {
        const float v = y[c], tv = t[c];
        float loss, dv;
        if (kind == LOSS_BCE_LOGITS) {
            /* One exp serves both: e = exp(-|v|) never overflows, and
             * sigmoid(v) is 1 / (1 + e) or e / (1 + e) by the sign of v. */
            const float e = exp(-fabs(v));
            loss = fmax(v, 0.0f) - v * tv + log1p(e);
            dv = (v >= 0.0f ? 1.0f : e) / (1.0f + e) - tv;
        } else if (kind == LOSS_BCE) {
            const float p = clamp(v, EPS, 1.0f - EPS);
            loss = -(tv * log(p) + (1.0f - tv) * log(1.0f - p));
            dv = (v > EPS && v < 1.0f - EPS) ? (p - tv) / (p * (1.0f - p))
                                              : 0.0f;
        } else {
            const float d = v - tv;
            loss = d * d;
            dv = 2.0f * d;
        }
        sum += loss;
        if (write_grad) g[c] = dv * grad_scale;
    }
    partial[lane] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = WG / 2; s > 0; s >>= 1) {
        if (lane < s) partial[lane] += partial[lane + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0) sample_loss[loss_off + row] = partial[0];
}
