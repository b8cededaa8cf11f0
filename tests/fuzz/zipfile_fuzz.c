/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for cache/gomod/zipfile.c: any bytes as the zip of example.com/m@v1.0.0. The
 * parser must answer 0 or -EINVAL without reading outside the input, leaking, or producing a
 * member table that breaks its own promises (offset order, data inside the member area).
 * Seeds: tests/fuzz/corpus/zipfile (small valid zips in each layout, and broken ones).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gomod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zipfile_t z;
    cache_err_t err = {0};
    int rc = zipfile_parse(data, size, "example.com/m", "v1.0.0", &z, &err);
    if (rc != 0 && rc != -EINVAL)
        abort();
    if (rc == 0) {
        uint64_t end = 0;
        for (size_t i = 0; i < z.count; i++) {
            const zipfile_member_t *m = &z.members[i];
            if (m->header_offset < end || m->data_offset < m->header_offset ||
                m->data_offset + m->compressed_size > z.central_dir_offset || z.central_dir_offset > size ||
                strncmp(m->name, "example.com/m@v1.0.0/", 21) != 0 || strlen(z.h1) != 47)
                abort();
            end = m->data_offset + m->compressed_size;
        }
    } else if (z.members != NULL || z.count != 0 || err.msg[0] == '\0') {
        abort();
    }
    zipfile_dispose(&z);
    return 0;
}
