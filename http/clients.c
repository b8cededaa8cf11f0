/* SPDX-License-Identifier: MIT */
/*
 * clients.c — what the server remembers per client: the miss budget (a token bucket), aborted
 * streams (HTTP/2 rapid reset), and a place for the fetch queue's per-client share.
 *
 * http_client_id_of is the one place that says who a request comes from. A request that carries
 * good credentials (a bearer token, or Basic credentials a worker has verified: auth.c's
 * http_auth_principal, which never runs crypt on the loop) is its user, by a 128-bit hash of the
 * name (kind HTTP_CLIENT_USER): a build farm behind one NAT address gets a budget per user, and a
 * user gets one budget whatever address it comes from. Credentials that are not good, or that
 * the server does not ask for and has not verified, count for nothing, so a client cannot make
 * up names to get fresh budgets. Any other request is its address: IPv4 whole, IPv6 by its /64
 * (one host usually owns a whole /64 and could otherwise take a fresh address per request).
 *
 * Memory is fixed whatever clients do: HTTP_CLIENTS_MAX entries allocated up front, found by the
 * common hash table, in least-recently-seen order. A new client takes a free entry, else the
 * least recently seen entry that carries no state (nothing pinned, a full bucket, no aborts in
 * the current window: forgetting it loses nothing), looking at most HTTP_CLIENTS_EVICT_SCAN
 * entries. When every one of them is busy the newcomer shares one overflow entry with every
 * other such newcomer: a flood of new addresses gets one budget between them, not one each.
 *
 * One mutex guards the table, the buckets, their parameters and the abort counts: it is taken on
 * misses and aborts only, never on a cache hit. A reload changes the parameters under it; each
 * bucket is brought to the new size and rate at its next refill.
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
/* The miss budget of a client. A cold `go mod download` of a large project (a few hundred
 * modules: .info, .mod, .zip each, plus go's probes of import-path prefixes) asks for about a
 * thousand misses, most of them in its first seconds: the burst takes that first wave and the
 * rate the rest within half a minute, so builds never see a 429, while one client alone can make
 * at most 50 upstream requests a second (rapid resets once made 1,100). */
#define HTTP_MISS_RATE_DEFAULT 50
#define HTTP_MISS_BURST_DEFAULT 500

struct http_clients {
    pthread_mutex_t mu;
    htab_t table;           /* entries in use, overflow excepted */
    http_client_t *entries; /* HTTP_CLIENTS_MAX of them */
    agelist_t lru;          /* entries in use, overflow excepted: most recently seen first */
    http_client_t overflow; /* never in the table, never evicted */
    uint64_t rate;          /* misses per second per client; 0: no limit */
    uint64_t burst;         /* at least 1 */
    size_t in_use;          /* entries[0 .. in_use) have been used: the rest are free */
};

/* The peer's address, IPv4 mapped into IPv6; false when there is none (a UNIX socket, a failed
 * getpeername). */
static bool peer_addr(h2o_req_t *req, uint8_t out[16])
{
    memset(out, 0, 16);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len = 0;
    if (req->conn != NULL && req->conn->callbacks->get_peername != NULL)
        len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (len >= sizeof(struct sockaddr_in) && ss.ss_family == AF_INET) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)&ss)->sin_addr, 4);
        return true;
    }
    if (len >= sizeof(struct sockaddr_in6) && ss.ss_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)&ss)->sin6_addr, 16);
        return true;
    }
    return false;
}

void http_peer_addr(h2o_req_t *req, uint8_t out[16])
{
    peer_addr(req, out);
}

void http_client_id_of(h2o_req_t *req, http_client_id_t *id)
{
    memset(id, 0, sizeof *id);
    http_auth_t *a = req->conn != NULL ? http_thread_of(req)->auth : NULL;
    ssize_t i = a != NULL ? h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1) : -1;
    if (i >= 0) {
        const h2o_iovec_t *v = &req->headers.entries[i].value;
        if (http_auth_principal(a, v->base, v->len, id->b + 1)) {
            id->b[0] = HTTP_CLIENT_USER;
            return;
        }
    }
    uint8_t addr[16];
    if (!peer_addr(req, addr)) {
        id->b[0] = HTTP_CLIENT_UNKNOWN; /* one client */
    } else if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr)) {
        id->b[0] = HTTP_CLIENT_IPV4;
        memcpy(id->b + 1, addr + 12, 4);
    } else {
        id->b[0] = HTTP_CLIENT_IPV6_64;
        memcpy(id->b + 1, addr, 8);
    }
}

unsigned http_miss_rate_of(const http_config_t *cfg)
{
    return cfg->miss_rate == 0 ? HTTP_MISS_RATE_DEFAULT : cfg->miss_rate < 0 ? 0 : (unsigned)cfg->miss_rate;
}

unsigned http_miss_burst_of(const http_config_t *cfg)
{
    return cfg->miss_burst > 0 ? (unsigned)cfg->miss_burst : HTTP_MISS_BURST_DEFAULT;
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
    cs->overflow.id.b[0] = HTTP_CLIENT_OVERFLOW;
    cs->overflow.tokens_milli = cs->burst * 1000;
    return cs;
}

void http_clients_set_budget(http_clients_t *cs, unsigned miss_rate, unsigned miss_burst)
{
    pthread_mutex_lock(&cs->mu);
    cs->rate = miss_rate;
    cs->burst = miss_burst > 0 ? miss_burst : 1;
    pthread_mutex_unlock(&cs->mu);
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

/* Brings the bucket up to date. Under cs->mu. */
static void bucket_refill(const http_clients_t *cs, http_client_t *c, uint64_t now_ms)
{
    uint64_t full = cs->burst * 1000;
    /* in milli-tokens: a rate per second is the same number per millisecond */
    if (now_ms > c->refill_ms)
        c->tokens_milli += (now_ms - c->refill_ms) * cs->rate;
    /* never above the burst, also after a reload made it smaller */
    if (c->tokens_milli > full)
        c->tokens_milli = full;
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
        agelist_touch(&cs->lru, &c->age);
    } else {
        if (cs->in_use < HTTP_CLIENTS_MAX) {
            c = &cs->entries[cs->in_use++];
        } else {
            agelist_link_t *l = cs->lru.oldest;
            for (int i = 0; l != NULL && i < HTTP_CLIENTS_EVICT_SCAN &&
                            !entry_idle(cs, AGELIST_ENTRY(l, http_client_t, age), now_ms);
                 i++)
                l = l->newer;
            if (l == NULL || !entry_idle(cs, AGELIST_ENTRY(l, http_client_t, age), now_ms)) {
                c = &cs->overflow;
                c->pins++;
                pthread_mutex_unlock(&cs->mu);
                return c;
            }
            c = AGELIST_ENTRY(l, http_client_t, age);
            htab_remove(&cs->table, &c->link);
            agelist_unlink(&cs->lru, &c->age);
        }
        memset(c, 0, sizeof *c);
        c->id = *id;
        c->tokens_milli = cs->burst * 1000;
        c->refill_ms = now_ms;
        c->abort_window_ms = now_ms - HTTP_ABUSE_WINDOW_MS - 1;
        htab_insert(&cs->table, &c->link, hash);
        agelist_push(&cs->lru, &c->age);
    }
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
    pthread_mutex_lock(&cs->mu);
    bool ok = true;
    if (cs->rate == 0) /* no limit (the rate is read under the lock: a reload may change it) */
        goto out;
    bucket_refill(cs, c, now_ms);
    ok = c->tokens_milli >= 1000;
    if (ok) {
        c->tokens_milli -= 1000;
    } else {
        /* until one whole token is back, in whole seconds (Retry-After has no fractions) */
        uint64_t ms = (1000 - c->tokens_milli + cs->rate - 1) / cs->rate;
        *retry_after_s = (unsigned)((ms + 999) / 1000);
        if (*retry_after_s == 0)
            *retry_after_s = 1;
    }
out:
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
