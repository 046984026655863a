/* Program building: the binary cache under $XDG_CACHE_HOME/clae, its
 * fallback on a damaged entry, and the build log of a failing kernel. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

static char cache_home[512];

static int setup(void **state)
{
    (void)state;
    if (test_make_temp_dir(cache_home, sizeof cache_home, "program")) return -1;
    setenv("XDG_CACHE_HOME", cache_home, 1);
    setenv("CLAE_BINARY_CACHE", "1", 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_remove_tree(cache_home);
    return 0;
}

/* A context, or skip() when there is no OpenCL device. */
static clae_context *open_or_skip(const clae_context_options *options)
{
    clae_context *ctx = NULL;
    clae_status status = clae_context_create(options, &ctx);
    if (status == CLAE_ERR_NO_PLATFORM) {
        clae_context_destroy(ctx);
        skip();
    }
    if (status != CLAE_SUCCESS) fail_msg("%s", clae_last_error(ctx));
    return ctx;
}

/* Lists the cache's .bin files into names (up to max); returns the count. */
static int cache_entries(char names[][900], int max)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/clae", cache_home);
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".bin") && n < max)
            snprintf(names[n++], 900, "%s/%s", dir, e->d_name);
    closedir(d);
    return n;
}

/* The first start builds every program from source and stores it; the
 * second builds nothing. */
static void test_second_start_compiles_nothing(void **state)
{
    (void)state;
    clae_context *first = open_or_skip(NULL);
    assert_int_equal(first->source_builds, CLAE_PROGRAM_COUNT);
    clae_context_destroy(first);
    char names[16][900];
    assert_int_equal(cache_entries(names, 16), CLAE_PROGRAM_COUNT);
    clae_context *second = open_or_skip(NULL);
    assert_int_equal(second->source_builds, 0);
    clae_context_destroy(second);
}

/* A damaged cache entry is rebuilt from source, not an error. */
static void test_damaged_entry_falls_back(void **state)
{
    (void)state;
    clae_context_destroy(open_or_skip(NULL)); /* fills the cache */
    char names[16][900];
    int n = cache_entries(names, 16);
    assert_true(n > 0);
    FILE *f = fopen(names[0], "wb");
    assert_non_null(f);
    fputs("not a program binary", f);
    fclose(f);
    clae_context *ctx = open_or_skip(NULL);
    assert_int_equal(ctx->source_builds, 1);
    assert_string_equal(clae_last_error(ctx), "");
    clae_context_destroy(ctx);
}

/* A kernel that does not compile fails with CL_BUILD_PROGRAM_FAILURE and
 * the device's build log, naming the file and the options. */
static void test_build_failure_reports_log(void **state)
{
    (void)state;
    char dir[512], path[600];
    assert_int_equal(test_make_temp_dir(dir, sizeof dir, "kernels"), 0);
    const char *names[] = {"activation.cl", "loss.cl", "gather.cl",
                           "optim.cl", "common.cl"};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(i == 2   ? "__kernel void gather_rows(__global float *x) { x[0] = y; }\n"
              : i == 4 ? "/* common.cl: no helpers */\n"
                       : "__kernel void unused(void) {}\n",
              f);
        fclose(f);
    }
    clae_context_options options = {.kernel_dir = dir};
    clae_context *ctx = NULL;
    clae_status status = clae_context_create(&options, &ctx);
    if (status == CLAE_ERR_NO_PLATFORM) {
        clae_context_destroy(ctx);
        skip();
    }
    assert_int_equal(status, CL_BUILD_PROGRAM_FAILURE);
    const char *message = clae_last_error(ctx);
    assert_non_null(strstr(message, "clBuildProgram(gather.cl)"));
    assert_non_null(strstr(message, "CL_BUILD_PROGRAM_FAILURE"));
    assert_non_null(strstr(message, "-cl-std=CL1.2"));
    assert_non_null(strstr(message, "undeclared identifier 'y'"));
    clae_context_destroy(ctx);
    test_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_start_compiles_nothing),
        cmocka_unit_test(test_damaged_entry_falls_back),
        cmocka_unit_test(test_build_failure_reports_log),
    };
    return cmocka_run_group_tests_name("program", tests, setup, teardown);
}
