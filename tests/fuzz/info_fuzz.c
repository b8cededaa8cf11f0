/* SPDX-License-Identifier: MIT */
/*
 * info_fuzz.c — libFuzzer target for the small GOPROXY bodies (cache/gomod/validate.c).
 *
 * The first byte picks the module the .info must fit; the rest is the body. An accepted body
 * must come out in go's json.Marshal form: it validates again to the very same bytes, holds a
 * Version valid for the module, and ends without a newline. gomod_validate_mod and gomod_validate_list
 * must agree with their one rule: no NUL, within the size limit.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomod.h"
#include "check.h"


static const char *const modules[] = {
    "example.com/m",     "example.com/m/v2",           "gopkg.in/yaml.v2",
    "gopkg.in/check.v1", "github.com/BurntSushi/toml",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *module = modules[data[0] % (sizeof modules / sizeof modules[0])];
    const uint8_t *body = data + 1;
    size_t len = size - 1;

    buf_t out = BUF_INIT, again = BUF_INIT;
    cache_err_t err = {0};
    int rc = gomod_validate_info(body, len, module, NULL, &out, &err);
    CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0) {
        static const char head[] = "{\"Version\":\"";
        CHECK(out.len > sizeof head && memcmp(out.base, head, sizeof head - 1) == 0);
        CHECK(out.base[out.len - 1] == '}' && out.len <= len + 64);
        CHECK(gomod_validate_info(out.base, out.len, module, NULL, &again, NULL) == 0);
        CHECK(again.len == out.len && memcmp(again.base, out.base, out.len) == 0);
        /* The Version it kept is the one a want_version check compares with. */
        const char *v = (const char *)out.base + sizeof head - 1;
        const char *end = memchr(v, '"', out.len - (sizeof head - 1));
        CHECK(end != NULL);
        char *version = strndup(v, (size_t)(end - v));
        CHECK(version != NULL);
        CHECK(modversion_check(module, version, NULL) == 0);
        CHECK(gomod_validate_info(body, len, module, version, &again, NULL) == 0);
        free(version);
    } else {
        CHECK(out.len == 0 && err.msg[0] != '\0');
        for (const char *p = err.msg; *p; p++)
            CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
    }
    buf_dispose(&out);
    buf_dispose(&again);

    bool has_nul = len > 0 && memchr(body, 0, len) != NULL;
    CHECK((gomod_validate_mod(body, len, NULL) == 0) == !has_nul);
    CHECK((gomod_validate_list(body, len, NULL) == 0) == !has_nul);
    return 0;
}
