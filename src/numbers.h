/* Strict number parsing for the text clae reads itself (spec lines, the
 * device index, model metadata): the whole field or a refusal, never a
 * value wrapped or read in part, as sscanf's %u, atoi and an unchecked
 * strtof give (4294967298 as 2, "0.5x" as 0.5). */
#ifndef CLAE_NUMBERS_H
#define CLAE_NUMBERS_H

#include "clae.h"

/* The field of text up to the first `stop` character ('\0': the end of
 * text) as a whole number at most max: decimal digits only (no sign, no
 * space). Sets *out and returns where that stop is; NULL when the field is
 * anything else or larger than max. */
const char *clae__parse_uint(const char *text, char stop, unsigned long max,
                             unsigned long *out);

/* All of text as a finite number: sets *out, returns 1; else 0. */
int clae__parse_double(const char *text, double *out);

/* All of text as a finite number in [lo, hi] (as a float): sets *out,
 * returns 1; else 0. */
int clae__parse_float(const char *text, float lo, float hi, float *out);

/* All of text as an image shape "HxWxC", no side 0, at most max (below
 * 2^32) values in all: sets *shape, returns 1; else 0. */
int clae__parse_shape(const char *text, unsigned long max,
                      clae_image_shape *shape);

#endif
