/* SPDX-License-Identifier: MIT */
/*
 * rcu.c — read-mostly pointers without a lock on the read side (common.h: modfs_rcu_*).
 *
 * The access rules are read by every cache hit on every loop and FUSE thread and replaced only
 * by a reload. A mutex (or a reference count) there is a write to one cache line shared by every
 * core at every hit. Here a reader writes only to a slot of its own thread: the epoch it entered
 * in, and zero when it leaves. A writer publishes the new pointer, advances the epoch and waits
 * until no slot still shows an epoch from before; then nobody can hold the old pointer and it may
 * be freed. Readers never wait; writers wait for the read-side sections in progress, which are a
 * few hundred nanoseconds each.
 *
 * Slots are per thread, process-wide (one list for every user of this file), made at a thread's
 * first read and handed back when the thread exits (a pthread key's destructor), so libfuse's
 * workers that come and go reuse them. Each slot has a cache line of its own.
 *
 * Why it is correct: the reader's store of its epoch and its load of the pointer, and the
 * writer's store of the pointer and its loads of the slots, are all sequentially consistent. A
 * writer that saw a slot at zero ordered that load before the reader's store of its epoch, so
 * the reader's later load of the pointer sees the new one; a reader that read the new epoch
 * read it after the writer advanced it, which the writer did after publishing the pointer.
 */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"

struct modfs_rcu_slot {
    _Alignas(64) _Atomic uint64_t active; /* epoch entered in; 0 outside a read-side section */
    _Atomic bool used;                     /* owned by a live thread */
    struct modfs_rcu_slot *next;           /* the list; fixed once linked */
};

static pthread_mutex_t rcu_lock = PTHREAD_MUTEX_INITIALIZER; /* protects rcu_slots' linking */
static modfs_rcu_slot_t *_Atomic rcu_slots;
static _Atomic uint64_t rcu_epoch = 1;
static pthread_once_t rcu_once = PTHREAD_ONCE_INIT;
static pthread_key_t rcu_key;
static _Thread_local modfs_rcu_slot_t *rcu_mine;

static void rcu_thread_exit(void *p)
{
    modfs_rcu_slot_t *s = p;
    atomic_store(&s->active, 0);
    atomic_store(&s->used, false);
}

static void rcu_key_make(void)
{
    if (pthread_key_create(&rcu_key, rcu_thread_exit) != 0)
        abort(); /* at most PTHREAD_KEYS_MAX keys; this is one of very few */
}

/* The calling thread's slot: a free one, or a new one linked in front. */
static modfs_rcu_slot_t *rcu_slot_take(void)
{
    pthread_once(&rcu_once, rcu_key_make);
    pthread_mutex_lock(&rcu_lock);
    modfs_rcu_slot_t *s;
    for (s = atomic_load(&rcu_slots); s != NULL; s = s->next)
        if (!atomic_load(&s->used))
            break;
    if (s == NULL) {
        if (posix_memalign((void **)&s, _Alignof(modfs_rcu_slot_t), sizeof *s) != 0)
            abort(); /* 64 bytes, once per thread: the aborting policy of small fixed things */
        memset(s, 0, sizeof *s);
        s->next = atomic_load(&rcu_slots);
        atomic_store(&rcu_slots, s);
    }
    atomic_store(&s->used, true);
    pthread_mutex_unlock(&rcu_lock);
    pthread_setspecific(rcu_key, s);
    rcu_mine = s;
    return s;
}

modfs_rcu_slot_t *modfs_rcu_read_enter(void)
{
    modfs_rcu_slot_t *s = rcu_mine;
    if (s == NULL)
        s = rcu_slot_take();
    assert(atomic_load_explicit(&s->active, memory_order_relaxed) == 0); /* sections do not nest */
    /* acquire: an epoch read here was advanced after the pointer it protects was published */
    atomic_store(&s->active, atomic_load_explicit(&rcu_epoch, memory_order_acquire));
    return s;
}

void modfs_rcu_read_leave(modfs_rcu_slot_t *s)
{
    atomic_store_explicit(&s->active, 0, memory_order_release);
}

void modfs_rcu_synchronize(void)
{
    uint64_t epoch = atomic_fetch_add(&rcu_epoch, 1) + 1;
    for (modfs_rcu_slot_t *s = atomic_load(&rcu_slots); s != NULL; s = s->next) {
        for (;;) {
            uint64_t a = atomic_load(&s->active);
            if (a == 0 || a >= epoch)
                break;
            struct timespec ts = {0, 50000}; /* a section lasts well under this */
            nanosleep(&ts, NULL);
        }
    }
}
