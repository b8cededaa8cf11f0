#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `modfs warm` over the fixture app (go.mod and go.sum) fills an empty store from an nginx
# upstream; then the upstream is stopped, `modfs serve --upstream off` serves the store, and
# `go build` of the app with GOPROXY at it succeeds and prints app.expected. A second warm finds
# everything in the store. A go.mod naming a version upstream lacks makes warm exit 1 and name it.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/../http/http_lib.sh"
t_require_cmd go

t_start_upstream "$FIX/proxy"
store=$(t_tmpdir store)
"$MODFS_BIN" warm --cache-dir "$store" --upstream "$UPSTREAM_URL" --sumdb off "$FIX/app" >"$T_TMP/warm.out" \
	2>"$T_TMP/warm.err" ||
	t_fail "modfs warm failed: $(cat "$T_TMP/warm.err")"
grep -q '^warm: 6 module versions: 16 objects fetched (.*), 0 already in the store, 0 failed' "$T_TMP/warm.out" ||
	t_fail "unexpected summary: $(cat "$T_TMP/warm.out")"
# not a terminal: one plain line per module version
t_assert_eq "$(grep -c '^warm: \[[0-9]/6\] .* ok' "$T_TMP/warm.err")" 6 "progress lines"
t_assert_eq "$(t_upstream_count .zip)" 5 "zips fetched from upstream"
kill "$UPSTREAM_PID"
wait "$UPSTREAM_PID" 2>/dev/null || true

# again: all there already, nothing to fetch (upstream is gone)
"$MODFS_BIN" warm --cache-dir "$store" --upstream off "$FIX/app/go.mod" "$FIX/app/go.sum" >"$T_TMP/warm2.out" 2>&1 ||
	t_fail "second warm failed: $(cat "$T_TMP/warm2.out")"
grep -q '0 objects fetched (0 B), 16 already in the store, 0 failed' "$T_TMP/warm2.out" ||
	t_fail "second warm fetched something: $(cat "$T_TMP/warm2.out")"

port=$(t_free_port)
"$MODFS_BIN" serve --cache-dir "$store" --upstream off --listen "127.0.0.1:$port" >"$T_TMP/serve.log" 2>&1 &
pid=$!
t_on_exit "kill $pid; wait $pid"
t_wait_port "$port"
t_go_env
cp -r "$FIX/app" "$T_TMP/app"
(cd "$T_TMP/app" && GOPROXY="http://127.0.0.1:$port" go build -o app . 2>"$T_TMP/build.err") ||
	t_fail "go build offline failed: $(tail -5 "$T_TMP/build.err")"
"$T_TMP/app/app" >"$T_TMP/app.out"
t_assert_file_eq "$T_TMP/app.out" "$FIX/app.expected" "output of the app built from the warmed store"
t_stop_modfs "$pid" "$T_TMP/serve.log"

# a version upstream does not have: exit 1, named with what failed
t_start_upstream "$FIX/proxy"
mkdir -p "$T_TMP/missing"
printf 'module example.com/x\n\ngo 1.17\n\nrequire (\n\texample.com/m/v2 v2.1.0\n\texample.com/m/v2 v2.9.9 // no such version\n)\n' \
	>"$T_TMP/missing/go.mod"
rc=0
"$MODFS_BIN" warm --cache-dir "$store" --upstream "$UPSTREAM_URL" --sumdb off "$T_TMP/missing" >"$T_TMP/warm3.out" \
	2>"$T_TMP/warm3.err" || rc=$?
t_assert_eq "$rc" 1 "exit status of a warm with a missing version"
grep -q '^  example.com/m/v2@v2.9.9 .info: ' "$T_TMP/warm3.err" || t_fail "the failure is not listed: $(cat "$T_TMP/warm3.err")"
grep -q '1 failed' "$T_TMP/warm3.out" || t_fail "summary does not count the failure: $(cat "$T_TMP/warm3.out")"
# a malformed go.mod is refused with its line, before anything is fetched
printf 'module x\nrequire example.com/m/v2 2.1.0\n' >"$T_TMP/missing/go.mod"
rc=0
"$MODFS_BIN" warm --cache-dir "$store" --upstream "$UPSTREAM_URL" --sumdb off "$T_TMP/missing" 2>"$T_TMP/warm4.err" ||
	rc=$?
t_assert_eq "$rc" 2 "exit status of a warm of a malformed go.mod"
grep -q "^modfs: warm: $T_TMP/missing/go.mod:2: require: " "$T_TMP/warm4.err" ||
	t_fail "no file:line error: $(cat "$T_TMP/warm4.err")"
