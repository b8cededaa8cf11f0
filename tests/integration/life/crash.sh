#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `modfs gc` shrinking a store to a budget, killed (SIGKILL) at each step of eviction, garbage
# collection and compaction, exactly there: the fault points of test builds (MODFS_FAULT=<step>,
# see cache/store/fault.c) make the process kill itself at that step. For every step:
#   - the kill happened where it says: exit by SIGKILL with the fault point's line, and the store
#     as that step leaves it (victims still indexed before the eviction commit, gone after it;
#     unused chunks in the index before gc's commit, not after; copies in the packs after the
#     copy; the old pack still there after the switch);
#   - nothing is half-visible: modfs verify finds every indexed chunk sound, and every object
#     still stored is byte-identical;
#   - the next run finishes the work: the store is within its budget, sound, and every object is
#     byte-identical (those evicted come from upstream again).
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/life_lib.sh"

n=12
budget=3M
budget_bytes=$((3 << 20))
segment=$((1 << 20))
t_start_upstream "$LOAD"


unused_chunks() {
	"$MODFS_BIN" gc --cache-dir "$1" --dry-run | awk '/^would collect:/ { print $3 }'
}

# Every module is either stored whole or not stored (never damaged); prints how many are stored.
check_objects() {
	local store=$1 what=$2 i stored=0 err
	for ((i = 0; i < n; i++)); do
		if l_get "$store" "$(l_key "$i")" --upstream off >"$out/got" 2>"$out/err"; then
			t_assert_file_eq "$out/got" "$(l_zip "$i")" "$what: $(l_key "$i")"
			stored=$((stored + 1))
		else
			err=$(cat "$out/err")
			[[ $err == *"not found"* ]] || t_fail "$what: $(l_key "$i") is neither stored nor absent: $err"
		fi
	done
	echo "$stored"
}

verify_sound() {
	"$MODFS_BIN" verify --cache-dir "$1" --heal=false >"$out/verify" 2>&1 ||
		t_fail "$2: modfs verify: $(cat "$out/verify")"
	T_CHECKS=$((T_CHECKS + 1))
}

for step in evict-before-commit evict-committed gc-committed compact-copied compact-switched; do
	store=$(t_tmpdir "store-$step")
	out=$(t_tmpdir "out-$step")
	for ((i = 0; i < n; i++)); do
		l_get "$store" "$(l_key "$i")" --max-size 16M >/dev/null
	done
	t_assert_eq "$(l_stat "$store" objects)" "$n" "$step: objects stored before the gc"

	rc=0
	MODFS_FAULT=$step "$MODFS_BIN" gc --cache-dir "$store" --max-size "$budget" --log-level info >"$out/gc" \
		2>"$out/gc.err" || rc=$?
	t_assert_eq "$rc" 137 "$step: exit status of the killed gc ($(cat "$out/gc.err"))"
	grep -q "fault point reached" "$out/gc.err" || t_fail "$step: not killed at its fault point"

	# The store as the kill left it (read-only looks: stat, verify and gc --dry-run change nothing).
	objects=$(l_stat "$store" objects)
	packs=$(t_pack_bytes "$store")
	t_log "$step: $objects objects, $(unused_chunks "$store") unused chunks, $packs bytes in packs, $(l_stat "$store" stored_bytes) indexed"
	case $step in
	evict-before-commit)
		t_assert_eq "$objects" "$n" "$step: objects after the kill (the eviction never committed)" ;;
	evict-committed)
		[ "$objects" -lt "$n" ] || t_fail "$step: no object evicted"
		[ "$(unused_chunks "$store")" -gt 0 ] || t_fail "$step: the evicted objects' chunks are already collected" ;;
	gc-committed | compact-copied | compact-switched)
		[ "$objects" -lt "$n" ] || t_fail "$step: no object evicted"
		t_assert_eq "$(unused_chunks "$store")" 0 "$step: unused chunks after gc committed"
		[ "$packs" -gt "$(l_stat "$store" stored_bytes)" ] ||
			t_fail "$step: the packs hold no dead bytes: nothing left to compact" ;;
	esac
	T_CHECKS=$((T_CHECKS + 2))
	# A compaction step: the pack being compacted is still there at the kill (its deletion is the
	# step after the switch), and the run after the switch deletes it (nothing refers to it).
	compacted=
	if [[ $step == compact-* ]]; then
		compacted=$(sed -n 's/.*compacting pack \([0-9]*\):.*/\1/p' "$out/gc.err" | tail -1)
		[ -n "$compacted" ] || t_fail "$step: the killed gc never began a compaction"
		[ -f "$store/packs/$compacted.pack" ] || t_fail "$step: pack $compacted is gone at the kill"
		was=$(cksum <"$store/packs/$compacted.pack")
		T_CHECKS=$((T_CHECKS + 1))
	fi
	verify_sound "$store" "$step: after the kill"
	stored=$(check_objects "$store" "$step: after the kill")
	t_assert_eq "$stored" "$objects" "$step: objects readable after the kill"

	# The next run finishes the work.
	"$MODFS_BIN" gc --cache-dir "$store" --max-size "$budget" >"$out/gc2" 2>&1 ||
		t_fail "$step: gc after the kill: $(cat "$out/gc2")"
	usage=$(l_usage "$store")
	[ "$usage" -le $((budget_bytes + segment)) ] || t_fail "$step: $usage bytes on disk after gc, over the budget"
	T_CHECKS=$((T_CHECKS + 1))
	if [ "$step" = compact-switched ]; then
		# (its number, even its inode, may be taken again by a new pack: the bytes are compared)
		[ "$(cksum <"$store/packs/$compacted.pack" 2>/dev/null)" != "$was" ] ||
			t_fail "$step: pack $compacted, switched away from, is still there"
		T_CHECKS=$((T_CHECKS + 1))
	fi
	verify_sound "$store" "$step: after the next gc"
	stored=$(check_objects "$store" "$step: after the next gc")
	[ "$stored" -ge 1 ] || t_fail "$step: the next gc kept nothing"
	T_CHECKS=$((T_CHECKS + 1))
	t_log "$step: after the next gc: $stored objects, $usage bytes on disk"
	for ((i = 0; i < n; i++)); do
		l_get "$store" "$(l_key "$i")" >"$out/got"
		t_assert_file_eq "$out/got" "$(l_zip "$i")" "$step: $(l_key "$i") with upstream"
	done
done
