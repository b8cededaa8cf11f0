/* SPDX-License-Identifier: MIT */
/*
 * auth.c — who is asking: Basic credentials and bearer tokens against the auth file.
 *
 * A password hash (yescrypt, bcrypt) takes tens of milliseconds of CPU by design, which an event
 * loop serving cache hits in microseconds must never spend. So the loop only looks the
 * Authorization header up in a small table of recent verdicts, keyed by an HMAC-SHA-256 of the
 * whole header value under a key drawn at start-up (the table never holds a password, and its
 * keys cannot be precomputed by a client); a miss is handed to a worker thread, which runs
 * crypt_r, records the verdict and sends the request back to its loop. Good verdicts are kept for
 * HTTP_AUTH_OK_MS, bad ones for HTTP_AUTH_BAD_MS (a client repeating a wrong password costs one
 * hash, not one per request). The table is direct-mapped with a fixed size: a collision only
 * costs another verification.
 *
 * The table belongs to one load of the auth file: a reload makes a new http_auth_t with an empty
 * table (reload.c hands it to the loops), so no verdict outlives the file it was made from.
 *
 * Bearer tokens are compared on the loop: their SHA-256 against every stored digest with
 * CRYPTO_memcmp, all of them, so the time does not depend on which token (if any) matched. A
 * Basic user name that does not exist is still hashed (against the first user's hash), so the
 * answer time does not tell names that exist from names that do not.
 */
#include "http_i.h"

#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define HTTP_AUTH_OK_MS (10 * 60 * 1000ull)
#define HTTP_AUTH_BAD_MS (60 * 1000ull)
#define HTTP_AUTH_HEADER_MAX 4096

int http_auth_new(const char *path, http_auth_t **out, cache_err_t *err)
{
    *out = NULL;
    http_auth_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    int rc = http_auth_db_load(path, &a->db, err);
    if (rc != 0) {
        free(a);
        return rc;
    }
    if (RAND_bytes(a->key, sizeof a->key) != 1) {
        http_auth_db_free(a->db);
        free(a);
        return cache_err_set(err, -EIO, "auth: no random bytes for the verdict table's key");
    }
    atomic_init(&a->refs, 1);
    pthread_mutex_init(&a->mu, NULL);
    LOG_I("auth: %zu users and %zu tokens from %s", a->db->nusers, a->db->ntokens, path);
    *out = a;
    return 0;
}

int http_auth_from_config(const http_config_t *cfg, http_auth_t **out, cache_err_t *err)
{
    *out = NULL;
    if (cfg->auth_file == NULL) {
        if (cfg->auth_required || cfg->metrics_auth)
            return cache_err_set(err, -EINVAL, "auth-required and metrics-auth need an auth-file");
        return 0;
    }
    int rc = http_auth_new(cfg->auth_file, out, err);
    if (rc == 0) {
        (*out)->required = cfg->auth_required;
        (*out)->metrics_auth = cfg->metrics_auth || cfg->auth_required;
    }
    return rc;
}

http_auth_t *http_auth_ref(http_auth_t *a)
{
    if (a != NULL)
        atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
    return a;
}

void http_auth_unref(http_auth_t *a)
{
    if (a == NULL || atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1)
        return;
    pthread_mutex_destroy(&a->mu);
    http_auth_db_free(a->db);
    OPENSSL_cleanse(a->key, sizeof a->key);
    OPENSSL_cleanse(a->verdicts, sizeof a->verdicts);
    free(a);
}

static uint64_t mono_ms(void)
{
    return http_now_us() / 1000;
}

static void header_mac(const http_auth_t *a, const char *value, size_t len, uint8_t mac[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), a->key, (int)sizeof a->key, (const unsigned char *)value, len, mac, &n);
}

static http_auth_verdict_t *verdict_slot(http_auth_t *a, const uint8_t mac[32])
{
    uint64_t h;
    memcpy(&h, mac, sizeof h);
    return &a->verdicts[h % HTTP_AUTH_VERDICT_SLOTS];
}

/* A remembered verdict on this header, or HTTP_AUTH_VERIFY. */
static http_auth_result_t verdict_get(http_auth_t *a, const uint8_t mac[32], uint64_t now)
{
    http_auth_result_t r = HTTP_AUTH_VERIFY;
    pthread_mutex_lock(&a->mu);
    http_auth_verdict_t *v = verdict_slot(a, mac);
    if (v->expires_ms > now && CRYPTO_memcmp(v->mac, mac, 32) == 0)
        r = v->ok ? HTTP_AUTH_OK : HTTP_AUTH_BAD;
    pthread_mutex_unlock(&a->mu);
    return r;
}

static void verdict_put(http_auth_t *a, const uint8_t mac[32], bool ok, uint64_t now)
{
    pthread_mutex_lock(&a->mu);
    http_auth_verdict_t *v = verdict_slot(a, mac);
    memcpy(v->mac, mac, 32);
    v->ok = ok;
    v->expires_ms = now + (ok ? HTTP_AUTH_OK_MS : HTTP_AUTH_BAD_MS);
    pthread_mutex_unlock(&a->mu);
}

static bool scheme_is(const char *value, size_t len, const char *scheme, size_t slen)
{
    return len > slen && strncasecmp(value, scheme, slen) == 0 && value[slen] == ' ';
}

/* Constant-time over every token: the index of the stored digest that is the token's SHA-256,
 * or -1. */
static ssize_t token_find(const http_auth_db_t *db, const char *token, size_t len)
{
    uint8_t digest[32];
    SHA256((const unsigned char *)token, len, digest);
    ssize_t found = -1;
    for (size_t i = 0; i < db->ntokens; i++) {
        bool eq = CRYPTO_memcmp(digest, db->tokens[i].sha256, 32) == 0;
        found = eq ? (ssize_t)i : found;
    }
    OPENSSL_cleanse(digest, sizeof digest);
    return found;
}

/* The token of a "Bearer" value, blanks after the scheme skipped; *tlen 0 when there is none. */
static const char *bearer_token(const char *value, size_t len, size_t *tlen)
{
    const char *tok = value + 7;
    *tlen = len - 7;
    while (*tlen > 0 && *tok == ' ')
        tok++, (*tlen)--;
    return tok;
}

http_auth_result_t http_auth_check(http_auth_t *a, const char *value, size_t len)
{
    if (value == NULL || len == 0)
        return HTTP_AUTH_MISSING;
    if (len > HTTP_AUTH_HEADER_MAX)
        return HTTP_AUTH_BAD;
    if (scheme_is(value, len, "Bearer", 6)) {
        size_t tlen;
        const char *tok = bearer_token(value, len, &tlen);
        return tlen > 0 && token_find(a->db, tok, tlen) >= 0 ? HTTP_AUTH_OK : HTTP_AUTH_BAD;
    }
    if (!scheme_is(value, len, "Basic", 5) || a->db->nusers == 0)
        return HTTP_AUTH_BAD;
    uint8_t mac[32];
    header_mac(a, value, len, mac);
    return verdict_get(a, mac, mono_ms());
}

/* Decodes "Basic <base64>" into user and password (NUL-terminated, in out). false if malformed. */
static bool basic_decode(const char *value, size_t len, char *out, size_t cap, const char **user,
                         const char **password)
{
    const char *b = value + 6;
    size_t blen = len - 6;
    while (blen > 0 && *b == ' ')
        b++, blen--;
    while (blen > 0 && b[blen - 1] == ' ')
        blen--;
    if (blen == 0 || blen % 4 != 0 || blen / 4 * 3 + 1 > cap)
        return false;
    int n = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)b, (int)blen);
    if (n < 0)
        return false;
    /* EVP_DecodeBlock counts the padding as zero bytes */
    if (b[blen - 1] == '=')
        n--;
    if (b[blen - 2] == '=')
        n--;
    out[n] = '\0';
    if (memchr(out, '\0', (size_t)n) != NULL)
        return false;
    char *colon = strchr(out, ':');
    if (colon == NULL)
        return false;
    *colon = '\0';
    *user = out;
    *password = colon + 1;
    return true;
}

http_auth_result_t http_auth_verify(http_auth_t *a, const char *value, size_t len)
{
    if (len == 0 || len > HTTP_AUTH_HEADER_MAX || !scheme_is(value, len, "Basic", 5) || a->db->nusers == 0)
        return HTTP_AUTH_BAD;
    uint8_t mac[32];
    header_mac(a, value, len, mac);
    http_auth_result_t r = verdict_get(a, mac, mono_ms());
    if (r != HTTP_AUTH_VERIFY)
        return r; /* another worker got there first */
    char decoded[HTTP_AUTH_HEADER_MAX];
    const char *user = NULL, *password = NULL;
    bool ok = false;
    if (basic_decode(value, len, decoded, sizeof decoded, &user, &password)) {
        const http_auth_user_t *found = NULL;
        size_t ulen = strlen(user);
        for (size_t i = 0; i < a->db->nusers; i++) {
            const http_auth_user_t *u = &a->db->users[i];
            if (strlen(u->name) == ulen && CRYPTO_memcmp(u->name, user, ulen) == 0)
                found = u;
        }
        /* an unknown name costs the same hash as a known one */
        const char *hash = found ? found->hash : a->db->users[0].hash;
        struct crypt_data *cd = calloc(1, sizeof *cd);
        if (cd == NULL)
            return HTTP_AUTH_BAD; /* not remembered: the next try may have memory */
        const char *out = crypt_r(password, hash, cd);
        size_t hlen = strlen(hash);
        ok = found != NULL && out != NULL && strlen(out) == hlen && CRYPTO_memcmp(out, hash, hlen) == 0;
        OPENSSL_cleanse(cd, sizeof *cd);
        free(cd);
    }
    OPENSSL_cleanse(decoded, sizeof decoded);
    verdict_put(a, mac, ok, mono_ms());
    return ok ? HTTP_AUTH_OK : HTTP_AUTH_BAD;
}

bool http_auth_principal(http_auth_t *a, const char *value, size_t len, uint8_t id[16])
{
    if (a == NULL || http_auth_check(a, value, len) != HTTP_AUTH_OK)
        return false;
    uint8_t digest[32];
    if (scheme_is(value, len, "Bearer", 6)) {
        size_t tlen;
        const char *tok = bearer_token(value, len, &tlen);
        ssize_t i = token_find(a->db, tok, tlen);
        if (i < 0)
            return false;
        const char *name = a->db->tokens[i].name;
        SHA256((const unsigned char *)name, strlen(name), digest);
    } else {
        /* a remembered good verdict on this very value: its user name is the one it carries */
        char decoded[HTTP_AUTH_HEADER_MAX];
        const char *user = NULL, *password = NULL;
        bool ok = basic_decode(value, len, decoded, sizeof decoded, &user, &password);
        if (ok)
            SHA256((const unsigned char *)user, strlen(user), digest);
        OPENSSL_cleanse(decoded, sizeof decoded);
        if (!ok)
            return false;
    }
    memcpy(id, digest, 16);
    return true;
}
