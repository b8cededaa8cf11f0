/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/upstream.c against a real HTTP server on 127.0.0.1 (upstream_server.py, next to
 * this file), whose paths select behaviours: error statuses, flaky 503s, truncated and oversized
 * bodies, slowness, gzip, redirects. A second instance speaks TLS with a certificate made here by
 * openssl. The servers exit when their stdin closes, so a crashed test leaves nothing running.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "upstream.h"
#include "upstream_i.h" /* the number of transfer threads */

extern char **environ;

typedef struct server {
    pid_t pid;
    int stdin_fd;
    int port;
} server_t;

static char tmp[256];
static char root[300];
static char cert[300];
static char key_pem[300];
static server_t plain = {.pid = -1, .stdin_fd = -1};
static server_t tls = {.pid = -1, .stdin_fd = -1};
static int closed_port;

#define ZIP_KEY "golang.org/x/text/@v/v0.7.0.zip"
#define BANG_KEY "github.com/!burnt!sushi/toml/@v/list"
#define ZIP_SIZE 300001

static uint8_t *zip_bytes;

/* ---- fixtures ---- */

static void write_file(const char *rel, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *s = strchr(path + strlen(root) + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static int server_start(server_t *s, bool with_tls)
{
    const char *src = getenv("MODFS_SOURCE_ROOT");
    char script[512];
    snprintf(script, sizeof script, "%s/tests/unit/upstream/upstream_server.py", src ? src : ".");
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    char *argv[] = {"python3", script, root, "--tls", cert, key_pem, NULL};
    if (!with_tls)
        argv[3] = NULL;
    int rc = posix_spawnp(&s->pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        s->pid = -1;
        return -1;
    }
    s->stdin_fd = in[1];
    FILE *f = fdopen(out[0], "r");
    char line[32];
    s->port = (f != NULL && fgets(line, sizeof line, f) != NULL) ? atoi(line) : 0;
    if (f != NULL)
        fclose(f);
    return s->port > 0 ? 0 : -1;
}

static void server_stop(server_t *s)
{
    if (s->stdin_fd >= 0)
        close(s->stdin_fd);
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = -1;
    s->stdin_fd = -1;
}

static int unused_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 1;
    close(fd); /* nothing listens there any more: connections are refused */
    return ntohs(a.sin_port);
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmp, sizeof tmp, "/tmp/modfs-upstream-XXXXXX");
    if (mkdtemp(tmp) == NULL)
        return -1;
    chmod(tmp, 0755); /* h2o, started as root, serves as nobody */
    snprintf(root, sizeof root, "%s/root", tmp);
    mkdir(root, 0755);
    zip_bytes = malloc(ZIP_SIZE);
    uint32_t x = 12345;
    for (size_t i = 0; i < ZIP_SIZE; i++) {
        x = x * 1103515245u + 12345u;
        zip_bytes[i] = (uint8_t)(x >> 16);
    }
    write_file(ZIP_KEY, zip_bytes, ZIP_SIZE);
    write_file(BANG_KEY, "v1.2.0\nv1.2.1\n", 14);
    write_file("example.com/m/@v/v2.0.0+incompatible.info", "{\"Version\":\"v2.0.0+incompatible\"}", 33);
    for (int i = 0; i < 50; i++) {
        char rel[128], body[64];
        snprintf(rel, sizeof rel, "example.com/m%d/@v/v1.0.%d.mod", i, i);
        int n = snprintf(body, sizeof body, "module example.com/m%d\n", i);
        write_file(rel, body, (size_t)n);
    }
    if (server_start(&plain, false) != 0)
        return -1;
    snprintf(cert, sizeof cert, "%s/cert.pem", tmp);
    snprintf(key_pem, sizeof key_pem, "%s/key.pem", tmp);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -days 2 -keyout %s -out %s >/dev/null 2>&1",
             key_pem, cert);
    if (system(cmd) != 0 || server_start(&tls, true) != 0) {
        fprintf(stderr, "no TLS server (openssl or python ssl missing): the https test is skipped\n");
        server_stop(&tls);
    }
    closed_port = unused_port();
    /* A proxy that refuses everything: loopback upstreams must not go through it (as in go). */
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", closed_port);
    setenv("http_proxy", proxy, 1);
    setenv("HTTPS_PROXY", proxy, 1);
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_teardown(void **state)
{
    (void)state;
    server_stop(&plain);
    server_stop(&tls);
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(zip_bytes);
    return 0;
}

/* ---- test plumbing ---- */

static upstream_t *up_new(const char *list, int retries, long timeout_ms, const char *ca)
{
    upstream_config_t cfg = {
        .proxy_list = list, .ca_file = ca, .total_timeout_ms = timeout_ms, .max_retries = retries};
    upstream_t *u = NULL;
    cache_err_t err = {0};
    int rc = upstream_new(&cfg, &u, &err);
    if (rc != 0)
        fail_msg("upstream_new(%s): %d %s", list, rc, err.msg);
    return u;
}

/* With a stall limit of its own (curl counts it in whole seconds). */
static upstream_t *up_new_stall(const char *list, int retries, long stall_ms)
{
    upstream_config_t cfg = {.proxy_list = list, .stall_timeout_ms = stall_ms, .max_retries = retries};
    upstream_t *u = NULL;
    cache_err_t err = {0};
    int rc = upstream_new(&cfg, &u, &err);
    if (rc != 0)
        fail_msg("upstream_new(%s): %d %s", list, rc, err.msg);
    return u;
}

static char *list_fmt(const char *fmt, ...)
{
    static _Thread_local char s[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    return s;
}

static int tmpfd(void)
{
    int fd = open(tmp, O_TMPFILE | O_RDWR, 0600);
    assert_true(fd >= 0);
    return fd;
}

/* Fetches into a fresh file (as a private module's key when private_module); returns rc, the body
 * in *body (NUL-terminated) and its length. */
static int fetch_as(upstream_t *u, const char *key, bool private_module, uint64_t max, upstream_result_t *res,
                    cache_err_t *err, uint8_t **body, size_t *len)
{
    int fd = tmpfd();
    int rc = upstream_fetch(u, key, private_module, fd, max, res, err);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    uint8_t *b = malloc((size_t)st.st_size + 1);
    assert_int_equal(pread(fd, b, (size_t)st.st_size, 0), st.st_size);
    b[st.st_size] = '\0';
    close(fd);
    if (body != NULL)
        *body = b;
    else
        free(b);
    if (len != NULL)
        *len = (size_t)st.st_size;
    return rc;
}

static int fetch(upstream_t *u, const char *key, uint64_t max, upstream_result_t *res, cache_err_t *err,
                 uint8_t **body, size_t *len)
{
    return fetch_as(u, key, false, max, res, err, body, len);
}

/* Asks the plain server how many requests it has seen for /path. */
static long server_count(const char *path)
{
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d/stats", plain.port), 0, 0, NULL);
    uint8_t *b = NULL;
    upstream_result_t res;
    cache_err_t err = {0};
    int rc = fetch(u, path, 64, &res, &err, &b, NULL);
    upstream_free(u);
    if (rc != 0)
        fail_msg("stats %s: %s", path, err.msg);
    long n = atol((char *)b);
    free(b);
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- tests ---- */

static void test_ok_body_identical(void **state)
{
    (void)state;
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d/files", plain.port), -1, 0, NULL);
    upstream_result_t res;
    cache_err_t err = {0};
    uint8_t *b;
    size_t len;
    int rc = fetch(u, ZIP_KEY, 1 << 20, &res, &err, &b, &len);
    assert_int_equal(rc, 0);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.bytes, ZIP_SIZE);
    assert_int_equal(len, ZIP_SIZE);
    assert_memory_equal(b, zip_bytes, ZIP_SIZE);
    assert_string_equal(res.url, list_fmt("http://127.0.0.1:%d/files/" ZIP_KEY, plain.port));
    assert_int_equal(upstream_request_count(u), 1);
    free(b);

    /* The same fd reused for a second, shorter object: truncated first, exact bytes after. */
    int fd = tmpfd();
    assert_int_equal(upstream_fetch(u, ZIP_KEY, false, fd, 1 << 20, &res, &err), 0);
    assert_int_equal(upstream_fetch(u, BANG_KEY, false, fd, 1 << 20, &res, &err), 0);
    struct stat st;
    fstat(fd, &st);
    assert_int_equal(st.st_size, 14);
    close(fd);
    upstream_free(u);
}

static void test_not_found(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *words;
    } cases[] = {{404, "404 Not Found: upstream test status 404 for"},
                 {410, "410 Gone: upstream test status 410"}};
    for (size_t i = 0; i < 2; i++) {
        upstream_t *u =
            up_new(list_fmt("http://127.0.0.1:%d/status/%d", plain.port, cases[i].code), -1, 0, NULL);
        upstream_result_t res;
        cache_err_t err = {0};
        int rc = fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL);
        assert_int_equal(rc, -ENOENT);
        assert_int_equal(res.status, cases[i].code);
        assert_int_equal(err.upstream_status, cases[i].code);
        assert_non_null(strstr(err.msg, cases[i].words));
        assert_non_null(strstr(
            err.msg, list_fmt("upstream http://127.0.0.1:%d/status/%d/" ZIP_KEY, plain.port, cases[i].code)));
        assert_null(strstr(err.msg, "second line"));
        assert_int_equal(upstream_request_count(u), 1); /* not found is not retried */
        upstream_free(u);
    }
    /* A missing file on a real tree. */
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d/files", plain.port), -1, 0, NULL);
    cache_err_t err = {0};
    assert_int_equal(fetch(u, "golang.org/x/nope/@v/list", 1024, NULL, &err, NULL, NULL), -ENOENT);
    assert_int_equal(err.upstream_status, 404);
    assert_non_null(strstr(err.msg, "not found: golang.org/x/nope/@v/list"));
    upstream_free(u);
}

static void test_comma_falls_through_on_not_found(void **state)
{
    (void)state;
    for (int code = 404; code <= 410; code += 6) {
        upstream_t *u = up_new(
            list_fmt("http://127.0.0.1:%d/status/%d,http://127.0.0.1:%d/files", plain.port, code, plain.port),
            -1, 0, NULL);
        upstream_result_t res;
        cache_err_t err = {0};
        uint8_t *b;
        size_t len;
        assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, &b, &len), 0);
        assert_int_equal(len, ZIP_SIZE);
        assert_memory_equal(b, zip_bytes, ZIP_SIZE);
        assert_string_equal(res.url, list_fmt("http://127.0.0.1:%d/files/" ZIP_KEY, plain.port));
        assert_int_equal(upstream_request_count(u), 2);
        free(b);
        upstream_free(u);
    }
    /* Both say not found: the last answer is reported. */
    upstream_t *u = up_new(
        list_fmt("http://127.0.0.1:%d/status/410,http://127.0.0.1:%d/status/404", plain.port, plain.port), -1,
        0, NULL);
    upstream_result_t res;
    cache_err_t err = {0};
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -ENOENT);
    assert_int_equal(res.status, 404);
    assert_int_equal(err.upstream_status, 404);
    upstream_free(u);
}

static void test_comma_stops_on_error(void **state)
{
    (void)state;
    upstream_t *u =
        up_new(list_fmt("http://127.0.0.1:%d/status/500,http://127.0.0.1:%d/files", plain.port, plain.port),
               0, 0, NULL);
    upstream_result_t res;
    cache_err_t err = {0};
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -EIO);
    assert_int_equal(res.status, 500);
    assert_int_equal(err.upstream_status, 500);
    assert_non_null(strstr(err.msg, list_fmt("upstream http://127.0.0.1:%d/status/500/" ZIP_KEY
                                             ": 500 Internal Server Error: upstream "
                                             "test status 500 for /status/500/" ZIP_KEY,
                                             plain.port)));
    assert_int_equal(upstream_request_count(u), 1);
    upstream_free(u);

    /* ',' after a refused connection stops too. */
    u = up_new(list_fmt("http://127.0.0.1:%d,http://127.0.0.1:%d/files", closed_port, plain.port), 0, 0,
               NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -ECONNREFUSED);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(
        err.msg, list_fmt("upstream http://127.0.0.1:%d/" ZIP_KEY ": connection refused", closed_port)));
    upstream_free(u);
}

static void test_pipe_falls_through_on_any_error(void **state)
{
    (void)state;
    upstream_t *u =
        up_new(list_fmt("http://127.0.0.1:%d/status/500|http://127.0.0.1:%d|http://127.0.0.1:%d/files",
                        plain.port, closed_port, plain.port),
               0, 0, NULL);
    upstream_result_t res;
    cache_err_t err = {0};
    uint8_t *b;
    size_t len;
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, &b, &len), 0);
    assert_int_equal(len, ZIP_SIZE);
    assert_memory_equal(b, zip_bytes, ZIP_SIZE);
    assert_int_equal(res.status, 200);
    assert_int_equal(upstream_request_count(u), 3);
    free(b);
    upstream_free(u);

    /* An error beats a later not found, as in go: the 500 is what the caller hears. */
    u = up_new(
        list_fmt("http://127.0.0.1:%d/status/502|http://127.0.0.1:%d/status/404", plain.port, plain.port), 0,
        0, NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -EIO);
    assert_int_equal(err.upstream_status, 502);
    assert_non_null(strstr(err.msg, "502 Bad Gateway"));
    upstream_free(u);
}

static void test_off_and_direct(void **state)
{
    (void)state;
    upstream_result_t res;
    cache_err_t err = {0};
    upstream_t *u = up_new("off", -1, 0, NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1024, &res, &err, NULL, NULL), -ENOENT);
    assert_string_equal(err.msg, "module lookup disabled by GOPROXY=off");
    assert_int_equal(res.status, 0);
    assert_int_equal(upstream_request_count(u), 0);
    upstream_free(u);

    /* off ends the list: what follows is never asked. */
    u = up_new(list_fmt("off,http://127.0.0.1:%d/files", plain.port), -1, 0, NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -ENOENT);
    assert_int_equal(upstream_request_count(u), 0);
    upstream_free(u);

    u = up_new(list_fmt("http://127.0.0.1:%d/status/404,off", plain.port), -1, 0, NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1024, &res, &err, NULL, NULL), -ENOENT);
    assert_string_equal(err.msg, "module lookup disabled by GOPROXY=off");
    assert_int_equal(upstream_request_count(u), 1);
    upstream_free(u);
}

/* A stand-in for the go command: a script that answers as go does when a fetch fails (the JSON
 * "Error" field) or hangs. The real go command against a real git server is the access-private
 * integration test; this one holds the runner's plumbing: the list walk, the reason, the kill. */
static upstream_t *up_direct(const char *list, const char *script, long timeout_ms)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/fake-go-%d", tmp, (int)strlen(script)) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", script);
    fclose(f);
    assert_int_equal(chmod(path, 0755), 0);
    upstream_config_t cfg = {.proxy_list = list, .max_retries = 0, .go_command = path, .work_dir = tmp,
                             .direct_timeout_ms = timeout_ms};
    upstream_t *u = NULL;
    cache_err_t err = {0};
    int rc = upstream_new(&cfg, &u, &err);
    if (rc != 0)
        fail_msg("upstream_new(%s): %d %s", list, rc, err.msg);
    free(path);
    return u;
}

static const char *const go_unknown_revision =
    "echo '{\"Path\":\"golang.org/x/text\",\"Error\":\"golang.org/x/text@v0.7.0: invalid version: "
    "unknown revision v0.7.0\"}'; exit 1";

static void test_direct(void **state)
{
    (void)state;
    upstream_result_t res;
    cache_err_t err = {0};
    /* direct alone: go's own reason, as not found */
    upstream_t *u = up_direct("direct", go_unknown_revision, 0);
    assert_int_equal(fetch(u, ZIP_KEY, 1024, &res, &err, NULL, NULL), -ENOENT);
    assert_non_null(strstr(err.msg, "unknown revision v0.7.0"));
    assert_int_equal(res.status, 404);
    upstream_free(u);

    /* "proxy,direct": after the proxy's 404, direct is asked and its failure is the answer */
    u = up_direct(list_fmt("http://127.0.0.1:%d/status/404,direct", plain.port),
                  "echo 'fatal: could not read Username: terminal prompts disabled' >&2; exit 1", 0);
    assert_int_equal(fetch(u, ZIP_KEY, 1024, &res, &err, NULL, NULL), -EIO);
    assert_int_equal(upstream_request_count(u), 1);
    assert_non_null(strstr(err.msg, "terminal prompts disabled"));
    upstream_free(u);

    /* a private module never reaches the proxy, even one that has it */
    u = up_direct(list_fmt("http://127.0.0.1:%d/files", plain.port), go_unknown_revision, 0);
    assert_int_equal(fetch_as(u, ZIP_KEY, true, 1 << 20, &res, &err, NULL, NULL), -ENOENT);
    assert_int_equal(upstream_request_count(u), 0);
    assert_non_null(strstr(err.msg, "unknown revision v0.7.0"));
    /* the same key, not private, comes from the proxy */
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), 0);
    assert_int_equal(upstream_request_count(u), 1);
    upstream_free(u);
    /* without a runner, a private key is refused rather than asked of a proxy */
    u = up_new(list_fmt("http://127.0.0.1:%d/files", plain.port), -1, 0, NULL);
    assert_int_equal(fetch_as(u, ZIP_KEY, true, 1 << 20, &res, &err, NULL, NULL), -EINVAL);
    assert_int_equal(upstream_request_count(u), 0);
    upstream_free(u);

    /* a hanging go command (and what it started) is killed at the deadline */
    u = up_direct("direct", "sleep 60 & sleep 60", 500);
    assert_int_equal(fetch(u, ZIP_KEY, 1024, &res, &err, NULL, NULL), -ETIMEDOUT);
    assert_non_null(strstr(err.msg, "timed out"));
    upstream_free(u);

}

static void test_list_syntax(void **state)
{
    (void)state;
    static const struct {
        const char *list;
        const char *words;
    } bad[] = {
        {"ftp://example.com/proxy", "unsupported scheme \"ftp\""},
        {"", "empty"},
        {" , |", "no entries"},
        {"proxy", "no scheme"},
        {"/srv/goproxy", "no scheme"},
        {"https://a b", "space"},
        {"http://example.com/?x=1", "query"},
        {"http://", "invalid GOPROXY entry"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        upstream_config_t cfg = {.proxy_list = bad[i].list, .max_retries = -1};
        upstream_t *u = (upstream_t *)1;
        cache_err_t err = {0};
        assert_int_equal(upstream_new(&cfg, &u, &err), -EINVAL);
        assert_null(u);
        if (strstr(err.msg, bad[i].words) == NULL)
            fail_msg("list \"%s\": message \"%s\" lacks \"%s\"", bad[i].list, err.msg, bad[i].words);
    }
    upstream_config_t cfg = {.proxy_list = "https://x.example", .ca_file = "/nonexistent/ca.pem"};
    upstream_t *u = NULL;
    cache_err_t err = {0};
    assert_int_equal(upstream_new(&cfg, &u, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "/nonexistent/ca.pem"));

    /* Spaces and empty entries are skipped, trailing '/' dropped, scheme case folded. */
    upstream_result_t res;
    u = up_new(list_fmt("  , HTTP://127.0.0.1:%d/files/ ,", plain.port), -1, 0, NULL);
    assert_int_equal(fetch(u, BANG_KEY, 1024, &res, &err, NULL, NULL), 0);
    assert_string_equal(
        res.url,
        list_fmt("http://127.0.0.1:%d/files/github.com/%%21burnt%%21sushi/toml/@v/list", plain.port));
    upstream_free(u);

    /* A host without scheme gets https://, as go does. */
    u = up_new(list_fmt("127.0.0.1:%d", closed_port), 0, 0, NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1024, &res, &err, NULL, NULL), -ECONNREFUSED);
    assert_string_equal(res.url, list_fmt("https://127.0.0.1:%d/" ZIP_KEY, closed_port));
    upstream_free(u);

    /* A password never shows in messages. */
    u = up_new(list_fmt("http://user:secret@127.0.0.1:%d/status/404", plain.port), 0, 0, NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1024, &res, &err, NULL, NULL), -ENOENT);
    assert_null(strstr(err.msg, "secret"));
    assert_null(strstr(res.url, "secret"));
    assert_non_null(strstr(err.msg, "user:xxxxx@127.0.0.1"));
    upstream_free(u);

    /* Keys that would leave the base are refused before any request. */
    u = up_new(list_fmt("http://127.0.0.1:%d/files", plain.port), 0, 0, NULL);
    static const char *bad_keys[] = {"", "/etc/passwd", "a/../../x", "a//b", "./a", "a/.", "a\nb"};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++)
        assert_int_equal(fetch(u, bad_keys[i], 1024, &res, &err, NULL, NULL), -EINVAL);
    assert_int_equal(upstream_request_count(u), 0);
    upstream_free(u);
}

static void test_retry_flaky(void **state)
{
    (void)state;
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d/flaky/2/ok/files", plain.port), 2, 0, NULL);
    upstream_result_t res;
    cache_err_t err = {0};
    uint8_t *b;
    size_t len;
    double t0 = now_s();
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, &b, &len), 0);
    double dt = now_s() - t0;
    assert_int_equal(len, ZIP_SIZE);
    assert_memory_equal(b, zip_bytes, ZIP_SIZE);
    assert_int_equal(upstream_request_count(u), 3);
    assert_int_equal(server_count("flaky/2/ok/files/" ZIP_KEY), 3);
    assert_true(dt >= 0.075 + 0.150); /* backoff 100 ms then 200 ms, each -25% at worst */
    free(b);
    upstream_free(u);

    /* One failure more than retries allow. */
    u = up_new(list_fmt("http://127.0.0.1:%d/flaky/3/fail/files", plain.port), 2, 0, NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -EIO);
    assert_int_equal(err.upstream_status, 503);
    assert_non_null(strstr(err.msg, "after 3 attempts"));
    assert_non_null(strstr(err.msg, "503 Service Unavailable: flaky: try again"));
    assert_int_equal(server_count("flaky/3/fail/files/" ZIP_KEY), 3);
    upstream_free(u);
}

static void test_500_retried_then_fails(void **state)
{
    (void)state;
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d/status/500/r", plain.port), 2, 0, NULL);
    upstream_result_t res;
    cache_err_t err = {0};
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -EIO);
    assert_int_equal(res.status, 500);
    assert_int_equal(upstream_request_count(u), 3);
    assert_int_equal(server_count("status/500/r/" ZIP_KEY), 3);
    upstream_free(u);

    /* Client errors other than 404/410 are final at once. */
    u = up_new(list_fmt("http://127.0.0.1:%d/status/403", plain.port), 2, 0, NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -EIO);
    assert_int_equal(err.upstream_status, 403);
    assert_non_null(strstr(err.msg, ": 403 Forbidden: "));
    assert_int_equal(upstream_request_count(u), 1);
    upstream_free(u);
}

static void test_broken_bodies(void **state)
{
    (void)state;
    upstream_result_t res;
    cache_err_t err = {0};
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d/truncate/files", plain.port), 0, 0, NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -EIO);
    assert_non_null(strstr(err.msg, "truncated body"));
    upstream_free(u);

    u = up_new(list_fmt("http://127.0.0.1:%d/badchunk", plain.port), 0, 0, NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -EIO);
    upstream_free(u);

    /* A truncated body is transient: retried, and every attempt counts. */
    u = up_new(list_fmt("http://127.0.0.1:%d/truncate/files", plain.port), 1, 0, NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -EIO);
    assert_int_equal(upstream_request_count(u), 2);
    upstream_free(u);
}

static void test_too_big(void **state)
{
    (void)state;
    upstream_result_t res;
    cache_err_t err = {0};
    size_t len;
    /* With Content-Length: refused before anything is written. */
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d", plain.port), 2, 0, NULL);
    assert_int_equal(fetch(u, "big/100000", 50000, &res, &err, NULL, &len), -EFBIG);
    assert_int_equal(len, 0);
    assert_non_null(strstr(err.msg, "larger than 50000 bytes"));
    assert_int_equal(upstream_request_count(u), 1); /* not retried */
    /* Chunked, no length known: stopped once past the limit. */
    assert_int_equal(fetch(u, "chunked/big/300000", 100000, &res, &err, NULL, &len), -EFBIG);
    assert_true(len <= 100000);
    /* Exactly the limit is fine, both ways. */
    uint8_t *b;
    assert_int_equal(fetch(u, "big/50000", 50000, &res, &err, &b, &len), 0);
    assert_int_equal(len, 50000);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(b[i], (uint8_t)i);
    free(b);
    assert_int_equal(fetch(u, "chunked/big/200000", 200000, &res, &err, &b, &len), 0);
    assert_int_equal(len, 200000);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(b[i], (uint8_t)i);
    free(b);
    /* A gzip body is limited by its decoded size. */
    assert_int_equal(fetch(u, "gzip/big/300000", 100000, &res, &err, NULL, &len), -EFBIG);
    upstream_free(u);
}

static void test_timeout(void **state)
{
    (void)state;
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d/slow/3000/files", plain.port), 0, 300, NULL);
    upstream_result_t res;
    cache_err_t err = {0};
    double t0 = now_s();
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -ETIMEDOUT);
    double dt = now_s() - t0;
    assert_true(dt >= 0.25 && dt < 2.0);
    assert_non_null(strstr(err.msg, "timed out"));
    upstream_free(u);
}

/* One fetch on its own thread, timed. */
typedef struct bg_fetch {
    upstream_t *u;
    const char *key;
    int rc;
    double started, ended;
    cache_err_t err;
    pthread_t th;
} bg_fetch_t;

static void *bg_fetch_run(void *arg)
{
    bg_fetch_t *b = arg;
    upstream_result_t res;
    b->started = now_s();
    b->rc = fetch(b->u, b->key, 1 << 20, &res, &b->err, NULL, NULL);
    b->ended = now_s();
    return NULL;
}

static void bg_fetch_start(bg_fetch_t *b, upstream_t *u, const char *key)
{
    memset(b, 0, sizeof *b);
    b->u = u;
    b->key = key;
    assert_int_equal(pthread_create(&b->th, NULL, bg_fetch_run, b), 0);
}

/* Waits until the plain server has seen n requests for /path. */
static void server_wait_count(const char *path, long n)
{
    for (int i = 0; i < 500 && server_count(path) < n; i++)
        usleep(20000);
    assert_true(server_count(path) >= n);
}

/* Over HTTP/1.1 a request that never gets an answer holds its connection, and only that one:
 * another key is fetched meanwhile on a connection of its own (the old PIPEWAIT made it queue
 * behind the first request until that timed out). The hung one fails naming its cause. */
static void test_hung_request_alone(void **state)
{
    (void)state;
    upstream_t *u = up_new_stall(list_fmt("http://127.0.0.1:%d", plain.port), 0, 3000);
    bg_fetch_t hung;
    bg_fetch_start(&hung, u, "hang/first/" ZIP_KEY);
    server_wait_count("hang/first/" ZIP_KEY, 1);
    upstream_result_t res;
    cache_err_t err = {0};
    uint8_t *b;
    size_t len;
    double t0 = now_s();
    assert_int_equal(fetch(u, "files/" ZIP_KEY, 1 << 20, &res, &err, &b, &len), 0);
    double t1 = now_s();
    assert_int_equal(len, ZIP_SIZE);
    free(b);
    assert_true(t1 - t0 < 2.0);
    pthread_join(hung.th, NULL);
    assert_true(hung.ended > t1); /* both were in flight at once */
    assert_int_equal(hung.rc, -ETIMEDOUT);
    if (strstr(hung.err.msg, "timed out: no response within 3 s of the request") == NULL)
        fail_msg("hung fetch: %s", hung.err.msg);
    assert_null(strstr(hung.err.msg, "resolve"));
    assert_true(hung.ended - hung.started >= 2.5 && hung.ended - hung.started < 10.0);
    upstream_free(u);
}

/* A body that stops in the middle fails on the stall limit, long before the total timeout. */
static void test_stalled_body(void **state)
{
    (void)state;
    upstream_t *u = up_new_stall(list_fmt("http://127.0.0.1:%d/stall/1000/files", plain.port), 0, 2000);
    upstream_result_t res;
    cache_err_t err = {0};
    double t0 = now_s();
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -ETIMEDOUT);
    double dt = now_s() - t0;
    assert_true(dt >= 1.5 && dt < 10.0);
    if (strstr(err.msg, "timed out: body stalled after 1000 bytes") == NULL)
        fail_msg("stalled body: %s", err.msg);
    upstream_free(u);
}

/* Retries start only within the retry window: a transient failure that keeps coming back ends
 * the fetch after a few attempts, however many retries are allowed. */
static void test_retry_window(void **state)
{
    (void)state;
    upstream_config_t cfg = {.proxy_list = list_fmt("http://127.0.0.1:%d/slow/600/status/503/w", plain.port),
                             .max_retries = 50,
                             .retry_window_ms = 2000};
    upstream_t *u = NULL;
    cache_err_t err = {0};
    assert_int_equal(upstream_new(&cfg, &u, &err), 0);
    upstream_result_t res;
    double t0 = now_s();
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -EIO);
    double dt = now_s() - t0;
    long n = server_count("slow/600/status/503/w/" ZIP_KEY);
    /* attempts of 0.6 s start at about 0, 0.7 and 1.5 s; none after 2 s */
    if (n < 2 || n > 5 || dt > 6.0)
        fail_msg("%ld attempts in %.1f s: %s", n, dt, err.msg);
    assert_non_null(strstr(err.msg, "503 Service Unavailable"));
    upstream_free(u);
}

/* Retry-After: honoured when it fits in the retry window, reported when it does not. */
static void test_retry_after(void **state)
{
    (void)state;
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d/retryafter/1/1/a/files", plain.port), 2, 0, NULL);
    upstream_result_t res;
    cache_err_t err = {0};
    double t0 = now_s();
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), 0);
    assert_true(now_s() - t0 >= 0.9);
    assert_int_equal(server_count("retryafter/1/1/a/files/" ZIP_KEY), 2);
    upstream_free(u);

    u = up_new(list_fmt("http://127.0.0.1:%d/retryafter/1/120/b/files", plain.port), 2, 0, NULL);
    t0 = now_s();
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -EIO);
    assert_true(now_s() - t0 < 2.0);
    assert_int_equal(server_count("retryafter/1/120/b/files/" ZIP_KEY), 1);
    if (strstr(err.msg, "503 Service Unavailable: busy: come back later (retry after 120 s)") == NULL)
        fail_msg("retry after: %s", err.msg);
    upstream_free(u);
}

static void *cancel_later(void *arg)
{
    usleep(300000);
    upstream_cancel_all(arg);
    return NULL;
}

/* upstream_cancel_all ends a hung transfer and a retry sleeping in its backoff at once, and
 * every later fetch fails without a request. */
static void test_cancel(void **state)
{
    (void)state;
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d", plain.port), 2, 0, NULL);
    bg_fetch_t hung, backoff;
    bg_fetch_start(&hung, u, "hang/cancel/" ZIP_KEY);
    bg_fetch_start(&backoff, u, "retryafter/5/5/c/files/" ZIP_KEY);
    server_wait_count("hang/cancel/" ZIP_KEY, 1);
    server_wait_count("retryafter/5/5/c/files/" ZIP_KEY, 1);
    pthread_t th;
    double t0 = now_s();
    assert_int_equal(pthread_create(&th, NULL, cancel_later, u), 0);
    pthread_join(hung.th, NULL);
    pthread_join(backoff.th, NULL);
    pthread_join(th, NULL);
    assert_true(hung.ended - t0 < 2.0);
    assert_true(backoff.ended - t0 < 2.0);
    assert_int_equal(hung.rc, -ECANCELED);
    assert_int_equal(backoff.rc, -ECANCELED);
    assert_non_null(strstr(hung.err.msg, "cancelled"));
    upstream_result_t res;
    cache_err_t err = {0};
    assert_int_equal(fetch(u, "echo/after-cancel", 1 << 20, &res, &err, NULL, NULL), -ECANCELED);
    assert_int_equal(server_count("echo/after-cancel"), 0);
    upstream_free(u);
}

/* upstream_cancel_all also kills a go command fetching direct, long before its deadline. */
static void test_cancel_direct(void **state)
{
    (void)state;
    char started[512], script[1100];
    snprintf(started, sizeof started, "%s/go-started", tmp);
    unlink(started);
    snprintf(script, sizeof script, "touch '%s'; sleep 60 & sleep 60", started);
    upstream_t *u = up_direct("direct", script, 60000);
    bg_fetch_t hung;
    bg_fetch_start(&hung, u, ZIP_KEY);
    for (int i = 0; i < 500 && access(started, F_OK) != 0; i++)
        usleep(20000);
    assert_int_equal(access(started, F_OK), 0);
    double t0 = now_s();
    upstream_cancel_all(u);
    pthread_join(hung.th, NULL);
    /* the runner looks every second; the deadline was a minute away */
    if (hung.rc != -ECANCELED || hung.ended - t0 > 10.0)
        fail_msg("direct fetch after cancel: %d after %.1f s: %s", hung.rc, hung.ended - t0, hung.err.msg);
    assert_non_null(strstr(hung.err.msg, "cancelled"));
    upstream_free(u);
}

typedef struct worker {
    upstream_t *u;
    int i;
    int rc;
    bool same;
    char msg[512];
} worker_t;

static void *worker_run(void *arg)
{
    worker_t *w = arg;
    char key[128], expect[64];
    snprintf(key, sizeof key, "example.com/m%d/@v/v1.0.%d.mod", w->i, w->i);
    int n = snprintf(expect, sizeof expect, "module example.com/m%d\n", w->i);
    int fd = open(tmp, O_TMPFILE | O_RDWR, 0600);
    cache_err_t err = {0};
    upstream_result_t res;
    w->rc = upstream_fetch(w->u, key, false, fd, 1 << 20, &res, &err);
    snprintf(w->msg, sizeof w->msg, "%s", err.msg);
    char got[64] = {0};
    ssize_t r = pread(fd, got, sizeof got - 1, 0);
    w->same = r == n && memcmp(got, expect, (size_t)n) == 0;
    /* Half of the threads also fetch the big object, so transfers overlap. */
    if (w->rc == 0 && w->i % 2 == 0) {
        w->rc = upstream_fetch(w->u, ZIP_KEY, false, fd, 1 << 20, &res, &err);
        snprintf(w->msg, sizeof w->msg, "%s", err.msg);
        uint8_t *b = malloc(ZIP_SIZE);
        w->same = w->same && pread(fd, b, ZIP_SIZE, 0) == ZIP_SIZE && memcmp(b, zip_bytes, ZIP_SIZE) == 0;
        free(b);
    }
    close(fd);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d/slow/20/files", plain.port), -1, 0, NULL);
    enum { N = 50 };
    worker_t w[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker_t){.u = u, .i = i};
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        if (w[i].rc != 0 || !w[i].same)
            fail_msg("thread %d: rc %d same %d: %s", i, w[i].rc, w[i].same, w[i].msg);
    }
    assert_int_equal(upstream_request_count(u), N + N / 2);
    upstream_free(u);
}

static void test_escaping(void **state)
{
    (void)state;
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d/echo", plain.port), 0, 0, NULL);
    upstream_result_t res;
    cache_err_t err = {0};
    uint8_t *b;
    /* '!' goes out as %21 like go's url.PathEscape; '+', '@', '~', ':' stay; others are escaped. */
    assert_int_equal(fetch(u, BANG_KEY, 1024, &res, &err, &b, NULL), 0);
    assert_string_equal((char *)b, "/echo/github.com/%21burnt%21sushi/toml/@v/list");
    free(b);
    assert_int_equal(fetch(u, "example.com/m/@v/v2.0.0+incompatible.info", 1024, &res, &err, &b, NULL), 0);
    assert_string_equal((char *)b, "/echo/example.com/m/@v/v2.0.0+incompatible.info");
    free(b);
    assert_int_equal(fetch(u, "a~b:c/d e?f#g%h;i,j\"k", 1024, &res, &err, &b, NULL), 0);
    assert_string_equal((char *)b, "/echo/a~b:c/d%20e%3Ff%23g%25h%3Bi%2Cj%22k");
    free(b);
    upstream_free(u);

    /* And the escaped key finds the file with '!' in its name. */
    u = up_new(list_fmt("http://127.0.0.1:%d/files", plain.port), 0, 0, NULL);
    assert_int_equal(fetch(u, BANG_KEY, 1024, &res, &err, &b, NULL), 0);
    assert_string_equal((char *)b, "v1.2.0\nv1.2.1\n");
    free(b);
    upstream_free(u);
}

static void test_gzip_decoded(void **state)
{
    (void)state;
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d/gzip/files", plain.port), 0, 0, NULL);
    upstream_result_t res;
    cache_err_t err = {0};
    uint8_t *b;
    size_t len;
    int rc = fetch(u, ZIP_KEY, 1 << 20, &res, &err, &b, &len);
    if (rc != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(len, ZIP_SIZE);
    assert_int_equal(res.bytes, ZIP_SIZE);
    assert_memory_equal(b, zip_bytes, ZIP_SIZE);
    free(b);
    upstream_free(u);
}

static void test_redirects(void **state)
{
    (void)state;
    upstream_t *u = up_new(list_fmt("http://127.0.0.1:%d/redirect/files", plain.port), 0, 0, NULL);
    upstream_result_t res;
    cache_err_t err = {0};
    uint8_t *b;
    size_t len;
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, &b, &len), 0);
    assert_int_equal(len, ZIP_SIZE);
    assert_memory_equal(b, zip_bytes, ZIP_SIZE);
    assert_int_equal(upstream_request_count(u), 2);
    free(b);
    upstream_free(u);

    u = up_new(list_fmt("http://127.0.0.1:%d/redirloop", plain.port), 0, 0, NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -ELOOP);
    assert_int_equal(upstream_request_count(u), 11); /* the first request and 10 redirects */
    upstream_free(u);
}

static void test_file_scheme(void **state)
{
    (void)state;
    upstream_t *u = up_new(list_fmt("file://%s/", root), 0, 0, NULL);
    upstream_result_t res;
    cache_err_t err = {0};
    uint8_t *b;
    size_t len;
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, &b, &len), 0);
    assert_int_equal(res.status, 200);
    assert_int_equal(len, ZIP_SIZE);
    assert_memory_equal(b, zip_bytes, ZIP_SIZE);
    free(b);
    assert_int_equal(fetch(u, BANG_KEY, 1024, &res, &err, &b, NULL), 0);
    assert_string_equal((char *)b, "v1.2.0\nv1.2.1\n");
    free(b);
    assert_int_equal(fetch(u, ZIP_KEY, 1000, &res, &err, NULL, NULL), -EFBIG);
    assert_int_equal(fetch(u, "golang.org/x/nope/@v/list", 1024, &res, &err, NULL, NULL), -ENOENT);
    assert_int_equal(res.status, 404);
    assert_int_equal(err.upstream_status, 404);
    /* A directory is not an answer. */
    assert_int_equal(fetch(u, "golang.org/x/text/@v", 1024, &res, &err, NULL, NULL), -ENOENT);
    assert_int_equal(err.upstream_status, 404);
    upstream_free(u);

    /* file:// 404 falls through on ',' like HTTP's. */
    u = up_new(list_fmt("file://%s/nothing-here,http://127.0.0.1:%d/files", tmp, plain.port), 0, 0, NULL);
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, &len), 0);
    assert_int_equal(len, ZIP_SIZE);
    upstream_free(u);
}

static void test_https(void **state)
{
    (void)state;
    if (tls.pid <= 0)
        skip();
    upstream_result_t res;
    cache_err_t err = {0};
    uint8_t *b;
    size_t len;
    /* Self-signed: refused without the CA file... */
    upstream_t *u = up_new(list_fmt("https://127.0.0.1:%d/files", tls.port), 0, 0, NULL);
    int rc = fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL);
    assert_int_equal(rc, -EPROTO);
    assert_non_null(strstr(err.msg, "TLS"));
    upstream_free(u);

    /* ...accepted with it. */
    u = up_new(list_fmt("https://127.0.0.1:%d/files", tls.port), 0, 0, cert);
    rc = fetch(u, ZIP_KEY, 1 << 20, &res, &err, &b, &len);
    if (rc != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(len, ZIP_SIZE);
    assert_memory_equal(b, zip_bytes, ZIP_SIZE);
    free(b);
    upstream_free(u);
    /* A redirect from https to http is refused, as go refuses it. */
    u = up_new(list_fmt("https://127.0.0.1:%d/redirto/http/%d/files", tls.port, plain.port), 0, 0, cert);
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, NULL), -EPROTO);
    assert_non_null(strstr(err.msg, "redirect"));
    upstream_free(u);
    /* http to https is fine. */
    u = up_new(list_fmt("http://127.0.0.1:%d/redirto/https/%d/files", plain.port, tls.port), 0, 0, cert);
    assert_int_equal(fetch(u, ZIP_KEY, 1 << 20, &res, &err, NULL, &len), 0);
    assert_int_equal(len, ZIP_SIZE);
    upstream_free(u);
}

/* Waits until something accepts on 127.0.0.1:port. */
static bool port_ready(int port, double seconds)
{
    for (double t0 = now_s(); now_s() - t0 < seconds;) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
        close(fd);
        if (rc == 0)
            return true;
        usleep(20000);
    }
    return false;
}

/* Against h2o over TLS (ALPN h2), fifty concurrent fetches travel as streams of at most one
 * connection per transfer thread (each thread's multi handle has its own connection pool). */
static void test_http2_multiplexed(void **state)
{
    (void)state;
    if (tls.pid <= 0 || system("command -v h2o >/dev/null 2>&1") != 0)
        skip();
    int port = unused_port();
    char conf[512], log[512];
    snprintf(conf, sizeof conf, "%s/h2o.conf", tmp);
    snprintf(log, sizeof log, "%s/h2o-access.log", tmp);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f,
            "listen:\n  port: %d\n  host: 127.0.0.1\n  ssl:\n    certificate-file: %s\n    key-file: %s\n    "
            "ocsp-update-interval: 0\n"
            "hosts:\n  default:\n    paths:\n      /:\n        file.dir: %s\n"
            "access-log:\n  path: %s\n  format: \"%%H %%{connection-id}x %%s %%U\"\n",
            port, cert, key_pem, root, log);
    fclose(f);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {"h2o", "-c", conf, NULL};
    pid_t pid;
    assert_int_equal(posix_spawnp(&pid, "h2o", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    bool ready = port_ready(port, 10);

    upstream_t *u = up_new(list_fmt("https://127.0.0.1:%d", port), 0, 0, cert);
    enum { N = 50 };
    worker_t w[N];
    pthread_t th[N];
    for (int i = 0; i < N && ready; i++) {
        w[i] = (worker_t){.u = u, .i = i};
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < N && ready; i++)
        pthread_join(th[i], NULL);
    unsigned nthreads = u->nworkers; /* the pool starts with the first transfer */
    upstream_free(u);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    assert_true(ready);
    for (int i = 0; i < N; i++) {
        if (w[i].rc != 0 || !w[i].same)
            fail_msg("thread %d: rc %d same %d: %s", i, w[i].rc, w[i].same, w[i].msg);
    }
    f = fopen(log, "r");
    assert_non_null(f);
    char line[512], conns[UPSTREAM_MAX_THREADS][32];
    unsigned nconns = 0;
    int lines = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        char proto[16], conn[32];
        assert_int_equal(sscanf(line, "%15s %31s", proto, conn), 2);
        assert_string_equal(proto, "HTTP/2");
        unsigned k = 0;
        while (k < nconns && strcmp(conns[k], conn) != 0)
            k++;
        if (k == nconns) {
            if (nconns == nthreads)
                fail_msg("request on connection %u with %u transfer threads: %s", nconns + 1, nthreads, line);
            snprintf(conns[nconns++], sizeof conns[0], "%s", conn);
        }
        lines++;
    }
    fclose(f);
    assert_int_equal(lines, N + N / 2);
}

/* A checksum database through the proxy list, as go's dbClient reaches it. */
static void test_sumdb_routes(void **state)
{
    (void)state;
    write_file("sumdb/db.test/supported", "", 0);
    write_file("sumdb/db.test/lookup/example.com/!x@v1.0.0", "record\n", 7);
    upstream_result_t res;
    cache_err_t err = {0};
    char direct[128];
    snprintf(direct, sizeof direct, "http://127.0.0.1:%d/echo/direct", plain.port);
    const char *lookup = "lookup/example.com/!x@v1.0.0";

    /* 404 on supported moves on; the proxy that says 200 serves the database, '!' sent as it is */
    upstream_t *u =
        up_new(list_fmt("http://127.0.0.1:%d/status/404,http://127.0.0.1:%d/files", plain.port, plain.port), 0,
               0, NULL);
    int fd = tmpfd();
    assert_int_equal(upstream_sumdb_fetch(u, "db.test", direct, false, lookup, fd, 1024, &res, &err), 0);
    char body[64] = "";
    assert_int_equal(pread(fd, body, sizeof body - 1, 0), 7);
    assert_string_equal(body, "record\n");
    assert_string_equal(res.url,
                        list_fmt("http://127.0.0.1:%d/files/sumdb/db.test/lookup/example.com/!x@v1.0.0", plain.port));
    assert_int_equal(upstream_request_count(u), 3);
    /* the route is kept: no second probe */
    assert_int_equal(upstream_sumdb_fetch(u, "db.test", direct, false, lookup, fd, 1024, &res, &err), 0);
    assert_int_equal(upstream_request_count(u), 4);
    /* what the database does not have is not found */
    assert_int_equal(upstream_sumdb_fetch(u, "db.test", direct, false, "lookup/a.com/y@v1.0.0", fd, 1024, &res, &err),
                     -ENOENT);
    assert_int_equal(err.upstream_status, 404);
    upstream_free(u);

    /* a URL given with the database bypasses the proxies */
    u = up_new(list_fmt("http://127.0.0.1:%d/files", plain.port), 0, 0, NULL);
    memset(body, 0, sizeof body);
    assert_int_equal(upstream_sumdb_fetch(u, "db.test", direct, true, lookup, fd, 1024, &res, &err), 0);
    assert_true(pread(fd, body, sizeof body - 1, 0) > 0);
    assert_string_equal(body, "/echo/direct/lookup/example.com/!x@v1.0.0");
    assert_int_equal(upstream_request_count(u), 1);
    upstream_free(u);

    /* no proxy serves it, or off: the database's own URL */
    const char *lists[] = {"http://127.0.0.1:%d/status/404", "http://127.0.0.1:%d/status/410,off", "off",
                           "http://127.0.0.1:%d/status/500|direct"};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        /* a list naming direct needs the work directory modfs always gives */
        upstream_config_t cfg = {.proxy_list = list_fmt(lists[i], plain.port), .work_dir = tmp};
        assert_int_equal(upstream_new(&cfg, &u, &err), 0);
        memset(body, 0, sizeof body);
        assert_int_equal(upstream_sumdb_fetch(u, "db.test", direct, false, "latest", fd, 1024, &res, &err), 0);
        assert_true(pread(fd, body, sizeof body - 1, 0) > 0);
        assert_string_equal(body, "/echo/direct/latest");
        upstream_free(u);
    }

    /* any other answer: unavailable, and asked again next time */
    u = up_new(list_fmt("http://127.0.0.1:%d/status/403,http://127.0.0.1:%d/files", plain.port, plain.port), 0, 0,
               NULL);
    assert_int_equal(upstream_sumdb_fetch(u, "db.test", direct, false, lookup, fd, 1024, &res, &err), -EIO);
    assert_non_null(strstr(err.msg, "checksum database db.test unavailable"));
    assert_non_null(strstr(err.msg, "403"));
    assert_int_equal(upstream_sumdb_fetch(u, "db.test", direct, false, lookup, fd, 1024, &res, &err), -EIO);
    assert_int_equal(upstream_request_count(u), 2);
    upstream_free(u);
    /* past a '|' a failure moves on too */
    u = up_new(list_fmt("http://127.0.0.1:%d/status/403|http://127.0.0.1:%d/files", plain.port, plain.port), 0, 0,
               NULL);
    assert_int_equal(upstream_sumdb_fetch(u, "db.test", direct, false, lookup, fd, 1024, &res, &err), 0);
    upstream_free(u);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_body_identical),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_comma_falls_through_on_not_found),
        cmocka_unit_test(test_comma_stops_on_error),
        cmocka_unit_test(test_pipe_falls_through_on_any_error),
        cmocka_unit_test(test_off_and_direct),
        cmocka_unit_test(test_direct),
        cmocka_unit_test(test_list_syntax),
        cmocka_unit_test(test_retry_flaky),
        cmocka_unit_test(test_500_retried_then_fails),
        cmocka_unit_test(test_broken_bodies),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_hung_request_alone),
        cmocka_unit_test(test_stalled_body),
        cmocka_unit_test(test_retry_window),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_cancel_direct),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_sumdb_routes),
        cmocka_unit_test(test_gzip_decoded),
        cmocka_unit_test(test_redirects),
        cmocka_unit_test(test_file_scheme),
        cmocka_unit_test(test_https),
        cmocka_unit_test(test_http2_multiplexed),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
