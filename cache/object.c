/* SPDX-License-Identifier: MIT */
/*
 * object.c — an object as the fronts hold it (cache.h: cache_object_*, cache_zip_members,
 * cache_member_reader_*): the store's object, passed through unchanged. The fronts see only this
 * API, so a change in how the store keeps bytes never reaches them.
 */
#include "cache_i.h"

void cache_object_stat(const cache_object_t *o, cache_stat_t *st)
{
    const store_object_info_t *in = store_object_info(o);
    memset(st, 0, sizeof *st);
    st->size = in->size;
    st->mtime = in->stored_at;
    memcpy(st->sha256, in->sha256, sizeof st->sha256);
    st->immutable = in->immutable;
    memcpy(st->h1, in->h1, sizeof st->h1);
}

ssize_t cache_object_read(cache_object_t *o, void *buf, size_t len, uint64_t off)
{
    return store_object_read(o, buf, len, off);
}

size_t cache_object_span(const cache_object_t *o, uint64_t off, size_t max)
{
    return store_object_span(o, off, max);
}

slice_t cache_object_bytes(const cache_object_t *o)
{
    return store_object_bytes(o);
}

int cache_object_load(cache_object_t *o, slice_t *out)
{
    return store_object_load(o, out);
}

int cache_object_load_begin(cache_object_t *o, slice_t *out)
{
    return store_object_load_begin(o, out);
}

int cache_object_load_run(cache_object_t *o, slice_t *out)
{
    return store_object_load_run(o, out);
}

void cache_object_load_cancel(cache_object_t *o)
{
    store_object_load_cancel(o);
}

cache_object_t *cache_object_ref(cache_object_t *o)
{
    return store_object_ref(o);
}

void cache_object_unref(cache_object_t *o)
{
    store_object_unref(o);
}

int cache_zip_members(cache_object_t *zip, const cache_member_t **members, size_t *count)
{
    return store_zip_members(zip, members, count);
}

int cache_member_reader_new(cache_object_t *zip, size_t index, cache_member_reader_t **out)
{
    return store_member_reader_new(zip, index, out);
}

ssize_t cache_member_reader_read(cache_member_reader_t *r, void *buf, size_t len, uint64_t off)
{
    return store_member_reader_read(r, buf, len, off);
}

void cache_member_reader_free(cache_member_reader_t *r)
{
    store_member_reader_free(r);
}
