/* SPDX-License-Identifier: MIT */
/*
 * ratelimit.c — failed logins per client address, and the 429 that stops a guesser.
 *
 * Every failed authentication counts against the client's address (IPv4 as IPv4-mapped IPv6).
 * More than HTTP_RATELIMIT_FAILURES failures within HTTP_RATELIMIT_WINDOW_MS block the address
 * for HTTP_RATELIMIT_BLOCK_MS: each of its requests that needs authentication is answered 429
 * at once, before any header is parsed or any hash computed. The table has a fixed number of
 * slots (an address hashes to a small set of them, and the least recently touched slot of the
 * set makes room), so a flood of addresses costs memory that never grows; at worst an evicted
 * address starts counting again. One mutex guards it: it is taken only on a failure, or on a
 * request while some address is blocked (an atomic count says whether any is), so the path of
 * good clients on a quiet server does not touch it.
 */
#include "http_i.h"

#include <string.h>

#define RL_WAYS 8

void http_ratelimit_init(http_ratelimit_t *rl, uint32_t max_failures, uint64_t window_ms, uint64_t block_ms)
{
    memset(rl, 0, sizeof *rl);
    pthread_mutex_init(&rl->mu, NULL);
    rl->max_failures = max_failures;
    rl->window_ms = window_ms;
    rl->block_ms = block_ms;
}

void http_ratelimit_dispose(http_ratelimit_t *rl)
{
    pthread_mutex_destroy(&rl->mu);
}

/* The slot of addr, or the one to reuse for it (the oldest of its set). Called with mu. */
static http_ratelimit_slot_t *slot_of(http_ratelimit_t *rl, const uint8_t addr[16], bool create, uint64_t now)
{
    size_t set = (size_t)(hash_bytes(addr, 16, 0x6c696d6974ull) % (HTTP_RATELIMIT_SLOTS / RL_WAYS)) * RL_WAYS;
    http_ratelimit_slot_t *oldest = NULL;
    for (size_t i = 0; i < RL_WAYS; i++) {
        http_ratelimit_slot_t *s = &rl->slots[set + i];
        if (s->used && memcmp(s->addr, addr, 16) == 0)
            return s;
        if (oldest == NULL || !s->used || (oldest->used && s->last_ms < oldest->last_ms))
            oldest = s;
    }
    if (!create)
        return NULL;
    if (oldest->used && oldest->blocked_until_ms > now)
        atomic_fetch_sub(&rl->blocked, 1);
    memset(oldest, 0, sizeof *oldest);
    oldest->used = true;
    memcpy(oldest->addr, addr, 16);
    oldest->window_start_ms = now;
    return oldest;
}

uint64_t http_ratelimit_blocked(http_ratelimit_t *rl, const uint8_t addr[16], uint64_t now)
{
    if (atomic_load_explicit(&rl->blocked, memory_order_relaxed) == 0)
        return 0;
    uint64_t left = 0;
    pthread_mutex_lock(&rl->mu);
    http_ratelimit_slot_t *s = slot_of(rl, addr, false, now);
    if (s != NULL && s->blocked_until_ms != 0) {
        if (s->blocked_until_ms > now) {
            left = s->blocked_until_ms - now;
        } else {
            /* the block is over: a fresh start */
            s->blocked_until_ms = 0;
            s->failures = 0;
            s->window_start_ms = now;
            atomic_fetch_sub(&rl->blocked, 1);
        }
    }
    pthread_mutex_unlock(&rl->mu);
    return left;
}

bool http_ratelimit_fail(http_ratelimit_t *rl, const uint8_t addr[16], uint64_t now)
{
    bool blocked = false;
    pthread_mutex_lock(&rl->mu);
    http_ratelimit_slot_t *s = slot_of(rl, addr, true, now);
    s->last_ms = now;
    if (s->blocked_until_ms != 0 && s->blocked_until_ms <= now) {
        s->blocked_until_ms = 0;
        s->failures = 0;
        s->window_start_ms = now;
        atomic_fetch_sub(&rl->blocked, 1);
    }
    if (now - s->window_start_ms > rl->window_ms) {
        s->window_start_ms = now;
        s->failures = 0;
    }
    if (++s->failures > rl->max_failures && s->blocked_until_ms == 0) {
        s->blocked_until_ms = now + rl->block_ms;
        atomic_fetch_add(&rl->blocked, 1);
        blocked = true;
    }
    pthread_mutex_unlock(&rl->mu);
    return blocked;
}
