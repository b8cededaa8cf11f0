#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A `modfs get` killed (SIGKILL) at each step of storing a 25 MB zip, at exactly that step: the
# fault points of test builds (MODFS_FAULT=<step>, see cache/store/fault.c) make the process kill
# itself there, so no kill can land somewhere else (a timer would land mid-download, before
# anything is written). For every step:
#   - the kill happened where it says (exit by SIGKILL, the fault point's line on stderr), and
#     the pack holds the written bytes (before the commit, more than the index refers to);
#   - the object is visible only if the commit happened, and then whole;
#   - the next start reclaims what the dead process wrote and never committed: after it stores a
#     different object, the packs hold exactly the bytes the index refers to (stored_bytes);
#   - the zip is then byte-identical, fetched again only if it was not committed.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/store_lib.sh"

big="$FIX/big/example.com/big/@v/v1.0.0.zip"
key=example.com/big/@v/v1.0.0.zip
t_start_upstream "$FIX/big"


for step in pack-written pack-sync-begun pack-synced group-rows before-commit committed; do
	CACHE=$(t_tmpdir "cache-$step")
	out=$(t_tmpdir "out-$step")
	s_get example.com/big/@v/v1.0.0.mod >"$out/mod"
	before=$(s_stat objects)
	before_packs=$(t_pack_bytes "$CACHE")
	rc=0
	MODFS_FAULT=$step "$MODFS_BIN" get --cache-dir "$CACHE" --upstream "$UPSTREAM_URL" --sumdb off "$key" \
		>"$out/killed" 2>"$out/killed.err" || rc=$?
	t_assert_eq "$rc" 137 "$step: exit status of the killed get ($(cat "$out/killed.err"))"
	grep -q "fault point reached" "$out/killed.err" || t_fail "$step: not killed at its fault point"
	after_packs=$(t_pack_bytes "$CACHE")
	t_log "$step: packs $before_packs -> $after_packs bytes at the kill"
	[ "$after_packs" -gt "$((before_packs + (1 << 20)))" ] ||
		t_fail "$step: the kill landed before the zip's chunks were written ($after_packs bytes in packs)"
	T_CHECKS=$((T_CHECKS + 1))
	if [ "$step" = committed ]; then
		t_assert_eq "$(s_stat objects)" "$((before + 1))" "$step: objects after the kill"
		t_assert_eq "$(s_stat stored_bytes)" "$after_packs" "$step: packs hold exactly the indexed bytes"
	else
		t_assert_eq "$(s_stat objects)" "$before" "$step: objects after the kill"
		[ "$(s_stat stored_bytes)" -lt "$after_packs" ] || t_fail "$step: no unindexed tail to reclaim"
		T_CHECKS=$((T_CHECKS + 1))
	fi

	# Restart: a get of another object opens the store (and reclaims), and writes to the pack.
	s_get example.com/big/@v/v1.0.0.info >"$out/info"
	t_assert_eq "$(t_pack_bytes "$CACHE")" "$(s_stat stored_bytes)" "$step: pack bytes after the restart = indexed bytes"

	requests=$(t_upstream_count "GET /$key ")
	s_get "$key" >"$out/got"
	t_assert_file_eq "$out/got" "$big" "$step: the zip after the crash"
	fetched=$(($(t_upstream_count "GET /$key ") - requests))
	if [ "$step" = committed ]; then
		t_assert_eq "$fetched" 0 "$step: upstream requests for the committed zip"
	else
		t_assert_eq "$fetched" 1 "$step: upstream requests for the lost zip"
	fi
	t_assert_eq "$(t_pack_bytes "$CACHE")" "$(s_stat stored_bytes)" "$step: pack bytes at the end = indexed bytes"
done
