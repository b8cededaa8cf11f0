#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A byte flipped inside a pack file on disk never reaches a reader: the next get either fails or
# (healed by a refetch) returns the exact bytes, and the get after it returns the exact bytes.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/store_lib.sh"

t_start_upstream "$FIX/proxy"
out=$(t_tmpdir out)

# flip FILE OFFSET: invert every bit of one byte in place.
flip() {
	python3 - "$1" "$2" <<'PY'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0xFF]))
PY
}

for key in golang.org/x/text/@v/v0.7.0.zip golang.org/x/mod/@v/v0.7.0.zip; do
	want="$FIX/proxy/$key"
	# A fresh store per key, so that the largest pack holds this object's bytes.
	CACHE=$(t_tmpdir "cache-${key//\//_}")
	s_get "$key" >"$out/first"
	t_assert_file_eq "$out/first" "$want" "$key before the damage"

	# Damage the middle of the largest pack.
	pack=$(find "$CACHE" -type f -name '*.pack' -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
	[ -n "$pack" ] || t_fail "no *.pack file under $CACHE: $(cd "$CACHE" && find . | head -20)"
	psize=$(stat -c %s "$pack")
	flip "$pack" $((psize / 2))
	t_log "flipped byte $((psize / 2)) of $pack ($psize bytes)"
	requests=$(t_upstream_count "GET /$key ")

	rc=0
	s_get "$key" >"$out/after" 2>"$out/after.err" || rc=$?
	got=$(stat -c %s "$out/after")
	if [ "$rc" -eq 0 ]; then
		t_assert_file_eq "$out/after" "$want" "$key right after the damage (exit 0)"
	else
		t_log "get after the damage failed (rc $rc): $(head -c 300 "$out/after.err")"
		cmp -s -n "$got" "$out/after" "$want" ||
			t_fail "$key: the failed get wrote $got bytes that are not a prefix of the zip"
		T_CHECKS=$((T_CHECKS + 1))
	fi
	# The damage must have been seen: the get failed, or it fetched the object again.
	if [ "$rc" -eq 0 ] && [ "$(t_upstream_count "GET /$key ")" -eq "$requests" ]; then
		t_fail "$key: served with no refetch although a byte in the middle of its pack was flipped"
	fi
	s_get "$key" >"$out/again" 2>"$out/again.err" ||
		t_fail "$key: get after the damage and one retry failed: $(cat "$out/again.err")"
	t_assert_file_eq "$out/again" "$want" "$key on the following get"
done
