/* Convolution, pooling and upsampling on rows of channels-last images:
 * row b of x is image b, (height, width, channels) row-major, as .npy image
 * arrays and clae's data hold them. Every kernel here takes the geometry of
 * a window sliding over an input image to make an output image, as one
 * uint16 (the host's clae_geometry): */
#define IN_H g.s0
#define IN_W g.s1
#define IN_C g.s2
#define OUT_H g.s3
#define OUT_W g.s4
#define OUT_C g.s5
#define KERNEL_H g.s6
#define KERNEL_W g.s7
#define STRIDE g.s8
#define PAD_H g.s9 /* zero rows above the image */
#define PAD_W g.sa /* zero columns left of it */
/* The window of output pixel (oy, ox) covers input rows oy * STRIDE - PAD_H
 * .. + KERNEL_H - 1 and the columns alike; what lies outside the image is
 * zero padding (convolution) or left out (pooling). */

/* col (rows * OUT_H * OUT_W, IN_C * KERNEL_H * KERNEL_W): row (b, oy, ox)
 * holds the patch under output pixel (oy, ox) of image b of x (at x_off),
 * element (c, i, j) its pixel (oy * STRIDE + i - PAD_H, ox * STRIDE + j -
 * PAD_W) of channel c, or 0 outside the image. The (c, i, j) order makes a
 * convolution's weights (K, C, KERNEL_H, KERNEL_W), torch.nn.Conv2d's,
 * and the layer one GEMM: z = col W^T.
 * Global size (IN_C * KERNEL_H * KERNEL_W, rows * OUT_H * OUT_W). */
__kernel void im2col_rows(__global const float *x, uint x_off,
                          __global float *col, uint16 g)
{
    const uint e = get_global_id(0), area = KERNEL_H * KERNEL_W;
    const size_t row = get_global_id(1);
    const uint c = e / area, i = e % area / KERNEL_W, j = e % KERNEL_W;
    const uint pixels = OUT_H * OUT_W, p = row % pixels;
    const size_t b = row / pixels;
    const int y = (int)(p / OUT_W * STRIDE + i) - (int)PAD_H;
    const int xx = (int)(p % OUT_W * STRIDE + j) - (int)PAD_W;
    float v = 0.0f;
    if (y >= 0 && y < (int)IN_H && xx >= 0 && xx < (int)IN_W)
        v = x[x_off + ((b * IN_H + (uint)y) * IN_W + (uint)xx) * IN_C + c];
    col[row * (IN_C * area) + e] = v;
}

/* The output pixels whose windows (of size pixels) cover input row (or
 * column) y along a side of out pixels: first_window .. last_window,
 * none when first > last. */
int first_window(uint y, uint size, uint stride, uint pad)
{
    const int reach = (int)(y + pad) - (int)size + 1;
    return reach <= 0 ? 0 : (reach + (int)stride - 1) / (int)stride;
}

int last_window(uint y, uint stride, uint pad, uint out)
{
    return min((int)((y + pad) / stride), (int)out - 1);
}

/* x (rows, IN_H * IN_W * IN_C) = the adjoint of im2col_rows: each pixel
 * the sum of the col elements copied from it, gathered (no two items
 * write one place, so no atomics, and the same sum on every run).
 * Global size (rows * IN_H * IN_W * IN_C). */
__kernel void col2im_rows(__global const float *col, __global float *x,
                          uint16 g)
{
    const size_t at = get_global_id(0);
    const uint c = at % IN_C, xx = at / IN_C % IN_W, y = at / IN_C / IN_W % IN_H;
    const size_t b = at / ((size_t)IN_C * IN_W * IN_H);
    const uint width = IN_C * KERNEL_H * KERNEL_W;
    float sum = 0.0f;
    for (int oy = first_window(y, KERNEL_H, STRIDE, PAD_H);
         oy <= last_window(y, STRIDE, PAD_H, OUT_H); oy++)
        for (int ox = first_window(xx, KERNEL_W, STRIDE, PAD_W);
             ox <= last_window(xx, STRIDE, PAD_W, OUT_W); ox++) {
            const uint i = y + PAD_H - (uint)oy * STRIDE,
                       j = xx + PAD_W - (uint)ox * STRIDE;
            const size_t row = (b * OUT_H + (uint)oy) * OUT_W + (uint)ox;
            sum += col[row * width + (c * KERNEL_H + i) * KERNEL_W + j];
        }
    x[at] = sum;
}

#define POOL_MAX 0
#define POOL_AVG 1 /* the mean of the window's pixels inside the image */
#define POOL_SUM 2

/* The rows (or columns) of the window of output o inside a side of n. */
uint window_start(uint o, uint stride, uint pad)
{
    return (uint)max((int)(o * stride) - (int)pad, 0);
}

uint window_end(uint o, uint size, uint stride, uint pad, uint n)
{
    return (uint)min((int)(o * stride + size) - (int)pad, (int)n);
}

/* y (rows, OUT_H * OUT_W * IN_C) = each window of x (at x_off) pooled per
 * channel; for max, argmax gets the winning pixel's y * IN_W + x (the
 * first of equals). Global size (rows * OUT_H * OUT_W * IN_C). */
__kernel void pool_forward(__global const float *x, uint x_off,
                           __global float *y, __global uint *argmax, uint kind,
                           uint16 g)
{
    const size_t at = get_global_id(0);
    const uint c = at % IN_C, ox = at / IN_C % OUT_W, oy = at / IN_C / OUT_W % OUT_H;
    const size_t b = at / ((size_t)IN_C * OUT_W * OUT_H);
    const uint y0 = window_start(oy, STRIDE, PAD_H),
               y1 = window_end(oy, KERNEL_H, STRIDE, PAD_H, IN_H),
               x0 = window_start(ox, STRIDE, PAD_W),
               x1 = window_end(ox, KERNEL_W, STRIDE, PAD_W, IN_W);
    __global const float *image = x + x_off + b * IN_H * IN_W * IN_C + c;
    float best = -INFINITY, sum = 0.0f;
    uint best_at = 0;
    for (uint i = y0; i < y1; i++)
        for (uint j = x0; j < x1; j++) {
            const float v = image[(i * IN_W + j) * IN_C];
            sum += v;
            if (v > best) {
                best = v;
                best_at = i * IN_W + j;
            }
        }
    if (kind == POOL_MAX) {
        y[at] = best;
        argmax[at] = best_at;
    } else {
        y[at] = kind == POOL_AVG ? sum / (float)((y1 - y0) * (x1 - x0)) : sum;
    }
}

/* dx (rows, IN_H * IN_W * IN_C) = the backward pass of pool_forward from
 * dy (rows, OUT_H * OUT_W * IN_C, at dy_off), gathered over the windows covering each
 * pixel: max passes dy to the window's winner, avg shares it among the
 * window's pixels, sum copies it to each (which makes this nearest-
 * neighbour upsampling when the windows tile the image).
 * Global size (rows * IN_H * IN_W * IN_C). */
__kernel void pool_backward(__global const float *dy, uint dy_off,
                            __global const uint *argmax, __global float *dx,
                            uint kind, uint16 g)
{
    const size_t at = get_global_id(0);
    const uint c = at % IN_C, xx = at / IN_C % IN_W, y = at / IN_C / IN_W % IN_H;
    const size_t b = at / ((size_t)IN_C * IN_W * IN_H);
    float sum = 0.0f;
    for (int oy = first_window(y, KERNEL_H, STRIDE, PAD_H);
         oy <= last_window(y, STRIDE, PAD_H, OUT_H); oy++)
        for (int ox = first_window(xx, KERNEL_W, STRIDE, PAD_W);
             ox <= last_window(xx, STRIDE, PAD_W, OUT_W); ox++) {
            const size_t o = ((b * OUT_H + (uint)oy) * OUT_W + (uint)ox) * IN_C + c;
            if (kind == POOL_MAX) {
                if (argmax[o] == y * IN_W + xx) sum += dy[dy_off + o];
            } else if (kind == POOL_AVG) {
                const uint h = window_end((uint)oy, KERNEL_H, STRIDE, PAD_H, IN_H) -
                               window_start((uint)oy, STRIDE, PAD_H),
                           w = window_end((uint)ox, KERNEL_W, STRIDE, PAD_W, IN_W) -
                               window_start((uint)ox, STRIDE, PAD_W);
                sum += dy[dy_off + o] / (float)(h * w);
            } else {
                sum += dy[dy_off + o];
            }
        }
    dx[at] = sum;
}

/* grad[grad_off + k] = the sum of sums[sums_off + p * channels + k] over
 * the pixels p < pixels, in order: a convolution's bias gradient from the
 * column sums of its dz (rows of pixels x channels). Global size
 * (channels). */
__kernel void channel_sums(__global const float *sums, uint sums_off,
                           __global float *grad, uint grad_off, uint pixels,
                           uint channels)
{
    const uint k = get_global_id(0);
    float sum = 0.0f;
    for (uint p = 0; p < pixels; p++) sum += sums[sums_off + p * channels + k];
    grad[grad_off + k] = sum;
}
