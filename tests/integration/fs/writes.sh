#!/bin/bash
# SPDX-License-Identifier: MIT
#
# What the go command writes into GOMODCACHE, done by hand on the mount: flock on a store-backed
# .ziphash (shared, and exclusive against another process); a .lock beside a store module, a
# .partial only beside a module the store does not serve (created, listed, removed); a temp file
# may be made but not renamed over a store-backed .info (EROFS, the .info unchanged); removing a
# store file hides it from the listing only, and a lookup brings it back unchanged; a module
# directory of the store is not empty; chmod, truncate, append and rename of store names are
# EROFS. In the write area (the sumdb cache, cache/lock): mkdir/chmod/truncate/rename/unlink/rmdir
# with exact modes, mirrored at the same relative paths in the user's area, listed merged with the
# store's entries, kept across a restart.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"
t_require_cmd flock python3

t_start_upstream "$FIX/proxy"
f_start_mount main "$UPSTREAM_URL"
atv="$F_MNT/cache/download/golang.org/x/mod/@v"
mod="$F_MNT/golang.org/x/mod@v0.7.0"
stat "$mod" "$atv/v0.7.0.info" >/dev/null || t_fail "module lookup failed"

# erofs WHAT CMD...: CMD fails with "Read-only file system".
erofs() {
	local what=$1 err
	shift
	if err=$("$@" 2>&1); then t_fail "$what succeeded on a store-backed name"; fi
	case $err in
	*"Read-only file system"*) ;;
	*) t_fail "$what: $err (want EROFS)" ;;
	esac
	T_CHECKS=$((T_CHECKS + 1))
}

# flock on the store's .ziphash: shared locks, and an exclusive lock another process sees.
flock -s "$atv/v0.7.0.ziphash" -c true || t_fail "flock -s on .ziphash failed"
T_CHECKS=$((T_CHECKS + 1))
flock -x "$atv/v0.7.0.ziphash" -c "sleep 1" &
holder=$!
sleep 0.3
if flock -n -x "$atv/v0.7.0.ziphash" -c true; then t_fail "a second exclusive flock on .ziphash succeeded"; fi
wait "$holder" || t_fail "the holder of the .ziphash lock failed"
flock -n -x "$atv/v0.7.0.ziphash" -c true || t_fail "flock after the holder left failed"
T_CHECKS=$((T_CHECKS + 2))

# .lock beside a store module; .partial only beside a module the store does not serve.
umask 022
flock -x "$atv/v0.7.0.lock" -c true || t_fail "creating .lock failed"
t_assert_eq "$(stat -c '%s %a' "$atv/v0.7.0.lock")" "0 644" "size and mode of the .lock file"
erofs ".partial beside a module the store serves" touch "$atv/v0.7.0.partial"
nothere="$F_MNT/cache/download/example.com/nothere/@v"
flock -x "$nothere/v1.0.0.lock" -c "touch '$nothere/v1.0.0.partial'" || t_fail "creating .lock/.partial failed"
[ -f "$F_WRITE/cache/download/example.com/nothere/@v/v1.0.0.partial" ] || t_fail ".partial is not in the write area"
T_CHECKS=$((T_CHECKS + 1))
ls "$atv" >"$T_TMP/ls-atv"
for f in v0.7.0.info v0.7.0.lock v0.7.0.zip v0.7.0.ziphash; do
	grep -qx "$f" "$T_TMP/ls-atv" || t_fail "$f not listed in @v: $(tr '\n' ' ' <"$T_TMP/ls-atv")"
done
ls "$nothere" | grep -qx v1.0.0.partial || t_fail ".partial not listed in its @v"
T_CHECKS=$((T_CHECKS + 1))
rm "$nothere/v1.0.0.partial" "$nothere/v1.0.0.lock"
stat "$nothere/v1.0.0.partial" >/dev/null 2>&1 && t_fail ".partial still there after rm"
T_CHECKS=$((T_CHECKS + 1))

# A temp file may be made beside the store's .info, but not renamed over it.
python3 - "$atv" <<'PY' || t_fail "temp file beside .info: unexpected result"
import errno, os, sys
d = sys.argv[1]
tmp = os.path.join(d, "v0.7.0.info123456.tmp")
fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
os.write(fd, b'{"Version":"v0.7.0","Time":"2000-01-01T00:00:00Z"}\n')
os.close(fd)
try:
    os.rename(tmp, os.path.join(d, "v0.7.0.info"))
    sys.exit("rename over the store's .info succeeded")
except OSError as e:
    if e.errno != errno.EROFS:
        sys.exit("rename over the store's .info: %s (want EROFS)" % e)
os.unlink(tmp)
PY
T_CHECKS=$((T_CHECKS + 1))
t_assert_file_eq "$atv/v0.7.0.info" "$FIX/proxy/golang.org/x/mod/@v/v0.7.0.info" "the store's .info after the refused rename"

# Removing a store file hides it from this view's listing; looking it up brings it back.
rm "$atv/v0.7.0.zip" || t_fail "rm of a store file failed"
ls "$atv" | grep -qx v0.7.0.zip && t_fail "a removed store file is still listed"
T_CHECKS=$((T_CHECKS + 1))
t_assert_file_eq "$atv/v0.7.0.zip" "$FIX/proxy/golang.org/x/mod/@v/v0.7.0.zip" "the store file looked up again"
ls "$atv" | grep -qx v0.7.0.zip || t_fail "the store file looked up again is not listed"
T_CHECKS=$((T_CHECKS + 1))

# The store's names cannot change.
if err=$(rmdir "$mod/zip" 2>&1); then t_fail "rmdir of a module directory with files succeeded"; fi
case $err in *"not empty"*) ;; *) t_fail "rmdir of a module directory: $err (want ENOTEMPTY)" ;; esac
T_CHECKS=$((T_CHECKS + 1))
erofs "chmod of a store file" chmod 644 "$atv/v0.7.0.mod"
erofs "truncate of a store file" truncate -s 0 "$atv/v0.7.0.mod"
erofs "append to a store file" sh -c "echo x >>'$mod/go.mod'"
erofs "rename of a store file" mv "$atv/v0.7.0.mod" "$atv/v0.7.0.mod.bak"
chmod 444 "$atv/v0.7.0.mod" || t_fail "chmod of a store file to its own mode failed"
T_CHECKS=$((T_CHECKS + 1))
t_assert_file_eq "$atv/v0.7.0.mod" "$FIX/proxy/golang.org/x/mod/@v/v0.7.0.mod" ".mod after the refused changes"

# The write area: the sumdb cache, cache/lock, modes, truncate, rename, remove.
umask 002
sumdb="$F_MNT/cache/download/sumdb/sum.golang.org"
mkdir -p "$sumdb/lookup" "$sumdb/tile/8/0"
printf 'tile bytes' >"$sumdb/tile/8/0/000.p.tmp"
mv "$sumdb/tile/8/0/000.p.tmp" "$sumdb/tile/8/0/000.p"
t_assert_eq "$(cat "$F_WRITE/cache/download/sumdb/sum.golang.org/tile/8/0/000.p")" "tile bytes" "write area mirror of the tile"
t_assert_eq "$(stat -c %a "$sumdb/tile/8/0/000.p")" 664 "mode of a new file under umask 002"
t_assert_eq "$(stat -c %a "$sumdb/lookup")" 775 "mode of a new directory under umask 002"
chmod 600 "$sumdb/tile/8/0/000.p"
t_assert_eq "$(stat -c %a "$sumdb/tile/8/0/000.p")" 600 "mode after chmod"
truncate -s 4 "$sumdb/tile/8/0/000.p"
t_assert_eq "$(cat "$sumdb/tile/8/0/000.p")" "tile" "content after truncate"
flock -x "$F_MNT/cache/lock" -c "echo locked >'$sumdb/lookup/example.com!x@v1.0.0'"
t_assert_eq "$(ls "$F_MNT/cache" | tr '\n' ' ')" "download lock " "cache/ merged listing"
mv "$sumdb" "$F_MNT/cache/download/sumdb/renamed"
t_assert_eq "$(cat "$F_MNT/cache/download/sumdb/renamed/tile/8/0/000.p")" "tile" "file under a renamed directory"
t_assert_eq "$(cat "$F_MNT/cache/download/sumdb/renamed/lookup/example.com!x@v1.0.0")" "locked" "lookup file after the rename"
ls "$F_MNT/cache/download" | grep -qx sumdb || t_fail "sumdb not listed in cache/download"
T_CHECKS=$((T_CHECKS + 1))

# The write area is real disk: it is there after a restart.
f_stop
f_start_mount main "$UPSTREAM_URL"
t_assert_eq "$(cat "$F_MNT/cache/download/sumdb/renamed/tile/8/0/000.p")" "tile" "write-area file after a restart"
[ -f "$atv/v0.7.0.lock" ] || t_fail ".lock gone after a restart"
T_CHECKS=$((T_CHECKS + 1))
rm -r "$F_MNT/cache/download/sumdb" "$F_MNT/cache/lock" "$atv/v0.7.0.lock"
t_assert_eq "$(find "$F_WRITE" -mindepth 1 -not -type d | head -3)" "" "files left in the write area"
stat "$F_MNT/cache/download/sumdb" >/dev/null 2>&1 && t_fail "sumdb still there after rm -r"
T_CHECKS=$((T_CHECKS + 1))

f_stop
