#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The load of a zip into memory (the second whole read of it) runs off the event loop: the loop
# only claims it and the loader thread reads and checks it (http/loader.c). The loader is stopped
# for good as it starts the load (MODFS_FAULT=object-load:1:hang, see cache/store/fault.c), on a
# server with one event loop, and meanwhile:
#   - the request that asked for the load waits for it (it is answered from memory once loaded,
#     so that a damaged copy can still be fetched again before its status line);
#   - other requests on that same loop are answered: the .mod and .info of the module, and the
#     same zip again (streamed, as its load is under way), byte-identical to upstream's.
# With the load run on the loop, the loop would stop with it and none of these would be answered.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"

h_upstream_tree
t_start_upstream "$H_UP"
MODFS_FAULT=object-load:1:hang h_start_modfs main "$UPSTREAM_URL" --threads 1
# the loader is stopped for good below: only SIGKILL ends this server
t_on_exit "kill -9 $H_PID 2>/dev/null; wait $H_PID 2>/dev/null"
W=$(t_tmpdir w)
base=golang.org/x/text/@v/v0.8.0
key=$base.zip
want="$H_UP/$key"

curl -sS -f --max-time 120 -o "$W/first" "$H_URL/$key"
t_assert_file_eq "$W/first" "$want" "first download (a miss, streamed)"

# The second whole read of the handle claims the load, and the loader stops as it begins. (Asked
# again until that happens: the handle the miss counted its first read on is the one the hits
# find, but nothing here depends on when it got there.)
held=false
for ((n = 0; n < 5; n++)); do
	curl -sS --max-time 600 -o "$W/parked" -w '%{http_code}' "$H_URL/$key" >"$W/parked.code" 2>/dev/null &
	parked=$!
	t_on_exit "kill $parked 2>/dev/null"
	for ((i = 0; i < 1200; i++)); do
		if grep -q "fault point reached: this thread stops here" "$H_LOG"; then
			held=true
			break 2
		fi
		kill -0 "$parked" 2>/dev/null || break # answered without a load (streamed): ask again
		sleep 0.1
	done
	wait "$parked" || t_fail "a whole read of the zip before its load failed: $(tail -3 "$H_LOG")"
	t_assert_file_eq "$W/parked" "$want" "a whole read of the zip before its load"
done
$held || t_fail "the load never reached object-load: $(tail -3 "$H_LOG")"
T_CHECKS=$((T_CHECKS + 1))

# the one loop answers everyone else meanwhile (generous limits: a loaded machine is slow, a
# stopped loop never answers)
for f in "$base.mod" "$base.info" "$key"; do
	rm -f "$W/other"
	code=$(curl -sS --max-time 60 -o "$W/other" -w '%{http_code}' "$H_URL/$f") || true
	t_assert_eq "$code" 200 "status of $f while a load is held"
	t_assert_file_eq "$W/other" "$H_UP/$f" "$f while a load is held"
done
t_assert_eq "$(t_upstream_count "GET /$key ")" 1 "upstream requests of the zip (every answer from the store)"

# the request that asked for the load is still waiting for it
kill -0 "$parked" 2>/dev/null || t_fail "the request that claimed the load was answered without it: $(cat "$W/parked.code")"
T_CHECKS=$((T_CHECKS + 1))

kill -9 "$H_PID"
wait "$H_PID" 2>/dev/null || true
wait "$parked" 2>/dev/null || true
