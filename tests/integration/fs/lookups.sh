#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Lookups that fetch: 200 parallel stats of one module directory the store lacks
# (<mount>/example.com/!upper/!lib@v1.2.3) all succeed with exactly one upstream request for the
# zip; the same for a .info reached by a direct path walk through directories that exist only
# virtually; and while one lookup waits on a slow upstream (a 25 MiB zip at 4 MiB/s), lookups of
# other modules and reads of cached files are still answered at once.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"

f_upstream_tree
t_start_upstream "$F_UP" '        location ~ ^/example\.com/big/@v/.*\.zip$ { limit_rate 4m; }'
f_start_mount main "$UPSTREAM_URL"

# 200 stats at once of a module directory the store does not have yet.
dir="$F_MNT/example.com/!upper/!lib@v1.2.3"
pids=()
for i in $(seq 200); do
	stat -c %F "$dir" >"$T_TMP/stat.$i" 2>&1 &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
t_assert_eq "$fails" 0 "failed stats of $dir"
t_assert_eq "$(cat "$T_TMP"/stat.* | sort -u)" "directory" "what the 200 stats saw"
t_assert_eq "$(t_upstream_count "/example.com/!upper/!lib/@v/v1.2.3.zip")" 1 "upstream requests for the zip"
t_assert_eq "$(cat "$dir/go.mod")" "$(unzip -p "$F_UP/example.com/!upper/!lib/@v/v1.2.3.zip" example.com/Upper/Lib@v1.2.3/go.mod)" \
	"go.mod of the fetched module"

# A direct path walk, as go does for cache/download/<module>/@v/<version>.info.
info="$F_MNT/cache/download/golang.org/x/mod/@v/v0.7.0.info"
pids=()
for i in $(seq 200); do
	cat "$info" >"$T_TMP/info.$i" 2>&1 &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
t_assert_eq "$fails" 0 "failed reads of $info"
for i in $(seq 200); do cmp -s "$T_TMP/info.$i" "$F_UP/golang.org/x/mod/@v/v0.7.0.info" || t_fail "read $i of $info differs"; done
t_assert_eq "$(t_upstream_count "/golang.org/x/mod/@v/v0.7.0.info")" 1 "upstream requests for the .info"
t_assert_eq "$(t_upstream_count "/golang.org/x/mod/@v/v0.7.0.zip")" 0 "upstream requests for the zip of a .info lookup"

# One lookup blocked on a slow upstream must not hold up the rest. (nginx logs a request when it
# ends, so the overlap is checked by the slow lookup still running afterwards.)
start=$(date +%s%N)
stat "$F_MNT/example.com/big@v1.0.0" >"$T_TMP/big.stat" 2>&1 &
slow=$!
sleep 0.5
kill -0 "$slow" 2>/dev/null || t_fail "the big module's lookup finished before the test could overlap it"
t0=$(date +%s%N)
stat "$F_MNT/example.com/m/v2@v2.1.0" >/dev/null || t_fail "lookup of another module failed"
cat "$dir/go.mod" >/dev/null
ls "$F_MNT/cache/download/golang.org/x/mod/@v" >/dev/null
t1=$(date +%s%N)
kill -0 "$slow" 2>/dev/null || t_fail "the big module's lookup finished before the others were timed"
quick_ms=$(((t1 - t0) / 1000000))
t_log "other lookups and reads took ${quick_ms} ms while the big zip was in flight"
[ "$quick_ms" -lt 2000 ] || t_fail "lookups waited ${quick_ms} ms behind a slow fetch"
T_CHECKS=$((T_CHECKS + 1))
wait "$slow" || t_fail "lookup of the big module failed: $(cat "$T_TMP/big.stat")"
t_log "big module looked up in $((($(date +%s%N) - start) / 1000000)) ms"
t_assert_eq "$(t_upstream_count "/example.com/big/@v/v1.0.0.zip")" 1 "upstream requests for the big zip"

f_stop
