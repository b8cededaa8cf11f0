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
# Then servers are stopped (SIGTERM) while a load runs, the loader paused for a few seconds as it
# begins (MODFS_FAULT=object-load:1:pause): the loop waits for the load to come back before it
# goes, and the server exits cleanly (status 0, in time, no sanitizer report: nothing of the load
# is leaked or touched after it is freed), whether the request that asked for the load went away
# meanwhile or still waits (it is then answered, whole).
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"

h_upstream_tree
t_start_upstream "$H_UP"
W=$(t_tmpdir w)
base=golang.org/x/text/@v/v0.8.0
key=$base.zip
want="$H_UP/$key"

# claim_load WORDS [CURL_ARGS...]: whole reads of the zip on $H_URL, each in the background, until
# the log of the server says the loader reached object-load ("this thread WORDS here"). The read that claimed the
# load is left waiting for it, its pid in $parked. (Asked again until that happens: the handle the
# miss counted its first read on is the one the hits find, but nothing here depends on when it
# got there.)
claim_load() {
	local words=$1 n i
	shift
	for ((n = 0; n < 5; n++)); do
		rm -f "$W/parked"
		curl -sS "$@" --max-time 600 -o "$W/parked" -w '%{http_code}' "$H_URL/$key" >"$W/parked.code" 2>/dev/null &
		parked=$!
		t_on_exit "kill $parked 2>/dev/null"
		for ((i = 0; i < 1200; i++)); do
			if grep -q "fault point reached: this thread $words here" "$H_LOG"; then
				T_CHECKS=$((T_CHECKS + 1))
				return 0
			fi
			kill -0 "$parked" 2>/dev/null || break # answered without a load (streamed): ask again
			sleep 0.1
		done
		wait "$parked" || t_fail "a whole read of the zip before its load failed: $(tail -3 "$H_LOG")"
		t_assert_file_eq "$W/parked" "$want" "a whole read of the zip before its load"
	done
	t_fail "the load never reached object-load: $(tail -3 "$H_LOG")"
}

# 1. a load held for good: the loop answers everyone else
MODFS_FAULT=object-load:1:hang h_start_modfs held "$UPSTREAM_URL" --threads 1
# the loader is stopped for good below: only SIGKILL ends this server
t_on_exit "kill -9 $H_PID 2>/dev/null; wait $H_PID 2>/dev/null"
curl -sS -f --max-time 120 -o "$W/first" "$H_URL/$key"
t_assert_file_eq "$W/first" "$want" "first download (a miss, streamed)"
claim_load stops

# generous limits: a loaded machine is slow, a stopped loop never answers
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

# 2. stopped while a load runs whose request went away (over h2c, where the loop reads the
# connection all along and so sees it close at once, and the request's pool goes)
MODFS_FAULT=object-load:1:pause h_start_modfs gone "$UPSTREAM_URL" --threads 1
curl -sS -f --max-time 120 -o "$W/first" "$H_URL/$key"
claim_load pauses --http2-prior-knowledge
kill "$parked"
wait "$parked" 2>/dev/null || true
h_stop "$H_PID" "$H_LOG"

# 3. stopped while a load runs whose request still waits: it is answered
MODFS_FAULT=object-load:1:pause h_start_modfs waiting "$UPSTREAM_URL" --threads 1
curl -sS -f --max-time 120 -o "$W/first" "$H_URL/$key"
claim_load pauses
h_stop "$H_PID" "$H_LOG"
wait "$parked" || t_fail "the request waiting for the load when the server stopped got no answer"
t_assert_eq "$(cat "$W/parked.code")" 200 "status of the request waiting for the load when the server stopped"
t_assert_file_eq "$W/parked" "$want" "the request waiting for the load when the server stopped"
