#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A mountpoint that is already a live mount is refused: a second `modfs serve --mount` on a
# live modfs mount exits 1 at once with a message that says so and names the unmount command,
# and the first mount keeps serving (nothing was stacked on it); the same for a mountpoint with
# another file system mounted on it (a tmpfs).
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"

t_start_upstream "$FIX/proxy"
f_start_mount main "$UPSTREAM_URL"
mod="cache/download/golang.org/x/mod/@v/v0.7.0.mod"
t_assert_file_eq "$F_MNT/$mod" "$FIX/proxy/golang.org/x/mod/@v/v0.7.0.mod" "the first mount serves"

# second_mount DIR: a second modfs on DIR must exit 1 naming the mount point and the way out.
second_mount() {
	local dir=$1 rc=0
	timeout 20 "$MODFS_BIN" serve --cache-dir "$T_TMP/store-second" --upstream "$UPSTREAM_URL" --mount "$dir" \
		>"$T_TMP/second.log" 2>&1 || rc=$?
	t_assert_eq "$rc" 1 "exit status of a second modfs serve on $dir ($(cat "$T_TMP/second.log"))"
	grep -qF "mountpoint $dir is already a mount point" "$T_TMP/second.log" ||
		t_fail "the message does not say the mount point is taken: $(cat "$T_TMP/second.log")"
	grep -qF "fusermount3 -u $dir" "$T_TMP/second.log" ||
		t_fail "the message does not name the unmount command: $(cat "$T_TMP/second.log")"
	T_CHECKS=$((T_CHECKS + 2))
	t_log "$(cat "$T_TMP/second.log")"
}

second_mount "$F_MNT"
t_assert_eq "$(findmnt -rn -o TARGET | grep -cxF "$F_MNT")" 1 "mounts on $F_MNT after the refused second one"
t_assert_file_eq "$F_MNT/$mod" "$FIX/proxy/golang.org/x/mod/@v/v0.7.0.mod" "the first mount still serves"
kill -0 "$F_PID" || t_fail "the first modfs died"
f_stop

# Any other file system on the mountpoint is refused too.
if [ "$(id -u)" -eq 0 ]; then
	other=$(t_tmpdir other)
	mount -t tmpfs modfs-test "$other" || t_fail "mount of a tmpfs failed"
	t_on_exit "umount $other"
	second_mount "$other"
	t_assert_eq "$(findmnt -rn -o FSTYPE --target "$other")" tmpfs "file system on $other after the refused mount"
	umount "$other"
else
	t_log "not root: skipped the tmpfs case"
fi
