#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Leases: one fetch per module across fronts, and a front that dies mid-fetch. Two fronts, A and
# B, on one bucket, --s3-lease 5; upstream sends the zips of two load modules slowly (64 KiB/s,
# about 10 s each), so a fetch is caught in progress:
#   - A fetches m00; while it holds the lease (its object is in the bucket's leases/), B is asked
#     for m00: B waits (its lease_waits), then reads A's copy from the bucket. Upstream sent m00
#     once.
#   - A fetches m01; B is asked for it and waits; A is killed with SIGKILL mid-fetch. B takes the
#     lease over once A's lifetime passes unrenewed (its lease_takeovers), well within the
#     generous deadline (the lease alone would block it for ever, or for the fetch timeout if the
#     holder were not noticed), fetches m01 itself and writes it to the bucket; the bucket holds
#     no lease after. A new front with upstream stopped reads both from the bucket.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/shared_lib.sh"
. "$MODFS_SOURCE_ROOT/tests/integration/http/http_lib.sh"
t_require_cmd nginx

s_start_store
bucket=$(s_url farm)
t_start_upstream "$FIX/load" '        location ~ ^/example.com/load/m0[01]/@v/v1.0.0.zip$ { limit_rate 64k; }'
upstream_pid=$UPSTREAM_PID
lease=5
h_start_modfs a "$UPSTREAM_URL" --s3 "$bucket" --s3-lease "$lease" --log-level info
h_start_modfs b "$UPSTREAM_URL" --s3 "$bucket" --s3-lease "$lease" --log-level info
key0=example.com/load/m00/@v/v1.0.0.zip
key1=example.com/load/m01/@v/v1.0.0.zip
out=$(t_tmpdir out)

wait_for() { # wait_for SECONDS WHAT CMD...: until CMD succeeds
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	t_fail "waited $secs s for $what"
}
holds_lease() { [ -n "$(s_list farm "leases/$1/")" ]; }
waits() { [ "$(s_metric "$B_URL" modfs_s3_lease_waits_total)" -ge "$1" ]; }

# 1. A live holder: B waits for it, then reads the bucket.
curl -sS -f --max-time 120 -o "$out/a0" "$A_URL/$key0" &
a0=$!
wait_for 30 "A's lease on m00" holds_lease "$key0"
curl -sS -f --max-time 120 -o "$out/b0" "$B_URL/$key0" &
b0=$!
wait_for 30 "B to wait for A's lease" waits 1
wait "$a0" || t_fail "A's fetch of m00 failed"
wait "$b0" || t_fail "B's answer for m00 failed"
t_assert_file_eq "$out/a0" "$FIX/load/$key0" "m00 through A"
t_assert_file_eq "$out/b0" "$FIX/load/$key0" "m00 through B"
t_assert_eq "$(t_upstream_count " /$key0 ")" 1 "upstream fetches of m00"
t_assert_eq "$(s_metric "$B_URL" modfs_s3_hits_total)" 1 "objects B read from the bucket"

# 2. A dies holding the lease: B waits, then takes it over within the lease's lifetime.
curl -sS --max-time 120 -o /dev/null "$A_URL/$key1" 2>/dev/null &
a1=$!
wait_for 30 "A's lease on m01" holds_lease "$key1"
curl -sS -f --max-time 180 -o "$out/b1" "$B_URL/$key1" &
b1=$!
wait_for 30 "B to wait for A's lease on m01" waits 2
kill -KILL "$A_PID"
killed=$(date +%s)
wait "$A_PID" 2>/dev/null || true
wait "$a1" 2>/dev/null || true
takeover() { [ "$(s_metric "$B_URL" modfs_s3_lease_takeovers_total)" = 1 ]; }
wait_for 60 "B to take over the dead front's lease" takeover
t_log "B took over $(($(date +%s) - killed)) s after A died (lease $lease s)"
wait "$b1" || t_fail "B's answer for m01 failed"
t_assert_file_eq "$out/b1" "$FIX/load/$key1" "m01 through B, after A died"
t_assert_eq "$(t_upstream_count " /$key1 ")" 2 "upstream requests of m01 (A's, cut, and B's)"
t_assert_eq "$(s_list farm "manifests/$key1")" "manifests/$key1" "m01's manifest in the bucket"
t_assert_eq "$(s_list farm leases/ | wc -l)" 0 "leases left in the bucket"
grep -q "took over lease 2" "$B_LOG" || t_fail "B's log does not say it took over the lease"
T_CHECKS=$((T_CHECKS + 1))

# Both are in the bucket for everyone.
kill "$upstream_pid"
wait "$upstream_pid" 2>/dev/null || true
h_start_modfs c "http://127.0.0.1:$(t_free_port)" --s3 "$bucket"
for key in "$key0" "$key1"; do
	curl -sS -f -o "$out/c" "$C_URL/$key" || t_fail "the new front could not serve $key"
	t_assert_file_eq "$out/c" "$FIX/load/$key" "$key through a new front, from the bucket"
done
h_stop "$C_PID" "$C_LOG"
h_stop "$B_PID" "$B_LOG"
