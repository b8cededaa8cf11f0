#!/bin/bash
# SPDX-License-Identifier: MIT
#
# What one short `modfs get` costs the store and leaves behind (the fixed costs of issue 12):
#   - a hit starts no upstream transfer thread (the pool starts with the first transfer); a miss
#     does;
#   - a hit's close rewrites no page of index.db: the one figures transaction it commits (its hit,
#     the object's use) stays in the WAL, and the next run reads it back;
#   - a reading command (stat) changes neither index.db nor the WAL;
#   - the WAL does not grow without bound: once a close finds it 64 pages long or more, it
#     checkpoints it into index.db and deletes it, as every close did before;
#   - through all of it every object reads back byte for byte and `modfs verify` finds the
#     store sound.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/store_lib.sh"

t_start_upstream "$FIX/proxy"
key=example.com/m/v2/@v/v2.1.0.zip
want="$FIX/proxy/$key"
out=$(t_tmpdir out)
sum() { cksum <"$1"; }

# The miss: fetched on the transfer pool, which says so at --log-level info.
s_get --log-level info "$key" >"$out/miss" 2>"$out/miss.err" || t_fail "miss: $(cat "$out/miss.err")"
t_assert_file_eq "$out/miss" "$want" "bytes of the miss"
grep -q 'transfer threads' "$out/miss.err" || t_fail "the miss started no transfer pool: $(cat "$out/miss.err")"
T_CHECKS=$((T_CHECKS + 1))

# The hit: no transfer thread, and index.db as it was.
db=$(sum "$CACHE/index.db")
hits=$(s_stat hits)
s_get --log-level info "$key" >"$out/hit" 2>"$out/hit.err" || t_fail "hit: $(cat "$out/hit.err")"
t_assert_file_eq "$out/hit" "$want" "bytes of the hit"
if grep -q 'transfer threads' "$out/hit.err"; then
	t_fail "a hit started the transfer pool: $(cat "$out/hit.err")"
fi
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(sum "$CACHE/index.db")" "$db" "index.db after a hit (its figures stay in the WAL)"
[ -s "$CACHE/index.db-wal" ] || t_fail "no WAL after a hit: it was checkpointed at the close"
T_CHECKS=$((T_CHECKS + 1))
# ... and what the WAL holds is read back by the next process
t_assert_eq "$(s_stat hits)" "$((hits + 1))" "hits counted through the WAL left by the hit"

# A reading command leaves both files as it found them.
db=$(sum "$CACHE/index.db")
wal=$(sum "$CACHE/index.db-wal")
s_stat objects >/dev/null
t_assert_eq "$(sum "$CACHE/index.db")" "$db" "index.db after modfs stat"
t_assert_eq "$(sum "$CACHE/index.db-wal")" "$wal" "WAL after modfs stat"

# Hit after hit, each adding a page or two to the WAL: a close checkpoints it before it reaches
# the 256 pages of the auto-checkpoint, and the store's figures come through whole.
hits=$(s_stat hits)
runs=0
while [ -e "$CACHE/index.db-wal" ] && [ "$runs" -lt 200 ]; do
	s_get "$key" >"$out/hit" 2>"$out/hit.err" || t_fail "hit $runs: $(cat "$out/hit.err")"
	runs=$((runs + 1))
	wal_bytes=$(stat -c %s "$CACHE/index.db-wal" 2>/dev/null || echo 0)
	[ "$wal_bytes" -le $((256 * 4120 + 32)) ] || t_fail "the WAL grew to $wal_bytes bytes after $runs hits"
done
[ ! -e "$CACHE/index.db-wal" ] || t_fail "no close checkpointed the WAL in $runs hits"
T_CHECKS=$((T_CHECKS + 1))
[ "$runs" -ge 2 ] || t_fail "the WAL was checkpointed by the first hit: it should have been left"
T_CHECKS=$((T_CHECKS + 1))
t_log "the WAL was checkpointed at the close of hit $runs"
t_assert_file_eq "$out/hit" "$want" "bytes of the last hit"
t_assert_eq "$(s_stat hits)" "$((hits + runs))" "hits after the checkpoint"

# Sound, and every object the same, with a WAL left again.
s_get example.com/multi/@v/v1.2.0-pre.zip >"$out/other" || t_fail "second zip"
t_assert_file_eq "$out/other" "$FIX/proxy/example.com/multi/@v/v1.2.0-pre.zip" "bytes of a second zip"
"$MODFS_BIN" verify --cache-dir "$CACHE" >"$out/verify" 2>&1 || t_fail "modfs verify: $(cat "$out/verify")"
T_CHECKS=$((T_CHECKS + 1))
"$MODFS_BIN" get --cache-dir "$CACHE" --upstream off --sumdb off "$key" >"$out/hit" 2>"$out/hit.err" || t_fail "hit without upstream: $(cat "$out/hit.err")"
t_assert_file_eq "$out/hit" "$want" "bytes of the hit without upstream"
