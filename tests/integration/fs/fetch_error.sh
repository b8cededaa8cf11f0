#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The reason of a failed lazy fetch reaches the user. With GOPROXY=off and GOMODCACHE on the
# mount, a build that needs a version upstream refuses (500 with a text/plain reason) or lacks
# (404) fails, and go itself cannot say why; the reason, in upstream's words with the key, is in
# cache/download/<module>/@v/<version>.error in the view of the user who asked (listed in @v;
# another user sees it only once a lookup of theirs fails too) and, for a failure rather than a
# plain not-found, in modfs's log at the default level. A list that fails has list.error. A later lookup that succeeds drops the note, and so
# does removing it.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"
t_require_cmd go

up=$(t_tmpdir up)
cp -rs "$FIX/proxy/." "$up/"
mkdir -p "$T_TMP/multi-v1.0.0"
mv "$up"/example.com/multi/@v/v1.0.0.* "$T_TMP/multi-v1.0.0/"
t_start_upstream "$up" '        location /example.com/broken/ { default_type text/plain; return 500 "backend exploded: disk on fire\n"; }'
f_start_mount main "$UPSTREAM_URL" --notfound-ttl 1 --allow-other
t_go_env
G="$F_MNT/gomodcache"
export GOMODCACHE="$G"

# A build that needs a version upstream refuses.
work=$(t_tmpdir work)
cd "$work"
printf 'module example.com/w\n\ngo 1.17\n\nrequire example.com/broken v1.0.0\n' >go.mod
printf 'package main\n\nimport _ "example.com/broken"\n\nfunc main() {}\n' >main.go
if go build -o w . 2>"$T_TMP/build.err"; then t_fail "the build of a module upstream refuses succeeded"; fi
t_log "go says: $(tr '\n' ' ' <"$T_TMP/build.err")"
note="$G/cache/download/example.com/broken/@v/v1.0.0.error"
[ -f "$note" ] || t_fail "no note $note; @v has: $(ls "$G/cache/download/example.com/broken/@v" 2>&1)"
grep -q "example.com/broken/@v/v1.0.0" "$note" || t_fail "the note does not name the key: $(cat "$note")"
grep -q "500" "$note" || t_fail "the note lacks the status: $(cat "$note")"
grep -q "backend exploded: disk on fire" "$note" || t_fail "the note lacks upstream's words: $(cat "$note")"
ls "$G/cache/download/example.com/broken/@v" | grep -qx v1.0.0.error || t_fail "the note is not listed in @v"
T_CHECKS=$((T_CHECKS + 5))
grep -E "warn: .*example.com/broken/@v/v1.0.0.*backend exploded: disk on fire" "$F_LOG" >/dev/null ||
	t_fail "no log line at the default level names the key and upstream's words: $(tail -5 "$F_LOG")"
T_CHECKS=$((T_CHECKS + 1))
# Notes are the asking user's own: another user sees none until a lookup of theirs fails too.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod 755 "$T_TMP"
	nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	"${nobody[@]}" cat "$note" >/dev/null 2>&1 && t_fail "another user reads a note of root's lookups"
	"${nobody[@]}" stat "$G/example.com/broken@v1.0.0" >/dev/null 2>&1 && t_fail "nobody found the refused module"
	"${nobody[@]}" cat "$note" >"$T_TMP/note.nobody" || t_fail "nobody cannot read the note of its own lookup"
	grep -q "backend exploded" "$T_TMP/note.nobody" || t_fail "the note nobody reads: $(cat "$T_TMP/note.nobody")"
	T_CHECKS=$((T_CHECKS + 2))
fi

# A version upstream does not have: 404 in the note; and a list that fails has list.error.
stat "$G/example.com/multi@v1.0.0" >/dev/null 2>&1 && t_fail "a version upstream lacks is there"
note404="$G/cache/download/example.com/multi/@v/v1.0.0.error"
grep -q "404" "$note404" || t_fail "the note of a missing version: $(cat "$note404" 2>&1)"
# a plain not-found is no warning: go meets them all the time (below the default level)
grep -E "warn: .*example.com/multi/@v/v1.0.0" "$F_LOG" && t_fail "a version upstream lacks is logged as a warning"
T_CHECKS=$((T_CHECKS + 2))
stat "$G/cache/download/example.com/broken/@v/list" >/dev/null 2>&1 && t_fail "a list upstream refuses is there"
grep -q "backend exploded" "$G/cache/download/example.com/broken/@v/list.error" ||
	t_fail "no list.error: $(ls "$G/cache/download/example.com/broken/@v")"
T_CHECKS=$((T_CHECKS + 1))

# Removing a note drops it (as go clean -modcache does).
stat "$G/cache/download/example.com/broken/@v/list" >/dev/null 2>&1 || true
rm "$G/cache/download/example.com/broken/@v/list.error" || t_fail "removing a note failed"
ls "$G/cache/download/example.com/broken/@v" | grep -qx list.error && t_fail "a removed note is still listed"
T_CHECKS=$((T_CHECKS + 1))

# The version appears upstream: once the not-found time has passed, the fetch succeeds and its
# note is gone.
mv "$T_TMP"/multi-v1.0.0/* "$up/example.com/multi/@v/"
for ((i = 0; i < 100; i++)); do
	stat "$G/example.com/multi@v1.0.0" >/dev/null 2>&1 && break
	sleep 0.1
done
stat "$G/example.com/multi@v1.0.0" >/dev/null || t_fail "the version is not found after it appeared upstream"
stat "$note404" >/dev/null 2>&1 && t_fail "the note is still there after a fetch succeeded: $(cat "$note404")"
T_CHECKS=$((T_CHECKS + 1))

cd "$T_TMP"
f_stop
