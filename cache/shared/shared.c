/* SPDX-License-Identifier: MIT */
/*
 * shared.c — the shared tier's life (shared.h: shared_open, shared_close, shared_cancel,
 * shared_stats_get): credentials, the bucket made sure of, the lease keeper started.
 *
 * An object store that does not answer at start-up does not stop a front: local hits need no
 * bucket, and a miss falls back to upstream (or fails, when the policy wants the tier). Only what
 * waiting would not cure stops the start: a bad URL, missing or refused credentials, a bucket
 * that exists but is not ours.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <curl/curl.h>

#include "shared_i.h"

static void holder_init(shared_t *s)
{
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    for (char *p = host; *p; p++)
        if (*p <= ' ' || *p > '~')
            *p = '?';
    uint64_t nonce = 0;
    if (getrandom(&nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
        nonce = (uint64_t)shared_now_ms() ^ ((uint64_t)getpid() << 32);
    snprintf(s->holder, sizeof s->holder, "%s %ld %016llx", host[0] ? host : "?", (long)getpid(),
             (unsigned long long)nonce);
}

/* HEAD the bucket; create it when missing. 0, or -errno with err (tier errors included). */
static int bucket_ensure(shared_t *s, cache_err_t *err)
{
    s3_req_t head = {.method = "HEAD"};
    s3_resp_t rs;
    int rc = shared_s3(s, &head, &rs, err);
    if (rc != 0)
        return rc;
    if (rs.status == 200)
        return 0;
    if (rs.status != 404)
        return cache_err_set(err, -EIO, "object store %s: HEAD of the bucket: %ld", s->shown, rs.status);
    /* us-east-1 is S3's default location and takes no constraint; other regions name themselves
     * (Ceph's gateway wants none, or its zonegroup's name) */
    buf_t body = BUF_INIT;
    const char *region = s->sigv4 + strlen("aws:amz:");
    size_t rlen = strcspn(region, ":");
    if (!(rlen == 9 && strncmp(region, "us-east-1", 9) == 0) &&
        buf_appendf(&body,
                    "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    "<LocationConstraint>%.*s</LocationConstraint></CreateBucketConfiguration>",
                    (int)rlen, region) != 0) {
        buf_dispose(&body);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    s3_req_t put = {.method = "PUT", .body = body.base, .body_len = body.len};
    rc = shared_s3(s, &put, &rs, err);
    buf_dispose(&body);
    if (rc != 0)
        return rc;
    if (rs.status == 200 || (rs.status == 409 && strcmp(rs.code, "BucketAlreadyOwnedByYou") == 0)) {
        if (rs.status == 200)
            LOG_N("object store %s: created the bucket", s->shown);
        return 0;
    }
    return cache_err_set(err, rs.status == 409 ? -EACCES : -EIO,
                         "object store %s: creating the bucket: %ld %s", s->shown, rs.status, rs.code);
}

int shared_bucket_ready(shared_t *s, cache_err_t *err)
{
    if (atomic_load_explicit(&s->bucket_ready, memory_order_acquire))
        return 0;
    int rc = bucket_ensure(s, err);
    if (rc == 0)
        atomic_store_explicit(&s->bucket_ready, true, memory_order_release);
    return rc;
}

int shared_open(const shared_config_t *cfg, shared_t **out, cache_err_t *err)
{
    *out = NULL;
    shared_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_mutex_init(&s->down_lock, NULL);
    pthread_mutex_init(&s->wake_lock, NULL);
    pthread_mutex_init(&s->lease_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake_cv, &ca);
    pthread_cond_init(&s->keeper_cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&s->cancelled, false);
    int rc = 0;
    const char *region = cfg->region && cfg->region[0] ? cfg->region : SHARED_DEFAULT_REGION;
    size_t rl = strlen(region);
    for (size_t i = 0; i < rl && rc == 0; i++)
        if (!(ascii_is_alnum(region[i]) || region[i] == '-' || region[i] == '_'))
            rc = cache_err_set(err, -EINVAL, "the object store region may hold A-Z a-z 0-9 - _ only");
    if (rc == 0 && (rl == 0 || rl > 40))
        rc = cache_err_set(err, -EINVAL, "the object store region must be 1 to 40 characters");
    if (rc == 0)
        rc = shared_url_parse(cfg->url, &s->url, err);
    if (rc == 0)
        rc = shared_url_check(cfg->url, &s->shown, err);
    if (rc == 0)
        rc = shared_credentials_load(cfg->credentials, &s->access, &s->secret, err);
    if (rc == 0 && cfg->ca_file && (s->ca_file = strdup(cfg->ca_file)) == NULL)
        rc = cache_err_set(err, -ENOMEM, "out of memory");
    if (rc != 0) {
        shared_close(s);
        return rc;
    }
    snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", region);
    s->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : SHARED_DEFAULT_TIMEOUT_MS;
    s->lease_s = cfg->lease_s > 0 ? cfg->lease_s : SHARED_DEFAULT_LEASE_S;
    s->gc_grace_s = cfg->gc_grace_s > 0 ? cfg->gc_grace_s : SHARED_DEFAULT_GC_GRACE_S;
    holder_init(s);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s->curl_inited = true;
    rc = shared_bucket_ready(s, err);
    if (rc == -EACCES || rc == -EINVAL || rc == -ENOMEM) {
        shared_close(s);
        return rc;
    }
    if (rc != 0)
        LOG_W("%s; starting without the shared tier for now", err != NULL ? err->msg : strerror(-rc));
    if ((rc = shared_lease_keeper_start(s)) != 0) {
        shared_close(s);
        return cache_err_set(err, rc, "starting the lease thread: %s", strerror(-rc));
    }
    *out = s;
    return 0;
}

void shared_cancel(shared_t *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->wake_lock);
    atomic_store(&s->cancelled, true);
    pthread_cond_broadcast(&s->wake_cv);
    pthread_mutex_unlock(&s->wake_lock);
}

void shared_close(shared_t *s)
{
    if (s == NULL)
        return;
    shared_lease_keeper_stop(s);
    while (s->held != NULL) /* a caller that forgot one: deleted now rather than left to expire */
        shared_lease_release(s, s->held);
    for (size_t i = 0; i < s->nidle; i++)
        curl_easy_cleanup(s->idle[i]);
    if (s->curl_inited)
        curl_global_cleanup();
    free(s->shown);
    free(s->access);
    shared_secret_free(s->secret);
    free(s->ca_file);
    pthread_cond_destroy(&s->wake_cv);
    pthread_cond_destroy(&s->keeper_cv);
    pthread_mutex_destroy(&s->pool_lock);
    pthread_mutex_destroy(&s->down_lock);
    pthread_mutex_destroy(&s->wake_lock);
    pthread_mutex_destroy(&s->lease_lock);
    free(s);
}

void shared_stats_get(shared_t *s, shared_stats_t *st)
{
    memset(st, 0, sizeof *st);
#define GET(f) st->f = atomic_load_explicit(&s->f, memory_order_relaxed)
    GET(requests);
    GET(errors);
    GET(bytes_read);
    GET(bytes_written);
    GET(objects_read);
    GET(objects_written);
    GET(damaged);
    GET(lease_waits);
    GET(lease_takeovers);
    GET(gc_runs);
    GET(gc_deleted);
    GET(gc_deleted_bytes);
#undef GET
    st->down = shared_is_down(s, NULL, 0);
}
