#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The mount's figures in /metrics, and a metrics-only address: `modfs serve --mount ...
# --metrics-listen ADDR` answers /healthz and /metrics there and 404 for any GOPROXY path (it
# serves no proxy). After lookups, a lazy fetch that succeeds and one that finds nothing, reads
# of a file and a refused write, /metrics shows them: lookups, lazy fetches by result with their
# duration histogram, reads and bytes, error replies by errno (EROFS). With --listen the
# GOPROXY port's /metrics carries the same figures.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"
t_require_cmd curl

t_start_upstream "$FIX/proxy"
mport=$(t_free_port)
f_start_mount main "$UPSTREAM_URL" --metrics-listen "127.0.0.1:$mport"
t_wait_port "$mport"
t_assert_eq "$(curl -fsS "http://127.0.0.1:$mport/healthz")" ok "/healthz on the metrics address"
t_assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/golang.org/x/mod/@v/list")" 404 \
	"a GOPROXY path on the metrics address"
t_assert_eq "$(t_upstream_count /golang.org/x/mod/@v/list)" 0 "upstream requests made by the metrics address"

mod="$F_MNT/cache/download/golang.org/x/mod/@v/v0.7.0.mod"
cat "$mod" >/dev/null || t_fail "reading through the mount failed"
stat "$F_MNT/example.com/nothere@v1.0.0" >/dev/null 2>&1 && t_fail "a missing module is there"
touch "$F_MNT/golang.org/x/mod@v0.7.0/evil.go" 2>/dev/null && t_fail "a write into a module succeeded"
size=$(stat -c %s "$mod")

# metric NAME: its value in /metrics (the whole series line, labels included, as NAME).
curl -fsS "http://127.0.0.1:$mport/metrics" >"$T_TMP/metrics"
metric() {
	awk -v n="$1" '$1 == n { print $2 }' "$T_TMP/metrics"
}
at_least() {
	local v
	v=$(metric "$1")
	[ -n "$v" ] && [ "${v%.*}" -ge "$2" ] || t_fail "$1 is '${v}', want at least $2"
	T_CHECKS=$((T_CHECKS + 1))
}
at_least modfs_fuse_lookups_total 4
at_least modfs_fuse_lookups_negative_total 1
at_least 'modfs_fuse_lazy_fetches_total{result="ok"}' 1
at_least 'modfs_fuse_lazy_fetches_total{result="not_found"}' 1
at_least modfs_fuse_lazy_fetch_duration_seconds_count 2
at_least 'modfs_fuse_lazy_fetch_duration_seconds_bucket{le="+Inf"}' 2
at_least modfs_fuse_reads_total 1
at_least modfs_fuse_read_bytes_total "$size"
at_least 'modfs_fuse_errors_total{errno="EROFS"}' 1
at_least modfs_fuse_views 1
grep -q '^# TYPE modfs_fuse_lazy_fetch_duration_seconds histogram$' "$T_TMP/metrics" || t_fail "no histogram type line"
T_CHECKS=$((T_CHECKS + 1))
f_stop

# The GOPROXY port's /metrics has the mount's figures too.
port=$(t_free_port)
f_start_mount main "$UPSTREAM_URL" --listen "127.0.0.1:$port"
t_wait_port "$port"
cat "$mod" >/dev/null
curl -fsS "http://127.0.0.1:$port/metrics" >"$T_TMP/metrics"
at_least modfs_fuse_lookups_total 1
at_least modfs_fuse_reads_total 1
f_stop
