#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Every object of every fixture (.info .mod .zip list) comes out of `modfs get` byte-identical to
# what the upstream serves; a second get is answered by the store alone (no upstream request)
# and counted as a hit.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/store_lib.sh"

t_start_upstream "$FIX/proxy"
out=$(t_tmpdir out)
mapfile -t keys < <(s_fixture_keys)
[ "${#keys[@]}" -ge 30 ] || t_fail "only ${#keys[@]} fixture files"

for key in "${keys[@]}"; do
	s_get "$key" >"$out/got" || t_fail "modfs get $key failed"
	t_assert_file_eq "$out/got" "$FIX/proxy/$key" "first get of $key"
	# One request for the key itself; never two for one miss.
	n=$(t_upstream_count "GET /$key ")
	[ "$n" -le 1 ] || t_fail "$key: $n upstream requests for one get"
done
t_assert_eq "$(s_stat objects)" "${#keys[@]}" "objects after getting every fixture file"

requests=$(wc -l <"$UPSTREAM_LOG")
for key in "${keys[@]}"; do
	s_get "$key" >"$out/got" || t_fail "second modfs get $key failed"
	t_assert_file_eq "$out/got" "$FIX/proxy/$key" "second get of $key"
done
# The leading-slash form names the same object.
s_get "/golang.org/x/text/@v/v0.7.0.zip" >"$out/got"
t_assert_file_eq "$out/got" "$FIX/proxy/golang.org/x/text/@v/v0.7.0.zip" "get /golang.org/x/text/@v/v0.7.0.zip"
t_assert_eq "$(wc -l <"$UPSTREAM_LOG")" "$requests" "upstream requests during the second round"

hits=$(s_stat hits)
[ "$hits" -ge "$((${#keys[@]} + 1))" ] || t_fail "modfs stat: hits=$hits, want >= $((${#keys[@]} + 1))"
t_assert_eq "$(s_stat objects)" "${#keys[@]}" "objects after the second round"
logical=$(s_stat logical_bytes)
want=$(cd "$FIX/proxy" && cat "${keys[@]}" | wc -c)
t_assert_eq "$logical" "$want" "logical_bytes"
