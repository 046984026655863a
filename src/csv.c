/* Numeric CSV files through libcsv: one sample a row, every row the same
 * number of fields, each a number (or, where asked, empty: NaN); a first
 * row that is not all numbers is a header and skipped. Also the metrics
 * CSV that clae train writes. */
#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

/* What the callbacks collect while libcsv parses. */
typedef struct {
    float *values;
    size_t count, capacity;
    size_t row;        /* rows seen, the header included */
    size_t fields;     /* fields of the current row */
    size_t width;      /* fields of the first data row; 0 before it */
    size_t row_start;  /* count at the current row's first field */
    int header;        /* the first row was a header */
    int empty_is_nan;
    int header_row;    /* the current row has a field that is no number */
    char error[160];   /* the first problem found; "" while none */
} csv_state;

static int parse_value(const char *text, float *value)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    while (isspace((unsigned char)*end)) end++;
    if (end == text || *end || errno == ERANGE) return 0;
    *value = (float)v;
    return 1;
}

static void on_field(void *text, size_t len, void *user)
{
    csv_state *s = user;
    (void)len; /* CSV_APPEND_NULL ends every field with a NUL */
    if (s->error[0]) return;
    if (s->count == s->capacity) {
        size_t cap = s->capacity ? 2 * s->capacity : 4096;
        float *grown = realloc(s->values, cap * sizeof *grown);
        if (!grown) {
            snprintf(s->error, sizeof s->error, "not enough host memory");
            return;
        }
        s->values = grown;
        s->capacity = cap;
    }
    s->fields++;
    if (s->empty_is_nan && s->row > 0 && (!text || !*(const char *)text)) {
        s->values[s->count++] = NAN;
        return;
    }
    if (!parse_value(text ? text : "", &s->values[s->count])) {
        if (s->row > 0)
            snprintf(s->error, sizeof s->error,
                     "row %zu, field %zu: '%.40s' is not a number", s->row + 1,
                     s->fields, text ? (const char *)text : "");
        s->header_row = 1; /* the first row: a header */
        return;
    }
    s->count++;
}

static void on_row_end(int terminator, void *user)
{
    csv_state *s = user;
    (void)terminator;
    if (s->error[0]) return;
    if (s->header_row) { /* the header's numbers, if any, are not data */
        s->header = 1;
        s->count = s->row_start;
    } else if (s->width == 0) {
        s->width = s->fields;
    } else if (s->fields != s->width) {
        snprintf(s->error, sizeof s->error,
                 "row %zu has %zu fields, the rows before it %zu", s->row + 1,
                 s->fields, s->width);
    }
    s->row++;
    s->fields = 0;
    s->header_row = 0;
    s->row_start = s->count;
}

clae_status clae__csv_read(clae_context *ctx, const char *path,
                           int empty_is_nan, clae_data **out)
{
    clae_status status = CLAE_SUCCESS;
    struct csv_parser parser;
    csv_state s = {.empty_is_nan = empty_is_nan};
    clae_data *data = NULL;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return CLAE_FAIL(ctx, CLAE_ERR_INPUT, "%s: %s", path, strerror(errno));
    if (csv_init(&parser, CSV_APPEND_NULL) != 0) {
        fclose(f);
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "%s: csv_init failed", path);
    }
    char chunk[1 << 16];
    size_t got;
    while (!s.error[0] && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (csv_parse(&parser, chunk, got, on_field, on_row_end, &s) != got)
            snprintf(s.error, sizeof s.error, "%s",
                     csv_strerror(csv_error(&parser)));
    if (ferror(f) && !s.error[0])
        snprintf(s.error, sizeof s.error, "read error: %s", strerror(errno));
    if (!s.error[0]) csv_fini(&parser, on_field, on_row_end, &s);
    csv_free(&parser);
    fclose(f);

    if (s.error[0]) {
        status = CLAE_FAIL(ctx, CLAE_ERR_INPUT, "%s: %s", path, s.error);
    } else if (s.count == 0) {
        status = CLAE_FAIL(ctx, CLAE_ERR_INPUT, "%s: no rows of numbers%s",
                           path, s.header ? " after the header" : "");
    } else if (!(data = calloc(1, sizeof *data)) ||
               !(data->source = strdup(path))) {
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "%s: out of host memory",
                           path);
    } else {
        data->n = s.count / s.width;
        data->d = s.width;
        data->x = s.values;
        data->value_bytes = 4;
        *out = data;
        return CLAE_SUCCESS;
    }
    free(s.values);
    clae_data_free(data);
    return status;
}

clae_status clae_metrics_load(clae_context *ctx, const char *path,
                              double **train, double **val, size_t *epochs)
{
    clae_data *d = NULL;
    *train = *val = NULL;
    *epochs = 0;
    clae_status status = clae__csv_read(ctx, path, 1, &d);
    if (status) return status;
    if (d->d < 4) {
        status = CLAE_FAIL(ctx, CLAE_ERR_INPUT,
                           "%s: %zu columns; a metrics file has "
                           "epoch,train_loss,val_loss,seconds", path, d->d);
    } else if (!(*train = malloc(d->n * sizeof **train)) ||
               !(*val = malloc(d->n * sizeof **val))) {
        free(*train);
        *train = NULL;
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    } else {
        for (size_t i = 0; i < d->n; i++) {
            (*train)[i] = d->x[i * d->d + 1];
            (*val)[i] = d->x[i * d->d + 2];
        }
        *epochs = d->n;
    }
    clae_data_free(d);
    return status;
}
