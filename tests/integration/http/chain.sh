#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A build farm's chain: a second modfs whose upstream is the first over HTTPS (HTTP/2 by ALPN,
# the test CA given with --ca-file) serves every fixture object byte-identical to the static
# upstream behind the first; not-found (404) and gone (410) pass through the chain as such; the
# go command downloads every fixture through the second with the sums of modules.txt.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"

h_upstream_tree
t_start_upstream "$H_UP" '        location /example.com/gone/ { return 410; }'
h_make_ca
h_start_modfs first "$UPSTREAM_URL" --log-level info
h_start_modfs second "$FIRST_TLS_URL" --ca-file "$H_CA"
W=$(t_tmpdir w)

mapfile -t keys < <(cd "$FIX/proxy" && find . -type f -printf '%P\n' | LC_ALL=C sort)
[ "${#keys[@]}" -ge 30 ] || t_fail "only ${#keys[@]} fixture files"
for key in "${keys[@]}"; do
	curl -sS -f -o "$W/got" "$SECOND_URL/$key" || t_fail "GET $key through the chain failed"
	t_assert_file_eq "$W/got" "$FIX/proxy/$key" "$key through the chain"
done
# again, now from the second's store; and the validators agree along the chain
for key in golang.org/x/text/@v/v0.8.0.zip example.com/multi/@v/list 'example.com/!upper/!lib/@v/v1.2.3.mod'; do
	curl -sS -f -D "$W/h2" -o "$W/got" "$SECOND_URL/$key"
	t_assert_file_eq "$W/got" "$FIX/proxy/$key" "$key from the second's store"
	curl -sS -f -D "$W/h1" -o /dev/null "$FIRST_URL/$key"
	t_assert_eq "$(grep -i '^etag' "$W/h2")" "$(grep -i '^etag' "$W/h1")" "$key: ETag along the chain"
done
# the first fetched each object from the static upstream once, whatever the second asked
for key in golang.org/x/text/@v/v0.8.0.zip example.com/m/v2/@v/v2.1.0.zip; do
	t_assert_eq "$(t_upstream_count "GET /$key ")" 1 "upstream requests for $key"
done
# the second spoke HTTP/2 to the first (the first logs the protocol of each request)
grep -q "GET /golang.org/x/text/@v/v0.8.0.zip 200 .* h2$" "$FIRST_LOG" ||
	t_fail "the chain did not use HTTP/2: $(grep 'v0.8.0.zip' "$FIRST_LOG" | head -3)"
T_CHECKS=$((T_CHECKS + 1))

code() {
	curl -sS -o /dev/null -w '%{http_code}' "$1"
}
t_assert_eq "$(code "$SECOND_URL/example.com/nope/@v/list")" 404 "404 through the chain"
t_assert_eq "$(code "$SECOND_URL/example.com/gone/@v/list")" 410 "410 through the chain"
t_assert_eq "$(code "$SECOND_URL/example.com/multi/@latest")" 200 "@latest through the chain"

t_require_cmd go python3
t_go_env
mapfile -t mods < <(awk '{ print $1 "@" $2 }' "$FIX/modules.txt")
cd "$W"
GOMODCACHE="$T_TMP/modcache" GOPROXY=$SECOND_URL go mod download -json "${mods[@]}" >"$W/dl.json" ||
	t_fail "go mod download through the chain failed"
python3 -c '
import json, sys
text, dec, i = open(sys.argv[1]).read(), json.JSONDecoder(), 0
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    o, i = dec.raw_decode(text, i)
    print(o["Path"], o["Version"], o["Sum"], o["GoModSum"])' "$W/dl.json" | sort >"$W/sums"
awk '{ print $1, $2, $3, $4 }' "$FIX/modules.txt" | sort >"$W/want"
t_assert_file_eq "$W/sums" "$W/want" "go mod download sums through the chain"

h_stop "$SECOND_PID" "$SECOND_LOG"
h_stop "$FIRST_PID" "$FIRST_LOG"
