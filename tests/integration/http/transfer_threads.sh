#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Two misses at once have their bodies received on two different transfer threads: no single
# thread is on the path of every upstream body (cache/upstream/transfer.c). The upstream sends
# two zips slowly (nginx limit_rate), so both transfers are in flight together; the debug log
# names the transfer thread each GET was given to, and the caller's line when its attempt ended.
# Both GETs must start before either ends, on two different threads, and both zips must arrive
# whole. With the pool forced to one thread both GETs land on thread 0 and the test fails.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"

h_upstream_tree
[ -f "$FIX/load/example.com/load/m01/@v/v1.0.0.zip" ] || t_fail "the load fixtures are missing"
cp -rs "$FIX/load/example.com/." "$H_UP/example.com/"
# about 650 kB each at 128 kB/s: five seconds in flight, far longer than starting two requests
t_start_upstream "$H_UP" '        location ~ ^/example\.com/load/.*\.zip$ { limit_rate 128k; }'
h_start_modfs main "$UPSTREAM_URL" --log-level debug
W=$(t_tmpdir w)

pids=()
for m in m01 m02; do
	curl -sS --max-time 120 -o "$W/$m.zip" -w '%{http_code}' "$H_URL/example.com/load/$m/@v/v1.0.0.zip" \
		>"$W/$m.code" 2>"$W/$m.err" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || true
done
for m in m01 m02; do
	t_assert_eq "$(cat "$W/$m.code")" 200 "status of the $m zip ($(cat "$W/$m.err"))"
	t_assert_file_eq "$W/$m.zip" "$FIX/load/example.com/load/$m/@v/v1.0.0.zip" "the $m zip"
done

# The pool was started by the first fetch (not at the server's start), with a thread per core.
grep -Eq 'upstream: ([2-9]|[1-9][0-9]+) transfer threads' "$H_LOG" ||
	t_fail "no start line with at least 2 transfer threads: $(grep 'transfer thread' "$H_LOG" || true)"
T_CHECKS=$((T_CHECKS + 1))

# The order of events in the log: each zip's GET on its transfer thread, each attempt's end.
thread_of() {
	sed -n "s|.*upstream: transfer thread \([0-9]*\): GET .*/load/$1/@v/v1\.0\.0\.zip .*|\1|p" "$H_LOG" | head -1
}
line_of() {
	grep -n "$1" "$H_LOG" | head -1 | cut -d: -f1
}
t1=$(thread_of m01)
t2=$(thread_of m02)
[ -n "$t1" ] && [ -n "$t2" ] || t_fail "no transfer thread named for the zips: $(grep 'transfer thread' "$H_LOG" || true)"
t_log "m01 on transfer thread $t1, m02 on transfer thread $t2"
[ "$t1" != "$t2" ] || t_fail "both zips were received on transfer thread $t1"
T_CHECKS=$((T_CHECKS + 1))

g1=$(line_of "transfer thread $t1: GET .*/load/m01/@v/v1.0.0.zip")
g2=$(line_of "transfer thread $t2: GET .*/load/m02/@v/v1.0.0.zip")
e1=$(line_of "upstream .*/load/m01/@v/v1.0.0.zip: 200,")
e2=$(line_of "upstream .*/load/m02/@v/v1.0.0.zip: 200,")
[ -n "$e1" ] && [ -n "$e2" ] || t_fail "no end of attempt logged for the zips"
first_end=$((e1 < e2 ? e1 : e2))
[ "$g1" -lt "$first_end" ] && [ "$g2" -lt "$first_end" ] ||
	t_fail "the two zips were not in flight at once (GETs at lines $g1, $g2; first end at line $first_end)"
T_CHECKS=$((T_CHECKS + 1))

h_stop "$H_PID" "$H_LOG"
