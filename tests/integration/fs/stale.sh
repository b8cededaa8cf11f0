#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A mountpoint left behind by a modfs that was killed (SIGKILL: no unmount) answers ENOTCONN;
# `modfs serve --mount` on it fails at once with a message naming `fusermount3 -u <dir>`, and
# after that command it mounts and serves again. SIGTERM unmounts cleanly even while a process
# has its working directory inside the mount.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"

t_start_upstream "$FIX/proxy"
f_start_mount main "$UPSTREAM_URL"
cat "$F_MNT/cache/download/golang.org/x/mod/@v/v0.7.0.mod" >/dev/null || t_fail "first mount does not serve"
kill -KILL "$F_PID"
wait "$F_PID" 2>/dev/null || true
err=$(stat "$F_MNT" 2>&1) && t_fail "stat of the dead mount succeeded"
case $err in
*"not connected"*) ;;
*) t_fail "stat of the dead mount: $err (want ENOTCONN)" ;;
esac
T_CHECKS=$((T_CHECKS + 1))

rc=0
timeout 20 "$MODFS_BIN" serve --cache-dir "$F_STORE" --upstream "$UPSTREAM_URL" --mount "$F_MNT" --sumdb off \
	>"$T_TMP/again.log" 2>&1 ||
	rc=$?
t_assert_eq "$rc" 1 "exit status of modfs serve on a dead mount ($(cat "$T_TMP/again.log"))"
grep -qF "fusermount3 -u $F_MNT" "$T_TMP/again.log" || t_fail "message does not name the command: $(cat "$T_TMP/again.log")"
T_CHECKS=$((T_CHECKS + 1))
t_log "$(cat "$T_TMP/again.log")"

fusermount3 -u "$F_MNT"
f_start_mount main "$UPSTREAM_URL"
t_assert_file_eq "$F_MNT/cache/download/golang.org/x/mod/@v/v0.7.0.mod" "$FIX/proxy/golang.org/x/mod/@v/v0.7.0.mod" \
	".mod after mounting again"

# Busy at stop: a shell sits in the mount with a file open.
(cd "$F_MNT/golang.org/x/mod@v0.7.0" && exec sleep 30 <go.mod) &
busy=$!
t_on_exit "kill $busy"
sleep 0.3
f_stop
kill "$busy" 2>/dev/null || true
