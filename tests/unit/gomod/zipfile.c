/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/zipfile.c against the go command's own verdicts.
 *
 * make-test-zips.sh builds real module zips (golang.org/x/mod/zip.CreateFromDir over Debian's
 * x/mod and x/text) and hand-made valid and malicious ones, then golang.org/x/mod judges each
 * as the go command would (zip.CheckZip, dirhash.HashZip) into manifest.txt. Every zip Go
 * accepts must parse with Go's h1; every zip Go refuses must give -EINVAL and the message below.
 * The few layouts Go tolerates and modfs refuses on purpose are listed as such ("strict").
 * The zips are kept beside the fixtures and rebuilt only when the generators change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "expect.h"
#include "fixture.h"
#include "gomod.h"

static char zipdir[PATH_MAX];
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* What modfs says about each hand-made zip. want NULL: accepted with Go's h1. Otherwise a
 * part of the message (names in it quoted by str_quote: bytes beyond ASCII as \xNN, where go
 * prints UTF-8); strict: Go accepts it, modfs refuses on purpose. */
static const struct {
    const char *file, *version;
    const char *want;
    bool strict;
} cases[] = {
    {"ok-basic.zip", "v1.0.0", NULL, false},
    {"ok-store.zip", "v1.0.0", NULL, false},
    {"ok-python.zip", "v1.0.0", NULL, false},
    {"ok-python-zip64.zip", "v1.0.0", NULL, false},
    {"ok-zip64.zip", "v1.0.0", NULL, false},
    {"ok-descriptor.zip", "v1.0.0", NULL, false},
    {"ok-dirs.zip", "v1.0.0", NULL, false},
    {"ok-root-dir-twice.zip", "v1.0.0", NULL, false},
    {"ok-empty-archive.zip", "v1.0.0", NULL, false},
    {"ok-comment.zip", "v1.0.0", NULL, false},
    {"ok-prepended.zip", "v1.0.0", NULL, false},
    {"ok-trailing.zip", "v1.0.0", NULL, false},
    {"ok-crc-zero.zip", "v1.0.0", NULL, false},
    {"ok-empty-file.zip", "v1.0.0", NULL, false},
    {"ok-unicode.zip", "v1.0.0", NULL, false},
    {"ok-fold-distinct.zip", "v1.0.0", NULL, false},
    {"ok-trailing-deflate.zip", "v1.0.0", NULL, false},
    {"ok-vendor.zip", "v1.0.0", NULL, false},
    {"ok-gomod-dir.zip", "v1.0.0", NULL, false},
    {"ok-neighbours.zip", "v1.0.0", NULL, false},
    {"ok-dir-twice.zip", "v1.0.0", NULL, false},
    {"real-xmod.zip", "v0.7.0", NULL, false},
    {"real-xtext.zip", "v0.7.0", NULL, false},

    {"bad-dotdot.zip", "v1.0.0",
     "zip entry \"example.com/m@v1.0.0/../evil.go\": malformed file path \"../evil.go\": invalid path "
     "element",
     false},
    {"bad-dot.zip", "v1.0.0", "\"example.com/m@v1.0.0/./a.go\": file path is not clean", false},
    {"bad-absolute.zip", "v1.0.0", "\"example.com/m@v1.0.0//etc/passwd\": malformed file path", false},
    {"bad-double-slash.zip", "v1.0.0", "file path is not clean", false},
    {"bad-backslash.zip", "v1.0.0", "malformed file path", false},
    {"bad-prefix.zip", "v1.0.0",
     "zip entry \"example.com/other@v1.0.0/a.go\": path does not have prefix \"example.com/m@v1.0.0/\"",
     false},
    {"bad-prefix-version.zip", "v1.0.0", "\"example.com/m@v1.0.1/a.go\": path does not have prefix", false},
    {"bad-no-slash.zip", "v1.0.0", "path does not have prefix", false},
    {"bad-duplicate.zip", "v1.0.0", "multiple entries for file \"a.go\"", false},
    {"bad-case.zip", "v1.0.0", "case-insensitive file name collision: \"A.go\" and \"a.go\"", false},
    {"bad-case-dir.zip", "v1.0.0", "case-insensitive file name collision: \"Sub\" and \"sub\"", false},
    {"bad-case-implied.zip", "v1.0.0",
     "\"example.com/m@v1.0.0/a/y.go\": case-insensitive file name collision: \"A\" and \"a\"", false},
    {"bad-case-deep.zip", "v1.0.0", "case-insensitive file name collision: \"x/A\" and \"x/a\"", false},
    {"bad-case-dir-entry.zip", "v1.0.0", "case-insensitive file name collision: \"Sub\" and \"sub\"", false},
    {"bad-case-file-dir.zip", "v1.0.0", "case-insensitive file name collision: \"X\" and \"x\"", false},
    {"bad-kelvin-dir.zip", "v1.0.0", "case-insensitive file name collision: \"\\xe2\\x84\\xaa\" and \"k\"", false},
    {"bad-kelvin.zip", "v1.0.0", "case-insensitive file name collision: \"\\xe2\\x84\\xaa.go\" and \"k.go\"", false},
    {"bad-long-s.zip", "v1.0.0", "case-insensitive file name collision: \"\\xc5\\xbf.txt\" and \"S.txt\"", false},
    {"bad-sigma.zip", "v1.0.0", "case-insensitive file name collision: \"\\xcf\\x83.txt\" and \"\\xcf\\x82.txt\"",
     false},
    {"bad-file-dir.zip", "v1.0.0", "entry \"x\" is both a file and a directory", false},
    {"bad-file-dir-entry.zip", "v1.0.0", "zip entry \"example.com/m@v1.0.0/x/\": entry \"x\" is both a file",
     false},
    {"bad-newline.zip", "v1.0.0", "\"example.com/m@v1.0.0/a\\x0ab.go\": malformed file path", false},
    {"bad-nul.zip", "v1.0.0", "invalid char", false},
    {"bad-utf8.zip", "v1.0.0", "\"example.com/m@v1.0.0/a\\xff.go\": malformed file path", false},
    {"bad-windows-name.zip", "v1.0.0", "disallowed as path element component on Windows", false},
    {"bad-nested-gomod.zip", "v1.0.0", "\"example.com/m@v1.0.0/sub/go.mod\": go.mod file not in module root",
     false},
    {"bad-gomod-case.zip", "v1.0.0", "go.mod files must have lowercase names", false},
    {"bad-gomod-size.zip", "v1.0.0", "go.mod file too large (max size is 16777216 bytes)", false},
    {"bad-license-size.zip", "v1.0.0", "LICENSE file too large", false},
    {"bad-total-size.zip", "v1.0.0", "total uncompressed size of module contents too large", false},
    {"bad-huge-declared.zip", "v1.0.0", "total uncompressed size of module contents too large", false},
    {"bad-bomb.zip", "v1.0.0", "\"example.com/m@v1.0.0/bomb.txt\": inflates to more than its declared size",
     false},
    {"bad-crc.zip", "v1.0.0", "CRC-32 ", false},
    {"bad-crc-descriptor.zip", "v1.0.0", "CRC-32 7878af23 of the content differs from the declared 00000000",
     false},
    {"bad-descriptor-mismatch.zip", "v1.0.0",
     "data descriptor CRC-32 00000001 differs from the central directory's", false},
    {"bad-size-smaller.zip", "v1.0.0", "inflates to more than its declared size", false},
    {"bad-size-larger.zip", "v1.0.0", "fewer than its declared size", false},
    {"bad-store-size.zip", "v1.0.0", "stored size 37 differs from declared uncompressed size 38", false},
    {"bad-deflate-truncated.zip", "v1.0.0", "compressed data ends before the deflate stream does", false},
    {"bad-deflate-garbage.zip", "v1.0.0", "invalid deflate data", false},
    {"bad-method-bzip2.zip", "v1.0.0", "unsupported compression method 12", false},
    {"bad-local-sig.zip", "v1.0.0", "bad local header signature", false},
    {"bad-offset.zip", "v1.0.0", "local header offset 1048576 out of range", false},
    {"bad-count.zip", "v1.0.0", "central directory holds 3 entries, end record says 5", false},
    {"bad-cd-offset.zip", "v1.0.0", "central directory offset", false},
    {"bad-cd-size.zip", "v1.0.0", "central directory size", false},
    {"bad-zip64-missing.zip", "v1.0.0", "no zip64 extra field", false},
    {"bad-zip64-locator.zip", "v1.0.0", "zip64 end of central directory offset", false},
    {"bad-truncated-half.zip", "v1.0.0", "not a valid zip file", false},
    {"bad-truncated-eocd.zip", "v1.0.0", "not a valid zip file", false},
    {"bad-truncated-data.zip", "v1.0.0", "zip", false},
    {"bad-garbage.zip", "v1.0.0", "not a valid zip file", false},
    {"bad-empty.zip", "v1.0.0", "not a valid zip file (0 bytes", false},
    {"bad-only-eocd-sig.zip", "v1.0.0", "not a valid zip file", false},
    {"ok-basic.zip", "v1.0.1", "path does not have prefix \"example.com/m@v1.0.1/\"", false},
    {"ok-basic.zip", "v1.0", "zip: ", false},

    {"strict-encrypted.zip", "v1.0.0", "encrypted entries are not supported", true},
    {"strict-local-name.zip", "v1.0.0", "local header names \"example.com/m@v1.0.0/b.go\" instead", true},
    {"strict-overlap.zip", "v1.0.0",
     "\"example.com/m@v1.0.0/b.go\": overlaps zip entry \"example.com/m@v1.0.0/a.go\"", true},
    {"strict-dir-content.zip", "v1.0.0", "directory entry has content (7 bytes)", true},
    {"strict-multidisk.zip", "v1.0.0", "multi-disk archives are not supported", true},
};

/* What every successful parse promises: members in offset order, disjoint, inside the data
 * area, each named with the prefix. */
static void check_invariants(const char *file, const uint8_t *buf, size_t len, const zipfile_t *z,
                             const char *prefix)
{
    expect(strncmp(z->h1, "h1:", 3) == 0 && strlen(z->h1) == 47, "%s: h1 %s malformed", file, z->h1);
    expect(z->central_dir_offset <= len, "%s: central_dir_offset %llu beyond %zu", file,
           (unsigned long long)z->central_dir_offset, len);
    uint64_t prev_end = 0, total = 0;
    for (size_t i = 0; i < z->count; i++) {
        const zipfile_member_t *m = &z->members[i];
        expect(strncmp(m->name, prefix, strlen(prefix)) == 0, "%s: member %s lacks prefix", file, m->name);
        expect(m->name[strlen(m->name) - 1] != '/', "%s: directory %s listed as member", file, m->name);
        expect(m->header_offset >= prev_end, "%s: member %s out of order or overlapping", file, m->name);
        expect(le_get(buf + m->header_offset, 4) == 0x04034b50, "%s: no local header for %s", file, m->name);
        expect(m->data_offset > m->header_offset &&
                   m->data_offset + m->compressed_size <= z->central_dir_offset,
               "%s: data of %s outside the member area", file, m->name);
        expect(m->method == ZIP_METHOD_STORE || m->method == ZIP_METHOD_DEFLATE, "%s: method %u", file,
               m->method);
        prev_end = m->data_offset + m->compressed_size;
        total += m->uncompressed_size;
    }
    expect(total == z->total_uncompressed, "%s: total_uncompressed %llu, members sum to %llu", file,
           (unsigned long long)z->total_uncompressed, (unsigned long long)total);
}

static void test_against_go(void **state)
{
    (void)state;
    char *path = NULL;
    assert_true(asprintf(&path, "%s/manifest.txt", zipdir) > 0);
    FILE *mf = fopen(path, "r");
    free(path);
    assert_non_null(mf);
    failures = 0;
    size_t seen = 0;
    char line[4096];
    while (fgets(line, sizeof line, mf) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        char *save = NULL;
        char *file = strtok_r(line, "\t", &save), *module = strtok_r(NULL, "\t", &save);
        char *version = strtok_r(NULL, "\t", &save), *verdict = strtok_r(NULL, "\t", &save);
        char *detail = strtok_r(NULL, "", &save);
        assert_non_null(detail);
        bool go_ok = strcmp(verdict, "ok") == 0;
        size_t k = 0;
        while (k < N(cases) && (strcmp(cases[k].file, file) != 0 || strcmp(cases[k].version, version) != 0))
            k++;
        expect(k < N(cases), "%s %s: no expectation listed for this zip", file, version);
        if (k == N(cases))
            continue;
        seen++;
        expect(go_ok == (cases[k].want == NULL || cases[k].strict), "%s %s: go says %s (%s), table disagrees",
               file, version, verdict, detail);

        size_t len;
        uint8_t *buf = gomod_fixture_read(zipdir, file, &len);
        zipfile_t z;
        cache_err_t err = {0};
        int rc = zipfile_parse(buf, len, module, version, &z, &err);
        if (cases[k].want == NULL) {
            expect(rc == 0, "%s %s: want ok, got %d: %s", file, version, rc, err.msg);
            if (rc == 0) {
                expect(strcmp(z.h1, detail) == 0, "%s %s: h1 %s, go says %s", file, version, z.h1, detail);
                char prefix[512];
                snprintf(prefix, sizeof prefix, "%s@%s/", module, version);
                check_invariants(file, buf, len, &z, prefix);
            }
        } else {
            expect(rc == -EINVAL, "%s %s: want -EINVAL, got %d (%s)", file, version, rc,
                   rc == 0 ? z.h1 : err.msg);
            expect(strstr(err.msg, cases[k].want) != NULL, "%s %s: message \"%s\" lacks \"%s\" (go: %s)",
                   file, version, err.msg, cases[k].want, detail);
            expect(z.members == NULL && z.count == 0 && z.h1[0] == '\0', "%s %s: output not left empty", file,
                   version);
        }
        zipfile_dispose(&z);
        free(buf);
    }
    fclose(mf);
    expect(seen == N(cases), "manifest has %zu of the %zu listed zips", seen, N(cases));
    assert_int_equal(failures, 0);
}

/* The member table of a zip with directory entries: directories are not members but are in h1
 * (the go command hashes them as empty files). */
static void test_members(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = gomod_fixture_read(zipdir, "ok-dirs.zip", &len);
    zipfile_t z;
    cache_err_t err = {0};
    assert_int_equal(zipfile_parse(buf, len, "example.com/m", "v1.0.0", &z, &err), 0);
    assert_int_equal(z.count, 2);
    assert_string_equal(z.members[0].name, "example.com/m@v1.0.0/go.mod");
    assert_string_equal(z.members[1].name, "example.com/m@v1.0.0/sub/b.go");
    assert_int_equal(z.members[1].uncompressed_size, strlen("package sub\n"));
    assert_int_equal(z.members[1].method, ZIP_METHOD_DEFLATE);
    assert_int_equal(z.central_dir_offset, le_get(buf + len - 22 + 16, 4));
    assert_true(z.members[0].header_offset < z.members[1].header_offset);
    zipfile_dispose(&z);
    zipfile_dispose(&z); /* disposing twice is harmless */
    free(buf);

    /* stored data is where data_offset says */
    buf = gomod_fixture_read(zipdir, "ok-store.zip", &len);
    assert_int_equal(zipfile_parse(buf, len, "example.com/m", "v1.0.0", &z, NULL), 0);
    assert_int_equal(z.count, 3);
    assert_string_equal(z.members[0].name, "example.com/m@v1.0.0/go.mod");
    assert_int_equal(z.members[0].method, ZIP_METHOD_STORE);
    const char *gomod = "module example.com/m\n\ngo 1.19\n";
    assert_int_equal(z.members[0].compressed_size, strlen(gomod));
    assert_memory_equal(buf + z.members[0].data_offset, gomod, strlen(gomod));
    assert_int_equal(z.members[0].header_offset, 0);
    zipfile_dispose(&z);
    free(buf);

    /* bytes in front of the zip shift every offset, as archive/zip reads them */
    buf = gomod_fixture_read(zipdir, "ok-prepended.zip", &len);
    assert_int_equal(zipfile_parse(buf, len, "example.com/m", "v1.0.0", &z, NULL), 0);
    assert_int_equal(z.members[0].header_offset, 170);
    assert_int_equal(le_get(buf + z.members[0].header_offset, 4), 0x04034b50);
    zipfile_dispose(&z);
    free(buf);
}

/* Every cut of a valid zip is refused, and no single-byte change makes the parser misbehave
 * (the sanitizer build checks the reads). */
static void test_mutations(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = gomod_fixture_read(zipdir, "ok-descriptor.zip", &len);
    zipfile_t z;
    cache_err_t err = {0};
    failures = 0;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut + 1); /* exact size, so a read past the end is caught */
        memcpy(copy, buf, cut);
        int rc = zipfile_parse(copy, cut, "example.com/m", "v1.0.0", &z, &err);
        expect(rc == -EINVAL, "cut at %zu: got %d", cut, rc);
        zipfile_dispose(&z);
        free(copy);
    }
    size_t accepted = 0;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            uint8_t *copy = malloc(len);
            memcpy(copy, buf, len);
            copy[i] ^= (uint8_t)(1u << bit);
            int rc = zipfile_parse(copy, len, "example.com/m", "v1.0.0", &z, &err);
            expect(rc == 0 || rc == -EINVAL, "flip %zu.%d: got %d", i, bit, rc);
            accepted += rc == 0;
            zipfile_dispose(&z);
            free(copy);
        }
    }
    /* times and attributes may change freely; names, sizes, CRCs and data may not */
    expect(accepted > 0 && accepted < len * 8 / 2, "%zu of %zu flips accepted", accepted, len * 8);
    free(buf);
    assert_int_equal(failures, 0);
}

static void test_arguments(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = gomod_fixture_read(zipdir, "ok-basic.zip", &len);
    zipfile_t z;
    cache_err_t err = {0};
    assert_int_equal(zipfile_parse(buf, len, "example.com/m", "v1.0.0", &z, NULL), 0);
    zipfile_dispose(&z);
    assert_int_equal(zipfile_parse(buf, len, "Example..com/m", "v1.0.0", &z, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "zip: "));
    assert_int_equal(zipfile_parse(buf, len, "example.com/m", "master", &z, &err), -EINVAL);
    assert_int_equal(zipfile_parse(NULL, 0, "example.com/m", "v1.0.0", &z, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "not a valid zip file"));
    free(buf);

    /* over 500 MiB is refused before a byte is read: the mapping is never touched */
    size_t big = ZIPFILE_MAX_SIZE + 1;
    void *map = mmap(NULL, big, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(zipfile_parse(map, big, "example.com/m", "v1.0.0", &z, &err), -EINVAL);
    assert_non_null(
        strstr(err.msg, "module zip file is too large (524288001 bytes; limit is 524288000 bytes)"));
    munmap(map, big);
}

/* A zip of megabytes is checked by several threads (zip_content.c), each a run of the members:
 * the error reported is still the first in order, whichever thread found it, and one found by
 * a thread other than the caller's reaches the caller. */
static void test_parallel_errors(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = gomod_fixture_read(zipdir, "real-xtext.zip", &len);
    zipfile_t z;
    cache_err_t err = {0};
    assert_int_equal(zipfile_parse(buf, len, "golang.org/x/text", "v0.7.0", &z, &err), 0);
    /* the first deflated member of some size, and the last */
    size_t first = z.count, last = z.count;
    for (size_t i = 0; i < z.count; i++) {
        if (z.members[i].method != ZIP_METHOD_DEFLATE || z.members[i].compressed_size < 256)
            continue;
        if (first == z.count)
            first = i;
        last = i;
    }
    assert_true(first < last && last < z.count);
    char first_name[512], last_name[512];
    snprintf(first_name, sizeof first_name, "\"%s\"", z.members[first].name);
    snprintf(last_name, sizeof last_name, "\"%s\"", z.members[last].name);
    uint64_t first_at = z.members[first].data_offset + z.members[first].compressed_size / 2;
    uint64_t last_at = z.members[last].data_offset + z.members[last].compressed_size / 2;
    zipfile_dispose(&z);

    buf[last_at] ^= 0x55;
    memset(&err, 0, sizeof err);
    assert_int_equal(zipfile_parse(buf, len, "golang.org/x/text", "v0.7.0", &z, &err), -EINVAL);
    expect(strstr(err.msg, last_name) != NULL, "the last member broken: \"%s\" lacks %s", err.msg, last_name);
    zipfile_dispose(&z);

    buf[first_at] ^= 0x55;
    memset(&err, 0, sizeof err);
    assert_int_equal(zipfile_parse(buf, len, "golang.org/x/text", "v0.7.0", &z, &err), -EINVAL);
    expect(strstr(err.msg, first_name) != NULL, "both broken: \"%s\" lacks the first, %s", err.msg, first_name);
    zipfile_dispose(&z);
    free(buf);
    assert_int_equal(failures, 0);
}

/* Inflate, CRC-32 and SHA-256 throughput on a real 8 MB module zip (x/text). */
static void test_throughput(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = gomod_fixture_read(zipdir, "real-xtext.zip", &len);
    zipfile_t z;
    cache_err_t err = {0};
    struct timespec t0, t1;
    int rounds = 5;
    uint64_t total = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < rounds; i++) {
        assert_int_equal(zipfile_parse(buf, len, "golang.org/x/text", "v0.7.0", &z, &err), 0);
        total = z.total_uncompressed;
        zipfile_dispose(&z);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("real-xtext.zip: %zu bytes zipped, %llu unzipped, %.1f ms per parse, %.0f MB/s unzipped\n",
                  len, (unsigned long long)total, s / rounds * 1e3, (double)total * rounds / s / 1e6);
    free(buf);
}

/* Builds (or reuses) the zips and Go's verdicts beside the fixtures. */
static int prepare(void)
{
    const char *root = getenv("MODFS_SOURCE_ROOT");
    const char *fixtures = getenv("MODFS_FIXTURES");
    const char *dir = getenv("MODFS_ZIPFILE_TESTDIR");
    if (root == NULL || (dir == NULL && fixtures == NULL)) {
        fprintf(stderr, "MODFS_SOURCE_ROOT and MODFS_FIXTURES must be set (meson test sets them)\n");
        return -1;
    }
    int n;
    if (dir != NULL) {
        n = snprintf(zipdir, sizeof zipdir, "%s", dir);
    } else {
        char *tmp = strdup(fixtures);
        if (tmp == NULL)
            return -1;
        n = snprintf(zipdir, sizeof zipdir, "%s/zipfile-testzips", dirname(tmp));
        free(tmp);
    }
    if (n < 0 || (size_t)n >= sizeof zipdir)
        return -1;
    if (system("command -v go >/dev/null && command -v python3 >/dev/null") != 0)
        return 77;
    char *cmd = NULL;
    if (asprintf(&cmd, "sh '%s/tests/unit/gomod/make-test-zips.sh' '%s'", root, zipdir) < 0)
        return -1;
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

int main(void)
{
    int rc = prepare();
    if (rc == 77) {
        fprintf(stderr, "go or python3 missing: skipping\n");
        return 77;
    }
    if (rc < 0) {
        fprintf(stderr, "could not build the test zips\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_go), cmocka_unit_test(test_members),
        cmocka_unit_test(test_mutations),  cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_parallel_errors), cmocka_unit_test(test_throughput),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
