/* Shared by the cmocka suites: one context per test binary, random inputs
 * and a mixed-tolerance comparison. */
#ifndef CLAE_TEST_UTIL_H
#define CLAE_TEST_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "context.h"

/* Group setup: opens the default device into *state, or leaves NULL when
 * there is no OpenCL device (the tests then skip, never pass). */
static inline int test_open_context(void **state)
{
    clae_context *ctx = NULL;
    clae_status status = clae_context_create(NULL, &ctx);
    if (status != CLAE_SUCCESS) {
        fprintf(stderr, "no usable OpenCL device: %s\n", clae_last_error(ctx));
        clae_context_destroy(ctx);
        ctx = NULL;
    }
    *state = ctx;
    return 0;
}

static inline int test_close_context(void **state)
{
    clae_context_destroy(*state);
    return 0;
}

/* The group's context, or skip() (which does not return) without one. */
static inline clae_context *test_context(void **state)
{
    if (!*state) skip();
    return *state;
}

/* A deterministic uniform value in [lo, hi) (xorshift; tests only). */
static inline float test_uniform(uint32_t *s, float lo, float hi)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return lo + (hi - lo) * (float)(*s >> 8) / 16777216.0f;
}

static inline void test_fill(float *x, size_t n, uint32_t seed, float lo,
                             float hi)
{
    uint32_t s = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) x[i] = test_uniform(&s, lo, hi);
}

/* Asserts |got - want| <= atol + rtol * |want| for every element, naming
 * the first that differs. */
static inline void test_assert_close(const char *what, const float *got,
                                     const float *want, size_t n, float atol,
                                     float rtol)
{
    for (size_t i = 0; i < n; i++) {
        float tol = atol + rtol * fabsf(want[i]);
        if (!(fabsf(got[i] - want[i]) <= tol))
            fail_msg("%s[%zu]: got %.9g, want %.9g (tolerance %.3g)", what, i,
                     (double)got[i], (double)want[i], (double)tol);
    }
}

/* Device buffers from and to host arrays (blocking). Without a host
 * array the buffer starts with every bit set (a NaN in each float, an
 * index past any array), so that an element the kernel under test fails to
 * write shows in the comparison that follows. That also gives Oclgrind a
 * fresh record of the buffer: its uninitialised-value check (21.10) lets a
 * new buffer inherit the record of a released one in its place, size
 * included, which hides or invents unset reads. */
static inline cl_mem test_upload(clae_context *ctx, const void *host,
                                 size_t bytes)
{
    cl_mem mem = NULL;
    void *all_set = host ? NULL : malloc(bytes);
    if (!host) {
        assert_non_null(all_set);
        memset(all_set, 0xff, bytes);
    }
    assert_int_equal(clae__buffer(ctx, bytes, "test", &mem), CLAE_SUCCESS);
    /* Written, not filled: Oclgrind 21.10 does not count a fill as
     * setting the buffer. */
    assert_int_equal(clEnqueueWriteBuffer(ctx->queue, mem, CL_TRUE, 0, bytes,
                                          host ? host : all_set, 0, NULL, NULL),
                     CL_SUCCESS);
    free(all_set);
    return mem;
}

static inline void test_download(clae_context *ctx, cl_mem mem, void *host,
                                 size_t bytes)
{
    assert_int_equal(clEnqueueReadBuffer(ctx->queue, mem, CL_TRUE, 0, bytes,
                                         host, 0, NULL, NULL),
                     CL_SUCCESS);
}

/* Makes $TMPDIR/clae-test-<name>-XXXXXX (default /tmp) into dir; 0 on
 * success, else -1 after saying why. */
static inline int test_make_temp_dir(char *dir, size_t size, const char *name)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, size, "%s/clae-test-%s-XXXXXX", base && *base ? base : "/tmp",
             name);
    if (mkdtemp(dir)) return 0;
    fprintf(stderr, "mkdtemp %s: %s\n", dir, strerror(errno));
    dir[0] = '\0';
    return -1;
}

static inline void test_write_bytes(const char *path, const void *bytes,
                                    size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

/* The suite's scratch directory, made by test_open_tmp_context. */
static char test_tmp_root[256];

/* out = the scratch directory / name. */
static inline void test_tmp_path(char *out, size_t size, const char *name)
{
    int n = snprintf(out, size, "%s/%s", test_tmp_root, name);
    assert_true(n > 0 && (size_t)n < size);
}

static inline void test_remove_tree(const char *path);

/* A suite's setup with files: the scratch directory, then the context;
 * test_close_tmp_context removes the directory and everything in it. */
static inline int test_open_tmp_context(void **state)
{
    if (test_make_temp_dir(test_tmp_root, sizeof test_tmp_root, "files"))
        return -1;
    return test_open_context(state);
}

static inline int test_close_tmp_context(void **state)
{
    if (test_tmp_root[0]) test_remove_tree(test_tmp_root);
    return test_close_context(state);
}

/* Removes path and, for a directory, everything below it. */
static inline void test_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char child[4096];
        if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) <
            (int)sizeof child)
            test_remove_tree(child);
    }
    if (d) closedir(d);
    rmdir(path);
}

#define TEST_FASHION "/usr/share/datasets/fashion-mnist/"

/* The first n images of a Fashion-MNIST file (ctx may be NULL). */
static inline clae_data *test_load_prefix(clae_context *ctx, const char *path,
                                          size_t n)
{
    clae_data *data = NULL;
    if (clae_data_load(ctx, path, NULL, &data) != CLAE_SUCCESS)
        fail_msg("cannot read %s: %s (make deps installs "
                 "dataset-fashion-mnist)", path, clae_last_error(ctx));
    assert_true(data->n >= n);
    data->n = n;
    return data;
}

/* A suite's setup on real data: the context, then the first train_n
 * Fashion-MNIST training images and the first val_n test images. */
static inline int test_open_fashion(void **state, size_t train_n,
                                    size_t val_n, clae_data **train,
                                    clae_data **val)
{
    test_open_context(state);
    if (*state) {
        *train = test_load_prefix(*state, TEST_FASHION "train-images-idx3-ubyte.gz",
                                  train_n);
        *val = test_load_prefix(*state, TEST_FASHION "t10k-images-idx3-ubyte.gz",
                                val_n);
    }
    return 0;
}

/* Its teardown. */
static inline int test_close_fashion(void **state, clae_data *train,
                                     clae_data *val)
{
    clae_data_free(train);
    clae_data_free(val);
    return test_close_context(state);
}

/* The reference model for d inputs, initialised from seed. */
static inline clae_model *test_reference_model(clae_context *ctx, size_t d,
                                               uint64_t seed)
{
    char *spec = NULL;
    clae_model *model = NULL;
    assert_int_equal(clae_arch_spec(ctx, "reference", d, NULL, &spec), CLAE_SUCCESS);
    assert_int_equal(clae_model_create(ctx, spec, seed, &model), CLAE_SUCCESS);
    free(spec);
    return model;
}

#endif
