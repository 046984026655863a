/* A fault injector for clae's OpenCL and CLBlast calls, the test build's
 * switch behind tests/fault/sweep.sh. Loaded with LD_PRELOAD, its stand-ins
 * (wrappers.c) sit in front of every such function clae calls. A call site
 * is the address a call from the clae binary returns to, as an offset in
 * the binary (stable across runs whatever the load address). Environment:
 *   CLFAULT_SITES=F   append each call site the run reaches to F, once, as
 *                     "0xOFFSET function" (the sweep's list)
 *   CLFAULT_FAIL=0xO  the first call from site O fails with the function's
 *                     typical error (wrappers.c) instead of running
 *   CLFAULT_REPORT=F  append "injected ..." when that happens, and at exit
 *                     one line per OpenCL object clae still holds a
 *                     reference to ("leaked ...") or released once too
 *                     often ("over-released ..."); without it, those go to
 *                     stderr */
#define _GNU_SOURCE
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfault.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t program_base, program_start, program_end;

/* Site offsets listed in CLFAULT_SITES so far (each is listed once). */
static uintptr_t *listed;
static size_t listed_count, listed_capacity;
static int injected;

/* OpenCL objects clae holds references to. */
struct object {
    const void *handle;
    const char *kind;
    uintptr_t site; /* where the reference was first gained */
    long references;
};
static struct object *objects;
static size_t object_count, object_capacity;

static int find_program(struct dl_phdr_info *info, size_t size, void *unused)
{
    (void)size, (void)unused;
    /* The first object is the program itself (its name is empty). */
    program_base = info->dlpi_addr;
    program_start = UINTPTR_MAX;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t from = info->dlpi_addr + ph->p_vaddr;
        if (from < program_start) program_start = from;
        if (from + ph->p_memsz > program_end) program_end = from + ph->p_memsz;
    }
    return 1;
}

__attribute__((constructor)) static void init(void)
{
    dl_iterate_phdr(find_program, NULL);
}

/* The caller's site offset, or 0 for a call from outside the program. */
static uintptr_t site_of(const void *caller)
{
    uintptr_t at = (uintptr_t)caller;
    return at >= program_start && at < program_end ? at - program_base : 0;
}

static void append_line(const char *variable, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void append_line(const char *variable, const char *fmt, ...)
{
    const char *path = getenv(variable);
    FILE *f = path ? fopen(path, "a") : stderr;
    if (!f) return;
    va_list ap;
    va_start(ap, fmt);
    if (f == stderr) fputs("clfault: ", f);
    vfprintf(f, fmt, ap);
    va_end(ap);
    if (f != stderr) fclose(f);
}

static void list_site(uintptr_t site, const char *function)
{
    for (size_t i = 0; i < listed_count; i++)
        if (listed[i] == site) return;
    if (listed_count == listed_capacity) {
        listed_capacity = listed_capacity ? 2 * listed_capacity : 64;
        listed = realloc(listed, listed_capacity * sizeof *listed);
        if (!listed) abort();
    }
    listed[listed_count++] = site;
    append_line("CLFAULT_SITES", "0x%lx %s\n", (unsigned long)site, function);
}

int clfault_inject(const void *caller, const char *function, const char *error)
{
    uintptr_t site = site_of(caller);
    if (!site) return 0;
    pthread_mutex_lock(&lock);
    if (getenv("CLFAULT_SITES")) list_site(site, function);
    const char *target = getenv("CLFAULT_FAIL");
    int fail = !injected && target && strtoul(target, NULL, 16) == site;
    if (fail) {
        injected = 1;
        append_line("CLFAULT_REPORT", "injected %s %s at 0x%lx\n", function,
                    error, (unsigned long)site);
    }
    pthread_mutex_unlock(&lock);
    return fail;
}

static struct object *find_object(const void *handle)
{
    for (size_t i = 0; i < object_count; i++)
        if (objects[i].handle == handle) return &objects[i];
    return NULL;
}

void clfault_gained(const void *caller, const void *handle, const char *kind)
{
    uintptr_t site = site_of(caller);
    if (!site || !handle) return;
    pthread_mutex_lock(&lock);
    struct object *o = find_object(handle);
    if (!o) {
        if (object_count == object_capacity) {
            object_capacity = object_capacity ? 2 * object_capacity : 256;
            objects = realloc(objects, object_capacity * sizeof *objects);
            if (!objects) abort();
        }
        o = &objects[object_count++];
        *o = (struct object){handle, kind, site, 0};
    }
    o->references++;
    pthread_mutex_unlock(&lock);
}

void clfault_dropped(const void *caller, const void *handle, const char *kind)
{
    uintptr_t site = site_of(caller);
    if (!site || !handle) return;
    pthread_mutex_lock(&lock);
    struct object *o = find_object(handle);
    if (!o) {
        append_line("CLFAULT_REPORT", "over-released %s at 0x%lx\n", kind,
                    (unsigned long)site);
    } else if (--o->references == 0) {
        *o = objects[--object_count]; /* the handle may be reused: forget it */
    }
    pthread_mutex_unlock(&lock);
}

__attribute__((destructor)) static void report_leaks(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < object_count; i++)
        append_line("CLFAULT_REPORT", "leaked %s created at 0x%lx\n",
                    objects[i].kind, (unsigned long)objects[i].site);
    pthread_mutex_unlock(&lock);
}
