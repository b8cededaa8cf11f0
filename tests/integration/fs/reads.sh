#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Reading the extracted trees: a member of the big module larger than any FUSE read is
# byte-identical to what unzip extracts from the fixture zip; 8 concurrent readers of one member
# get identical bytes; reads at decreasing offsets come back right; `find` over every extracted
# module lists exactly the zip's files (no extra files or directories); files are 0444,
# directories 0555, owned by the mounting user; the .zip on the mount is the upstream zip; and
# sizes and mtimes are the same after a restart of modfs on the same store.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"
t_require_cmd unzip python3

f_upstream_tree
t_start_upstream "$F_UP"
f_start_mount main "$UPSTREAM_URL"
out=$(t_tmpdir out)

bigzip="$FIX/big/example.com/big/@v/v1.0.0.zip"
[ -f "$bigzip" ] || t_fail "big fixture zip missing"
big="$F_MNT/example.com/big@v1.0.0"

# The largest member, read once through the mount.
read -r size name < <(unzip -Zl "$bigzip" | awk '$1 ~ /^-/ { print $4, $NF }' | sort -n | tail -1)
[ "$size" -gt $((1024 * 1024)) ] || t_fail "largest member of the big zip is only $size bytes"
member=${name#example.com/big@v1.0.0/}
unzip -p "$bigzip" "$name" >"$out/want"
cat "$big/$member" >"$out/got"
t_assert_file_eq "$out/got" "$out/want" "$member ($size bytes) read through the mount"

# 8 readers at once on another large member nobody has read yet.
read -r name2 < <(unzip -Zl "$bigzip" | awk '$1 ~ /^-/ { print $4, $NF }' | sort -n | tail -2 | head -1 | cut -d' ' -f2)
member2=${name2#example.com/big@v1.0.0/}
[ "$member2" != "$member" ] || t_fail "no second large member"
unzip -p "$bigzip" "$name2" >"$out/want2"
pids=()
for i in 1 2 3 4 5 6 7 8; do
	cat "$big/$member2" >"$out/got2.$i" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || t_fail "a concurrent reader failed"; done
for i in 1 2 3 4 5 6 7 8; do
	t_assert_file_eq "$out/got2.$i" "$out/want2" "concurrent reader $i of $member2"
done

# Reads at decreasing offsets of a third member: each must restart inflating correctly.
read -r name3 < <(unzip -Zl "$bigzip" | awk '$1 ~ /^-/ { print $4, $NF }' | sort -n | tail -3 | head -1 | cut -d' ' -f2)
member3=${name3#example.com/big@v1.0.0/}
unzip -p "$bigzip" "$name3" >"$out/want3"
python3 - "$big/$member3" "$out/want3" <<'PY' || t_fail "reads at decreasing offsets of $member3 differ"
import os, sys
got, want = sys.argv[1], sys.argv[2]
data = open(want, "rb").read()
fd = os.open(got, os.O_RDONLY)
size = len(data)
for off in range(size - 70000, -1, -(size // 7)):
    chunk = os.pread(fd, 70000, off)
    if chunk != data[off:off + 70000]:
        sys.exit("offset %d: %d bytes differ" % (off, len(chunk)))
PY
T_CHECKS=$((T_CHECKS + 1))

# The .zip itself, served from the store's chunks.
t_assert_file_eq "$F_MNT/cache/download/example.com/big/@v/v1.0.0.zip" "$bigzip" "big .zip on the mount"

# Every extracted module lists exactly its zip's files, and only the directories above them.
modules() {
	awk '{ print $1, $2 }' "$FIX/modules.txt"
	awk '{ print $1, $2 }' "$FIX/big/modules.txt"
}
nmod=0
while read -r m v; do
	em=$(f_escape "$m") ev=$(f_escape "$v")
	zip="$F_UP/$em/@v/$ev.zip"
	dir="$F_MNT/$em@$ev"
	unzip -Z1 "$zip" | grep -v '/$' | sed "s|^$m@$v/||" | LC_ALL=C sort >"$out/zip-files"
	(cd "$dir" && find . -type f -printf '%P\n' | LC_ALL=C sort) >"$out/mount-files"
	t_assert_file_eq "$out/mount-files" "$out/zip-files" "files of $m@$v"
	awk -F/ '{ p = ""; for (i = 1; i < NF; i++) { p = p (i > 1 ? "/" : "") $i; print p } }' "$out/zip-files" |
		LC_ALL=C sort -u >"$out/zip-dirs"
	(cd "$dir" && find . -mindepth 1 -type d -printf '%P\n' | LC_ALL=C sort) >"$out/mount-dirs"
	t_assert_file_eq "$out/mount-dirs" "$out/zip-dirs" "directories of $m@$v"
	t_assert_eq "$(find "$dir" -mindepth 1 -not -type f -not -type d | head -3)" "" "other file types in $m@$v"
	t_assert_eq "$(find "$dir" -type f -not -perm 0444 | head -3)" "" "files of $m@$v not 0444"
	t_assert_eq "$(find "$dir" -type d -not -perm 0555 | head -3)" "" "directories of $m@$v not 0555"
	t_assert_eq "$(find "$dir" -not -uid "$(id -u)" | head -3)" "" "entries of $m@$v not owned by the mounting user"
	nmod=$((nmod + 1))
done < <(modules)
t_log "$nmod extracted modules checked"
t_assert_eq "$(find "$F_MNT/cache/download" -type f -not -perm 0444 | head -3)" "" "cache/download files not 0444"
t_assert_eq "$(find "$F_MNT/cache/download" -type d -not -perm 0555 | head -3)" "" "cache/download directories not 0555"

# Sizes and mtimes stay put across a restart on the same store.
snapshot() {
	(cd "$F_MNT" && find example.com/big@v1.0.0 golang.org cache/download -printf '%p %s %T@ %m\n' | LC_ALL=C sort)
}
snapshot >"$out/before"
f_stop
f_start_mount main "$UPSTREAM_URL"
snapshot >"$out/after"
t_assert_file_eq "$out/after" "$out/before" "sizes, mtimes and modes after a restart"
requests=$(wc -l <"$UPSTREAM_LOG")
cat "$big/$member" | cmp -s - "$out/want" || t_fail "$member differs after the restart"
t_assert_eq "$(wc -l <"$UPSTREAM_LOG")" "$requests" "upstream requests after the restart"

f_stop
