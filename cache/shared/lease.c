/* SPDX-License-Identifier: MIT */
/*
 * lease.c — one upstream fetch per key across every front of a bucket (shared.h:
 * shared_lease_*), made of the one atomic operation S3 gateways offer: a create-only PUT
 * (If-None-Match: *), which Ceph's gateway honours atomically (16 concurrent writers: one 200).
 *
 * A key's leases are numbered objects, leases/KEY/0000000001, ...; the holder is whoever created
 * the highest number. A front asks for number 1 (one request when nobody holds the key, the
 * common case); on 412 it lists the key's leases and waits while the highest is alive, polling.
 * A lease is alive while its Last-Modified (the store's clock, compared with the store's Date:
 * the fronts' clocks never meet) is younger than its lifetime; the holder rewrites it every third
 * of that lifetime from a thread of its own, so a front that dies (kill -9) stops renewing and its
 * lease dies a lifetime later. Then a waiter creates the next number: create-only again, so of
 * several waiters exactly one takes over. Why numbers and not one object overwritten with
 * If-Match: a gateway's If-Match compares ETags in its own spelling (Ceph's wants them unquoted),
 * and a DELETE of the dead lease followed by a create would let a second waiter delete the first
 * one's fresh lease; numbers need create-only and nothing else.
 *
 * The holder deletes its lease when done, and with it every lower number, which only a takeover
 * leaves behind, so a key's lease objects go away with its last holder. A holder whose renewals
 * were late (the store was slow) may have been taken over: it then lists first and deletes only
 * when it still holds the highest number.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared_i.h"

#define LEASE_MAGIC "modfs-lease 1"
#define LEASE_BODY_MAX 512
#define LEASE_TTL_MAX 86400u
#define POLL_FIRST_MS 50
#define POLL_MAX_MS 1000

struct shared_lease {
    struct shared_lease *next; /* in shared.held, under shared.lease_lock */
    unsigned refs;             /* the holder's and the keeper's while it renews (under shared.lease_lock) */
    pthread_mutex_t mu;        /* serialises a renewal with the release: none after it */
    bool released;             /* under mu */
    bool lapsed;               /* a renewal came later than the lifetime (under mu) */
    int64_t renewed_ms;        /* monotonic, the last write of the lease (under mu) */
    uint32_t gen;
    char *key;
    buf_t name;
    buf_t body;
};

/* ---- the lease body ---- */

int shared_lease_body_encode(const char *holder, unsigned ttl_s, buf_t *out)
{
    buf_reset(out);
    size_t n = strlen(holder);
    if (n == 0 || n >= SHARED_HOLDER_MAX || ttl_s == 0 || ttl_s > LEASE_TTL_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (holder[i] < ' ' || holder[i] > '~')
            return -EINVAL;
    return buf_appendf(out, LEASE_MAGIC "\nholder %s\nttl %u\n", holder, ttl_s);
}

int shared_lease_body_decode(const uint8_t *p, size_t len, char *holder, size_t cap, unsigned *ttl_s,
                             cache_err_t *err)
{
    const char *s = (const char *)p, *end = s + len;
    const size_t ml = sizeof LEASE_MAGIC; /* with its '\n' */
    if (len > LEASE_BODY_MAX || len < ml || memcmp(s, LEASE_MAGIC "\n", ml) != 0)
        return cache_err_set(err, -EBADMSG, "lease: not a modfs-lease 1 body");
    s += ml;
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    if (nl == NULL || nl - s < 8 || memcmp(s, "holder ", 7) != 0)
        return cache_err_set(err, -EBADMSG, "lease: want \"holder TEXT\" on line 2");
    size_t hn = (size_t)(nl - s) - 7;
    if (hn >= cap || hn >= SHARED_HOLDER_MAX)
        return cache_err_set(err, -EBADMSG, "lease: the holder is longer than %d bytes",
                             SHARED_HOLDER_MAX - 1);
    for (size_t i = 0; i < hn; i++)
        if (s[7 + i] < ' ' || s[7 + i] > '~')
            return cache_err_set(err, -EBADMSG, "lease: the holder has a byte that is not printable ASCII");
    memcpy(holder, s + 7, hn);
    holder[hn] = '\0';
    s = nl + 1;
    nl = memchr(s, '\n', (size_t)(end - s));
    if (nl == NULL || nl + 1 != end || nl - s < 5 || memcmp(s, "ttl ", 4) != 0)
        return cache_err_set(err, -EBADMSG, "lease: want \"ttl SECONDS\" as its last line");
    uint64_t ttl = 0;
    size_t dn = (size_t)(nl - s) - 4;
    if (dn > 6 || s[4] == '0')
        return cache_err_set(err, -EBADMSG, "lease: ttl is not a number from 1 to %u", LEASE_TTL_MAX);
    for (size_t i = 0; i < dn; i++) {
        if (!ascii_is_digit(s[4 + i]))
            return cache_err_set(err, -EBADMSG, "lease: ttl is not a number from 1 to %u", LEASE_TTL_MAX);
        ttl = ttl * 10 + (uint64_t)(s[4 + i] - '0');
    }
    if (ttl == 0 || ttl > LEASE_TTL_MAX)
        return cache_err_set(err, -EBADMSG, "lease: ttl is not a number from 1 to %u", LEASE_TTL_MAX);
    *ttl_s = (unsigned)ttl;
    return 0;
}

bool shared_lease_expired(int64_t written_ms, int64_t now_ms, unsigned ttl_s)
{
    /* Last-Modified and Date have one-second resolution: a second more before calling it dead */
    return now_ms - written_ms > (int64_t)ttl_s * 1000 + 1000;
}

/* ---- talking to the bucket ---- */

static void lease_free(shared_lease_t *l)
{
    if (l == NULL)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l->key);
    buf_dispose(&l->name);
    buf_dispose(&l->body);
    free(l);
}

/* One lease entry of a key, from a listing. */
typedef struct entry {
    uint32_t gen;
    int64_t mtime_ms;
} entry_t;

/* The key's lease entries, sorted by number (a listing is in name order, and numbers are padded). */
static int list_entries(shared_t *s, const char *key, entry_t **out, size_t *n, int64_t *date_ms,
                        cache_err_t *err)
{
    buf_t dir = BUF_INIT;
    shared_list_t list = {0};
    *out = NULL;
    *n = 0;
    int rc = shared_layout_lease_dir(s->url.prefix, key, &dir);
    if (rc == 0)
        rc = shared_s3_list(s, (const char *)dir.base, &list, date_ms, err);
    entry_t *v = rc == 0 && list.n > 0 ? calloc(list.n, sizeof *v) : NULL;
    if (rc == 0 && list.n > 0 && v == NULL)
        rc = cache_err_set(err, -ENOMEM, "out of memory");
    size_t k = 0, klen = strlen(key);
    for (size_t i = 0; rc == 0 && i < list.n; i++) {
        shared_name_t nm;
        shared_layout_parse(s->url.prefix, list.v[i].name, strlen(list.v[i].name), &nm);
        /* leases/KEY/x/... of a longer key shares the listing's prefix: not ours */
        if (nm.kind != SHARED_NAME_LEASE || nm.key_len != klen || memcmp(nm.key, key, klen) != 0)
            continue;
        v[k].gen = nm.gen;
        v[k].mtime_ms = list.v[i].mtime_ms;
        k++;
    }
    shared_list_dispose(&list);
    buf_dispose(&dir);
    if (rc != 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

/* The lifetime the holder of entry gen wrote into it, or 0 when it cannot be read (gone: it was
 * released meanwhile; damaged: judged by our own lifetime). */
static unsigned entry_ttl(shared_t *s, const char *key, uint32_t gen, int *gone, cache_err_t *err)
{
    buf_t name = BUF_INIT, body = BUF_INIT;
    *gone = 0;
    unsigned ttl = 0;
    if (shared_layout_lease(s->url.prefix, key, gen, &name) != 0) {
        buf_dispose(&name);
        return 0;
    }
    s3_req_t rq = {.method = "GET", .name = (const char *)name.base, .out = &body, .out_max = LEASE_BODY_MAX};
    s3_resp_t rs;
    int rc = shared_s3(s, &rq, &rs, err);
    if (rc != 0)
        *gone = rc;
    else if (rs.status == 404)
        *gone = -ENOENT;
    else if (rs.status == 200) {
        char holder[SHARED_HOLDER_MAX];
        cache_err_t perr;
        if (shared_lease_body_decode(body.base, body.len, holder, sizeof holder, &ttl, &perr) != 0) {
            LOG_W("object store %s: lease %s: %s", s->shown, (const char *)name.base, perr.msg);
            ttl = 0;
        }
    }
    buf_dispose(&name);
    buf_dispose(&body);
    return ttl;
}

static int create(shared_t *s, shared_lease_t *l, uint32_t gen, bool *won, cache_err_t *err)
{
    *won = false;
    int rc = shared_layout_lease(s->url.prefix, l->key, gen, &l->name);
    if (rc != 0)
        return cache_err_set(err, rc, "lease name of %s", l->key);
    s3_req_t rq = {.method = "PUT",
                   .name = (const char *)l->name.base,
                   .body = l->body.base,
                   .body_len = l->body.len,
                   .create_only = true};
    s3_resp_t rs;
    if ((rc = shared_s3(s, &rq, &rs, err)) != 0)
        return rc;
    if (rs.status == 200) {
        *won = true;
        l->gen = gen;
        l->renewed_ms = shared_now_ms();
        return 0;
    }
    if (rs.status == 412 || rs.status == 409) /* 409: a concurrent create of the same name */
        return 0;
    return cache_err_set(err, -EIO, "object store %s: creating lease %s: %ld %s", s->shown,
                         (const char *)l->name.base, rs.status, rs.code);
}

int shared_lease_acquire(shared_t *s, const char *key, uint64_t max_wait_ms, shared_lease_t **out,
                         bool *waited, cache_err_t *err)
{
    *out = NULL;
    *waited = false;
    int rc = shared_bucket_ready(s, err);
    if (rc != 0)
        return rc;
    shared_lease_t *l = calloc(1, sizeof *l);
    if (l == NULL || (l->key = strdup(key)) == NULL) {
        free(l);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    pthread_mutex_init(&l->mu, NULL);
    rc = shared_lease_body_encode(s->holder, s->lease_s, &l->body);
    if (rc != 0) {
        lease_free(l);
        return cache_err_set(err, rc, "lease body");
    }
    int64_t deadline = shared_now_ms() + (int64_t)max_wait_ms, poll = POLL_FIRST_MS;
    uint32_t gen = 1, ttl_gen = 0;
    unsigned ttl_of_gen = 0;
    bool won = false, takeover = false;
    while (rc == 0 && !won) {
        if ((rc = create(s, l, gen, &won, err)) != 0 || won)
            break;
        /* someone holds it, or a dead holder's number is in the way: watch the key's leases */
        for (;;) {
            entry_t *v;
            size_t n;
            int64_t date_ms;
            if ((rc = list_entries(s, key, &v, &n, &date_ms, err)) != 0)
                break;
            if (n == 0) { /* released meanwhile */
                gen = 1;
                takeover = false;
                break;
            }
            entry_t top = v[n - 1];
            free(v);
            if (top.gen != ttl_gen) {
                int gone;
                ttl_of_gen = entry_ttl(s, key, top.gen, &gone, err);
                if (gone == -ENOENT)
                    continue; /* released between the listing and the read: list again */
                if (gone != 0) {
                    rc = gone;
                    break;
                }
                ttl_gen = top.gen;
            }
            unsigned ttl = ttl_of_gen > s->lease_s ? ttl_of_gen : s->lease_s;
            if (date_ms > 0 && shared_lease_expired(top.mtime_ms, date_ms, ttl)) {
                if (top.gen == UINT32_MAX) {
                    rc = cache_err_set(err, -EOVERFLOW, "lease numbers of %s are used up", key);
                    break;
                }
                gen = top.gen + 1;
                takeover = true;
                break;
            }
            if (!*waited) {
                *waited = true;
                atomic_fetch_add_explicit(&s->lease_waits, 1, memory_order_relaxed);
                LOG_I("%s: another front is fetching it; waiting for its lease", key);
            }
            if (shared_now_ms() >= deadline) {
                rc = cache_err_set(err, -ETIMEDOUT, "%s: another front held its lease for %llu s", key,
                                   (unsigned long long)(max_wait_ms / 1000));
                break;
            }
            if ((rc = shared_sleep(s, poll)) != 0) {
                cache_err_set(err, rc, "shutting down");
                break;
            }
            poll = poll * 2 > POLL_MAX_MS ? POLL_MAX_MS : poll * 2;
        }
    }
    if (rc != 0) {
        lease_free(l);
        return rc;
    }
    if (takeover) {
        atomic_fetch_add_explicit(&s->lease_takeovers, 1, memory_order_relaxed);
        LOG_N("%s: took over lease %u, which its holder stopped renewing", key, l->gen);
    }
    pthread_mutex_lock(&s->lease_lock);
    l->refs = 1;
    l->next = s->held;
    s->held = l;
    pthread_mutex_unlock(&s->lease_lock);
    *out = l;
    return 0;
}

static void delete_name(shared_t *s, const char *name)
{
    s3_req_t rq = {.method = "DELETE", .name = name, .after_cancel = true};
    s3_resp_t rs;
    cache_err_t err;
    if (shared_s3(s, &rq, &rs, &err) != 0)
        LOG_I("%s (it expires by itself)", err.msg);
}

void shared_lease_release(shared_t *s, shared_lease_t *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&s->lease_lock);
    for (shared_lease_t **p = &s->held; *p != NULL; p = &(*p)->next) {
        if (*p == l) {
            *p = l->next;
            break;
        }
    }
    pthread_mutex_unlock(&s->lease_lock);
    pthread_mutex_lock(&l->mu);
    l->released = true;
    bool lapsed = l->lapsed || shared_now_ms() - l->renewed_ms > (int64_t)s->lease_s * 1000;
    pthread_mutex_unlock(&l->mu);
    if (l->gen == 1 && !lapsed) {
        delete_name(s, (const char *)l->name.base);
    } else {
        /* numbers below ours are dead holders' (delete them too); one above ours means we were
         * taken over: then that holder deletes everything when it is done */
        entry_t *v;
        size_t n;
        int64_t date_ms;
        cache_err_t err;
        buf_t name = BUF_INIT;
        if (list_entries(s, l->key, &v, &n, &date_ms, &err) == 0) {
            if (n == 0 || v[n - 1].gen <= l->gen) {
                for (size_t i = n; i-- > 0;)
                    if (shared_layout_lease(s->url.prefix, l->key, v[i].gen, &name) == 0)
                        delete_name(s, (const char *)name.base);
            }
            free(v);
        }
        buf_dispose(&name);
    }
    pthread_mutex_lock(&s->lease_lock);
    bool last = --l->refs == 0;
    pthread_mutex_unlock(&s->lease_lock);
    if (last)
        lease_free(l);
}

/* ---- renewal ---- */

static void renew(shared_t *s, shared_lease_t *l)
{
    pthread_mutex_lock(&l->mu);
    if (!l->released) {
        int64_t now = shared_now_ms();
        if (now - l->renewed_ms > (int64_t)s->lease_s * 1000)
            l->lapsed = true;
        s3_req_t rq = {.method = "PUT",
                       .name = (const char *)l->name.base,
                       .body = l->body.base,
                       .body_len = l->body.len};
        s3_resp_t rs;
        cache_err_t err;
        if (shared_s3(s, &rq, &rs, &err) == 0 && rs.status == 200)
            l->renewed_ms = now;
        else
            LOG_D("renewing the lease of %s failed: %s", l->key, err.msg);
    }
    pthread_mutex_unlock(&l->mu);
}

static void *keeper_main(void *arg)
{
    shared_t *s = arg;
    unsigned every_ms = s->lease_s * 1000 / 3;
    if (every_ms < 200)
        every_ms = 200;
    pthread_mutex_lock(&s->lease_lock);
    while (!s->keeper_stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += every_ms / 1000;
        until.tv_nsec += (long)(every_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&s->keeper_cv, &s->lease_lock, &until);
        if (s->keeper_stop)
            break;
        /* Renew what is held now, each lease pinned (refs) so that the I/O runs without
         * lease_lock: a release is never kept waiting by another key's renewal. A renewal and the
         * release of the same lease are serialised by its own mutex, and none follows the release. */
        size_t n = 0;
        for (shared_lease_t *l = s->held; l != NULL; l = l->next)
            n++;
        shared_lease_t **due = n ? malloc(n * sizeof *due) : NULL;
        size_t k = 0;
        int64_t now = shared_now_ms();
        for (shared_lease_t *l = s->held; l != NULL && due != NULL; l = l->next) {
            pthread_mutex_lock(&l->mu);
            bool stale = now - l->renewed_ms >= (int64_t)every_ms - 50;
            pthread_mutex_unlock(&l->mu);
            if (stale) {
                l->refs++;
                due[k++] = l;
            }
        }
        pthread_mutex_unlock(&s->lease_lock);
        for (size_t i = 0; i < k; i++)
            renew(s, due[i]);
        pthread_mutex_lock(&s->lease_lock);
        for (size_t i = 0; i < k; i++) {
            if (--due[i]->refs == 0)
                lease_free(due[i]);
        }
        free(due);
    }
    pthread_mutex_unlock(&s->lease_lock);
    return NULL;
}

int shared_lease_keeper_start(shared_t *s)
{
    int rc = pthread_create(&s->keeper, NULL, keeper_main, s);
    if (rc != 0)
        return -rc;
    s->keeper_started = true;
    return 0;
}

void shared_lease_keeper_stop(shared_t *s)
{
    if (!s->keeper_started)
        return;
    pthread_mutex_lock(&s->lease_lock);
    s->keeper_stop = true;
    pthread_cond_signal(&s->keeper_cv);
    pthread_mutex_unlock(&s->lease_lock);
    pthread_join(s->keeper, NULL);
    s->keeper_started = false;
}
