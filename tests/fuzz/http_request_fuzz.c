/* SPDX-License-Identifier: MIT */
/*
 * http_request_fuzz.c — libFuzzer target for what a client puts in a request line and headers
 * (http/route.c, http/precond.c): the path, Range, If-Range, If-None-Match, If-Modified-Since.
 *
 * Input: fields separated by '\n' — path, Range, If-Range, If-None-Match, If-Modified-Since;
 * the first 8 bytes of the path field's hash pick the object size. Beyond "does not crash" it
 * checks the promises respond.c builds on: a partial range lies inside the object and is never
 * empty; a decoded path holds no NUL and is never longer than its input; a resolved key is a
 * valid key (a module's, or a checksum database's answer under /sumdb/) whose escaped form parses
 * again to itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_i.h"
#include "check.h"


static const char etag[] = "\"00112233445566778899aabbccddeeff\"";

static void fuzz_path(const char *p, size_t len)
{
    char out[MODKEY_MAX + 2];
    int n = http_path_decode(p, len, out, sizeof out);
    CHECK(n == -EINVAL || n == -ENAMETOOLONG || (n >= 0 && (size_t)n <= len && strlen(out) == (size_t)n));

    static modkey_buf_t kb, againb;
    modkey_t *key = &kb.key, *again = &againb.key;
    cache_err_t err = {0};
    http_target_t t = http_route_resolve(p, len, key, &err);
    if (t == HTTP_TARGET_KEY) {
        cache_err_t err2 = {0};
        if (key->kind == MODKEY_SUMDB)
            CHECK(modkey_parse_sumdb(key->escaped, strlen(key->escaped), again, &err2) == 0 &&
                  strncmp(key->escaped, "sumdb/", 6) == 0);
        else
            CHECK(modkey_parse(key->escaped, strlen(key->escaped), again, &err2) == 0);
        CHECK(strcmp(again->escaped, key->escaped) == 0);
    } else if (t == HTTP_TARGET_NOT_FOUND || t == HTTP_TARGET_BAD_REQUEST) {
        CHECK(err.msg[0] != '\0');
    }
    (void)http_route_of_path(p, len);
}

static void fuzz_range(const char *v, size_t len, uint64_t size)
{
    uint64_t a = 0, b = 0;
    http_range_result_t r = http_range_parse(v, len, size, &a, &b);
    if (r == HTTP_RANGE_PARTIAL)
        CHECK(a <= b && b < size);
    if (r == HTTP_RANGE_UNSATISFIABLE)
        CHECK(size == 0 || len > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *f[5] = {"", "", "", "", ""};
    size_t flen[5] = {0, 0, 0, 0, 0};
    const char *p = (const char *)data, *end = p + size;
    for (int i = 0; i < 5 && p <= end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        f[i] = p;
        flen[i] = (size_t)((nl ? nl : end) - p);
        p = nl ? nl + 1 : end + 1;
    }
    uint64_t objsize = 0;
    for (size_t i = 0; i < flen[0] && i < 8; i++)
        objsize = objsize * 31 + (uint8_t)f[0][i];
    objsize %= 1u << 30;

    fuzz_path(f[0], flen[0]);
    fuzz_range(f[1], flen[1], objsize);
    fuzz_range(f[1], flen[1], 0);
    (void)http_if_range_matches(f[2], flen[2], etag, 784111777);

    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    h2o_headers_t headers = {NULL, 0, 0};
    if (flen[3] > 0)
        h2o_add_header(&pool, &headers, H2O_TOKEN_IF_NONE_MATCH, NULL, f[3], flen[3]);
    if (flen[4] > 0)
        h2o_add_header(&pool, &headers, H2O_TOKEN_IF_MODIFIED_SINCE, NULL, f[4], flen[4]);
    const char *why;
    (void)http_precond_eval(&headers, etag, 784111777, &why);
    /* the same values as If-Match and If-Unmodified-Since */
    h2o_headers_t strong = {NULL, 0, 0};
    if (flen[3] > 0)
        h2o_add_header(&pool, &strong, H2O_TOKEN_IF_MATCH, NULL, f[3], flen[3]);
    if (flen[4] > 0)
        h2o_add_header(&pool, &strong, H2O_TOKEN_IF_UNMODIFIED_SINCE, NULL, f[4], flen[4]);
    (void)http_precond_eval(&strong, etag, 784111777, &why);
    h2o_mem_clear_pool(&pool);
    return 0;
}
