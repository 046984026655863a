/* Direct loops of the convolutional layers on rows of channels-last images
 * (H, W, C): the reference of cl/conv.cl, src/layer_conv.c and
 * src/layer_pool.c. Where the kernels gather (each output from what
 * reaches it), these scatter (each input to where it goes), so the two
 * are written independently. */
#include <math.h>

#include "ref.h"

static size_t pixels(const clae_shape *s) { return s->height * s->width; }
static size_t image_size(const clae_shape *s) { return pixels(s) * s->channels; }

/* The input pixel (y, x) under window row i, column j of output pixel
 * (oy, ox); 0 when it lies in the padding. */
static int input_pixel(const clae_geometry *g, size_t oy, size_t ox, size_t i,
                       size_t j, size_t *y, size_t *x)
{
    long yy = (long)(oy * g->window.stride + i) - (long)g->window.pad_h,
         xx = (long)(ox * g->window.stride + j) - (long)g->window.pad_w;
    if (yy < 0 || xx < 0 || yy >= (long)g->in.height || xx >= (long)g->in.width)
        return 0;
    *y = (size_t)yy;
    *x = (size_t)xx;
    return 1;
}

void ref_im2col_rows(const clae_geometry *g, const float *x, size_t rows,
                     float *col)
{
    const size_t kh = g->window.kernel_h, kw = g->window.kernel_w,
                 c_in = g->in.channels, width = c_in * kh * kw;
    for (size_t b = 0; b < rows; b++)
        for (size_t oy = 0; oy < g->out.height; oy++)
            for (size_t ox = 0; ox < g->out.width; ox++) {
                float *row = col + ((b * g->out.height + oy) * g->out.width + ox) * width;
                for (size_t c = 0; c < c_in; c++)
                    for (size_t i = 0; i < kh; i++)
                        for (size_t j = 0; j < kw; j++) {
                            size_t y, xx;
                            row[(i * kw + j) * c_in + c] =
                                input_pixel(g, oy, ox, i, j, &y, &xx)
                                    ? x[b * image_size(&g->in) + (y * g->in.width + xx) * c_in + c]
                                    : 0.0f;
                        }
            }
}

void ref_col2im_rows(const clae_geometry *g, const float *col, size_t rows,
                     double *x)
{
    const size_t kh = g->window.kernel_h, kw = g->window.kernel_w,
                 c_in = g->in.channels, width = c_in * kh * kw;
    for (size_t i = 0; i < rows * image_size(&g->in); i++) x[i] = 0.0;
    for (size_t b = 0; b < rows; b++)
        for (size_t oy = 0; oy < g->out.height; oy++)
            for (size_t ox = 0; ox < g->out.width; ox++) {
                const float *row = col + ((b * g->out.height + oy) * g->out.width + ox) * width;
                for (size_t c = 0; c < c_in; c++)
                    for (size_t i = 0; i < kh; i++)
                        for (size_t j = 0; j < kw; j++) {
                            size_t y, xx;
                            if (input_pixel(g, oy, ox, i, j, &y, &xx))
                                x[b * image_size(&g->in) + (y * g->in.width + xx) * c_in + c] +=
                                    row[(i * kw + j) * c_in + c];
                        }
            }
}

void ref_patch_sums(const clae_geometry *g, const float *y, size_t rows,
                    double *z)
{
    const size_t area = g->window.kernel_h * g->window.kernel_w;
    for (size_t b = 0; b < rows; b++)
        for (size_t oy = 0; oy < g->out.height; oy++)
            for (size_t ox = 0; ox < g->out.width; ox++) {
                double sum = 0.0;
                for (size_t i = 0; i < g->window.kernel_h; i++)
                    for (size_t j = 0; j < g->window.kernel_w; j++) {
                        size_t yy, xx;
                        if (input_pixel(g, oy, ox, i, j, &yy, &xx))
                            sum += y[(b * pixels(&g->in) + yy * g->in.width + xx) * area +
                                     i * g->window.kernel_w + j];
                    }
                z[(b * g->out.height + oy) * g->out.width + ox] = sum;
            }
}

void ref_patch_spread(const clae_geometry *g, const float *dz, size_t rows,
                      float *dy)
{
    const size_t area = g->window.kernel_h * g->window.kernel_w;
    for (size_t i = 0; i < rows * pixels(&g->in) * area; i++) dy[i] = 0.0f;
    for (size_t b = 0; b < rows; b++)
        for (size_t oy = 0; oy < g->out.height; oy++)
            for (size_t ox = 0; ox < g->out.width; ox++)
                for (size_t i = 0; i < g->window.kernel_h; i++)
                    for (size_t j = 0; j < g->window.kernel_w; j++) {
                        size_t yy, xx;
                        if (input_pixel(g, oy, ox, i, j, &yy, &xx))
                            dy[(b * pixels(&g->in) + yy * g->in.width + xx) * area +
                               i * g->window.kernel_w + j] =
                                dz[(b * g->out.height + oy) * g->out.width + ox];
                    }
}

void ref_conv(const clae_geometry *g, size_t kernels, const float *w,
              const float *bias, const double *x, size_t rows, double *out)
{
    const size_t kh = g->window.kernel_h, kw = g->window.kernel_w,
                 c_in = g->in.channels;
    for (size_t b = 0; b < rows; b++)
        for (size_t oy = 0; oy < g->out.height; oy++)
            for (size_t ox = 0; ox < g->out.width; ox++)
                for (size_t k = 0; k < kernels; k++) {
                    double sum = bias[k];
                    for (size_t c = 0; c < c_in; c++)
                        for (size_t i = 0; i < kh; i++)
                            for (size_t j = 0; j < kw; j++) {
                                size_t y, xx;
                                if (input_pixel(g, oy, ox, i, j, &y, &xx))
                                    sum += w[((k * kh + i) * kw + j) * c_in + c] *
                                           x[b * image_size(&g->in) +
                                             (y * g->in.width + xx) * c_in + c];
                            }
                    out[((b * g->out.height + oy) * g->out.width + ox) * kernels + k] = sum;
                }
}

void ref_deconv(const clae_geometry *g, size_t channels_in, const float *w,
                const float *bias, const double *x, size_t rows, double *out)
{
    const size_t kh = g->window.kernel_h, kw = g->window.kernel_w,
                 k_out = g->in.channels;
    for (size_t b = 0; b < rows; b++)
        for (size_t p = 0; p < pixels(&g->in); p++)
            for (size_t k = 0; k < k_out; k++)
                out[(b * pixels(&g->in) + p) * k_out + k] = bias[k];
    /* Each input pixel (iy, ix) adds its kernel-weighted values onto the
     * output pixels its window covers. */
    for (size_t b = 0; b < rows; b++)
        for (size_t iy = 0; iy < g->out.height; iy++)
            for (size_t ix = 0; ix < g->out.width; ix++)
                for (size_t c = 0; c < channels_in; c++) {
                    double v = x[((b * g->out.height + iy) * g->out.width + ix) * channels_in + c];
                    for (size_t i = 0; i < kh; i++)
                        for (size_t j = 0; j < kw; j++) {
                            size_t y, xx;
                            if (!input_pixel(g, iy, ix, i, j, &y, &xx)) continue;
                            for (size_t k = 0; k < k_out; k++)
                                out[(b * pixels(&g->in) + y * g->in.width + xx) * k_out + k] +=
                                    v * w[((c * kh + i) * kw + j) * k_out + k];
                        }
                }
}

/* The window of output pixel (oy, ox), clipped to the image: rows y0 ..
 * y1 - 1, columns x0 .. x1 - 1. */
static void window_of(const clae_geometry *g, size_t oy, size_t ox,
                      size_t *y0, size_t *y1, size_t *x0, size_t *x1)
{
    long top = (long)(oy * g->window.stride) - (long)g->window.pad_h,
         left = (long)(ox * g->window.stride) - (long)g->window.pad_w;
    long bottom = top + (long)g->window.kernel_h,
         right = left + (long)g->window.kernel_w;
    *y0 = top < 0 ? 0 : (size_t)top;
    *x0 = left < 0 ? 0 : (size_t)left;
    *y1 = bottom > (long)g->in.height ? g->in.height : (size_t)bottom;
    *x1 = right > (long)g->in.width ? g->in.width : (size_t)right;
}

void ref_pool(const clae_geometry *g, clae_pool kind, const double *x,
              size_t rows, double *y)
{
    const size_t c_in = g->in.channels;
    for (size_t b = 0; b < rows; b++)
        for (size_t oy = 0; oy < g->out.height; oy++)
            for (size_t ox = 0; ox < g->out.width; ox++)
                for (size_t c = 0; c < c_in; c++) {
                    size_t y0, y1, x0, x1;
                    window_of(g, oy, ox, &y0, &y1, &x0, &x1);
                    double best = -INFINITY, sum = 0.0;
                    for (size_t i = y0; i < y1; i++)
                        for (size_t j = x0; j < x1; j++) {
                            double v = x[b * image_size(&g->in) + (i * g->in.width + j) * c_in + c];
                            sum += v;
                            best = v > best ? v : best;
                        }
                    y[((b * g->out.height + oy) * g->out.width + ox) * c_in + c] =
                        kind == CLAE_POOL_MAX ? best
                        : kind == CLAE_POOL_AVG ? sum / (double)((y1 - y0) * (x1 - x0))
                                                : sum;
                }
}

void ref_pool_backward(const clae_geometry *g, clae_pool kind, const float *x,
                       const float *dy, size_t rows, double *dx)
{
    const size_t c_in = g->in.channels;
    for (size_t i = 0; i < rows * image_size(&g->in); i++) dx[i] = 0.0;
    for (size_t b = 0; b < rows; b++)
        for (size_t oy = 0; oy < g->out.height; oy++)
            for (size_t ox = 0; ox < g->out.width; ox++)
                for (size_t c = 0; c < c_in; c++) {
                    size_t y0, y1, x0, x1, best_at = 0;
                    window_of(g, oy, ox, &y0, &y1, &x0, &x1);
                    const double d = dy[((b * g->out.height + oy) * g->out.width + ox) * c_in + c],
                                 count = (double)((y1 - y0) * (x1 - x0));
                    float best = -INFINITY;
                    for (size_t i = y0; i < y1; i++)
                        for (size_t j = x0; j < x1; j++) {
                            size_t at = b * image_size(&g->in) + (i * g->in.width + j) * c_in + c;
                            if (kind == CLAE_POOL_MAX) {
                                if (x[at] > best) {
                                    best = x[at];
                                    best_at = at;
                                }
                            } else {
                                dx[at] += kind == CLAE_POOL_AVG ? d / count : d;
                            }
                        }
                    if (kind == CLAE_POOL_MAX) dx[best_at] += d;
                }
}
