#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A miss is answered from its verified bytes before the store has made them durable and
# committed them (cache_get_early), and nothing becomes visible before that commit. The leader of
# the fetch is stopped for good right after the pack sync, before the index commit
# (MODFS_FAULT=pack-synced:1:hang, see cache/store/fault.c), with the rest of the server running:
#   - the client that asked still gets its answer, upstream's bytes, while the leader is stopped;
#   - another request of the same key is not answered meanwhile: it waits for the commit;
#   - the server is then killed (SIGKILL) there: the object was never committed, so the next
#     server on the same store fetches it from upstream again, and serves the same bytes.
# The same for an 8 MB zip, on a store of its own, with the leader stopped for good before a
# chunk of it is cut (MODFS_FAULT=chunks-start:1:hang): its client gets the whole verified zip,
# answered from the early object's copy in memory (not a byte of it is in a pack yet, so nothing
# could be read from one), another request of it waits, and after SIGKILL and a restart it is
# fetched again, byte-identical.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"

t_start_upstream "$FIX/proxy"
mod=golang.org/x/mod/@v/v0.7.0.mod
want="$FIX/proxy/$mod"
[ -f "$want" ] || t_fail "fixture $want missing"
store=$(t_tmpdir store)
out=$(t_tmpdir out)

start() { # start LOG [ENV...]: a server on $store; sets PORT and PID
	local log=$1
	shift
	PORT=$(t_free_port)
	env "$@" "$MODFS_BIN" serve --cache-dir "$store" --upstream "$UPSTREAM_URL" --sumdb off \
		--listen "127.0.0.1:$PORT" >"$log" 2>&1 &
	PID=$!
	t_on_exit "kill -9 $PID 2>/dev/null; wait $PID 2>/dev/null"
	t_wait_port "$PORT" 20 "$PID" "$log"
}

# 1. the leader stops after the pack sync; its client is answered all the same
start "$T_TMP/hang.log" MODFS_FAULT=pack-synced:1:hang
code=$(curl -s --max-time 60 -o "$out/early" -w '%{http_code}' "http://127.0.0.1:$PORT/$mod") || true
t_assert_eq "$code" 200 "status of the miss answered before its commit"
t_assert_file_eq "$out/early" "$want" "the early answer is upstream's body"
# the leader goes on to the pack sync after the answer: wait (generously) for it to stop there
t_wait_fault_hang "$T_TMP/hang.log" pack-synced
t_assert_eq "$(t_upstream_count "GET /$mod ")" 1 "upstream requests for the .mod before the crash"
# nobody else sees it before the commit: another request of it waits for the stopped leader
# (it would be answered at once from memory or the store if the object were visible there)
code=$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/$mod") || true
t_assert_eq "$code" 000 "a second request of the .mod while its commit has not happened"

# 2. killed before the commit: nothing of it is in the store
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
start "$T_TMP/after.log"
code=$(curl -s --max-time 60 -o "$out/again" -w '%{http_code}' "http://127.0.0.1:$PORT/$mod") || true
t_assert_eq "$code" 200 "status of the .mod after the crash"
t_assert_file_eq "$out/again" "$want" "the .mod after the crash"
t_assert_eq "$(t_upstream_count "GET /$mod ")" 2 "upstream requests for the .mod: fetched again, never committed"
# and now it is committed: a hit
curl -sf --max-time 60 -o "$out/hit" "http://127.0.0.1:$PORT/$mod"
t_assert_file_eq "$out/hit" "$want" "the .mod as a hit"
t_assert_eq "$(t_upstream_count "GET /$mod ")" 2 "upstream requests for the .mod once committed"
t_stop_modfs "$PID" "$T_TMP/after.log"

# 3. an 8 MB zip: answered before a chunk of it is cut, written, synced or committed
zip=golang.org/x/text/@v/v0.7.0.zip
want="$FIX/proxy/$zip"
[ -f "$want" ] || t_fail "fixture $want missing"
[ "$(stat -c %s "$want")" -gt $((1 << 20)) ] || t_fail "fixture $want is not a large zip"
T_CHECKS=$((T_CHECKS + 1))
store=$(t_tmpdir zipstore)
start "$T_TMP/zip-hang.log" MODFS_FAULT=chunks-start:1:hang
code=$(curl -s --max-time 60 -o "$out/zip-early" -w '%{http_code}' "http://127.0.0.1:$PORT/$zip") || true
t_assert_eq "$code" 200 "status of the zip miss answered before its chunks"
t_assert_file_eq "$out/zip-early" "$want" "the early answer of the zip is upstream's body"
t_wait_fault_hang "$T_TMP/zip-hang.log" chunks-start
t_assert_eq "$(t_pack_bytes "$store")" 0 "pack bytes while the zip's leader is stopped before its chunks"
t_assert_eq "$(t_upstream_count "GET /$zip ")" 1 "upstream requests for the zip before the crash"
code=$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/$zip") || true
t_assert_eq "$code" 000 "a second request of the zip while it is not stored"
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
start "$T_TMP/zip-after.log"
code=$(curl -s --max-time 60 -o "$out/zip-again" -w '%{http_code}' "http://127.0.0.1:$PORT/$zip") || true
t_assert_eq "$code" 200 "status of the zip after the crash"
t_assert_file_eq "$out/zip-again" "$want" "the zip after the crash"
t_assert_eq "$(t_upstream_count "GET /$zip ")" 2 "upstream requests for the zip: fetched again, never committed"
curl -sf --max-time 60 -o "$out/zip-hit" "http://127.0.0.1:$PORT/$zip"
t_assert_file_eq "$out/zip-hit" "$want" "the zip as a hit"
t_assert_eq "$(t_upstream_count "GET /$zip ")" 2 "upstream requests for the zip once committed"
t_stop_modfs "$PID" "$T_TMP/zip-after.log"
