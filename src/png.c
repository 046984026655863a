/* Pictures of samples: a grid of images written as one PNG with libpng,
 * grayscale or RGB as the images are. */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

enum { GAP = 2 };                  /* pixels between tiles */
static const unsigned char BACKGROUND = 128;

/* A value in [0, 1] (clipped) as a byte. */
static unsigned char to_byte(float v)
{
    if (!(v > 0.0f)) return 0; /* NaN too */
    if (v >= 1.0f) return 255;
    return (unsigned char)(v * 255.0f + 0.5f);
}

/* libpng reports errors by longjmp; the message is kept for the caller. */
static void on_png_error(png_structp png, png_const_charp message)
{
    char *buffer = png_get_error_ptr(png);
    snprintf(buffer, 256, "%s", message);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message;
}

/* rows (height pointers into pixels) as a PNG on f; returns 0 on success,
 * else fills error. Separate from the caller so that the setjmp only
 * guards libpng's calls. */
static int write_png(FILE *f, unsigned char **rows, size_t width,
                     size_t height, int rgb, char error[256])
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, error,
                                              on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        snprintf(error, 256, "libpng: out of memory");
        png_destroy_write_struct(&png, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 rgb ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

clae_status clae_png_write_grid(clae_context *ctx, const char *path,
                                const float *images, size_t count,
                                const clae_image_shape *shape, size_t columns)
{
    const size_t h = shape->height, w = shape->width, c = shape->channels;
    if (count == 0 || columns == 0 || h == 0 || w == 0 || (c != 1 && c != 3))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "%s: cannot draw %zu images of %zux%zux%zu in %zu "
                         "columns (1 or 3 channels)", path, count, h, w, c,
                         columns);
    if (columns > count) columns = count;
    const size_t grid_rows = (count + columns - 1) / columns;
    const size_t width = columns * (w + GAP) + GAP,
                 height = grid_rows * (h + GAP) + GAP;
    if (width > (1u << 16) || height > (1u << 16))
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE,
                         "%s: a %zu x %zu picture is too large", path, width,
                         height);
    unsigned char *pixels = malloc(width * height * c);
    unsigned char **rows = malloc(height * sizeof *rows);
    if (!pixels || !rows) {
        free(pixels);
        free(rows);
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    }
    memset(pixels, BACKGROUND, width * height * c);
    for (size_t i = 0; i < count; i++) {
        const float *image = images + i * h * w * c;
        size_t top = GAP + (i / columns) * (h + GAP),
               left = GAP + (i % columns) * (w + GAP);
        for (size_t y = 0; y < h; y++)
            for (size_t x = 0; x < w * c; x++)
                pixels[(top + y) * width * c + left * c + x] =
                    to_byte(image[y * w * c + x]);
    }
    for (size_t y = 0; y < height; y++) rows[y] = pixels + y * width * c;

    char error[256] = "";
    clae_atomic_file af;
    clae_status status = clae__atomic_begin(ctx, path, &af);
    if (status == CLAE_SUCCESS) {
        if (write_png(af.f, rows, width, height, c == 3, error) == 0) {
            status = clae__atomic_commit(ctx, &af);
        } else {
            clae__atomic_abort(&af);
            status = CLAE_FAIL(ctx, CLAE_ERR_IO, "%s: %s", path, error);
        }
    }
    free(rows);
    free(pixels);
    return status;
}
