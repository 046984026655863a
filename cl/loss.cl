/* Losses: per-sample sums for evaluation; for training, the loss sums and
 * the output layer's gradients. Shapes: out, target, grad are (rows, cols)
 * row-major.
 * kind: 0 bce on probabilities, 1 mse, 2 bce on logits (out is the
 * pre-sigmoid z of a sigmoid output layer, which is stable for any z),
 * 3 mae, 4 categorical cross-entropy on probabilities (summed over a row's
 * features; the host scales it per sample rather than per element). */

#define LOSS_BCE 0
#define LOSS_MSE 1
#define LOSS_BCE_LOGITS 2
#define LOSS_MAE 3
#define LOSS_CCE 4

/* Keras clips probabilities to [EPS, 1 - EPS] before the log. */
#define EPS 1e-7f

/* log1p(e) for e in [0, 1], given s = e / (2 + e) in [0, 1/3]: 2 atanh(s),
 * by its series to s^13 (truncation below 2e-8 relative). Twice as fast
 * as the library's log1p on PoCL, where it was the loss kernel's largest
 * cost. */
float16 log1p_unit(float16 s)
{
    const float16 s2 = s * s;
    const float16 p = 2.0f / 3 + s2 * (2.0f / 5 + s2 * (2.0f / 7 + s2 * (
        2.0f / 9 + s2 * (2.0f / 11 + s2 * (2.0f / 13)))));
    return s * (2.0f + s2 * p);
}

/* The loss of each lane, and its derivative in *dv. */
float16 loss_chunk(uint kind, float16 v, float16 t, float16 *dv)
{
    if (kind == LOSS_BCE_LOGITS) {
        /* One exp serves both: e = exp(-|v|) never overflows, and
         * sigmoid(v) is 1 / (1 + e) or e / (1 + e) by the sign of v. One
         * division serves both quotients: r = 1 / ((1 + e)(2 + e)) gives
         * 1 / (1 + e) = r (2 + e) and e / (2 + e) = r e (1 + e). */
        const float16 e = exp(-fabs(v)), one_e = 1.0f + e, two_e = 2.0f + e;
        const float16 r = 1.0f / (one_e * two_e);
        *dv = select(e, (float16)1.0f, isgreaterequal(v, 0.0f)) * r * two_e - t;
        return fmax(v, 0.0f) - v * t + log1p_unit(r * e * one_e);
    }
    if (kind == LOSS_BCE) {
        const float16 p = clamp(v, EPS, 1.0f - EPS);
        const int16 inside = isgreater(v, EPS) & isless(v, 1.0f - EPS);
        *dv = select((float16)0.0f, (p - t) / (p * (1.0f - p)), inside);
        return -(t * log(p) + (1.0f - t) * log(1.0f - p));
    }
    if (kind == LOSS_CCE) {
        const float16 p = clamp(v, EPS, 1.0f - EPS);
        const int16 inside = isgreater(v, EPS) & isless(v, 1.0f - EPS);
        *dv = select((float16)0.0f, -t / p, inside);
        return -t * log(p);
    }
    const float16 d = v - t;
    if (kind == LOSS_MAE) {
        *dv = sign(d);
        return fabs(d);
    }
    *dv = 2.0f * d;
    return d * d;
}

/* loss_rows' work: item's share of the row at out and target, summed. */
inline float row_share(__global const float *out,
                       __global const float *bias, uint period,
                       uint add_bias, __global const float *target,
                       uint cols, uint kind, uint item, uint group)
{
    float16 whole = 0.0f; /* the sum of the full chunks, per lane */
    float tail = 0.0f;   /* the partial chunk at the end of the row */
    for (uint c0 = item * CHUNK; c0 < cols; c0 += group * CHUNK) {
        const uint n = chunk_width(c0, cols);
        float16 v = load_chunk(out + c0, n), dv;
        if (add_bias) v += load_bias(bias, c0, n, period);
        const float16 loss =
            loss_chunk(kind, v, load_chunk(target + c0, n), &dv);
        if (n == CHUNK) whole += loss;
        else tail = chunk_sum(loss, n);
    }
    return chunk_sum(whole, CHUNK) + tail;
}

/* Evaluation: for each row of out (rows, cols), plus the bias (at bias_off
 * of params, repeating every period columns: load_bias) when add_bias,
 * sample_loss[loss_off + row] = the row's summed loss against target (at
 * target_off).
 * Global size (group, rows), local size (group, 1): the group's items share
 * a row, item i taking chunks i, i + group, ...; item 0 then adds their
 * sums in order, so the result is the same on every run of a device (group
 * is 1 on CPUs, where one item per row is fastest). sums holds group
 * floats. */
__kernel void loss_rows(__global const float *out,
                        __global const float *params, uint bias_off,
                        uint period, uint add_bias,
                        __global const float *target, uint target_off,
                        __global float *sample_loss,
                        uint loss_off, uint cols, uint kind,
                        __local float *sums)
{
    const uint item = get_local_id(0), group = get_local_size(0);
    const size_t row = get_global_id(1), base = row * cols;
#define SHARE(kind)                                                          \
    row_share(out + base, params + bias_off, period, add_bias,               \
              target + target_off + base, cols, kind, item, group)
    /* A constant kind takes its branches out of the loop (see
     * loss_backward). */
    sums[item] = kind == LOSS_BCE_LOGITS ? SHARE(LOSS_BCE_LOGITS)
                 : kind == LOSS_MSE      ? SHARE(LOSS_MSE)
                                         : SHARE(kind);
#undef SHARE
    barrier(CLK_LOCAL_MEM_FENCE);
    if (item) return;
    float sum = 0.0f;
    for (uint i = 0; i < group; i++) sum += sums[i];
    sample_loss[loss_off + row] = sum;
}

/* loss_backward's work on one chunk of columns, out, target and grad
 * pointing at the chunk's first row. */
inline void loss_column(__global const float *out, float16 bias,
                        __global const float *target, __global float *grad,
                        uint rows, uint cols, uint kind, uint act,
                        float act_param, float grad_scale, uint n,
                        float16 *loss_sum, float16 *bias_grad_sum)
{
    float16 loss = 0.0f, bias_grad = 0.0f;
    for (uint r = 0; r < rows; r++) {
        const size_t at = (size_t)r * cols;
        const float16 v = load_chunk(out + at, n) + bias;
        float16 dv;
        loss += loss_chunk(kind, v, load_chunk(target + at, n), &dv);
        if (act != ACT_LINEAR) dv *= act_derivative(act, v, act_param);
        dv *= grad_scale;
        store_chunk(grad + at, dv, n);
        bias_grad += dv;
    }
    *loss_sum = loss;
    *bias_grad_sum = bias_grad;
}

/* Training: the loss and the output layer's backward pass through its
 * activation and bias, in one pass down the rows (in order, so the result
 * is the same on every run) per chunk of columns:
 *   grad (rows, cols) = dz = grad_scale * d loss / d z, through act'(.)
 *     taken from out (out is the activation's output a; act is linear when
 *     the loss reads z, which is out plus the bias when add_bias);
 *   grads[bias_grad_off + c] = the sum of column c of dz (the bias's
 *     gradient when it has an entry per column, which a convolution's
 *     channel_sums folds into one per channel; grad_scale is
 *     1 / (rows * cols), the mean over elements);
 *   chunk_loss[loss_off + chunk] = the chunk's loss summed over the rows.
 * Global size (ceil(cols / CHUNK)). */
__kernel void loss_backward(__global const float *out,
                            __global const float *params, uint bias_off,
                            uint period, uint add_bias, uint act,
                            float act_param,
                            __global const float *target, uint target_off,
                            __global float *chunk_loss, uint loss_off,
                            __global float *grad, __global float *grads,
                            uint bias_grad_off, uint rows, uint cols,
                            uint kind, float grad_scale)
{
    const uint chunk = get_global_id(0), c0 = chunk * CHUNK;
    const uint n = chunk_width(c0, cols);
    const float16 bias =
        add_bias ? load_bias(params + bias_off, c0, n, period) : (float16)0.0f;
    float16 loss, bias_grad;
#define COLUMN(kind, act)                                                   \
    loss_column(out + c0, bias, target + target_off + c0, grad + c0, rows,  \
                cols, kind, act, act_param, grad_scale, n, &loss, &bias_grad)
    /* Constant kind and act let the compiler take their branches out of
     * the loop: the common output layers run a third faster on PoCL. */
    if (act == ACT_LINEAR && kind == LOSS_BCE_LOGITS)
        COLUMN(LOSS_BCE_LOGITS, ACT_LINEAR);
    else if (act == ACT_LINEAR && kind == LOSS_MSE)
        COLUMN(LOSS_MSE, ACT_LINEAR);
    else
        COLUMN(kind, act);
#undef COLUMN
    store_chunk(grads + bias_grad_off + c0, bias_grad, n);
    chunk_loss[loss_off + chunk] = chunk_sum(loss, n);
}
