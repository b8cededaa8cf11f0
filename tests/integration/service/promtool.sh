#!/bin/bash
# SPDX-License-Identifier: MIT
#
# /metrics follows Prometheus's conventions, as `promtool check metrics` judges them (units in
# names, base units, _total on counters, HELP and TYPE on every family), on a busy server: hits,
# misses, 404s, upstream failures (a 500, a body that fails validation), a store with a budget,
# and — where FUSE works — a mount whose figures are appended, read both on the GOPROXY port and
# on the metrics-only address. Any complaint from promtool fails the test. The families that
# carry durations and sizes are histograms with the samples this workload must have put there.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/../http/http_lib.sh"
. "$(dirname "$0")/status_lib.sh"
t_require_cmd promtool go

s_upstream
mport=$(t_free_port)
args=(--max-size 64M --metrics-listen "127.0.0.1:$mport")
mnt=""
if [ -c /dev/fuse ] && [ "$(id -u)" = 0 ] && command -v fusermount3 >/dev/null; then
	mnt=$(t_tmpdir mnt)
	args+=(--mount "$mnt")
else
	t_log "no FUSE here: /metrics without the mount's figures"
fi
h_start_modfs main "$UPSTREAM_URL" "${args[@]}"
t_wait_port "$mport"
if [ -n "$mnt" ]; then
	t_on_exit "fusermount3 -u -z $mnt"
	for ((i = 0; i < 200; i++)); do mountpoint -q "$mnt" && break; sleep 0.1; done
	mountpoint -q "$mnt" || t_fail "$mnt is not mounted"
	cat "$mnt/cache/download/golang.org/x/mod/@v/v0.7.0.mod" >/dev/null
	stat "$mnt/example.com/nothere@v1.0.0" >/dev/null 2>&1 || true
fi
s_workload "$H_URL"
curl -fsS -o /dev/null "$H_URL/"

check() {
	local what=$1 url=$2 out=$T_TMP/$1.txt rc=0
	curl -fsS "$url/metrics" >"$out"
	promtool check metrics <"$out" >"$T_TMP/$what.promtool" 2>&1 || rc=$?
	T_CHECKS=$((T_CHECKS + 1))
	[ "$rc" = 0 ] && [ ! -s "$T_TMP/$what.promtool" ] ||
		t_fail "promtool check metrics on $what (exit $rc): $(cat "$T_TMP/$what.promtool")"
}
check proxy "$H_URL"
check metrics-only "http://127.0.0.1:$mport"
m=$(cat "$T_TMP/proxy.txt")

at_least() {
	local v
	v=$(h_metric "$m" "$1")
	T_CHECKS=$((T_CHECKS + 1))
	[ "$v" != missing ] && awk -v v="$v" -v w="$2" 'BEGIN { exit !(v + 0 >= w + 0) }' ||
		t_fail "$1 is $v, want at least $2"
}
for family in modfs_http_request_duration_seconds modfs_http_response_size_bytes \
	modfs_upstream_fetch_duration_seconds modfs_upstream_response_size_bytes; do
	T_CHECKS=$((T_CHECKS + 1))
	grep -qx "# TYPE $family histogram" <<<"$m" || t_fail "$family is not a histogram"
done
at_least 'modfs_http_requests_total{route="info",code="200"}' 96
at_least 'modfs_http_requests_total{route="info",code="404"}' 1
at_least 'modfs_http_requests_total{route="zip",code="502"}' 1
at_least modfs_http_cache_hits_total 96
at_least modfs_http_cache_misses_total 10
at_least modfs_http_response_size_bytes_count 100
at_least 'modfs_http_response_size_bytes_bucket{le="+Inf"}' 100
at_least 'modfs_upstream_fetch_duration_seconds_count{result="ok"}' 10
at_least 'modfs_upstream_fetch_duration_seconds_count{result="not_found"}' 1
at_least 'modfs_upstream_fetch_duration_seconds_count{result="error"}' 3
at_least modfs_upstream_response_size_bytes_count 10
at_least modfs_upstream_response_size_bytes_sum 100000
at_least modfs_store_max_bytes 67108864
at_least modfs_store_usage_bytes 1
at_least modfs_start_time_seconds "$(($(date +%s) - 600))"
if [ -n "$mnt" ]; then
	at_least modfs_fuse_lookups_total 1
	at_least 'modfs_fuse_lazy_fetches_total{result="ok"}' 1
fi
# no unit but the base ones anywhere in a name
T_CHECKS=$((T_CHECKS + 1))
! grep -E '^modfs_[a-z_]*_(ms|us|ns|milliseconds|microseconds|kb|mb|kib|mib)(_|\{| )' <<<"$m" ||
	t_fail "a metric name with a unit that is not a base unit"
h_stop "$H_PID" "$H_LOG"
