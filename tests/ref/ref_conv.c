/* Direct convolution loops, the reference of the CLBlast convolution
 * calls (src/blas.c): NCHW images, kernels (K, C, kh, kw), zero padding. */
#include "ref.h"

/* Output pixels along a side of n with kernel k, padding p, stride t. */
static size_t out_side(size_t n, size_t k, size_t p, size_t t)
{
    return (n + 2 * p - k) / t + 1;
}

/* Pixel (c, y, x) of an image, zero outside it. */
static double pixel(const clae_conv_shape *s, const float *im, size_t c,
                    long y, long x)
{
    if (y < 0 || x < 0 || y >= (long)s->height || x >= (long)s->width)
        return 0.0;
    return im[(c * s->height + (size_t)y) * s->width + (size_t)x];
}

void ref_conv2d(const clae_conv_shape *s, size_t kernels, size_t batch,
                const float *x, const float *w, float *out)
{
    const size_t oh = out_side(s->height, s->kernel_h, s->pad_h, s->stride_h),
                 ow = out_side(s->width, s->kernel_w, s->pad_w, s->stride_w),
                 image = s->channels * s->height * s->width,
                 kernel = s->channels * s->kernel_h * s->kernel_w;
    for (size_t b = 0; b < batch; b++)
        for (size_t k = 0; k < kernels; k++)
            for (size_t oy = 0; oy < oh; oy++)
                for (size_t ox = 0; ox < ow; ox++) {
                    double sum = 0.0;
                    for (size_t c = 0; c < s->channels; c++)
                        for (size_t i = 0; i < s->kernel_h; i++)
                            for (size_t j = 0; j < s->kernel_w; j++)
                                sum += w[k * kernel + (c * s->kernel_h + i) * s->kernel_w + j] *
                                       pixel(s, x + b * image, c,
                                             (long)(oy * s->stride_h + i) - (long)s->pad_h,
                                             (long)(ox * s->stride_w + j) - (long)s->pad_w);
                    out[((b * kernels + k) * oh + oy) * ow + ox] = (float)sum;
                }
}

void ref_im2col(const clae_conv_shape *s, const float *im, float *col)
{
    const size_t oh = out_side(s->height, s->kernel_h, s->pad_h, s->stride_h),
                 ow = out_side(s->width, s->kernel_w, s->pad_w, s->stride_w);
    for (size_t c = 0; c < s->channels; c++)
        for (size_t i = 0; i < s->kernel_h; i++)
            for (size_t j = 0; j < s->kernel_w; j++)
                for (size_t oy = 0; oy < oh; oy++)
                    for (size_t ox = 0; ox < ow; ox++)
                        col[((c * s->kernel_h + i) * s->kernel_w + j) * oh * ow +
                            oy * ow + ox] =
                            (float)pixel(s, im, c,
                                         (long)(oy * s->stride_h + i) - (long)s->pad_h,
                                         (long)(ox * s->stride_w + j) - (long)s->pad_w);
}
