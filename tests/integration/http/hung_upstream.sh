#!/bin/bash
# SPDX-License-Identifier: MIT
#
# One hung upstream request must not spread (issue 8, findings 1 and 3), with modfs's default
# upstream settings. The test upstream never answers some keys and sends the big zip (25 MB) at
# 1 MB/s:
#   - a miss of another key during a hung fetch is answered at once (under 5 s, where the hung
#     one takes 15 s), and both are in flight upstream at the same time, on two connections;
#   - the hung fetch errors within 30 s, with a 502 that names the cause (no "resolve host");
#   - meanwhile the slow zip arrives whole (it keeps moving, so no stall limit cuts it);
#   - with every fetch worker waiting on a hung upstream and more misses queued, /healthz and
#     /metrics still answer at once over HTTP/1.1 and h2c.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"
t_require_cmd python3

h_upstream_tree
W=$(t_tmpdir w)
hung=/golang.org/x/text/@v/v0.7.0.info
other=/golang.org/x/mod/@v/v0.7.0.info
big=/example.com/big/@v/v1.0.0.zip
[ -f "$H_UP$big" ] || t_fail "no big fixture zip"
cat >"$W/rules.json" <<EOF
{"$hung": {"hang": true}, "/example.com/hang*": {"hang": true}, "$big": {"rate": 1000000}}
EOF
t_start_broken_upstream "$H_UP" "$W/rules.json"
h_start_modfs main "$UPSTREAM_URL" --threads 2

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
lt() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$1" "$2"; }
# wait_log PATTERN SECS: until the upstream log has a line matching PATTERN
wait_log() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		grep -qE -- "$1" "$UPSTREAM_LOG" && return 0
		sleep 0.1
	done
	t_fail "upstream never logged '$1'"
}

# The slow zip first: 25 s at 1 MB/s, running beside everything below.
t_big=$(now)
curl -sS -o "$W/big" -w '%{http_code}' "$H_URL$big" >"$W/big.code" 2>"$W/big.err" &
big_pid=$!

t_hung=$(now)
curl -sS -o "$W/hung.body" -w '%{http_code}' "$H_URL$hung" >"$W/hung.code" 2>"$W/hung.err" &
hung_pid=$!
wait_log "^GET $hung hang" 10

t0=$(now)
code=$(curl -sS -o "$W/other" -w '%{http_code}' --max-time 60 "$H_URL$other")
t1=$(now)
t_assert_eq "$code" 200 "a miss of another key during a hung fetch"
t_assert_file_eq "$W/other" "$H_UP$other" "the other key's body"
t_log "another key's miss during a hung fetch: $(elapsed "$t0" "$t1") s"
lt "$(elapsed "$t0" "$t1")" 5 || t_fail "another key's miss took $(elapsed "$t0" "$t1") s during a hung fetch"
T_CHECKS=$((T_CHECKS + 1))
# Both in flight at once: the hung request is still open upstream and its client still waits.
kill -0 "$hung_pid" 2>/dev/null || t_fail "the hung fetch ended before the other key was answered"
grep -q "^GET $hung gone" "$UPSTREAM_LOG" && t_fail "the hung upstream request was closed before the other key"
grep -q "^GET $other 200" "$UPSTREAM_LOG" || t_fail "upstream did not serve $other"
T_CHECKS=$((T_CHECKS + 1))

# Ten more hung misses, six from this client and four from another address (a client may hold
# only three quarters of the fetch workers): every worker is then busy waiting on upstream, and
# the server itself still answers at once.
hang_pids=()
for i in 0 1 2 3 4 5 6 7 8 9; do
	from=()
	[ "$i" -lt 6 ] || from=(--interface 127.0.0.2)
	curl -sS -o /dev/null --max-time 60 "${from[@]}" "$H_URL/example.com/hang$i/@v/v1.0.0.info" 2>/dev/null &
	hang_pids+=($!)
done
# eight workers: two with the first hung key and the slow zip, six with these
for ((i = 0; i < 100; i++)); do
	n=$(grep -c "^GET /example.com/hang[0-9]/@v/v1.0.0.info hang" "$UPSTREAM_LOG" || true)
	[ "$n" -lt 6 ] || break
	sleep 0.1
done
[ "$n" -ge 6 ] || t_fail "only $n of the ten misses reached the upstream"
m=$(curl -sS --max-time 20 "$H_URL/metrics")
t_assert_eq "$(h_metric "$m" modfs_http_upstream_fetches_total)" 13 "misses handed to fetch workers"
for proto in --http1.1 --http2-prior-knowledge; do
	for path in /healthz /metrics; do
		t0=$(now)
		code=$(curl -sS -o "$W/page" -w '%{http_code}' --max-time 20 $proto "$H_URL$path")
		t1=$(now)
		t_assert_eq "$code" 200 "$path ($proto) while misses hang"
		lt "$(elapsed "$t0" "$t1")" 5 || t_fail "$path ($proto) took $(elapsed "$t0" "$t1") s while misses hang"
	done
done
grep -q '^modfs_http_upstream_fetches_total ' "$W/page" || t_fail "/metrics while misses hang: $(head -3 "$W/page")"

# The hung fetch errors within 30 s (default settings), naming the cause.
wait "$hung_pid" || true
t_end=$(now)
t_assert_eq "$(cat "$W/hung.code")" 502 "status of the hung fetch"
t_log "hung fetch answered after $(elapsed "$t_hung" "$t_end") s: $(cat "$W/hung.body")"
lt "$(elapsed "$t_hung" "$t_end")" 30 || t_fail "the hung fetch took $(elapsed "$t_hung" "$t_end") s to fail"
grep -q "no response within 15 s of the request" "$W/hung.body" || t_fail "hung fetch's reason: $(cat "$W/hung.body")"
grep -qi "resolve" "$W/hung.body" "$H_LOG" && t_fail "a 'resolve host' error for a hung upstream"
T_CHECKS=$((T_CHECKS + 2))

# The slow zip arrives whole.
wait "$big_pid" || t_fail "the slow zip failed: $(cat "$W/big.err")"
t_end=$(now)
t_assert_eq "$(cat "$W/big.code")" 200 "status of the slow zip"
t_assert_file_eq "$W/big" "$H_UP$big" "the slow zip"
t_log "25 MB zip at 1 MB/s arrived after $(elapsed "$t_big" "$t_end") s"

for p in "${hang_pids[@]}"; do
	wait "$p" 2>/dev/null || true
done
h_stop "$H_PID" "$H_LOG"
