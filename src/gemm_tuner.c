/* The GEMM tuner: tries CLBlast kernel parameters on the context's device
 * at the GEMM shapes of a model's training step, keeps only candidates whose
 * results match the host reference (some accepted configurations compute
 * wrong results), and stores the fastest in the cache directory
 * (gemm-tuning.json) per (device, driver version, shape class). Workspaces
 * apply a stored entry before their first GEMM.
 *
 * The search space is the one that wins on CPUs, where CLBlast's stock
 * tuners do not look: one work-item per work-group computing a whole tile
 * of C in registers (Xgemm with 2-D register tiling, GEMMK=1, and
 * XgemmDirect), ordered so that tiles which fit the device's vector
 * registers come first. */
#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "files.h"
#include "gemm_tuning.h"
#include "model.h"
#include "philox.h"

enum { MAX_CANDIDATES = 512, TIMED_STEPS = 5 };

#define TUNED_NAME "tuned"
#define TUNING_FILE "gemm-tuning.json"

static const char *const xgemm_names[] = CLAE_XGEMM_NAMES;
static const char *const direct_names[] = CLAE_XGEMM_DIRECT_NAMES;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void set_kernel(clae_kernel_params *k, const char *kernel,
                       const char *const *names, size_t count,
                       const size_t *values)
{
    k->kernel = kernel;
    k->count = count;
    for (size_t i = 0; i < count; i++) {
        k->names[i] = names[i];
        k->values[i] = values[i];
    }
}

/* An entry of the Xgemm kernel (used from size 1) or of XgemmDirect (used
 * for every size, by raising the indirect threshold out of reach). */
static clae_gemm_tuning make_entry(int direct, const size_t *values)
{
    clae_gemm_tuning t = {.name = TUNED_NAME, .count = 2};
    if (direct)
        set_kernel(&t.kernels[0], "XgemmDirect", direct_names, 10, values);
    else
        set_kernel(&t.kernels[0], "Xgemm", xgemm_names, 16, values);
    static const char *const routine[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    size_t threshold = direct ? (size_t)1 << 30 : 1;
    set_kernel(&t.kernels[1], "GemmRoutine", routine, 1, &threshold);
    return t;
}

typedef struct {
    clae_gemm_tuning entry;
    double score; /* distance from the register budget; smaller first */
} candidate;

static int by_score(const void *a, const void *b)
{
    double d = ((const candidate *)a)->score - ((const candidate *)b)->score;
    return (d > 0) - (d < 0);
}

/* Floats of C, A and B a work-item keeps in registers, against a budget of
 * 12 vector registers of the device's preferred float width. */
static double register_score(size_t floats, size_t vector_width)
{
    return fabs((double)floats - 12.0 * (double)vector_width);
}

#define COUNT(a) (sizeof(a) / sizeof *(a))

static size_t make_candidates(size_t vector_width, candidate *out)
{
    /* On PoCL every GEMMK=1 candidate with MWG != NWG computed wrong
     * results in our search, so tiles are square. */
    static const size_t mwg[] = {4, 8, 16, 32}, vwm[] = {1, 2, 4, 8, 16},
                        vwn[] = {1, 2, 4, 8, 16}, kreg[] = {1, 2, 4, 8, 16};
    static const size_t wgd[] = {8, 16, 32}, vwmd[] = {4, 8}, vwnd[] = {1, 2, 4};
    size_t n = 0;
    for (size_t a = 0; a < COUNT(mwg); a++)
        for (size_t c = 0; c < COUNT(vwm); c++)
            for (size_t d = 0; d < COUNT(vwn); d++)
                for (size_t e = 0; e < COUNT(kreg); e++) {
                    size_t m = mwg[a], nn = mwg[a], vm = vwm[c], vn = vwn[d],
                           kr = kreg[e];
                    if (m % vm || nn % vn || kr % vn) continue;
                    const size_t v[16] = {1, kr, 1, 1, 1, 1, m, 1,
                                          1, nn, 0, 0, 0, 0, vm, vn};
                    out[n].entry = make_entry(0, v);
                    /* C's tile, KREG rows of B and of A */
                    out[n++].score = register_score(m * nn + kr * m + nn * kr,
                                                    vector_width);
                }
    for (size_t a = 0; a < COUNT(wgd); a++)
        for (size_t c = 0; c < COUNT(vwmd); c++)
            for (size_t d = 0; d < COUNT(vwnd); d++) {
                size_t w = wgd[a];
                if (w % vwmd[c] || w % vwnd[d]) continue;
                const size_t v[10] = {1, 1, 1, 1, 1, 0, 0, vwmd[c], vwnd[d], w};
                out[n].entry = make_entry(1, v);
                /* A direct work-item holds a whole WGD x WGD tile of C. */
                out[n++].score = register_score(w * w, vector_width) + 1.0;
            }
    qsort(out, n, sizeof *out, by_score);
    return n;
}

/* "Xgemm GEMMK=1 KREG=2 ..." */
static void describe(const clae_gemm_tuning *t, char *text, size_t size)
{
    const clae_kernel_params *k = &t->kernels[0];
    size_t len = (size_t)snprintf(text, size, "%s", k->kernel);
    for (size_t i = 0; i < k->count && len < size; i++)
        len += (size_t)snprintf(text + len, size - len, " %s=%zu", k->names[i],
                                k->values[i]);
}

/* "128-256-1024": the powers of two at or above every GEMM dimension of
 * the step. Entries tuned for one model serve models of the same class. */
static void shape_class(const clae_gemm *g, size_t count, char *text,
                        size_t size)
{
    unsigned used[64] = {0};
    for (size_t i = 0; i < count; i++) {
        const size_t dims[3] = {g[i].m, g[i].n, g[i].k};
        for (int d = 0; d < 3; d++) {
            unsigned bit = 0;
            while (((size_t)1 << bit) < dims[d] && bit < 63) bit++;
            used[bit] = 1;
        }
    }
    size_t len = 0;
    text[0] = '\0';
    for (unsigned bit = 0; bit < 64 && len < size; bit++)
        if (used[bit])
            len += (size_t)snprintf(text + len, size - len, "%s%llu",
                                    len ? "-" : "", 1ULL << bit);
}

/* The GEMMs of one training step at a full batch; ws may be NULL when
 * only the shapes matter. */
static size_t step_gemms(clae_model *m, const clae_workspace *ws, size_t batch,
                         cl_mem input, clae_gemm *out)
{
    size_t count = 0;
    for (size_t i = 0; i < m->count; i++) {
        const clae_layer *l = &m->layers[i];
        count += clae__layer_gemms(m, l, ws, i && ws ? ws->a[i - 1] : input, 0,
                               batch, out + count);
    }
    return count;
}

static clae_status time_step(clae_context *ctx, const clae_gemm *g,
                             size_t count, cl_mem temp, double *ms)
{
    clae_status status = CLAE_SUCCESS;
    for (size_t i = 0; i < count; i++) CLAE_TRY(clae__gemm(ctx, &g[i], temp));
    CL_CHECK(ctx, clFinish(ctx->queue)); /* builds, and warms the caches */
    double start = now_seconds();
    for (int s = 0; s < TIMED_STEPS; s++)
        for (size_t i = 0; i < count; i++) CLAE_TRY(clae__gemm(ctx, &g[i], temp));
    CL_CHECK(ctx, clFinish(ctx->queue));
    *ms = 1e3 * (now_seconds() - start) / TIMED_STEPS;
fail:
    return status;
}

/* ===== Checking a candidate at the model's own shapes ================== */

/* Every buffer the step's GEMMs read or write, with a host copy of its
 * starting contents (random) and of the baseline's results. */
typedef struct {
    size_t count;
    cl_mem mem[4 * 64 + 2];
    size_t floats[4 * 64 + 2];
    float *start[4 * 64 + 2], *want[4 * 64 + 2], *got;
    size_t k[4 * 64 + 2]; /* the longest sum a GEMM writes into the buffer */
} step_state;

static void state_free(step_state *st)
{
    for (size_t i = 0; i < st->count; i++) {
        free(st->start[i]);
        free(st->want[i]);
    }
    free(st->got);
}

static clae_status state_add(clae_context *ctx, step_state *st, cl_mem mem,
                             size_t floats)
{
    size_t i = st->count++;
    st->mem[i] = mem;
    st->floats[i] = floats;
    if (!(st->start[i] = malloc(floats * sizeof(float))) ||
        !(st->want[i] = malloc(floats * sizeof(float))))
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    clae__random_uniform(st->start[i], floats, 1, CLAE_STREAM_INIT,
                         1000 + (uint32_t)i, -1.0f, 1.0f);
    return CLAE_SUCCESS;
}

/* Puts every buffer back to its random starting contents. */
static clae_status state_restore(clae_context *ctx, step_state *st)
{
    clae_status status = CLAE_SUCCESS;
    for (size_t i = 0; i < st->count; i++)
        CL_CHECK(ctx, clEnqueueWriteBuffer(ctx->queue, st->mem[i], CL_TRUE, 0,
                                           st->floats[i] * sizeof(float),
                                           st->start[i], 0, NULL, NULL));
fail:
    return status;
}

/* Runs the step once from the random start; *ok = 0 when any result
 * differs from the baseline's (with record set: keeps them as the
 * baseline). */
static clae_status run_and_compare(clae_context *ctx, step_state *st,
                                   const clae_gemm *g, size_t count,
                                   cl_mem temp, int record, int *ok)
{
    clae_status status = CLAE_SUCCESS;
    CLAE_TRY(state_restore(ctx, st));
    for (size_t i = 0; i < count; i++) CLAE_TRY(clae__gemm(ctx, &g[i], temp));
    *ok = 1;
    for (size_t i = 0; i < st->count; i++) {
        float *dst = record ? st->want[i] : st->got;
        CL_CHECK(ctx, clEnqueueReadBuffer(ctx->queue, st->mem[i], CL_TRUE, 0,
                                          st->floats[i] * sizeof(float), dst, 0,
                                          NULL, NULL));
        /* Sums of k products of values in [-1, 1], in another order:
         * rounding moves them by about k float epsilons (a convolution's
         * weight gradient sums over a whole batch's pixels); a wrong tile
         * misses whole products. */
        const float slack = 4.0f * (float)st->k[i] * FLT_EPSILON;
        for (size_t j = 0; !record && j < st->floats[i]; j++)
            if (!(fabsf(dst[j] - st->want[i][j]) <=
                  1e-3f + slack + 1e-3f * fabsf(st->want[i][j])))
                *ok = 0;
    }
fail:
    return status;
}

static clae_status state_init(clae_model *m, clae_workspace *ws, cl_mem input,
                              step_state *st)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    size_t most = m->param_count;
    memset(st, 0, sizeof *st);
    CLAE_TRY(state_add(ctx, st, input, ws->batch * m->spec.input));
    CLAE_TRY(state_add(ctx, st, ws->grads, m->param_count));
    for (size_t i = 0; i < m->count; i++) {
        const clae_layer *l = &m->layers[i];
        size_t floats = ws->batch * l->out,
               aux = l->ops->aux_count ? l->ops->aux_count(l, ws->batch) : 0;
        CLAE_TRY(state_add(ctx, st, ws->z[i], floats));
        CLAE_TRY(state_add(ctx, st, ws->a[i], floats));
        CLAE_TRY(state_add(ctx, st, ws->g[i], floats));
        /* Each layer's scratch: a convolution's GEMMs read and write its
         * col there. */
        if (aux) CLAE_TRY(state_add(ctx, st, ws->aux[i], aux));
        if (floats > most) most = floats;
        if (aux > most) most = aux;
    }
    if (ws->batch * m->spec.input > most) most = ws->batch * m->spec.input;
    if (!(st->got = malloc(most * sizeof(float))))
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
fail:
    return status;
}

/* ===== The stored entries ============================================== */

static int tuning_path(char *path, size_t size)
{
    char dir[3800];
    if (!clae__cache_dir(dir, sizeof dir)) return 0;
    snprintf(path, size, "%s/%s", dir, TUNING_FILE);
    return 1;
}

/* The stored entries, or an empty list when there is no file yet. A file
 * that is not JSON is treated as empty (and replaced by the next tune). */
static cJSON *load_entries(const char *path)
{
    size_t size;
    char *text = clae__read_file(path, &size);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        root = cJSON_CreateArray();
    }
    return root;
}

static int entry_matches(const cJSON *e, const clae_context *ctx,
                         const char *klass)
{
    const char *fields[3] = {"device", "driver", "shape_class"};
    const char *want[3] = {ctx->info.name, ctx->info.driver_version, klass};
    for (int i = 0; i < 3; i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, fields[i]);
        if (!cJSON_IsString(f) || strcmp(f->valuestring, want[i]) != 0)
            return 0;
    }
    return 1;
}

static cJSON *find_stored(cJSON *entries, const clae_context *ctx,
                          const char *klass)
{
    cJSON *e;
    cJSON_ArrayForEach(e, entries) if (entry_matches(e, ctx, klass)) return e;
    return NULL;
}

/* Rebuilds an entry from its JSON; 0 when the JSON is not one we wrote. */
static int entry_from_json(const cJSON *e, clae_gemm_tuning *out)
{
    const cJSON *kernel = cJSON_GetObjectItemCaseSensitive(e, "kernel");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(e, "params");
    if (!cJSON_IsString(kernel) || !cJSON_IsObject(params)) return 0;
    int direct = strcmp(kernel->valuestring, "XgemmDirect") == 0;
    if (!direct && strcmp(kernel->valuestring, "Xgemm") != 0) return 0;
    const char *const *names = direct ? direct_names : xgemm_names;
    size_t count = direct ? 10 : 16, values[16];
    for (size_t i = 0; i < count; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, names[i]);
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 4096)
            return 0;
        values[i] = (size_t)v->valuedouble;
    }
    *out = make_entry(direct, values);
    return 1;
}

static clae_status store(clae_context *ctx, const clae_gemm_tuning *t,
                         const char *klass, double ms, char *path,
                         size_t path_size)
{
    clae_status status = CLAE_SUCCESS;
    char *text = NULL;
    if (!tuning_path(path, path_size))
        return CLAE_FAIL(ctx, CLAE_ERR_IO, "no cache directory (set HOME or "
                                           "XDG_CACHE_HOME)");
    cJSON *entries = load_entries(path), *old = find_stored(entries, ctx, klass);
    if (old) cJSON_Delete(cJSON_DetachItemViaPointer(entries, old));
    cJSON *e = cJSON_CreateObject(), *params = cJSON_CreateObject();
    cJSON_AddItemToArray(entries, e);
    cJSON_AddStringToObject(e, "device", ctx->info.name);
    cJSON_AddStringToObject(e, "driver", ctx->info.driver_version);
    cJSON_AddStringToObject(e, "shape_class", klass);
    cJSON_AddStringToObject(e, "kernel", t->kernels[0].kernel);
    for (size_t i = 0; i < t->kernels[0].count; i++)
        cJSON_AddNumberToObject(params, t->kernels[0].names[i],
                                (double)t->kernels[0].values[i]);
    cJSON_AddItemToObject(e, "params", params);
    cJSON_AddNumberToObject(e, "ms_per_step", ms);
    if (!(text = cJSON_Print(entries))) {
        status = CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    CLAE_TRY(clae_file_write_atomic(ctx, path, text, strlen(text)));
fail:
    free(text);
    cJSON_Delete(entries);
    return status;
}

/* Puts the built-in entry (or CLBlast's own parameters) back. */
static clae_status restore_builtin(clae_context *ctx)
{
    const clae_gemm_tuning *builtin = clae__gemm_builtin(ctx);
    int ok = 1;
    ctx->gemm_tuning = "";
    return builtin ? clae__gemm_apply(ctx, builtin, &ok) : CLAE_SUCCESS;
}

clae_status clae__gemm_use_stored(clae_model *m, size_t batch)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    clae_gemm g[CLAE_MAX_LAYER_GEMMS * 64];
    char klass[64], path[4096];
    if (m->count > 64 || !tuning_path(path, sizeof path)) return CLAE_SUCCESS;
    shape_class(g, step_gemms(m, NULL, batch, NULL, g), klass, sizeof klass);
    if (strcmp(ctx->gemm_class, klass) == 0) return CLAE_SUCCESS;
    snprintf(ctx->gemm_class, sizeof ctx->gemm_class, "%s", klass);
    cJSON *entries = load_entries(path), *e = find_stored(entries, ctx, klass);
    clae_gemm_tuning t;
    int found = e && entry_from_json(e, &t), ok = 0;
    cJSON_Delete(entries);
    if (!found) {
        if (strcmp(ctx->gemm_tuning, TUNED_NAME) == 0)
            CLAE_TRY(restore_builtin(ctx));
        return CLAE_SUCCESS;
    }
    status = clae__gemm_apply(ctx, &t, &ok);
    if (status == CLAE_SUCCESS && ok) return CLAE_SUCCESS;
    clae__warn(ctx, "the tuned GEMM parameters in %s fail on %s; using the "
                    "built-in ones (run clae tune again)",
               path, ctx->info.name);
    CLAE_TRY(restore_builtin(ctx));
fail:
    return status;
}

/* ===== The search ======================================================= */

clae_status clae_tune_gemm(clae_model *m, size_t batch,
                           const clae_tune_options *options,
                           clae_tune_result *result)
{
    clae_status status = CLAE_SUCCESS;
    clae_context *ctx = m->ctx;
    clae_workspace *ws = NULL;
    cl_mem input = NULL;
    candidate *list = NULL;
    step_state st = {0};
    clae_gemm g[CLAE_MAX_LAYER_GEMMS * 64];
    double budget = options && options->max_seconds > 0 ? options->max_seconds
                                                        : 600.0;
    double start = now_seconds();
    memset(result, 0, sizeof *result);
    if (m->count > 64)
        return CLAE_FAIL(ctx, CLAE_ERR_USAGE, "clae tune takes models of at "
                                              "most 64 layers");
    if (!(list = malloc(MAX_CANDIDATES * sizeof *list)))
        return CLAE_FAIL(ctx, CLAE_ERR_HOST_MEMORY, "out of host memory");
    CLAE_TRY(clae__workspace_create(m, batch, &ws));
    /* The first layer reads a batch: any values will do for timing. */
    CLAE_TRY(clae__buffer(ctx, batch * m->spec.input * sizeof(float), "input",
                          &input));
    size_t count = step_gemms(m, ws, batch, input, g);
    shape_class(g, count, result->shape_class, sizeof result->shape_class);

    /* The baseline: what clae uses without a stored entry. */
    CLAE_TRY(restore_builtin(ctx));
    CLAE_TRY(state_init(m, ws, input, &st));
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < st.count; j++)
            if (st.mem[j] == g[i].c && g[i].k > st.k[j]) st.k[j] = g[i].k;
    int ok = 1;
    CLAE_TRY(run_and_compare(ctx, &st, g, count, ws->temp, 1, &ok));
    CLAE_TRY(time_step(ctx, g, count, ws->temp, &result->baseline_ms));
    result->best_ms = result->baseline_ms;
    snprintf(result->best, sizeof result->best, "the built-in parameters");

    cl_uint width = 4;
    clGetDeviceInfo(ctx->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT,
                    sizeof width, &width, NULL);
    size_t n = make_candidates(width ? width : 4, list);
    for (size_t i = 0; i < n && now_seconds() - start < budget; i++) {
        double ms = -1.0;
        char text[512];
        describe(&list[i].entry, text, sizeof text);
        /* Right on the check's odd sizes and at the model's own shapes. */
        CLAE_TRY(clae__gemm_apply(ctx, &list[i].entry, &ok));
        if (ok)
            CLAE_TRY(run_and_compare(ctx, &st, g, count, ws->temp, 0, &ok));
        result->tried++;
        if (ok) CLAE_TRY(time_step(ctx, g, count, ws->temp, &ms));
        else result->wrong++;
        /* Stored at once: the budget is checked between candidates, and
         * PoCL's first compile of one can take minutes, so a search may be
         * stopped by hand; it keeps what it found. */
        if (ok && ms < result->best_ms) {
            result->best_ms = ms;
            snprintf(result->best, sizeof result->best, "%s", text);
            CLAE_TRY(store(ctx, &list[i].entry, result->shape_class, ms,
                           result->path, sizeof result->path));
        }
        if (options && options->on_candidate &&
            options->on_candidate(options->user, text, ms))
            break;
    }
    /* Leave the device as training will find it. */
    ctx->gemm_class[0] = '\0';
    CLAE_TRY(restore_builtin(ctx));
    CLAE_TRY(clae__gemm_use_stored(m, batch));
fail:
    state_free(&st);
    clae__release_mem(&input);
    clae__workspace_destroy(ws);
    free(list);
    return status;
}
