/* Charts as PNG through cairo: loss curves (clae_plot_losses) and 2-D
 * scatters of codes (clae_plot_codes). One frame drawer serves both:
 * axes with ticks at 1-2-5 steps, a title, axis labels and a legend. */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "files.h"

enum { WIDTH = 720, HEIGHT = 480, LEFT = 80, RIGHT = 150, TOP = 40, BOTTOM = 56 };
static const double PI = 3.14159265358979323846; /* PI is not C11 */

/* Ten colours told apart easily (matplotlib's tab10). */
static const double palette[10][3] = {
    {0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17},
    {0.84, 0.15, 0.16}, {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29},
    {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50}, {0.74, 0.74, 0.13},
    {0.09, 0.75, 0.81}};

typedef struct {
    cairo_t *cr;
    double x0, x1, y0, y1; /* the data range drawn */
} frame;

static double to_x(const frame *f, double x)
{
    return LEFT + (x - f->x0) / (f->x1 - f->x0) * (WIDTH - LEFT - RIGHT);
}

static double to_y(const frame *f, double y)
{
    return HEIGHT - BOTTOM - (y - f->y0) / (f->y1 - f->y0) * (HEIGHT - TOP - BOTTOM);
}

/* A tick step of 1, 2 or 5 times a power of ten, about span / 6. */
static double tick_step(double span)
{
    double raw = span / 6.0, power = pow(10.0, floor(log10(raw)));
    double m = raw / power;
    return (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * power;
}

/* Widens [*lo, *hi] a little and keeps it non-empty. */
static void pad_range(double *lo, double *hi)
{
    double span = *hi - *lo;
    if (!(span > 0.0)) span = fabs(*lo) > 0.0 ? fabs(*lo) : 1.0;
    *lo -= 0.05 * span;
    *hi += 0.05 * span;
}

static void text_at(cairo_t *cr, double x, double y, const char *s,
                    double align_x, double align_y)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - align_x * e.width - e.x_bearing,
                  y - align_y * e.height - e.y_bearing);
    cairo_show_text(cr, s);
}

/* The white page, the axes with their ticks, the title and axis labels. */
static void draw_frame(const frame *f, const char *title, const char *x_label,
                       const char *y_label, int integer_x)
{
    cairo_t *cr = f->cr;
    char label[32];
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, LEFT + 0.5, TOP + 0.5, WIDTH - LEFT - RIGHT,
                    HEIGHT - TOP - BOTTOM);
    cairo_stroke(cr);
    double step = tick_step(f->x1 - f->x0);
    if (integer_x && step < 1.0) step = 1.0;
    /* Ticks counted by an integer: a float counter drifts off the
     * multiples of step, and stalls where step is below its precision. */
    for (long long i = (long long)ceil(f->x0 / step); (double)i * step <= f->x1;
         i++) {
        double t = (double)i * step, x = to_x(f, t);
        cairo_move_to(cr, x, HEIGHT - BOTTOM);
        cairo_line_to(cr, x, HEIGHT - BOTTOM + 5);
        cairo_stroke(cr);
        snprintf(label, sizeof label, "%g", t);
        text_at(cr, x, HEIGHT - BOTTOM + 9, label, 0.5, 0.0);
    }
    step = tick_step(f->y1 - f->y0);
    for (long long i = (long long)ceil(f->y0 / step); (double)i * step <= f->y1;
         i++) {
        double t = (double)i * step, y = to_y(f, t);
        cairo_move_to(cr, LEFT - 5, y);
        cairo_line_to(cr, LEFT, y);
        cairo_stroke(cr);
        snprintf(label, sizeof label, "%.4g", t);
        text_at(cr, LEFT - 8, y, label, 1.0, 0.5);
    }
    text_at(cr, (LEFT + WIDTH - RIGHT) / 2.0, HEIGHT - 20, x_label, 0.5, 0.0);
    cairo_save(cr);
    cairo_translate(cr, 18, (TOP + HEIGHT - BOTTOM) / 2.0);
    cairo_rotate(cr, -PI / 2);
    text_at(cr, 0, 0, y_label, 0.5, 0.5);
    cairo_restore(cr);
    cairo_set_font_size(cr, 14);
    text_at(cr, (LEFT + WIDTH - RIGHT) / 2.0, TOP / 2.0, title, 0.5, 0.5);
    cairo_set_font_size(cr, 12);
}

/* Legend entry `row` in colour c, right of the plot. */
static void legend(cairo_t *cr, int row, const double *c, const char *name)
{
    double x = WIDTH - RIGHT + 16, y = TOP + 10 + 20 * row;
    cairo_set_source_rgb(cr, c[0], c[1], c[2]);
    cairo_rectangle(cr, x, y - 5, 14, 10);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text_at(cr, x + 20, y, name, 0.0, 0.5);
}

static cairo_status_t write_chunk(void *closure, const unsigned char *data,
                                  unsigned int length)
{
    return fwrite(data, 1, length, closure) == length ? CAIRO_STATUS_SUCCESS
                                                      : CAIRO_STATUS_WRITE_ERROR;
}

/* Writes the surface as a PNG, atomically. */
static clae_status save_png(clae_context *ctx, cairo_surface_t *surface,
                            const char *path)
{
    clae_atomic_file af;
    clae_status status = clae__atomic_begin(ctx, path, &af);
    if (status != CLAE_SUCCESS) return status;
    cairo_status_t cs = cairo_surface_write_to_png_stream(surface, write_chunk, af.f);
    if (cs != CAIRO_STATUS_SUCCESS) {
        clae__atomic_abort(&af);
        return CLAE_FAIL(ctx, CLAE_ERR_IO, "%s: %s", path,
                         cairo_status_to_string(cs));
    }
    return clae__atomic_commit(ctx, &af);
}

/* A surface and its context, or an error. */
static clae_status open_canvas(clae_context *ctx, cairo_surface_t **surface,
                               cairo_t **cr)
{
    *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, WIDTH, HEIGHT);
    *cr = cairo_create(*surface);
    cairo_status_t cs = cairo_status(*cr);
    if (cs == CAIRO_STATUS_SUCCESS) return CLAE_SUCCESS;
    cairo_destroy(*cr);
    cairo_surface_destroy(*surface);
    return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "cairo: %s",
                     cairo_status_to_string(cs));
}

static clae_status close_canvas(clae_context *ctx, cairo_surface_t *surface,
                                cairo_t *cr, const char *path)
{
    cairo_status_t cs = cairo_status(cr);
    clae_status status =
        cs == CAIRO_STATUS_SUCCESS
            ? save_png(ctx, surface, path)
            : CLAE_FAIL(ctx, CLAE_ERR_IO, "%s: cairo: %s", path,
                        cairo_status_to_string(cs));
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    return status;
}

clae_status clae_plot_losses(clae_context *ctx, const char *path,
                             const double *train, const double *val,
                             size_t epochs)
{
    frame f = {NULL, 1.0, (double)epochs, INFINITY, -INFINITY};
    for (size_t i = 0; i < epochs; i++) {
        const double v[2] = {train[i], val ? val[i] : NAN};
        for (int k = 0; k < 2; k++)
            if (isfinite(v[k])) {
                f.y0 = fmin(f.y0, v[k]);
                f.y1 = fmax(f.y1, v[k]);
            }
    }
    if (epochs == 0 || !isfinite(f.y0))
        return CLAE_FAIL(ctx, CLAE_ERR_INPUT, "%s: no finite losses to draw",
                         path);
    if (epochs == 1) f.x0 = 0.0;
    pad_range(&f.y0, &f.y1);
    cairo_surface_t *surface;
    clae_status status = open_canvas(ctx, &surface, &f.cr);
    if (status != CLAE_SUCCESS) return status;
    draw_frame(&f, "Loss per epoch", "epoch", "loss", 1);
    const double *series[2] = {train, val};
    const char *names[2] = {"train_loss", "val_loss"};
    cairo_set_line_width(f.cr, 2);
    for (int s = 0; s < 2; s++) {
        if (!series[s]) continue;
        const double *c = palette[s];
        int drawn = 0, pen_down = 0;
        cairo_set_source_rgb(f.cr, c[0], c[1], c[2]);
        for (size_t i = 0; i < epochs; i++) {
            double y = series[s][i];
            if (!isfinite(y)) {
                pen_down = 0;
                continue;
            }
            double px = to_x(&f, (double)(i + 1)), py = to_y(&f, y);
            if (pen_down) cairo_line_to(f.cr, px, py);
            else cairo_move_to(f.cr, px, py);
            pen_down = 1;
            drawn = 1;
            cairo_arc(f.cr, px, py, 2.5, 0, 2 * PI);
            cairo_move_to(f.cr, px, py);
        }
        cairo_stroke(f.cr);
        if (drawn) legend(f.cr, s, c, names[s]);
    }
    return close_canvas(ctx, surface, f.cr, path);
}

clae_status clae_plot_codes(clae_context *ctx, const char *path,
                            const float *points, size_t n, const int *labels,
                            const char *axis)
{
    frame f = {NULL, INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++) {
        f.x0 = fmin(f.x0, points[2 * i]);
        f.x1 = fmax(f.x1, points[2 * i]);
        f.y0 = fmin(f.y0, points[2 * i + 1]);
        f.y1 = fmax(f.y1, points[2 * i + 1]);
    }
    if (n == 0 || !isfinite(f.x0) || !isfinite(f.y0) || !isfinite(f.x1) ||
        !isfinite(f.y1))
        return CLAE_FAIL(ctx, CLAE_ERR_INPUT, "%s: no finite points to draw",
                         path);
    pad_range(&f.x0, &f.x1);
    pad_range(&f.y0, &f.y1);
    cairo_surface_t *surface;
    clae_status status = open_canvas(ctx, &surface, &f.cr);
    if (status != CLAE_SUCCESS) return status;
    char x_label[32], y_label[32];
    snprintf(x_label, sizeof x_label, "%s 1", axis);
    snprintf(y_label, sizeof y_label, "%s 2", axis);
    draw_frame(&f, "Codes", x_label, y_label, 0);
    int seen[10] = {0}, repeats = 0;
    for (size_t i = 0; i < n; i++) {
        int label = labels ? labels[i] : 0, k = (label % 10 + 10) % 10;
        const double *c = palette[k];
        seen[k] = 1;
        repeats |= label != k;
        cairo_set_source_rgba(f.cr, c[0], c[1], c[2], 0.6);
        cairo_arc(f.cr, to_x(&f, points[2 * i]), to_y(&f, points[2 * i + 1]),
                  1.6, 0, 2 * PI);
        cairo_fill(f.cr);
    }
    for (int k = 0, row = 0; labels && k < 10; k++)
        if (seen[k]) {
            char name[32];
            snprintf(name, sizeof name, repeats ? "class %d (+10j)" : "class %d", k);
            legend(f.cr, row++, palette[k], name);
        }
    return close_canvas(ctx, surface, f.cr, path);
}
