/* Strict number parsing (numbers.h): strtoul and strtof, with every way
 * they report a bad field checked. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "numbers.h"

const char *clae__parse_uint(const char *text, char stop, unsigned long max,
                             unsigned long *out)
{
    /* strtoul itself would skip spaces and take a sign ("-1" is ULONG_MAX) */
    if (*text < '0' || *text > '9') return NULL;
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno == ERANGE || *end != stop || v > max) return NULL;
    *out = v;
    return end;
}

int clae__parse_double(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno == ERANGE || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

int clae__parse_float(const char *text, float lo, float hi, float *out)
{
    double v;
    if (!clae__parse_double(text, &v) || v < lo || v > hi) return 0;
    const float f = (float)v;
    /* beyond float's range, or below its smallest: as strtof refuses */
    if (!isfinite(f) || (f == 0.0f && v != 0.0)) return 0;
    *out = f;
    return 1;
}

int clae__parse_shape(const char *text, unsigned long max,
                      clae_image_shape *shape)
{
    unsigned long side[3], values = 1;
    const char *at = text;
    for (int i = 0; i < 3; i++) {
        if (i) at++; /* past the 'x' */
        at = clae__parse_uint(at, i < 2 ? 'x' : '\0', max, &side[i]);
        if (!at || side[i] == 0 || side[i] > max / values) return 0;
        values *= side[i];
    }
    *shape = (clae_image_shape){(unsigned)side[0], (unsigned)side[1],
                                (unsigned)side[2]};
    return 1;
}
