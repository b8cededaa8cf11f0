#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Who may use the mount: without --allow-other another user (nobody) gets EACCES even on the
# mount's root; with --allow-other it reads store files and lists module trees, and
# default_permissions holds: the view's 0555 directories refuse it a new file, while root (the
# mounting user here) may write into the write area.
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
err=$(as_nobody touch "$F_MNT/cache/download/golang.org/x/mod/@v/v0.7.0.lock" 2>&1) &&
	t_fail "nobody created a file in a 0555 directory"
case $err in
*"Permission denied"*) ;;
*) t_fail "nobody creating a lock file: $err (want EACCES)" ;;
esac
T_CHECKS=$((T_CHECKS + 1))
touch "$F_MNT/cache/download/golang.org/x/mod/@v/v0.7.0.lock" || t_fail "root cannot create a lock file"
as_nobody flock -s "$F_MNT/cache/download/golang.org/x/mod/@v/v0.7.0.lock" -c true ||
	t_fail "nobody cannot flock root's lock file"
T_CHECKS=$((T_CHECKS + 1))
f_stop
