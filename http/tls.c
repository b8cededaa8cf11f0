/* SPDX-License-Identifier: MIT */
/*
 * tls.c — the server's SSL_CTX.
 *
 * OpenSSL 3 setup (TLS_server_method; the SSLv23/SSL_library_init dance of older h2o examples is
 * obsolete), TLS 1.2 as the floor since go and curl both speak 1.3 and 1.2 is the oldest still
 * considered sound, and ALPN offering h2 then http/1.1 through h2o's own selector: go's client
 * negotiates HTTP/2 only this way (it never speaks h2c). One SSL_CTX is shared read-only by all
 * loop threads; OpenSSL's session cache and ticket keys inside it are thread-safe.
 * TLS 1.3 offers OpenSSL's three suites with AES-128-GCM first, as h2o's own server and go's
 * client order them: every byte of a zip hit is encrypted, and AES-128-GCM does it measurably
 * faster than OpenSSL's first choice, AES-256-GCM, with the same standing.
 */
#include "http_i.h"

#include <errno.h>
#include <openssl/err.h>
#include <string.h>
#include <unistd.h>

/* Appends OpenSSL's queued error, if any, to err's message. */
static int tls_fail(cache_err_t *err, const char *what, const char *file)
{
    char detail[256] = "";
    unsigned long e = ERR_peek_last_error();
    if (e != 0)
        ERR_error_string_n(e, detail, sizeof detail);
    ERR_clear_error();
    return cache_err_set(err, -EINVAL, "TLS %s %s: %s", what, file != NULL ? file : "", detail);
}

int http_tls_ctx_new(const char *cert, const char *key, SSL_CTX **out, cache_err_t *err)
{
    if (cert == NULL || key == NULL)
        return cache_err_set(err, -EINVAL, "TLS needs both a certificate and a key");
    /* OpenSSL says only "system lib" for a file it cannot open */
    if (access(cert, R_OK) != 0)
        return cache_err_set(err, -errno, "TLS certificate %s: %s", cert, strerror(errno));
    if (access(key, R_OK) != 0)
        return cache_err_set(err, -errno, "TLS key %s: %s", key, strerror(errno));
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return tls_fail(err, "context", NULL);
    int rc = 0;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        rc = tls_fail(err, "minimum version", NULL);
        goto fail;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256") != 1) {
        rc = tls_fail(err, "cipher suites", NULL);
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        rc = tls_fail(err, "certificate", cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        rc = tls_fail(err, "key", key);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        rc = tls_fail(err, "key does not match certificate", key);
        goto fail;
    }
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    *out = ctx;
    return 0;
fail:
    SSL_CTX_free(ctx);
    return rc;
}
