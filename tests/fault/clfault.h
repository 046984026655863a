/* The fault injector's bookkeeping (clfault.c), used by the stand-ins for
 * OpenCL and CLBlast functions (wrappers.c). Every entry point takes the
 * stand-in's return address: only calls made from the program under test
 * (the clae binary, which links libclae statically) count; calls that
 * CLBlast or the driver make pass through untouched. */
#ifndef CLFAULT_H
#define CLFAULT_H

/* True when this call must fail: it is the first call from the call site
 * named by CLFAULT_FAIL. Also lists the site in CLFAULT_SITES when that is
 * set. */
int clfault_inject(const void *caller, const char *function, const char *error);

/* The program under test gained (created, retained) or dropped (released) a
 * reference to an OpenCL object; handle NULL is ignored. */
void clfault_gained(const void *caller, const void *handle, const char *kind);
void clfault_dropped(const void *caller, const void *handle, const char *kind);

#endif
