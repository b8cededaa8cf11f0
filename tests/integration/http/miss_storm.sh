#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A storm of distinct misses, the load under which modfs once crashed (heap corruption between
# loop threads: the h2o sockets of every loop were made on the main thread, so all loops shared
# its thread-local buffer free list; see http/server.c). For about STORM_SECONDS (default 20):
# four h2load clients over h2c, each asking its own distinct keys that upstream does not have
# (every one a miss that goes through a fetch worker and comes back through the loop's queue),
# beside HTTP/2 clients that open and reset streams for distinct keys and HTTP/1.1 clients that
# send a miss and hang up. More loop threads than cores, so that loops are preempted in the
# middle of their work. The server must answer /healthz throughout, then stop on SIGTERM in the
# middle of the storm, in time, with status 0 and no sanitizer report (in the TSan build of
# `tools/test --tsan` the old bug is a data race report at once).
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"
t_require_cmd h2load python3

SECS=${STORM_SECONDS:-20}
h_upstream_tree
t_start_upstream "$H_UP"
h_start_modfs main "$UPSTREAM_URL" --threads 6 --miss-rate 0
W=$(t_tmpdir w)
RESET="$(dirname "$0")/h2_reset.py"
PORT=${H_URL##*:}

for c in 1 2 3 4; do
	python3 -c "
import sys
for i in range(200000): print('$H_URL/example.com/storm$c/m%d/@v/v1.0.0.info' % i)" >"$W/uris.$c"
done

pids=()
for c in 1 2 3 4; do
	h2load -i "$W/uris.$c" -D "$SECS" -c 1 -m 16 >"$W/h2load.$c" 2>&1 &
	pids+=($!)
done
resetter() {
	local end=$((SECONDS + SECS))
	while [ $SECONDS -lt $end ] && kill -0 "$H_PID" 2>/dev/null; do
		python3 "$RESET" "$PORT" rapid "/example.com/reset$1/m{n}/@v/v1.0.0.mod" 150 >/dev/null 2>&1 || true
	done
}
dropper() {
	local end=$((SECONDS + SECS)) i=0
	while [ $SECONDS -lt $end ] && kill -0 "$H_PID" 2>/dev/null; do
		i=$((i + 1))
		{ exec 3<>"/dev/tcp/127.0.0.1/$PORT" &&
			printf 'GET /example.com/drop%s/m%d/@v/v1.0.0.info HTTP/1.1\r\nHost: x\r\n\r\n' "$1" "$i" >&3 &&
			exec 3>&-; } 2>/dev/null || true
	done
}
resetter 1 &
pids+=($!)
resetter 2 &
pids+=($!)
dropper 1 &
pids+=($!)

# /healthz answers all along; stop the server two thirds of the way through the storm.
end=$((SECONDS + SECS * 2 / 3))
while [ $SECONDS -lt $end ]; do
	kill -0 "$H_PID" 2>/dev/null || t_fail "modfs died under the storm: $(tail -5 "$H_LOG")"
	got=$(curl -sS --max-time 10 "$H_URL/healthz" 2>&1) || t_fail "healthz during the storm: $got"
	[ "$got" = ok ] || t_fail "healthz during the storm answered: $got"
	sleep 1
done
T_CHECKS=$((T_CHECKS + 1))
m=$(curl -sS --max-time 10 "$H_URL/metrics")
fetches=$(h_metric "$m" modfs_http_upstream_fetches_total)
t_log "$fetches misses handed to fetch workers before the stop"
[ "$fetches" != missing ] && [ "$fetches" -gt 1000 ] || t_fail "the storm made only $fetches fetches"
T_CHECKS=$((T_CHECKS + 1))

h_stop "$H_PID" "$H_LOG"
for p in "${pids[@]}"; do
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
done
