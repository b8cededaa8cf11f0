#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Who may use the mount, and whose writes each user sees: without --allow-other another user
# (nobody) gets EACCES even on the mount's root; with --allow-other it reads store files and lists
# module trees, and each user's own writes (a lock file) land in a write area of that user
# (write_dir/<uid>: 0700, the user's), which the other user neither sees through the mount nor
# reads on disk; neither can put a file into a store module (EROFS).
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"
t_require_cmd setpriv
[ "$(id -u)" -eq 0 ] || t_skip "needs root to run commands as another user"

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
chmod 755 "$T_TMP" # let nobody reach the mountpoint

t_start_upstream "$FIX/proxy"
f_start_mount private "$UPSTREAM_URL"
mod="cache/download/golang.org/x/mod/@v/v0.7.0.mod"
cat "$F_MNT/$mod" >/dev/null || t_fail "root cannot read its own mount"
err=$(as_nobody cat "$F_MNT/$mod" 2>&1) && t_fail "nobody read a mount made without --allow-other"
case $err in
*"Permission denied"*) ;;
*) t_fail "nobody on a private mount: $err (want EACCES)" ;;
esac
T_CHECKS=$((T_CHECKS + 1))
f_stop

f_start_mount shared "$UPSTREAM_URL" --allow-other
as_nobody cat "$F_MNT/$mod" >"$T_TMP/mod.nobody" || t_fail "nobody cannot read with --allow-other"
t_assert_file_eq "$T_TMP/mod.nobody" "$FIX/proxy/${mod#cache/download/}" ".mod read by nobody"
as_nobody ls "$F_MNT/golang.org/x/mod@v0.7.0" >/dev/null || t_fail "nobody cannot list a module with --allow-other"
T_CHECKS=$((T_CHECKS + 1))

atv="$F_MNT/cache/download/golang.org/x/mod/@v"
rw="$F_STORE/gomodcache-rw"
as_nobody touch "$atv/v0.7.0.lock" || t_fail "nobody cannot create its lock file"
t_assert_eq "$(stat -c '%u %a' "$rw/65534")" "65534 700" "owner and mode of nobody's write area"
t_assert_eq "$(stat -c '%u' "$rw/65534/cache/download/golang.org/x/mod/@v/v0.7.0.lock")" 65534 "owner of nobody's lock file"
stat "$atv/v0.7.0.lock" >/dev/null 2>&1 && t_fail "root sees nobody's lock file"
T_CHECKS=$((T_CHECKS + 1))
touch "$atv/v0.7.0.info999.tmp" || t_fail "root cannot create a temp file"
as_nobody stat "$atv/v0.7.0.info999.tmp" >/dev/null 2>&1 && t_fail "nobody sees root's temp file"
ls "$atv" | grep -qx v0.7.0.info999.tmp || t_fail "root does not list its own temp file"
as_nobody ls "$atv" | grep -qx v0.7.0.info999.tmp && t_fail "nobody lists root's temp file"
T_CHECKS=$((T_CHECKS + 1))
err=$(as_nobody ls "$rw/0" 2>&1) && t_fail "nobody read root's write area on disk"
case $err in
*"Permission denied"*) ;;
*) t_fail "nobody listing root's write area: $err (want EACCES)" ;;
esac
T_CHECKS=$((T_CHECKS + 1))
for who in root nobody; do
	run=()
	[ "$who" = root ] || run=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	err=$("${run[@]}" touch "$F_MNT/golang.org/x/mod@v0.7.0/evil.go" 2>&1) && t_fail "$who planted a file in a module"
	case $err in
	*"Read-only file system"*) ;;
	*) t_fail "$who creating a file in a module: $err (want EROFS)" ;;
	esac
	T_CHECKS=$((T_CHECKS + 1))
done
as_nobody flock -s "$atv/v0.7.0.ziphash" -c true || t_fail "nobody cannot flock a store .ziphash"
T_CHECKS=$((T_CHECKS + 1))
f_stop
