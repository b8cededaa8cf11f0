#!/bin/bash
# SPDX-License-Identifier: MIT
#
# What a new operator tripped over: a reading command on a mistyped --cache-dir is an error and
# creates nothing; a password in the upstream URL is never printed (banner, logs, error bodies);
# 404 and 502 bodies do not name the upstream; the banner is a notice; /healthz is liveness and
# /readyz goes 503 when upstream stops answering; `modfs get MODULE@VERSION` prints go.sum lines;
# a failed mount is one "modfs:" line; log lines are journal lines when stderr is the journal.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/../http/http_lib.sh"

# stat on a missing store
rc=0
"$MODFS_BIN" stat --cache-dir "$T_TMP/mistyped" >/dev/null 2>"$T_TMP/stat.err" || rc=$?
t_assert_eq "$rc" 1 "exit status of stat on a missing store"
t_assert_eq "$(cat "$T_TMP/stat.err")" \
	"modfs: cannot open store $T_TMP/mistyped: no store in $T_TMP/mistyped (modfs serve, get or warm creates one there)" \
	"stat on a missing store"
T_CHECKS=$((T_CHECKS + 1))
[ ! -e "$T_TMP/mistyped" ] || t_fail "stat created $T_TMP/mistyped"

# the upstream URL carries a password; nginx ignores it
t_start_upstream "$FIX/proxy"
secret_url="http://builder:hunter2@${UPSTREAM_URL#http://}"
h_start_modfs main "$secret_url" --log-level info
# the banner follows the listening socket: wait for it rather than race it
for ((i = 0; i < 200; i++)); do
	grep -q "^modfs: notice: modfs .* serving store" "$H_LOG" && break
	sleep 0.05
done
grep -q "^modfs: notice: modfs .* serving store .* (upstream http://builder:xxxxx@127.0.0.1:" "$H_LOG" ||
	t_fail "the banner is not a notice with the masked upstream: $(head -3 "$H_LOG")"
# a 404 and a 502 (an invalid body: a zip that is not one)
body=$(curl -sS "$H_URL/example.com/nosuch/@v/v1.0.0.info")
t_assert_eq "$body" "not found: /example.com/nosuch/@v/v1.0.0.info" "404 body"
mkdir -p "$T_TMP/bad/example.com/broken/@v"
echo "not a zip" >"$T_TMP/bad/example.com/broken/@v/v1.0.0.zip"
h_upstream_tree
stop_pid=$H_PID stop_log=$H_LOG
h_stop "$stop_pid" "$stop_log"
t_start_upstream "$T_TMP/bad"
secret_url="http://builder:hunter2@${UPSTREAM_URL#http://}"
h_start_modfs second "$secret_url" --log-level info
status=$(curl -sS -o "$T_TMP/502.body" -w '%{http_code}' "$H_URL/example.com/broken/@v/v1.0.0.zip")
t_assert_eq "$status" 502 "status of an invalid zip from upstream"
t_assert_eq "$(cat "$T_TMP/502.body")" \
	"bad gateway: fetching /example.com/broken/@v/v1.0.0.zip failed: upstream's answer failed validation" "502 body"
grep -q "127.0.0.1" "$T_TMP/502.body" && t_fail "the 502 body names the upstream"
grep -q "^modfs: warn: GET /example.com/broken/@v/v1.0.0.zip: 502 upstream http://builder:xxxxx@127.0.0.1:" "$H_LOG" ||
	t_fail "the log does not keep the masked upstream detail: $(grep 502 "$H_LOG")"
grep -q '^modfs: info: 127\.0\.0\.1 GET /example.com/broken/@v/v1.0.0.zip 502 ' "$H_LOG" ||
	t_fail "the request line lacks the client address"
t_assert_eq "$(curl -sS "$H_URL/readyz")" "ready: upstream answered 0 s ago" "/readyz after an answer"

# upstream gone: liveness stays, readiness goes
kill "$UPSTREAM_PID"
wait "$UPSTREAM_PID" 2>/dev/null || true
curl -sS -o /dev/null "$H_URL/example.com/other/@v/v1.0.0.info" || true
status=$(curl -sS -o "$T_TMP/readyz" -w '%{http_code}' "$H_URL/readyz")
t_assert_eq "$status" 503 "/readyz with upstream gone"
grep -q '^not ready: the last upstream request, [0-9]* s ago, got no answer$' "$T_TMP/readyz" ||
	t_fail "/readyz body: $(cat "$T_TMP/readyz")"
t_assert_eq "$(curl -sS "$H_URL/healthz")" ok "/healthz with upstream gone"
h_stop "$H_PID" "$H_LOG"
T_CHECKS=$((T_CHECKS + 1))
! grep -rq hunter2 "$T_TMP"/modfs-*.log || t_fail "a log holds the upstream password"

# get MODULE@VERSION: the go.sum lines of the version
t_start_upstream "$FIX/proxy"
"$MODFS_BIN" get --cache-dir "$T_TMP/getstore" --upstream "$UPSTREAM_URL" --sumdb off golang.org/x/text@v0.8.0 \
	>"$T_TMP/get.out"
t_assert_eq "$(cat "$T_TMP/get.out")" "$(grep '^golang.org/x/text v0.8.0' "$FIX/app/go.sum")" "go.sum lines of modfs get"
t_assert_eq "$(t_upstream_count golang.org/x/text/@v/v0.8.0)" 3 "objects fetched by modfs get MODULE@VERSION"

# a failed mount (a user who may not open /dev/fuse): one line, libfuse's reason in it
if [ -c /dev/fuse ] && [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	d=$(t_tmpdir nobody)
	mkdir -p "$d/mnt" "$d/store"
	chmod 777 "$d" "$d/mnt" "$d/store"
	chmod 755 "$T_TMP"
	rc=0
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$MODFS_BIN" serve --cache-dir "$d/store" --upstream off \
		--mount "$d/mnt" >"$T_TMP/mount.out" 2>&1 || rc=$?
	t_assert_eq "$rc" 1 "exit status of a failed mount"
	t_assert_eq "$(cat "$T_TMP/mount.out")" \
		"modfs: serve: fs: cannot mount on $d/mnt: fuse: failed to open /dev/fuse: Permission denied" "a failed mount"
fi

# stderr is the journal: priority prefixes, no level words
: >"$T_TMP/journal.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T_TMP/journal.log") \
	"$MODFS_BIN" get --cache-dir "$T_TMP/getstore" --upstream off example.com/nosuch@v1.0.0 2>>"$T_TMP/journal.log" >/dev/null || true
port=$(t_free_port)
JOURNAL_STREAM=$(stat -c '%d:%i' "$T_TMP/journal.log") \
	"$MODFS_BIN" serve --cache-dir "$T_TMP/getstore" --upstream off --listen "127.0.0.1:$port" 2>>"$T_TMP/journal.log" &
pid=$!
t_wait_port "$port"
t_stop_modfs "$pid" "$T_TMP/journal.log"
grep -q '^<5>modfs .* serving store' "$T_TMP/journal.log" || t_fail "no journal-format notice: $(cat "$T_TMP/journal.log")"
grep -q '^modfs: notice' "$T_TMP/journal.log" && t_fail "a log line kept the terminal format under the journal"
true
