/* The GEMM tuner and its stored entries: a search stores only a verified
 * winner, a workspace applies a stored entry for its shape class, and an
 * entry that computes wrong results is replaced by the built-in one with a
 * warning. The cache directory is a temporary one (PoCL keeps its own). */
#include "model.h"
#include "test_util.h"

static char cache_home[512];

/* A model whose GEMM dimensions are 8 and 16: shape class "8-16". */
static const char spec[] = "input 16\ndense 8 relu\ndense 16 sigmoid\nloss bce\n";
enum { BATCH = 8 };

static int setup(void **state)
{
    /* PoCL's compiled kernels stay where they were, so only clae's cache
     * directory is new. */
    if (!getenv("POCL_CACHE_DIR")) {
        char pocl[600];
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (xdg && *xdg) snprintf(pocl, sizeof pocl, "%s/pocl", xdg);
        else snprintf(pocl, sizeof pocl, "%s/.cache/pocl", home ? home : "/tmp");
        setenv("POCL_CACHE_DIR", pocl, 1);
    }
    if (test_make_temp_dir(cache_home, sizeof cache_home, "tune")) return -1;
    setenv("XDG_CACHE_HOME", cache_home, 1);
    return test_open_context(state);
}

static int teardown(void **state)
{
    test_remove_tree(cache_home);
    return test_close_context(state);
}

static char warnings[1024];

static void keep_warning(void *user, clae_log_level level, const char *message)
{
    (void)user;
    if (level == CLAE_LOG_WARNING)
        snprintf(warnings, sizeof warnings, "%s", message);
}

static void write_tuning_file(clae_context *ctx, const char *kernel_params)
{
    char path[700], text[4096];
    snprintf(path, sizeof path, "%s/clae", cache_home);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/clae/gemm-tuning.json", cache_home);
    snprintf(text, sizeof text,
             "[{\"device\": \"%s\", \"driver\": \"%s\", \"shape_class\": "
             "\"8-16\", \"kernel\": \"Xgemm\", \"params\": {%s}, "
             "\"ms_per_step\": 1}]",
             ctx->info.name, ctx->info.driver_version, kernel_params);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static clae_model *make_model(clae_context *ctx)
{
    clae_model *m = NULL;
    assert_int_equal(clae_model_create(ctx, spec, 0, &m), CLAE_SUCCESS);
    return m;
}

/* A stored entry for the model's shape class is applied (and checked) when
 * a workspace is made; another class keeps the built-in parameters. */
static void test_stored_entry_is_applied(void **state)
{
    clae_context *ctx = test_context(state);
    /* The AVX-512 built-in entry: known to compute right on PoCL. */
    write_tuning_file(ctx, "\"GEMMK\": 1, \"KREG\": 16, \"KWG\": 1, \"KWI\": 1, "
                           "\"MDIMA\": 1, \"MDIMC\": 1, \"MWG\": 16, \"NDIMB\": 1, "
                           "\"NDIMC\": 1, \"NWG\": 16, \"SA\": 0, \"SB\": 0, "
                           "\"STRM\": 0, \"STRN\": 0, \"VWM\": 16, \"VWN\": 16");
    clae_model *m = make_model(ctx);
    clae_workspace *ws = NULL;
    assert_int_equal(clae__workspace_create(m, BATCH, &ws), CLAE_SUCCESS);
    assert_string_equal(ctx->gemm_tuning, "tuned");
    clae__workspace_destroy(ws);
    /* Batch 64 is another class ("8-16-64"): back to the built-in entry. */
    assert_int_equal(clae__workspace_create(m, 64, &ws), CLAE_SUCCESS);
    assert_string_not_equal(ctx->gemm_tuning, "tuned");
    clae__workspace_destroy(ws);
    clae_model_destroy(m);
}

/* An entry that computes wrong results is dropped with a warning and the
 * built-in parameters come back. */
static void test_wrong_entry_falls_back(void **state)
{
    clae_context *ctx = test_context(state);
    /* Accepted by CLBlast, wrong on PoCL (found by clae tune). */
    write_tuning_file(ctx, "\"GEMMK\": 1, \"KREG\": 8, \"KWG\": 1, \"KWI\": 1, "
                           "\"MDIMA\": 1, \"MDIMC\": 1, \"MWG\": 8, \"NDIMB\": 1, "
                           "\"NDIMC\": 1, \"NWG\": 2, \"SA\": 0, \"SB\": 0, "
                           "\"STRM\": 0, \"STRN\": 0, \"VWM\": 4, \"VWN\": 1");
    ctx->log = keep_warning;
    ctx->gemm_class[0] = '\0';
    warnings[0] = '\0';
    clae_model *m = make_model(ctx);
    clae_workspace *ws = NULL;
    assert_int_equal(clae__workspace_create(m, BATCH, &ws), CLAE_SUCCESS);
    if (strcmp(ctx->gemm_tuning, "tuned") == 0) {
        /* This device computes it right: nothing to fall back from. */
        clae__workspace_destroy(ws);
        clae_model_destroy(m);
        ctx->log = NULL;
        skip();
    }
    assert_non_null(strstr(warnings, "gemm-tuning.json"));
    assert_non_null(strstr(warnings, "built-in"));
    clae__workspace_destroy(ws);
    clae_model_destroy(m);
    ctx->log = NULL;
}

static int stop_after_two(void *user, const char *params, double ms)
{
    (void)params;
    (void)ms;
    return ++*(int *)user >= 2;
}

/* A search (cut short after two candidates) times the built-in baseline,
 * and whatever it stores is an entry later workspaces apply. */
static void test_search_stores_a_verified_winner(void **state)
{
    clae_context *ctx = test_context(state);
    char path[700];
    snprintf(path, sizeof path, "%s/clae/gemm-tuning.json", cache_home);
    remove(path);
    ctx->gemm_class[0] = '\0';
    clae_model *m = make_model(ctx);
    int seen = 0;
    clae_tune_options o = {.max_seconds = 300, .on_candidate = stop_after_two,
                           .user = &seen};
    clae_tune_result r;
    assert_int_equal(clae_tune_gemm(m, BATCH, &o, &r), CLAE_SUCCESS);
    assert_int_equal(r.tried, 2);
    assert_int_equal(seen, 2);
    assert_string_equal(r.shape_class, "8-16");
    assert_true(r.baseline_ms > 0.0);
    assert_true(r.best_ms > 0.0 && r.best_ms <= r.baseline_ms);
    struct stat st;
    if (*r.path) {
        assert_string_equal(r.path, path);
        assert_int_equal(stat(path, &st), 0);
        assert_true(r.best_ms < r.baseline_ms);
        ctx->gemm_class[0] = '\0';
        clae_workspace *ws = NULL;
        assert_int_equal(clae__workspace_create(m, BATCH, &ws), CLAE_SUCCESS);
        assert_string_equal(ctx->gemm_tuning, "tuned");
        clae__workspace_destroy(ws);
    } else {
        assert_true(r.best_ms == r.baseline_ms);
        assert_int_not_equal(stat(path, &st), 0);
    }
    clae_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stored_entry_is_applied),
        cmocka_unit_test(test_wrong_entry_falls_back),
        cmocka_unit_test(test_search_stores_a_verified_winner),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
