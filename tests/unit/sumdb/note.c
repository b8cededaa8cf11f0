/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/sumdb/note.c and record.c on notes signed by golang.org/x/mod/sumdb/note: the
 * tree heads of databases dumped by tools/fixtures/sumdb (one honest, one signing with the wrong
 * key, one with another key altogether), then every way of spoiling one: each rule of note.Open
 * refuses its own spoiled note, no cut and no flipped byte ever verifies a different text.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sumdb_i.h"
#include "testdb.h"
#include "../expect.h"

static char tmp[256];
static buf_t good_note = BUF_INIT, wrongkey_note = BUF_INIT, other_note = BUF_INIT, lookup = BUF_INIT;
static sumdb_verifier_t verifier, other_verifier;

static int load(const char *sub, const char *file, buf_t *out)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s/%s", tmp, sub, file);
    return testdb_read_file(path, out);
}

static int load_verifier(const char *sub, sumdb_verifier_t *v)
{
    buf_t b = BUF_INIT;
    int rc = load(sub, "vkey", &b);
    if (rc == 0) {
        while (b.len > 0 && b.base[b.len - 1] == '\n')
            b.len--;
        rc = sumdb_verifier_parse((const char *)b.base, b.len, v, NULL);
    }
    buf_dispose(&b);
    return rc;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/modfs-sumdb-note-XXXXXX");
    if (mkdtemp(tmp) == NULL)
        return -1;
    char dir[400], key[400];
    snprintf(key, sizeof key, "%s/key", tmp);
    const char *const args[] = {"-key-file", key, NULL};
    const char *const wrong[] = {"-key-file", key, "-mode", "wrongkey", NULL};
    snprintf(dir, sizeof dir, "%s/good", tmp);
    if (testdb_dump(dir, args) != 0)
        return -1;
    snprintf(dir, sizeof dir, "%s/wrongkey", tmp);
    if (testdb_dump(dir, wrong) != 0)
        return -1;
    snprintf(dir, sizeof dir, "%s/other", tmp);
    if (testdb_dump(dir, NULL) != 0)
        return -1;
    if (load("good", "latest", &good_note) || load("wrongkey", "latest", &wrongkey_note) ||
        load("other", "latest", &other_note) || load("good", "lookup/golang.org/x/text@v0.7.0", &lookup))
        return -1;
    return load_verifier("good", &verifier) || load_verifier("other", &other_verifier) ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    testdb_rmtree(tmp);
    buf_dispose(&good_note);
    buf_dispose(&wrongkey_note);
    buf_dispose(&other_note);
    buf_dispose(&lookup);
    return 0;
}

static int open_note(const buf_t *b, const sumdb_verifier_t *v, slice_t *text, cache_err_t *err)
{
    return sumdb_note_open(b->base, b->len, v, text, err);
}

static void test_signed_by_go(void **state)
{
    (void)state;
    slice_t text;
    cache_err_t err = {0};
    assert_int_equal(open_note(&good_note, &verifier, &text, &err), 0);
    sumdb_tree_t tree;
    assert_int_equal(sumdb_tree_parse(text.base, text.len, &tree, &err), 0);
    assert_true(tree.n > 0);
    /* The text is everything up to the blank line. */
    assert_int_equal(text.len + 1, (size_t)((const uint8_t *)memmem(good_note.base, good_note.len, "\n\n", 2) -
                                            good_note.base) + 1 + 1);

    assert_int_equal(open_note(&wrongkey_note, &verifier, &text, &err), -EPROTO);
    assert_non_null(strstr(err.msg, "invalid signature"));
    assert_int_equal(open_note(&other_note, &verifier, &text, &err), -EPROTO);
    assert_non_null(strstr(err.msg, "no verifiable signatures"));
    assert_int_equal(open_note(&good_note, &other_verifier, &text, &err), -EPROTO);
    assert_non_null(strstr(err.msg, "no verifiable signatures"));
}

/* Builds a note from the good one: prefix, then the good note with text edits, then suffix. */
static void variant(buf_t *out, const char *before_sigs, const char *after_sigs, const char *text_from,
                    const char *text_to)
{
    buf_reset(out);
    const uint8_t *split = memmem(good_note.base, good_note.len, "\n\n", 2);
    size_t tl = (size_t)(split - good_note.base) + 1;
    buf_t text = BUF_INIT;
    assert_int_equal(buf_append(&text, good_note.base, tl), 0);
    if (text_from) {
        char *p = strstr((char *)text.base, text_from);
        assert_non_null(p);
        buf_t t2 = BUF_INIT;
        assert_int_equal(buf_append(&t2, text.base, (size_t)((uint8_t *)p - text.base)), 0);
        assert_int_equal(buf_append(&t2, text_to, strlen(text_to)), 0);
        assert_int_equal(buf_append(&t2, p + strlen(text_from), text.len - (size_t)((uint8_t *)p - text.base) -
                                                                  strlen(text_from)), 0);
        buf_dispose(&text);
        text = t2;
    }
    assert_int_equal(buf_append(out, text.base, text.len), 0);
    assert_int_equal(buf_append(out, "\n", 1), 0);
    assert_int_equal(buf_append(out, before_sigs, strlen(before_sigs)), 0);
    assert_int_equal(buf_append(out, split + 2, good_note.len - tl - 1), 0);
    assert_int_equal(buf_append(out, after_sigs, strlen(after_sigs)), 0);
    buf_dispose(&text);
}

static void test_note_rules(void **state)
{
    (void)state;
    const uint8_t *split = memmem(good_note.base, good_note.len, "\n\n", 2);
    char oursig[200];
    snprintf(oursig, sizeof oursig, "%.*s", (int)(good_note.len - (size_t)(split + 2 - good_note.base)),
             (const char *)split + 2);
    char ourname_bad[400];
    /* Our name and key hash, a signature of the right length that is not valid. */
    uint8_t raw[68] = {(uint8_t)(verifier.hash >> 24), (uint8_t)(verifier.hash >> 16), (uint8_t)(verifier.hash >> 8),
                       (uint8_t)verifier.hash};
    char b64[100];
    sumdb_b64_encode(raw, sizeof raw, b64);
    snprintf(ourname_bad, sizeof ourname_bad, "— %s %s\n", verifier.name, b64);
    char ourname_short[400];
    sumdb_b64_encode(raw, 5, b64);
    snprintf(ourname_short, sizeof ourname_short, "— %s %s\n", verifier.name, b64);
    char many[200 * 40] = "";
    for (int i = 0; i < 101; i++)
        strcat(many, "— other.example AAAAAAAA\n");

    buf_t b = BUF_INIT;
    const struct {
        const char *before, *after, *from, *to;
        const char *words; /* NULL: verifies */
    } rows[] = {
        {"", "", NULL, NULL, NULL},
        {"— other.example AAAAAAAAAAAA\n", "", NULL, NULL, NULL},  /* unknown keys are skipped */
        {"", oursig, NULL, NULL, NULL},                          /* a repeated signature is ignored */
        {"", ourname_bad, NULL, NULL, NULL},                     /* ...even a bad one after the good */
        {ourname_bad, "", NULL, NULL, "invalid signature"},      /* but not before it */
        {ourname_short, "", NULL, NULL, "invalid signature"},
        {"", "", "tree\n", "tree \n", "invalid signature"},        /* the signed text changed */
        {"", "", "tree\n", "tree\t\n", "control character"},
        {"", "", "tree\n", "tree\xff\n", "invalid UTF-8"},
        {"", "", "tree\n", "tree\xc0\xae\n", "invalid UTF-8"},  /* overlong */
        {"", "", "tree\n", "tree\xed\xa0\x80\n", "invalid UTF-8"}, /* surrogate */
        {"- other.example AAAAAAAA\n", "", NULL, NULL, "must start with"},
        {"— other.example\n", "", NULL, NULL, "bad signature line"},
        {"— other.example AAAA\n", "", NULL, NULL, "bad signature line"}, /* under 5 bytes */
        {"— other.example AAAAAA*A\n", "", NULL, NULL, "bad signature line"},
        {"— other+example AAAAAAAA\n", "", NULL, NULL, "bad signature line"},
        {"— other\u00a0example AAAAAAAA\n", "", NULL, NULL, "bad signature line"},
        {"— other.example AAAAAAAA \n", "", NULL, NULL, "bad signature line"},
        {"\n", "", NULL, NULL, "invalid signature"}, /* the text now ends in a blank line */
        {many, "", NULL, NULL, "more than 100"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        variant(&b, rows[i].before, rows[i].after, rows[i].from, rows[i].to);
        slice_t text;
        cache_err_t err = {0};
        int rc = sumdb_note_open(b.base, b.len, &verifier, &text, &err);
        if (rows[i].words == NULL)
            expect(rc == 0, "row %zu: want verified, got %d %s", i, rc, err.msg);
        else
            expect(rc == -EPROTO && strstr(err.msg, rows[i].words) != NULL, "row %zu: want \"%s\", got %d \"%s\"",
                   i, rows[i].words, rc, err.msg);
    }
    /* The shapes of the whole. */
    static const char *const whole[] = {"", "\n", "\n\n", "go.sum database tree\n", "a\n\n— x AAAAAAAA"};
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        slice_t text;
        expect(sumdb_note_open((const uint8_t *)whole[i], strlen(whole[i]), &verifier, &text, NULL) == -EPROTO,
               "\"%s\" verified", whole[i]);
    }
    buf_dispose(&b);
    assert_int_equal(failures, 0);
}

/* No prefix of a signed note verifies; no single flipped bit verifies a different text. */
static void test_cuts_and_flips(void **state)
{
    (void)state;
    slice_t good_text;
    assert_int_equal(sumdb_note_open(good_note.base, good_note.len, &verifier, &good_text, NULL), 0);
    buf_t b = BUF_INIT;
    for (size_t len = 0; len < good_note.len; len++) {
        slice_t text;
        expect(sumdb_note_open(good_note.base, len, &verifier, &text, NULL) == -EPROTO, "prefix %zu verified", len);
    }
    for (size_t i = 0; i < good_note.len; i++)
        for (int bit = 0; bit < 8; bit++) {
            buf_reset(&b);
            assert_int_equal(buf_append(&b, good_note.base, good_note.len), 0);
            b.base[i] ^= (uint8_t)(1 << bit);
            slice_t text;
            if (sumdb_note_open(b.base, b.len, &verifier, &text, NULL) == 0)
                expect(text.len == good_text.len && memcmp(text.base, good_text.base, text.len) == 0,
                       "flipping bit %d of byte %zu verified another text", bit, i);
        }
    buf_dispose(&b);
    assert_int_equal(failures, 0);
}

static void test_tree_text(void **state)
{
    (void)state;
    const struct {
        const char *text;
        int64_t n; /* -1: refused */
    } rows[] = {
        {"go.sum database tree\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 5},
        {"go.sum database tree\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nmore\nlines\n", 0},
        {"go.sum database tree\n4611686018427387904\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 4611686018427387904},
        {"go.sum database tree\n4611686018427387905\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", -1},
        {"go.sum database tree\n99999999999999999999\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", -1},
        {"go.sum database tree\n05\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", -1},
        {"go.sum database tree\n-5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", -1},
        {"go.sum database tree\n+5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", -1},
        {"go.sum database tree\n\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", -1},
        {"go.sum database tree\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", -1}, /* 31 bytes */
        {"go.sum database tree\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", -1},
        {"go.sum database tree\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", -1},
        {"go.sum database tree\n5\n", -1},
        {"go.sum database tre\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", -1},
        {"", -1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sumdb_tree_t t;
        int rc = sumdb_tree_parse((const uint8_t *)rows[i].text, strlen(rows[i].text), &t, NULL);
        if (rows[i].n >= 0)
            expect(rc == 0 && t.n == rows[i].n, "row %zu: got %d n=%lld", i, rc, (long long)t.n);
        else
            expect(rc == -EPROTO, "row %zu: want refused, got %d", i, rc);
    }
    assert_int_equal(failures, 0);
}

static void test_lookup_answer(void **state)
{
    (void)state;
    int64_t id;
    slice_t text, rest;
    cache_err_t err = {0};
    assert_int_equal(sumdb_record_parse(lookup.base, lookup.len, &id, &text, &rest, &err), 0);
    assert_int_equal(id, 0); /* the first fixture */
    slice_t note_text;
    assert_int_equal(sumdb_note_open(rest.base, rest.len, &verifier, &note_text, &err), 0);
    char h1[80];
    assert_int_equal(sumdb_record_find_h1(text, "golang.org/x/text", "v0.7.0", "", h1, sizeof h1), 0);
    assert_int_equal(strncmp(h1, "h1:", 3), 0);
    assert_int_equal(sumdb_record_find_h1(text, "golang.org/x/text", "v0.7.0", "/go.mod", h1, sizeof h1), 0);
    assert_int_equal(sumdb_record_find_h1(text, "golang.org/x/text", "v0.7", "", h1, sizeof h1), -ENOENT);
    assert_int_equal(sumdb_record_find_h1(text, "golang.org/x/tex", "v0.7.0", "", h1, sizeof h1), -ENOENT);

    static const char *const bad[] = {
        "", "0", "0\n", "x\nm v h1:a\n\n", "-1\nm v h1:a\n\n", "+1\nm v h1:a\n\n",
        "99999999999999999999\nm v h1:a\n\n", "0\nm v h1:a\n", "0\nm v\th1:a\n\n", "0\nm v h1:\xff\n\n",
        "0\nm v h1:a\n\n\n\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sumdb_record_parse((const uint8_t *)bad[i], strlen(bad[i]), &id, &text, &rest, &err);
        if (i == sizeof bad / sizeof bad[0] - 1)
            expect(rc == 0 && rest.len == 2, "trailing blank lines belong to the note: %d", rc);
        else
            expect(rc == -EPROTO, "bad record %zu accepted", i);
    }
    assert_int_equal(sumdb_record_parse((const uint8_t *)"007\nm v h1:a\n\nrest", 17, &id, &text, &rest, &err), 0);
    assert_int_equal(id, 7);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signed_by_go),
        cmocka_unit_test(test_note_rules),
        cmocka_unit_test(test_cuts_and_flips),
        cmocka_unit_test(test_tree_text),
        cmocka_unit_test(test_lookup_answer),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
