/* SPDX-License-Identifier: MIT */
/*
 * testdb.h — the real checksum database the sumdb tests run against: tools/fixtures/sumdb's
 * server (golang.org/x/mod/sumdb over the fixture modules, a key made per run), either serving on
 * 127.0.0.1 or dumped as files. Servers exit when their stdin closes, so a crashed test leaves
 * nothing running. Also: files, a tmp dir, and GET/POST through libcurl.
 */
#ifndef MODFS_TEST_SUMDB_TESTDB_H
#define MODFS_TEST_SUMDB_TESTDB_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common.h"

extern char **environ;

typedef struct testdb {
    pid_t pid;
    int stdin_fd;
    char vkey[1024];
    char url[128];
} testdb_t;

#define TESTDB_INIT {.pid = -1, .stdin_fd = -1}

__attribute__((unused)) static const char *testdb_server(void)
{
    const char *s = getenv("MODFS_SUMDB_SERVER");
    return s ? s : "sumdb-testserver";
}

__attribute__((unused)) static const char *testdb_modules(void)
{
    static char path[512];
    const char *f = getenv("MODFS_FIXTURES");
    snprintf(path, sizeof path, "%s/modules.txt", f ? f : "build/tests/fixtures");
    return path;
}

/* Starts the server with extra arguments (NULL-terminated list). 0 or -1. */
__attribute__((unused)) static int testdb_start(testdb_t *db, const char *const *args)
{
    const char *argv[32] = {"sumdb-testserver", "-modules", testdb_modules(), "-stdin-exit"};
    int argc = 4;
    for (; args && *args && argc < 31; args++)
        argv[argc++] = *args;
    argv[argc] = NULL;
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    int rc = posix_spawn(&db->pid, testdb_server(), &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        fprintf(stderr, "cannot start %s: %s\n", testdb_server(), strerror(rc));
        close(in[1]);
        close(out[0]);
        db->pid = -1;
        return -1;
    }
    db->stdin_fd = in[1];
    FILE *f = fdopen(out[0], "r");
    char line[1024];
    bool ready = false;
    db->vkey[0] = db->url[0] = '\0';
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "vkey ", 5) == 0)
            snprintf(db->vkey, sizeof db->vkey, "%s", line + 5);
        else if (strncmp(line, "url ", 4) == 0)
            snprintf(db->url, sizeof db->url, "%.100s", line + 4);
        else if (strcmp(line, "ready") == 0) {
            ready = true;
            break;
        }
    }
    if (f != NULL)
        fclose(f);
    return ready && db->vkey[0] && db->url[0] ? 0 : -1;
}

__attribute__((unused)) static void testdb_stop(testdb_t *db)
{
    if (db->stdin_fd >= 0)
        close(db->stdin_fd);
    if (db->pid > 0)
        waitpid(db->pid, NULL, 0);
    db->pid = -1;
    db->stdin_fd = -1;
}

/* Runs the server with -dump dir and the extra arguments. 0 or -1. */
__attribute__((unused)) static int testdb_dump(const char *dir, const char *const *args)
{
    const char *argv[32] = {"sumdb-testserver", "-modules", testdb_modules(), "-dump", dir};
    int argc = 5;
    for (; args && *args && argc < 31; args++)
        argv[argc++] = *args;
    argv[argc] = NULL;
    pid_t pid;
    if (posix_spawn(&pid, testdb_server(), NULL, NULL, (char *const *)argv, environ) != 0)
        return -1;
    int status;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* ---- files ---- */

__attribute__((unused)) static int testdb_read_file(const char *path, buf_t *out)
{
    buf_reset(out);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -errno;
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_append(out, chunk, n);
    fclose(f);
    return rc;
}

__attribute__((unused)) static int testdb_write_file(const char *path, const void *data, size_t len)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *s = strchr(dir + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(dir, 0755);
        *s = '/';
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -errno;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : -EIO;
}

__attribute__((unused)) static int testdb_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

__attribute__((unused)) static void testdb_rmtree(const char *dir)
{
    nftw(dir, testdb_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- HTTP ---- */

__attribute__((unused)) static size_t testdb_curl_write(char *p, size_t size, size_t n, void *ud)
{
    return buf_append(ud, p, size * n) == 0 ? size * n : 0;
}

/* GET (or POST when post) url into out. Returns the HTTP status, or -1. */
__attribute__((unused)) static long testdb_http(const char *url, bool post, buf_t *out)
{
    buf_reset(out);
    CURL *h = curl_easy_init();
    if (h == NULL)
        return -1;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, testdb_curl_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (post)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    long status = -1;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    return status;
}

#endif
