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
#define KERNEL_H g.s5
#define KERNEL_W g.s6
#define STRIDE g.s7
#define PAD_H g.s8 /* zero rows above the image */
#define PAD_W g.s9 /* zero columns left of it */
/* The window of output pixel (oy, ox) covers input rows oy * STRIDE - PAD_H
 * .. + KERNEL_H - 1 and the columns alike; what lies outside the image is
 * zero padding (convolution) or left out (pooling). */

/* Item `at` of one per pixel of a stack of images width x height: its
 * column *x, its row *y, and (returned) its image. Each remainder is
 * written a - (a / d) * d, not a % d: LLVM makes that of a % d beside
 * a / d anyway (and x86 one division of the two), but its DivRemPairs
 * pass first freezes a, an instruction at which Oclgrind 21.10's
 * uninitialised-value check stops. */
size_t pixel_of(size_t at, uint width, uint height, uint *x, uint *y)
{
    const uint pixels = width * height;
    const size_t image = at / pixels;
    const uint pixel = (uint)(at - image * pixels);
    *y = pixel / width;
    *x = pixel - *y * width;
    return image;
}

/* col (rows * OUT_H * OUT_W, KERNEL_H * KERNEL_W * IN_C): row (b, oy, ox)
 * holds the patch under output pixel (oy, ox) of image b of x (at x_off),
 * element (i, j, c) its pixel (oy * STRIDE + i - PAD_H, ox * STRIDE + j -
 * PAD_W) of channel c, or 0 outside the image: each window position's
 * channels, as the image holds them. A convolution's weights on the
 * device are (K, KERNEL_H, KERNEL_W, IN_C) to match (model files hold
 * torch.nn.Conv2d's order), and the layer is one GEMM: z = col W^T. One
 * item per row and chunk of channels.
 * Global size (ceil(IN_C / CHUNK), rows * OUT_H * OUT_W). */
__kernel void im2col_rows(__global const float *x, uint x_off,
                          __global float *col, uint16 g)
{
    const uint c0 = get_global_id(0) * CHUNK, n = chunk_width(c0, IN_C);
    const size_t row = get_global_id(1);
    uint ox, oy;
    const size_t b = pixel_of(row, OUT_W, OUT_H, &ox, &oy);
    const int y0 = (int)(oy * STRIDE) - (int)PAD_H,
              x0 = (int)(ox * STRIDE) - (int)PAD_W;
    __global const float *image = x + x_off + b * IN_H * IN_W * IN_C + c0;
    __global float *out = col + row * (KERNEL_H * KERNEL_W * IN_C) + c0;
    for (uint i = 0; i < KERNEL_H; i++) {
        const int y = y0 + (int)i;
        const int inside_y = y >= 0 && y < (int)IN_H;
        for (uint j = 0; j < KERNEL_W; j++, out += IN_C) {
            const int xx = x0 + (int)j;
            __global const float *pixel =
                inside_y && xx >= 0 && xx < (int)IN_W
                    ? image + ((uint)y * IN_W + (uint)xx) * IN_C
                    : 0;
            /* A part chunk (an image of fewer channels, a first layer's
             * one) goes value by value: cheaper than a vector's padding. */
            if (n == CHUNK)
                vstore16(pixel ? vload16(0, pixel) : (float16)0.0f, 0, out);
            else
                for (uint c = 0; c < n; c++) out[c] = pixel ? pixel[c] : 0.0f;
        }
    }
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
 * write one place, so no atomics, and the same sum on every run). One item
 * per pixel and chunk of channels.
 * Global size (ceil(IN_C / CHUNK), rows * IN_H * IN_W). */
__kernel void col2im_rows(__global const float *col, __global float *x,
                          uint16 g)
{
    const uint c0 = get_global_id(0) * CHUNK, n = chunk_width(c0, IN_C);
    const size_t at = get_global_id(1);
    uint xx, y;
    const size_t b = pixel_of(at, IN_W, IN_H, &xx, &y);
    const uint width = KERNEL_H * KERNEL_W * IN_C;
    float16 sum = 0.0f;
    for (int oy = first_window(y, KERNEL_H, STRIDE, PAD_H);
         oy <= last_window(y, STRIDE, PAD_H, OUT_H); oy++)
        for (int ox = first_window(xx, KERNEL_W, STRIDE, PAD_W);
             ox <= last_window(xx, STRIDE, PAD_W, OUT_W); ox++) {
            const uint i = y + PAD_H - (uint)oy * STRIDE,
                       j = xx + PAD_W - (uint)ox * STRIDE;
            const size_t row = (b * OUT_H + (uint)oy) * OUT_W + (uint)ox;
            sum += load_chunk(col + row * width + (i * KERNEL_W + j) * IN_C + c0, n);
        }
    store_chunk(x + at * IN_C + c0, sum, n);
}

/* A convolution to one channel the other way round, for when the input
 * has fewer pixels than the output has patch values: y (rows * IN_H *
 * IN_W, KERNEL_H * KERNEL_W) holds at each input pixel the dot product of
 * its channels with the kernel's weights at every window position (one
 * GEMM, y = x W^T with W (KERNEL_H * KERNEL_W, IN_C)), and each output
 * pixel sums the values its window's positions give it:
 * z (rows * OUT_H * OUT_W) = the sum over (i, j) of y at the input pixel
 * (oy * STRIDE + i - PAD_H, ox * STRIDE + j - PAD_W), column (i, j); 0
 * from padding. Global size (rows * OUT_H * OUT_W). */
__kernel void patch_sums(__global const float *y, __global float *z, uint16 g)
{
    const size_t row = get_global_id(0);
    uint ox, oy;
    const size_t b = pixel_of(row, OUT_W, OUT_H, &ox, &oy);
    const int y0 = (int)(oy * STRIDE) - (int)PAD_H,
              x0 = (int)(ox * STRIDE) - (int)PAD_W;
    const uint area = KERNEL_H * KERNEL_W;
    float sum = 0.0f;
    for (uint i = 0; i < KERNEL_H; i++) {
        const int yy = y0 + (int)i;
        if (yy < 0 || yy >= (int)IN_H) continue;
        for (uint j = 0; j < KERNEL_W; j++) {
            const int xx = x0 + (int)j;
            if (xx < 0 || xx >= (int)IN_W) continue;
            const size_t at = (b * IN_H + (uint)yy) * IN_W + (uint)xx;
            sum += y[at * area + i * KERNEL_W + j];
        }
    }
    z[row] = sum;
}

/* The adjoint of patch_sums: dy (rows * IN_H * IN_W, KERNEL_H * KERNEL_W)
 * at input pixel (y, x), column (i, j) = dz of the output pixel whose
 * window puts (i, j) on (y, x), 0 where none does. Global size (rows *
 * IN_H * IN_W). */
__kernel void patch_spread(__global const float *dz, __global float *dy,
                           uint16 g)
{
    const size_t at = get_global_id(0);
    uint x, y;
    const size_t b = pixel_of(at, IN_W, IN_H, &x, &y);
    __global float *out = dy + at * (KERNEL_H * KERNEL_W);
    /* (A window starts at from_y when oy * STRIDE == from_y, not written
     * from_y % STRIDE == 0: see pixel_of.) */
    for (uint i = 0; i < KERNEL_H; i++) {
        const int from_y = (int)(y + PAD_H) - (int)i;
        const int oy = from_y / (int)STRIDE;
        const int on_y = from_y >= 0 && oy * (int)STRIDE == from_y &&
                         oy < (int)OUT_H;
        for (uint j = 0; j < KERNEL_W; j++) {
            const int from_x = (int)(x + PAD_W) - (int)j;
            const int ox = from_x / (int)STRIDE;
            *out++ = on_y && from_x >= 0 && ox * (int)STRIDE == from_x &&
                             ox < (int)OUT_W
                         ? dz[(b * OUT_H + (uint)oy) * OUT_W + (uint)ox]
                         : 0.0f;
        }
    }
}

#define POOL_MAX 0
#define POOL_AVG 1 /* the mean of the window's pixels inside the image */
/* any other kind (the host's CLAE_POOL_SUM): the window's sum */

/* The rows (or columns) of the window of output o inside a side of n. */
uint window_start(uint o, uint stride, uint pad)
{
    return (uint)max((int)(o * stride) - (int)pad, 0);
}

uint window_end(uint o, uint size, uint stride, uint pad, uint n)
{
    return (uint)min((int)(o * stride + size) - (int)pad, (int)n);
}

/* A chunk of uint indices (missing lanes read as 0, never written). */
uint16 load_index_chunk(__global const uint *p, uint n)
{
    if (n == CHUNK) return vload16(0, p);
    uint v[CHUNK] = {0};
    for (uint i = 0; i < n; i++) v[i] = p[i];
    return vload16(0, v);
}

void store_index_chunk(__global uint *p, uint16 v, uint n)
{
    if (n == CHUNK) {
        vstore16(v, 0, p);
        return;
    }
    const uint lanes[CHUNK] = CHUNK_LANES(v);
    for (uint i = 0; i < n; i++) p[i] = lanes[i];
}

/* y (rows, OUT_H * OUT_W * IN_C) = each window of x (at x_off) pooled per
 * channel; for max, argmax gets the winning pixel's y * IN_W + x (the
 * first of equals). One item per output pixel and chunk of channels.
 * Global size (ceil(IN_C / CHUNK), rows * OUT_H * OUT_W). */
__kernel void pool_forward(__global const float *x, uint x_off,
                           __global float *y, __global uint *argmax, uint kind,
                           uint16 g)
{
    const uint c0 = get_global_id(0) * CHUNK, n = chunk_width(c0, IN_C);
    const size_t at = get_global_id(1);
    uint ox, oy;
    const size_t b = pixel_of(at, OUT_W, OUT_H, &ox, &oy);
    const uint y0 = window_start(oy, STRIDE, PAD_H),
               y1 = window_end(oy, KERNEL_H, STRIDE, PAD_H, IN_H),
               x0 = window_start(ox, STRIDE, PAD_W),
               x1 = window_end(ox, KERNEL_W, STRIDE, PAD_W, IN_W);
    __global const float *image = x + x_off + b * IN_H * IN_W * IN_C + c0;
    /* Every window holds a pixel of the image. */
    uint16 best_at = (uint16)(y0 * IN_W + x0);
    float16 best = load_chunk(image + (y0 * IN_W + x0) * IN_C, n), sum = 0.0f;
    for (uint i = y0; i < y1; i++)
        for (uint j = x0; j < x1; j++) {
            const float16 v = load_chunk(image + (i * IN_W + j) * IN_C, n);
            const int16 better = isgreater(v, best);
            sum += v;
            best = select(best, v, better);
            best_at =
                select(best_at, (uint16)(i * IN_W + j), as_uint16(better));
        }
    __global float *out = y + at * IN_C + c0;
    if (kind == POOL_MAX) {
        store_chunk(out, best, n);
        store_index_chunk(argmax + at * IN_C + c0, best_at, n);
    } else {
        store_chunk(out, kind == POOL_AVG ? sum / (float)((y1 - y0) * (x1 - x0))
                                          : sum, n);
    }
}

/* dx (rows, IN_H * IN_W * IN_C) = the backward pass of pool_forward from
 * dy (rows, OUT_H * OUT_W * IN_C, at dy_off), gathered over the windows
 * covering each pixel: max passes dy to the window's winner, avg shares it
 * among the window's pixels, sum copies it to each (which makes this
 * nearest-neighbour upsampling when the windows tile the image). One item
 * per input pixel and chunk of channels.
 * Global size (ceil(IN_C / CHUNK), rows * IN_H * IN_W). */
__kernel void pool_backward(__global const float *dy, uint dy_off,
                            __global float *dx, __global const uint *argmax,
                            uint kind, uint16 g)
{
    const uint c0 = get_global_id(0) * CHUNK, n = chunk_width(c0, IN_C);
    const size_t at = get_global_id(1);
    uint xx, y;
    const size_t b = pixel_of(at, IN_W, IN_H, &xx, &y);
    const int oy0 = first_window(y, KERNEL_H, STRIDE, PAD_H),
              oy1 = last_window(y, STRIDE, PAD_H, OUT_H),
              ox0 = first_window(xx, KERNEL_W, STRIDE, PAD_W),
              ox1 = last_window(xx, STRIDE, PAD_W, OUT_W);
    float16 sum = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++) {
            const size_t o =
                ((b * OUT_H + (uint)oy) * OUT_W + (uint)ox) * IN_C + c0;
            const float16 d = load_chunk(dy + dy_off + o, n);
            if (kind == POOL_MAX) {
                const uint16 won = load_index_chunk(argmax + o, n);
                sum += select((float16)0.0f, d,
                              as_int16(won == (uint16)(y * IN_W + xx)));
            } else if (kind == POOL_AVG) {
                const uint h = window_end((uint)oy, KERNEL_H, STRIDE, PAD_H, IN_H) -
                               window_start((uint)oy, STRIDE, PAD_H),
                           w = window_end((uint)ox, KERNEL_W, STRIDE, PAD_W, IN_W) -
                               window_start((uint)ox, STRIDE, PAD_W);
                sum += d / (float)(h * w);
            } else {
                sum += d;
            }
        }
    store_chunk(dx + at * IN_C + c0, sum, n);
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
