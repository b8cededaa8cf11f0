/* SPDX-License-Identifier: MIT */
/*
 * sumdb_fuzz.c — libFuzzer target for what cache/sumdb/ reads from a checksum database: signed
 * notes, tree heads, lookup answers, tile paths, tiles (through the tile hash reader) and GOSUMDB
 * values.
 *
 * The first byte picks the parser; the rest is its input. The seeds (corpus/sumdb/) come from a
 * real database made by tools/fixtures/sumdb with a fixed key, whose verifier key is below, so the
 * fuzzer starts from notes that verify and tiles that prove. Promises checked: results are -EPROTO
 * or -EINVAL (never a crash, never another errno), a verified note's text is a prefix of the input
 * ending in a newline, a parsed tile path prints back to the same bytes, and the tile reader hands
 * out no hash unless the tiles hash up to the tree hash given.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sumdb_i.h"
#include "check.h"

#define FUZZ_VKEY "sum.modfs.test+79c341a0+AUSj9Q/gDiu53Wml8CGRnJyxzuohroAcF+6Ig89+EZqj"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sumdb_verifier_t verifier;

static void fuzz_note(const uint8_t *p, size_t n)
{
    slice_t text;
    cache_err_t err = {0};
    int rc = sumdb_note_open(p, n, &verifier, &text, &err);
    CHECK(rc == 0 || rc == -EPROTO);
    if (rc != 0)
        return;
    CHECK(text.base == p && text.len < n && text.len > 0 && p[text.len - 1] == '\n' && p[text.len] == '\n');
    sumdb_tree_t tree;
    rc = sumdb_tree_parse(text.base, text.len, &tree, &err);
    CHECK(rc == 0 || rc == -EPROTO);
    if (rc == 0)
        CHECK(tree.n >= 0 && tree.n <= SUMDB_TREE_MAX);
}

static void fuzz_lookup(const uint8_t *p, size_t n)
{
    int64_t id;
    slice_t text, rest;
    cache_err_t err = {0};
    int rc = sumdb_record_parse(p, n, &id, &text, &rest, &err);
    CHECK(rc == 0 || rc == -EPROTO);
    if (rc != 0)
        return;
    CHECK(id >= 0 && text.base > p && text.base + text.len + 1 == rest.base && rest.base + rest.len == p + n);
    CHECK(text.len > 0 && text.base[text.len - 1] == '\n');
    char h1[SUMDB_HASH_B64_MAX + 1];
    rc = sumdb_record_find_h1(text, "golang.org/x/text", "v0.7.0", "", h1, sizeof h1);
    CHECK(rc == 0 || rc == -ENOENT || rc == -EPROTO);
    if (rc == 0)
        CHECK(strncmp(h1, "h1:", 3) == 0 && memmem(text.base, text.len, h1, strlen(h1)) != NULL);
    fuzz_note(rest.base, rest.len);
}

static void fuzz_tile_path(const uint8_t *p, size_t n)
{
    sumdb_tile_t t;
    int rc = sumdb_tile_parse((const char *)p, n, &t, NULL);
    CHECK(rc == 0 || rc == -EINVAL);
    if (rc != 0)
        return;
    char again[SUMDB_TILE_PATH_MAX + 1];
    int len = sumdb_tile_path(&t, again, sizeof again);
    CHECK(len > 0 && (size_t)len == n && memcmp(again, p, n) == 0);
}

/* The tile reader over tiles cut from the input, in the order asked. */
typedef struct blob {
    const uint8_t *p;
    size_t n;
    int reads;
} blob_t;

static int blob_read(void *ctx, const sumdb_tile_t *tiles, size_t n, buf_t *data, bool *cached, cache_err_t *err)
{
    blob_t *b = ctx;
    for (size_t i = 0; i < n; i++) {
        /* Each tile takes its width's worth of bytes, or what is left (a short tile). */
        size_t want = (size_t)tiles[i].w * SUMDB_HASH_SIZE;
        size_t take = want < b->n ? want : b->n;
        if (buf_append(&data[i], b->p, take) != 0)
            return cache_err_set(err, -ENOMEM, "out of memory");
        b->p += take;
        b->n -= take;
        cached[i] = false;
        b->reads++;
    }
    return 0;
}

static void fuzz_tiles(const uint8_t *p, size_t n)
{
    /* 8 bytes of tree size, 32 of tree hash, 8 of record number, then the tiles. */
    if (n < 48)
        return;
    sumdb_tree_t tree;
    uint64_t size = 0, rec = 0;
    for (int i = 0; i < 8; i++)
        size = size << 8 | p[i], rec = rec << 8 | p[40 + i];
    tree.n = (int64_t)(size % 100000); /* big enough for three levels of tiles */
    memcpy(tree.hash.b, p + 8, 32);
    blob_t b = {p + 48, n - 48, 0};
    sumdb_tile_source_t src = {.height = SUMDB_TILE_HEIGHT, .read = blob_read, .ctx = &b};
    int64_t index = sumdb_stored_index(0, (int64_t)(rec % 100000));
    sumdb_hash_t h;
    cache_err_t err = {0};
    int rc = sumdb_tile_read_hashes(&tree, &src, &index, 1, &h, &err);
    CHECK(rc == 0 || rc == -EPROTO || rc == -EINVAL);
    if (rc == 0)
        CHECK((int64_t)(rec % 100000) < tree.n && b.reads > 0);
}

static void fuzz_spec(const uint8_t *p, size_t n)
{
    char *s = strndup((const char *)p, n);
    CHECK(s != NULL);
    sumdb_spec_t spec;
    cache_err_t err = {0};
    int rc = sumdb_spec_parse(s, &spec, &err);
    CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0 && !spec.off) {
        sumdb_verifier_t v;
        CHECK(sumdb_verifier_parse(spec.vkey, strlen(spec.vkey), &v, NULL) == 0);
        CHECK(strcmp(v.name, spec.name) == 0);
        CHECK(strncmp(spec.url, "http", 4) == 0);
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (verifier.name[0] == '\0')
        CHECK(sumdb_verifier_parse(FUZZ_VKEY, strlen(FUZZ_VKEY), &verifier, NULL) == 0);
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 5) {
    case 0:
        fuzz_note(p, n);
        break;
    case 1:
        fuzz_lookup(p, n);
        break;
    case 2:
        fuzz_tile_path(p, n);
        break;
    case 3:
        fuzz_tiles(p, n);
        break;
    default:
        fuzz_spec(p, n);
        break;
    }
    return 0;
}
