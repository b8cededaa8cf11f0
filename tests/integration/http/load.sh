#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Load on the GOPROXY front: h2load -n 2000 -c 10 -m 10 on small objects over h2c and TLS h2
# (every request succeeds); 200 concurrent requests for one cold zip all succeed while upstream
# sees one request (misses are handed to fetch workers and share one fetch); the big zip fetched
# by several concurrent clients over HTTP/1.1, h2c and TLS h2, cold and then warm, arrives
# byte-identical every time.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"
t_require_cmd h2load

h_upstream_tree
t_start_upstream "$H_UP"
h_make_ca
h_start_modfs main "$UPSTREAM_URL" --threads 2
W=$(t_tmpdir w)

# h2load URL N C M: all N requests succeed with 2xx
load() {
	h2load -n "$2" -c "$3" -m "$4" "$1" >"$W/h2load.out" 2>&1 || true
	grep -q "^requests: $2 total, $2 started, $2 done, $2 succeeded, 0 failed, 0 errored, 0 timeout" "$W/h2load.out" ||
		t_fail "h2load $1: $(grep -E '^(requests|status codes)' "$W/h2load.out")"
	grep -q "^status codes: $2 2xx, 0 3xx, 0 4xx, 0 5xx" "$W/h2load.out" ||
		t_fail "h2load $1: $(grep '^status codes' "$W/h2load.out")"
	T_CHECKS=$((T_CHECKS + 1))
}

info=/golang.org/x/text/@v/v0.8.0.info
mod=/example.com/m/v2/@v/v2.1.0.mod
curl -sSf -o /dev/null "$H_URL$info"
load "$H_URL$info" 2000 10 10
load "$H_TLS_URL$info" 2000 10 10
load "$H_URL$mod" 2000 10 10
load "$H_TLS_URL$mod" 2000 10 10

# One cold zip asked 200 times at once: one upstream fetch, 200 answers.
cold=/golang.org/x/mod/@v/v0.7.0.zip
load "$H_URL$cold" 200 10 10
t_assert_eq "$(t_upstream_count "GET $cold ")" 1 "upstream requests for $cold"

# The big zip, by six clients at once, cold then warm.
big=/example.com/big/@v/v1.0.0.zip
[ -f "$H_UP$big" ] || t_fail "no big fixture zip"
for round in cold warm; do
	pids=()
	for i in 1 2 3 4 5 6; do
		case $((i % 3)) in
		0) args=(--http1.1 "$H_URL$big") ;;
		1) args=(--http2-prior-knowledge "$H_URL$big") ;;
		2) args=(--http2 --cacert "$H_CA" "$H_TLS_URL$big") ;;
		esac
		curl -sS -f -o "$W/big.$i" "${args[@]}" &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || t_fail "$round client $((i + 1)) failed"
	done
	for i in 1 2 3 4 5 6; do
		t_assert_file_eq "$W/big.$i" "$H_UP$big" "$round big zip, client $i"
	done
done
t_assert_eq "$(t_upstream_count "GET $big ")" 1 "upstream requests for the big zip"

m=$(curl -sS "$H_URL/metrics")
t_assert_eq "$(h_metric "$m" 'modfs_http_errors_total{kind="read"}')" 0 "store read errors"
t_assert_eq "$(h_metric "$m" 'modfs_http_errors_total{kind="overload"}')" 0 "fetches refused"

h_stop "$H_PID" "$H_LOG"
