/* SPDX-License-Identifier: MIT */
/*
 * object.c — an opened object: its layout in memory, reads of byte ranges, the member table of a
 * zip (store.h: store_object_*).
 *
 * Every chunk read from a pack is checked against the xxh3 kept in the layout before a byte of
 * it is used (SHA-256 on every read would cap serving near 2 GB/s per core; xxh3 costs almost
 * nothing). A chunk that fails is dropped from the index with every object that uses it, so the
 * next open misses and the policy layer fetches those objects again: corrupt bytes are never
 * served.
 *
 * An object read whole again and again (a popular zip over HTTP) is loaded into memory once
 * (store_object_load): one pass of the checked read path, then every later read of that handle is
 * a memcpy, or a pointer handed to the sender, with neither a pread nor a checksum. The check
 * still comes before the first use of every byte read from disk, because loaded bytes are never
 * read from disk again: what is served from memory is what was checked. An ingest's early object
 * (store.h: store_put_with) is born loaded: a copy of the body that passed every check, with no
 * layout, under the same budget.
 * The load is split in two
 * (store_object_load_begin, store_object_load_run) so that a caller on an event loop decides
 * there, without blocking, and runs the read of up to 32 MiB on a thread that may wait: begin
 * claims the handle's one load and its share of the budget, run (or cancel) gives both back.
 * Scratch buffers and zstd contexts are per thread (pthread keys), so reads take no lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store_i.h"

typedef struct thread_scratch {
    buf_t stored; /* a chunk as it is in the pack */
    buf_t raw;    /* a decoded chunk, when only part of it is wanted */
    ZSTD_DCtx *dctx;
} thread_scratch_t;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    thread_scratch_t *s = p;
    buf_dispose(&s->stored);
    buf_dispose(&s->raw);
    ZSTD_freeDCtx(s->dctx);
    free(s);
}

static void scratch_key_init(void)
{
    pthread_key_create(&scratch_key, scratch_free);
}

/* This thread's scratch, or NULL on out of memory. */
static thread_scratch_t *scratch_get(void)
{
    pthread_once(&scratch_once, scratch_key_init);
    thread_scratch_t *s = pthread_getspecific(scratch_key);
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL)
            return NULL;
        s->dctx = ZSTD_createDCtx();
        if (s->dctx == NULL || pthread_setspecific(scratch_key, s) != 0) {
            scratch_free(s);
            return NULL;
        }
    }
    return s;
}

static int chunk_corrupt(store_object_t *o, size_t i, const char *what)
{
    const store_chunk_t *ch = &o->chunks[i];
    store_t *s = o->store;
    LOG_E("chunk %lld of %s (pack %08u offset %llu): %s; dropping it", (long long)ch->id, o->key, ch->pack,
          (unsigned long long)ch->offset, what);
    atomic_store(&s->garbage, true);
    store_index_chunk_drop(s->index, ch, s->drop_hook, s->drop_arg);
    return -EIO;
}

/* A read found the chunk's pack gone or short: every object using the lost bytes goes at once. */
static int pack_lost(store_object_t *o, size_t i, int why)
{
    const store_chunk_t *ch = &o->chunks[i];
    if (store_heal_pack(o->store, ch->pack) == -ESTALE) {
        /* compacted away since this handle was opened: whoever keeps it in memory reopens it */
        if (o->store->drop_hook != NULL)
            o->store->drop_hook(o->store->drop_arg, o->key);
        return -EIO;
    }
    LOG_E("chunk %lld of %s: pack %08u %s", (long long)ch->id, o->key, ch->pack,
          why == -ENOENT ? "is gone" : "ends before it");
    return -EIO;
}

/* The chunk's stored bytes into dst; any failure is dealt with (healed) and is -EIO. */
static int chunk_read_stored(store_object_t *o, size_t i, uint8_t *dst)
{
    const store_chunk_t *ch = &o->chunks[i];
    int rc = store_pack_read(o->store->packs, ch->pack, ch->offset, dst, ch->stored_size);
    bool sound = rc == 0 && chunk_checksum(dst, ch->stored_size) == ch->xxh3;
    if (!sound && store_pack_reopened(o->store->packs, ch->pack)) {
        /* the fd was of a pack another process has since deleted: read the one named so now */
        rc = store_pack_read(o->store->packs, ch->pack, ch->offset, dst, ch->stored_size);
        sound = rc == 0 && chunk_checksum(dst, ch->stored_size) == ch->xxh3;
    }
    if (sound)
        return 0;
    if (rc == -ENOENT || rc == -ESPIPE)
        return pack_lost(o, i, rc);
    return chunk_corrupt(o, i, rc != 0 ? "read error" : "checksum mismatch");
}

static int chunk_read(store_object_t *o, size_t i, uint8_t *dst)
{
    const store_chunk_t *ch = &o->chunks[i];
    if (ch->codec == CHUNK_CODEC_RAW) {
        if (ch->stored_size != ch->raw_size)
            return chunk_corrupt(o, i, "raw chunk with two sizes");
        return chunk_read_stored(o, i, dst);
    }
    thread_scratch_t *s = scratch_get();
    if (s == NULL || buf_reserve(&s->stored, ch->stored_size) != 0)
        return -ENOMEM;
    int rc = chunk_read_stored(o, i, s->stored.base);
    if (rc != 0)
        return rc;
    size_t n = ZSTD_decompressDCtx(s->dctx, dst, ch->raw_size, s->stored.base, ch->stored_size);
    if (ZSTD_isError(n) || n != ch->raw_size)
        return chunk_corrupt(o, i, "zstd frame does not decode to its size");
    return 0;
}

/* Index of the chunk holding byte off (off < size). */
static size_t chunk_at(const store_object_t *o, uint64_t off)
{
    size_t lo = 0, hi = o->nchunks;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->chunk_start[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The last chunk of the run starting at chunk i whose chunks are raw, contiguous in one pack and
 * fit whole in room bytes. */
static size_t coalesce_run(const store_object_t *o, size_t i, size_t room)
{
    const store_chunk_t *first = &o->chunks[i];
    size_t last = i;
    while (last + 1 < o->nchunks) {
        const store_chunk_t *prev = &o->chunks[last], *next = &o->chunks[last + 1];
        if (next->codec != CHUNK_CODEC_RAW || next->pack != first->pack ||
            next->offset != prev->offset + prev->stored_size ||
            o->chunk_start[last + 2] - o->chunk_start[i] > room)
            break;
        last++;
    }
    return last;
}

ssize_t store_object_read(store_object_t *o, void *buf, size_t len, uint64_t off)
{
    if (off >= o->info.size || len == 0)
        return 0;
    if (len > o->info.size - off)
        len = (size_t)(o->info.size - off);
    if (len > SSIZE_MAX)
        len = SSIZE_MAX;
    const uint8_t *mem = o->bytes != NULL ? o->bytes : atomic_load_explicit(&o->loaded, memory_order_acquire);
    if (mem != NULL) {
        memcpy(buf, mem + off, len);
        return (ssize_t)len;
    }
    uint8_t *out = buf;
    size_t done = 0;
    for (size_t i = chunk_at(o, off); done < len; i++) {
        const store_chunk_t *ch = &o->chunks[i];
        uint64_t in_chunk = off + done - o->chunk_start[i];
        size_t n = ch->raw_size - (size_t)in_chunk;
        if (n > len - done)
            n = len - done;
        int rc;
        if (in_chunk == 0 && n == ch->raw_size && ch->codec == CHUNK_CODEC_RAW) {
            /* Whole raw chunks that lie back to back in one pack (as one ingest wrote them): one
             * pread straight into the caller's buffer, then each chunk's checksum. */
            size_t last = coalesce_run(o, i, len - done);
            uint64_t span = o->chunk_start[last + 1] - o->chunk_start[i];
            bool bulk_ok = store_pack_read(o->store->packs, ch->pack, ch->offset, out + done, (size_t)span) == 0;
            for (size_t j = i; j <= last; j++) {
                uint8_t *p = out + done + (o->chunk_start[j] - o->chunk_start[i]);
                if (bulk_ok && chunk_checksum(p, o->chunks[j].stored_size) == o->chunks[j].xxh3)
                    continue;
                /* the one-chunk path reads it again, and names and drops it if it is bad */
                if ((rc = chunk_read(o, j, p)) != 0)
                    return rc;
            }
            rc = 0;
            n = (size_t)span;
            i = last;
        } else if (in_chunk == 0 && n == ch->raw_size) {
            rc = chunk_read(o, i, out + done); /* whole chunk: straight into the caller's buffer */
        } else {
            thread_scratch_t *s = scratch_get();
            if (s == NULL || buf_reserve(&s->raw, ch->raw_size) != 0)
                return -ENOMEM;
            rc = chunk_read(o, i, s->raw.base);
            if (rc == 0)
                memcpy(out + done, s->raw.base + in_chunk, n);
        }
        if (rc != 0)
            return rc;
        done += n;
    }
    return (ssize_t)done;
}

size_t store_object_span(const store_object_t *o, uint64_t off, size_t max)
{
    if (off >= o->info.size)
        return 0;
    uint64_t left = o->info.size - off;
    if (o->bytes != NULL || atomic_load_explicit(&o->loaded, memory_order_relaxed) != NULL || left <= max)
        return left < max ? (size_t)left : max;
    size_t i = chunk_at(o, off);
    uint64_t end = o->chunk_start[i + 1];
    if (end - off > max)
        return max;
    while (i + 1 < o->nchunks && o->chunk_start[i + 2] - off <= max)
        end = o->chunk_start[++i + 1];
    return (size_t)(end - off);
}

/* Pins (+1) or unpins (-1) the packs an object points into, once per run of chunks in one pack:
 * a pack with pins is not deleted by compaction. */
static void pins_change(store_object_t *o, int delta)
{
    if (o->store->pins == NULL)
        return;
    uint32_t last = 0;
    for (size_t i = 0; i < o->nchunks; i++) {
        uint32_t p = o->chunks[i].pack;
        if (p == last || p == 0 || p >= PACK_MAX_COUNT)
            continue;
        last = p;
        if (delta > 0)
            atomic_fetch_add(&o->store->pins[p], 1);
        else
            atomic_fetch_sub(&o->store->pins[p], 1);
    }
}

/* The parts of an object every builder makes: one reference, its key, its facts, no layout yet. */
static store_object_t *object_new(store_t *s, const char *key, const store_object_info_t *info)
{
    store_object_t *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    atomic_init(&o->refs, 1);
    o->store = s;
    o->info = *info;
    pthread_mutex_init(&o->members_lock, NULL);
    o->key = strdup(key);
    if (o->key == NULL) {
        store_object_unref(o);
        return NULL;
    }
    return o;
}

int store_object_build_early(store_t *s, const char *key, const store_object_info_t *info, const uint8_t *body,
                             const uint8_t *members, size_t members_len, store_object_t **out)
{
    uint64_t size = info->size;
    if (size > STORE_EARLY_MAX || size > SIZE_MAX)
        return -EFBIG;
    store_object_t *o = object_new(s, key, info);
    /* no chunk yet: a layout of none, never walked (every read is answered from memory) */
    if (o == NULL || (o->chunk_start = calloc(1, sizeof *o->chunk_start)) == NULL) {
        store_object_unref(o);
        return -ENOMEM;
    }
    /* A small object keeps its bytes as every small object does (o->bytes, outside the budget);
     * a larger one as a loaded object (o->loaded), charged to the store's loaded bytes and given
     * back by its last unref, so early answers and loads together stay within one budget. */
    bool small = size <= STORE_INLINE_MAX;
    if (!small && atomic_fetch_add(&s->loaded_bytes, size) + size > STORE_LOAD_BUDGET) {
        atomic_fetch_sub(&s->loaded_bytes, size);
        store_object_unref(o);
        return -ENOSPC;
    }
    uint8_t *copy = malloc(size ? (size_t)size : 1);
    if (copy == NULL) {
        if (!small)
            atomic_fetch_sub(&s->loaded_bytes, size);
        store_object_unref(o);
        return -ENOMEM;
    }
    if (size > 0) /* checked before store_put; the caller's body goes away after */
        memcpy(copy, body, (size_t)size);
    if (small)
        o->bytes = copy;
    else
        atomic_store_explicit(&o->loaded, copy, memory_order_release); /* charged: unref gives it back */
    store_open_note(s, o->key, +1);
    o->noted = true;
    if (members != NULL) {
        int rc = store_members_decode(o, members, members_len);
        if (rc != 0) {
            store_object_unref(o);
            return rc;
        }
        o->members_loaded = true;
    }
    *out = o;
    return 0;
}

int store_object_build(store_t *s, const char *key, store_row_t *row, const uint8_t *bytes, store_object_t **out)
{
    store_object_t *o = object_new(s, key, &row->info);
    if (o == NULL)
        return -ENOMEM;
    o->chunks = row->chunks;
    o->nchunks = row->nchunks;
    row->chunks = NULL;
    row->nchunks = 0;
    o->chunk_start = malloc((o->nchunks + 1) * sizeof *o->chunk_start);
    if (o->chunk_start == NULL) {
        store_object_unref(o);
        return -ENOMEM;
    }
    pins_change(o, +1);
    store_open_note(s, o->key, +1);
    o->noted = true;
    uint64_t pos = 0;
    for (size_t i = 0; i < o->nchunks; i++) {
        o->chunk_start[i] = pos;
        pos += o->chunks[i].raw_size;
    }
    o->chunk_start[o->nchunks] = pos;
    if (pos != o->info.size) {
        LOG_E("%s: layout adds up to %llu bytes, object has %llu", key, (unsigned long long)pos,
              (unsigned long long)o->info.size);
        store_object_unref(o);
        return -EIO;
    }
    if (o->info.size <= STORE_INLINE_MAX) {
        uint8_t *b = malloc(o->info.size ? o->info.size : 1);
        if (b != NULL && bytes != NULL) {
            memcpy(b, bytes, o->info.size); /* a fresh ingest: the bytes were checked as they went in */
        } else {
            ssize_t n = b ? store_object_read(o, b, o->info.size, 0) : -ENOMEM;
            if (n < 0 || (uint64_t)n != o->info.size) {
                free(b);
                store_object_unref(o);
                return n < 0 ? (int)n : -EIO;
            }
        }
        o->bytes = b;
    }
    *out = o;
    return 0;
}

const store_object_info_t *store_object_info(const store_object_t *o)
{
    return &o->info;
}

const char *store_object_key(const store_object_t *o)
{
    return o->key;
}

slice_t store_object_bytes(const store_object_t *o)
{
    return (slice_t){o->bytes, o->bytes ? (size_t)o->info.size : 0};
}

int store_object_load_begin(store_object_t *o, slice_t *out)
{
    uint64_t size = o->info.size;
    if (o->bytes != NULL) {
        *out = (slice_t){o->bytes, (size_t)size};
        return 0;
    }
    uint8_t *mem = atomic_load_explicit(&o->loaded, memory_order_acquire);
    if (mem != NULL) {
        *out = (slice_t){mem, (size_t)size};
        return 0;
    }
    /* A handle read whole once may never be read again (a miss answered, a one-off download):
     * only the second whole read pays for a copy in memory. */
    if (atomic_fetch_add_explicit(&o->load_asks, 1, memory_order_relaxed) == 0)
        return -EAGAIN;
    if (size > STORE_LOAD_OBJECT_MAX || size > SIZE_MAX)
        return -EFBIG;
    /* one load of a handle at a time: whoever asks meanwhile reads the usual way */
    bool idle = false;
    if (!atomic_compare_exchange_strong(&o->loading, &idle, true))
        return -EBUSY;
    /* the budget is taken with the claim, so that loads under way never add up past it */
    store_t *s = o->store;
    if (atomic_fetch_add(&s->loaded_bytes, size) + size > STORE_LOAD_BUDGET) {
        atomic_fetch_sub(&s->loaded_bytes, size);
        atomic_store(&o->loading, false);
        return -ENOSPC;
    }
    return -EINPROGRESS;
}

void store_object_load_cancel(store_object_t *o)
{
    atomic_fetch_sub(&o->store->loaded_bytes, o->info.size);
    atomic_store(&o->loading, false);
}

int store_object_load_run(store_object_t *o, slice_t *out)
{
    uint64_t size = o->info.size;
    STORE_FAULT("object-load");
    uint8_t *fresh = malloc(size ? (size_t)size : 1);
    /* the checked read: every chunk from disk passes its xxh3 before it lands here */
    ssize_t n = fresh != NULL ? store_object_read(o, fresh, (size_t)size, 0) : -ENOMEM;
    if (n < 0 || (uint64_t)n != size) {
        free(fresh);
        store_object_load_cancel(o);
        return n < 0 ? (int)n : -EIO;
    }
    /* the claim makes this the only writer: published once, for readers on any thread */
    atomic_store_explicit(&o->loaded, fresh, memory_order_release);
    atomic_store(&o->loading, false);
    *out = (slice_t){fresh, (size_t)size};
    return 0;
}

int store_object_load(store_object_t *o, slice_t *out)
{
    int rc = store_object_load_begin(o, out);
    return rc == -EINPROGRESS ? store_object_load_run(o, out) : rc;
}

store_object_t *store_object_ref(store_object_t *o)
{
    atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
    return o;
}

void store_object_unref(store_object_t *o)
{
    if (o == NULL || atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (o->noted) {
        pins_change(o, -1);
        store_open_note(o->store, o->key, -1);
    }
    free(o->key);
    free(o->chunks);
    free(o->chunk_start);
    free(o->bytes);
    uint8_t *loaded = atomic_load_explicit(&o->loaded, memory_order_acquire);
    if (loaded != NULL) {
        free(loaded);
        atomic_fetch_sub(&o->store->loaded_bytes, o->info.size);
    }
    free(o->members);
    free(o->member_locs);
    free(o->member_names);
    pthread_mutex_destroy(&o->members_lock);
    free(o);
}

int store_zip_members(store_object_t *zip, const zipfile_entry_t **members, size_t *count)
{
    if (zip->info.kind != MODKEY_ZIP)
        return -EINVAL;
    int rc = 0;
    pthread_mutex_lock(&zip->members_lock);
    if (!zip->members_loaded) {
        buf_t blob = BUF_INIT;
        rc = store_index_members_get(zip->store->index, zip->key, &blob);
        if (rc == 0)
            rc = store_members_decode(zip, blob.base, blob.len);
        buf_dispose(&blob);
        zip->members_loaded = rc == 0;
    }
    pthread_mutex_unlock(&zip->members_lock);
    if (rc != 0)
        return rc == -ENOENT ? -EIO : rc;
    *members = zip->members;
    *count = zip->nmembers;
    return 0;
}
