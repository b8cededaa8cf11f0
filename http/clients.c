/* SPDX-License-Identifier: MIT */
/*
 * clients.c — what the server remembers per client: the miss budget (a token bucket), aborted
 * streams (HTTP/2 rapid reset), and a place for the fetch queue's per-client share.
 *
 * A client is its address today: IPv4 whole, IPv6 by its /64 (one host usually owns a whole
 * /64 and could otherwise take a fresh address per request). http_client_id_of is the one place
 * that says who a request comes from; once requests are authenticated, it returns the user's
 * name instead (kind HTTP_CLIENT_USER, a 128-bit hash of the name) and nothing else changes.
 *
 * Memory is fixed whatever clients do: HTTP_CLIENTS_MAX entries allocated up front, found by the
 * common hash table, in least-recently-seen order. A new client takes a free entry, else the
 * least recently seen entry that carries no state (nothing pinned, a full bucket, no aborts in
 * the current window: forgetting it loses nothing), looking at most HTTP_CLIENTS_EVICT_SCAN
 * entries. When every one of them is busy the newcomer shares one overflow entry with every
 * other such newcomer: a flood of new addresses gets one budget between them, not one each.
 *
 * One mutex guards the table, the buckets and the abort counts: it is taken on misses and aborts
 * only, never on a cache hit.
 */
#include "http_i.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define HTTP_CLIENTS_MAX 4096
#define HTTP_CLIENTS_EVICT_SCAN 32
#define HTTP_CLIENTS_HASH_SEED 0x636c /* "cl" */

struct http_clients {
    pthread_mutex_t mu;
    htab_t table;             /* entries in use, overflow excepted */
    http_client_t *entries;   /* HTTP_CLIENTS_MAX of them */
    http_client_t *free_list; /* linked through lru_next */
    http_client_t *lru_newest, *lru_oldest;
    http_client_t overflow; /* never in the table, never evicted */
    uint64_t rate;          /* misses per second per client; 0: no limit */
    uint64_t burst;
    size_t in_use;
};

void http_client_id_of(h2o_req_t *req, http_client_id_t *id)
{
    memset(id, 0, sizeof *id);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len = 0;
    if (req->conn != NULL && req->conn->callbacks->get_peername != NULL)
        len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (len >= sizeof(struct sockaddr_in) && ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        id->b[0] = HTTP_CLIENT_IPV4;
        memcpy(id->b + 1, &in->sin_addr, 4);
    } else if (len >= sizeof(struct sockaddr_in6) && ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            id->b[0] = HTTP_CLIENT_IPV4;
            memcpy(id->b + 1, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            id->b[0] = HTTP_CLIENT_IPV6_64;
            memcpy(id->b + 1, in6->sin6_addr.s6_addr, 8);
        }
    } else {
        id->b[0] = HTTP_CLIENT_UNKNOWN; /* a UNIX socket or a failed getpeername: one client */
    }
}

static uint64_t id_hash(const http_client_id_t *id)
{
    return hash_bytes(id->b, sizeof id->b, HTTP_CLIENTS_HASH_SEED);
}

static bool id_eq(const htab_link_t *l, const void *key)
{
    return memcmp(((const http_client_t *)l)->id.b, ((const http_client_id_t *)key)->b, HTTP_CLIENT_ID_LEN) ==
           0;
}

http_clients_t *http_clients_new(unsigned miss_rate, unsigned miss_burst)
{
    http_clients_t *cs = calloc(1, sizeof *cs);
    if (cs == NULL)
        return NULL;
    cs->entries = calloc(HTTP_CLIENTS_MAX, sizeof *cs->entries);
    if (cs->entries == NULL || htab_init(&cs->table, HTTP_CLIENTS_MAX) != 0) {
        free(cs->entries);
        free(cs);
        return NULL;
    }
    pthread_mutex_init(&cs->mu, NULL);
    cs->rate = miss_rate;
    cs->burst = miss_burst > 0 ? miss_burst : 1;
    for (size_t i = HTTP_CLIENTS_MAX; i-- > 0;) {
        cs->entries[i].lru_next = cs->free_list;
        cs->free_list = &cs->entries[i];
    }
    cs->overflow.id.b[0] = HTTP_CLIENT_OVERFLOW;
    cs->overflow.tokens_milli = cs->burst * 1000;
    return cs;
}

void http_clients_free(http_clients_t *cs)
{
    if (cs == NULL)
        return;
    htab_dispose(&cs->table);
    pthread_mutex_destroy(&cs->mu);
    free(cs->entries);
    free(cs);
}

static void lru_unlink(http_clients_t *cs, http_client_t *c)
{
    if (c->lru_prev != NULL)
        c->lru_prev->lru_next = c->lru_next;
    else
        cs->lru_newest = c->lru_next;
    if (c->lru_next != NULL)
        c->lru_next->lru_prev = c->lru_prev;
    else
        cs->lru_oldest = c->lru_prev;
    c->lru_prev = c->lru_next = NULL;
}

static void lru_push_newest(http_clients_t *cs, http_client_t *c)
{
    c->lru_prev = NULL;
    c->lru_next = cs->lru_newest;
    if (cs->lru_newest != NULL)
        cs->lru_newest->lru_prev = c;
    cs->lru_newest = c;
    if (cs->lru_oldest == NULL)
        cs->lru_oldest = c;
}

/* Brings the bucket up to date. Under cs->mu. */
static void bucket_refill(const http_clients_t *cs, http_client_t *c, uint64_t now_ms)
{
    uint64_t full = cs->burst * 1000;
    if (now_ms > c->refill_ms) {
        uint64_t add = (now_ms - c->refill_ms) * cs->rate; /* milli-tokens: rate per s = rate per ms * 1000 */
        c->tokens_milli = c->tokens_milli + add > full ? full : c->tokens_milli + add;
    }
    c->refill_ms = now_ms;
}

/* True when forgetting c loses nothing. Under cs->mu. */
static bool entry_idle(const http_clients_t *cs, http_client_t *c, uint64_t now_ms)
{
    if (c->pins != 0 || now_ms - c->abort_window_ms <= HTTP_ABUSE_WINDOW_MS)
        return false;
    bucket_refill(cs, c, now_ms);
    return cs->rate == 0 || c->tokens_milli >= cs->burst * 1000;
}

http_client_t *http_clients_acquire(http_clients_t *cs, const http_client_id_t *id, uint64_t now_ms)
{
    uint64_t hash = id_hash(id);
    pthread_mutex_lock(&cs->mu);
    http_client_t *c = (http_client_t *)htab_find(&cs->table, hash, id_eq, id);
    if (c != NULL) {
        lru_unlink(cs, c);
    } else {
        c = cs->free_list;
        if (c != NULL) {
            cs->free_list = c->lru_next;
            cs->in_use++;
        } else {
            http_client_t *v = cs->lru_oldest;
            for (int i = 0; v != NULL && i < HTTP_CLIENTS_EVICT_SCAN && !entry_idle(cs, v, now_ms); i++)
                v = v->lru_prev;
            if (v == NULL || !entry_idle(cs, v, now_ms)) {
                c = &cs->overflow;
                c->pins++;
                pthread_mutex_unlock(&cs->mu);
                return c;
            }
            htab_remove(&cs->table, &v->link);
            lru_unlink(cs, v);
            c = v;
        }
        memset(c, 0, sizeof *c);
        c->id = *id;
        c->tokens_milli = cs->burst * 1000;
        c->refill_ms = now_ms;
        c->abort_window_ms = now_ms - HTTP_ABUSE_WINDOW_MS - 1;
        htab_insert(&cs->table, &c->link, hash);
    }
    lru_push_newest(cs, c);
    c->pins++;
    pthread_mutex_unlock(&cs->mu);
    return c;
}

void http_clients_release(http_clients_t *cs, http_client_t *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&cs->mu);
    c->pins--;
    pthread_mutex_unlock(&cs->mu);
}

bool http_clients_take_miss(http_clients_t *cs, http_client_t *c, uint64_t now_ms, unsigned *retry_after_s)
{
    if (cs->rate == 0)
        return true;
    pthread_mutex_lock(&cs->mu);
    bucket_refill(cs, c, now_ms);
    bool ok = c->tokens_milli >= 1000;
    if (ok) {
        c->tokens_milli -= 1000;
    } else {
        /* until one whole token is back, in whole seconds (Retry-After has no fractions) */
        uint64_t ms = (1000 - c->tokens_milli + cs->rate - 1) / cs->rate;
        *retry_after_s = (unsigned)((ms + 999) / 1000);
        if (*retry_after_s == 0)
            *retry_after_s = 1;
    }
    pthread_mutex_unlock(&cs->mu);
    return ok;
}

bool http_clients_note_abort(http_clients_t *cs, http_client_t *c, uint64_t conn_id, uint64_t now_ms)
{
    pthread_mutex_lock(&cs->mu);
    if (now_ms - c->abort_window_ms > HTTP_ABUSE_WINDOW_MS) {
        c->abort_window_ms = now_ms;
        c->aborts = 0;
    }
    bool cut = false;
    if (++c->aborts > HTTP_ABUSE_LIMIT && c->cut_conn_id != conn_id) {
        /* every connection of the client that aborts past the limit is cut, each one once */
        c->cut_conn_id = conn_id;
        cut = true;
    }
    pthread_mutex_unlock(&cs->mu);
    return cut;
}

size_t http_clients_count(http_clients_t *cs)
{
    pthread_mutex_lock(&cs->mu);
    size_t n = cs->in_use;
    pthread_mutex_unlock(&cs->mu);
    return n;
}
