/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for cache/gomod/zip_stream.c: any bytes as the zip of example.com/m@v1.0.0,
 * walked while they "arrive" in pieces, then checked with the walk (zipfile_parse_streamed). The
 * walk must never change a verdict: the answer, its message, h1 and member table must be exactly
 * zipfile_parse's on the same bytes. The first byte sets the size of the pieces, so the fuzzer
 * explores cuts inside headers, deflate streams and descriptors.
 * Seeds: tests/fuzz/corpus/zipstream (the zipfile seeds behind a piece-size byte).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gomod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = (size_t)data[0] * 37 + 1;
    data++, size--;
    zipstream_t *s = NULL;
    if (zipstream_new(&s) != 0)
        return 0;
    for (size_t in = 0; in < size;) {
        in = size - in > piece ? in + piece : size;
        int r;
        while ((r = zipstream_step(s, data, in)) == 1)
            ;
        CHECK(r == 0 || r == -1);
    }
    zipfile_t a, b;
    cache_err_t ea = {0}, eb = {0};
    int ra = zipfile_parse_streamed(data, size, "example.com/m", "v1.0.0", s, &a, &ea);
    int rb = zipfile_parse(data, size, "example.com/m", "v1.0.0", &b, &eb);
    CHECK(ra == rb);
    CHECK(strcmp(ea.msg, eb.msg) == 0);
    CHECK(strcmp(a.h1, b.h1) == 0);
    CHECK(a.count == b.count);
    for (size_t i = 0; i < a.count && i < b.count; i++)
        CHECK(strcmp(a.members[i].name, b.members[i].name) == 0 &&
              a.members[i].data_offset == b.members[i].data_offset &&
              a.members[i].compressed_size == b.members[i].compressed_size);
    zipfile_dispose(&a);
    zipfile_dispose(&b);
    zipstream_free(s);
    return 0;
}
