#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A `modfs serve` killed (SIGKILL) inside a group commit: many distinct misses at once, so that
# the index commits of their ingests are grouped (cache/store/index.c), and the process kills
# itself at the third time an object's rows enter the open transaction of a group
# (MODFS_FAULT=group-rows:3, see cache/store/fault.c). Then:
#   - the kill happened there (exit by SIGKILL, the fault point's line in the log), and at most
#     two objects are stored: the third is not, nor any other of its group;
#   - nothing is half-visible: every key is either stored and byte-identical, or absent;
#   - the next start opens the store sound (modfs verify), and every key is then served
#     byte-identical (those lost fetched again).
# Unlike crash.sh, the packs may keep unindexed bytes after the restart: concurrent ingests
# append to a pack in one order and commit in another, so a lost ingest's bytes can lie before a
# committed one's, a hole that only cutting a pack's tail cannot give back (compaction does).
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/store_lib.sh"
t_require_cmd curl

t_start_upstream "$FIX/proxy"
mapfile -t keys < <(s_fixture_keys | grep -E '\.(zip|mod)$')
[ "${#keys[@]}" -ge 8 ] || t_fail "only ${#keys[@]} fixture keys"
out=$(t_tmpdir out)


port=$(t_free_port)
log="$T_TMP/modfs.log"
# shellcheck disable=SC2046
MODFS_FAULT=group-rows:3 "$MODFS_BIN" serve --cache-dir "$CACHE" --upstream "$UPSTREAM_URL" \
	--listen "127.0.0.1:$port" --miss-rate 0 $(t_sumdb_off) >"$log" 2>&1 &
pid=$!
t_on_exit "kill -9 $pid"
t_wait_port "$port" 20 "$pid" "$log"

# Every miss at once; the clients of the objects lost with the process get an error, as they should.
cpids=()
for k in "${keys[@]}"; do
	curl -fsS --max-time 120 -o /dev/null "http://127.0.0.1:$port/$k" 2>/dev/null &
	cpids+=($!)
done
rc=0
wait "$pid" || rc=$?
for p in "${cpids[@]}"; do wait "$p" || true; done
t_assert_eq "$rc" 137 "exit status of the killed server ($(tail -3 "$log"))"
grep -q "fault point reached" "$log" || t_fail "not killed at its fault point"
T_CHECKS=$((T_CHECKS + 1))

objects=$(s_stat objects)
t_log "${#keys[@]} misses, $objects objects committed at the kill, $(t_pack_bytes "$CACHE") bytes in packs"
[ "$objects" -le 2 ] || t_fail "$objects objects stored: the rows of the third were committed"
T_CHECKS=$((T_CHECKS + 1))
stored=0
for k in "${keys[@]}"; do
	if s_get --upstream off "$k" >"$out/got" 2>"$out/err"; then
		t_assert_file_eq "$out/got" "$FIX/proxy/$k" "$k after the kill"
		stored=$((stored + 1))
	else
		grep -q "not found" "$out/err" || t_fail "$k is neither stored nor absent: $(cat "$out/err")"
		T_CHECKS=$((T_CHECKS + 1))
	fi
done
t_assert_eq "$stored" "$objects" "keys readable after the kill"

# Restart: a get of another object opens the store (and reclaims), and writes to the pack.
info=$(s_fixture_keys | grep -E '\.info$' | head -1)
s_get "$info" >"$out/info"
"$MODFS_BIN" verify --cache-dir "$CACHE" --heal=false >"$out/verify" 2>&1 ||
	t_fail "modfs verify after the restart: $(cat "$out/verify")"
T_CHECKS=$((T_CHECKS + 1))
for k in "${keys[@]}"; do
	s_get "$k" >"$out/got"
	t_assert_file_eq "$out/got" "$FIX/proxy/$k" "$k after the restart"
done
[ "$(t_pack_bytes "$CACHE")" -ge "$(s_stat stored_bytes)" ] || t_fail "packs hold fewer bytes than the index refers to"
T_CHECKS=$((T_CHECKS + 1))
t_log "at the end: $(t_pack_bytes "$CACHE") bytes in packs, $(s_stat stored_bytes) indexed"
