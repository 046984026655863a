/* Shared by the suites that run the command-line programs (test_cli.c,
 * test_vae_cli.c): runs a binary with stdin from /dev/null and stdout and
 * stderr captured, kills it after RUN_TIMEOUT_SECONDS, and checks its exit
 * code and what it said. The suite points run_capture_dir at its scratch
 * directory in its group setup; the captures are written there. */
#ifndef CLAE_TEST_RUN_H
#define CLAE_TEST_RUN_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include "test_util.h"

extern char **environ;

#define RUN_TIMEOUT_SECONDS 120

typedef struct {
    int status; /* exit code, or 128 + signal */
    char *out, *err;
    char command[2048]; /* the command line, for failure messages */
} run_result;

/* The last run's result; its out and err live until the next run. */
static run_result last;

/* Where run_env writes run.stdout and run.stderr; set by the suite. */
static const char *run_capture_dir;

/* When `after` is set, the next run gets signal `sig` once its stdout
 * contains `after` (then both are cleared): an interrupted run. */
static struct {
    const char *after;
    int sig;
} run_signal;

/* The whole file at path, NUL-terminated, its length in *size (when not
 * NULL; 0 on failure); NULL when it cannot be read. The caller frees it. */
static inline char *read_whole(const char *path, size_t *size)
{
    if (size) *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *text = malloc(cap + 1);
    size_t got;
    while (text && (got = fread(text + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = realloc(text, 2 * cap + 1);
            if (!grown) {
                free(text);
                text = NULL;
                break;
            }
            text = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!text) return NULL;
    text[n] = '\0';
    if (size) *size = n;
    return text;
}

/* run_capture_dir/name into out (size bytes), failing when it does not fit. */
static inline void run_capture_path(char *out, size_t size, const char *name)
{
    if (!run_capture_dir) fail_msg("run_capture_dir is not set");
    int n = snprintf(out, size, "%s/%s", run_capture_dir, name);
    if (n < 0 || (size_t)n >= size) fail_msg("path too long: %s/%s",
                                             run_capture_dir, name);
}

/* Runs argv (NULL-terminated) with the environment plus `env` ("K=V"
 * entries, NULL-terminated, replacing same-named ones; NULL for none),
 * stdin from /dev/null and stdout/stderr captured; the result lives until
 * the next run. Kills the child after RUN_TIMEOUT_SECONDS. */
static inline const run_result *run_env(const char *const *env,
                                        const char *const *argv)
{
    free(last.out);
    free(last.err);
    memset(&last, 0, sizeof last);

    size_t n_env = 0, n_extra = 0;
    while (environ[n_env]) n_env++;
    while (env && env[n_extra]) n_extra++;
    size_t used = 0;
    for (size_t i = 0; env && env[i] && used < sizeof last.command; i++)
        used += (size_t)snprintf(last.command + used, sizeof last.command - used,
                                 "%s ", env[i]);
    for (size_t i = 0; argv[i] && used < sizeof last.command; i++)
        used += (size_t)snprintf(last.command + used, sizeof last.command - used,
                                 "'%s' ", argv[i]);
    char **envp = calloc(n_env + n_extra + 1, sizeof *envp);
    assert_non_null(envp);
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++) {
        int replaced = 0;
        for (size_t j = 0; j < n_extra; j++) {
            size_t key = strcspn(env[j], "=");
            if (strncmp(environ[i], env[j], key + 1) == 0) replaced = 1;
        }
        if (!replaced) envp[k++] = environ[i];
    }
    for (size_t j = 0; j < n_extra; j++) envp[k++] = (char *)env[j];

    char out_path[512], err_path[512];
    run_capture_path(out_path, sizeof out_path, "run.stdout");
    run_capture_path(err_path, sizeof err_path, "run.stderr");
    posix_spawn_file_actions_t fa;
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
                                                      O_RDONLY, 0), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(
                         &fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(
                         &fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    if (rc != 0) fail_msg("cannot run %s: %s", argv[0], strerror(rc));

    int wstatus = 0;
    struct timespec nap = {0, 10 * 1000 * 1000};
    for (long waited = 0;; waited++) {
        pid_t got = waitpid(pid, &wstatus, WNOHANG);
        if (got == pid) break;
        if (got < 0 && errno != EINTR) fail_msg("waitpid: %s", strerror(errno));
        if (run_signal.after && waited % 5 == 0) {
            char *out = read_whole(out_path, NULL);
            if (out && strstr(out, run_signal.after)) {
                kill(pid, run_signal.sig);
                run_signal.after = NULL;
            }
            free(out);
        }
        if (waited > RUN_TIMEOUT_SECONDS * 100L) {
            kill(pid, SIGKILL);
            waitpid(pid, &wstatus, 0);
            fail_msg("%s %s did not finish in %d s", argv[0],
                     argv[1] ? argv[1] : "", RUN_TIMEOUT_SECONDS);
        }
        nanosleep(&nap, NULL);
    }
    last.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
                                     : 128 + WTERMSIG(wstatus);
    last.out = read_whole(out_path, NULL);
    last.err = read_whole(err_path, NULL);
    assert_non_null(last.out);
    assert_non_null(last.err);
    return &last;
}

/* RUN(binary, args...) and RUN_ENV(env, binary, args...): run_env on a
 * literal argument list. */
#define RUN(...) run_env(NULL, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_ENV(env, ...) run_env((env), (const char *const[]){__VA_ARGS__, NULL})

/* Asserts the exit code, showing what the program said when it differs. */
static inline void expect_exit(const run_result *r, int code)
{
    if (r->status != code)
        print_message("%s\nexit %d, expected %d\n--- stdout:\n%s--- stderr:\n"
                      "%s---\n", r->command, r->status, code, r->out, r->err);
    assert_int_equal(r->status, code);
}

/* Asserts that text contains needle, showing the text when it does not. */
static inline void expect_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        print_message("%s\nexpected \"%s\" in:\n%s---\n", last.command, needle,
                      text);
    assert_non_null(strstr(text, needle));
}

/* The number of newlines in text. */
static inline int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++) n += *text == '\n';
    return n;
}

/* Exit 2 and exactly one stderr line, newline-terminated, that contains
 * `needle`. */
static inline void expect_usage_error(const run_result *r, const char *needle)
{
    expect_exit(r, 2);
    expect_contains(r->err, needle);
    const char *nl = strchr(r->err, '\n');
    int one_line = nl && !nl[1];
    if (!one_line)
        print_message("%s\nexpected one stderr line, got:\n%s---\n",
                      r->command, r->err);
    assert_true(one_line);
}

#endif
