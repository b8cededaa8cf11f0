#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Allow and deny rules on both fronts: with --deny 'example.com/old' --deny
# 'example.com/multi@<v1.1.0', a denied module or version answers 403 naming the rule over HTTP
# (also for a copy already in the store), is ENOENT on the mount and logged, and the upstream is
# never asked for it; what the rules leave alone (example.com/multi v1.1.0, its list) is served.
# A second server with --allow 'example.com/multi@>=v1.1.0' serves only what that rule covers.
# Bad rules stop start-up with the reason.
set -euo pipefail
. "$MODFS_TEST_LIB"
[ -x "${MODFS_BIN:-}" ] || t_skip "MODFS_BIN is not set"
[ -c /dev/fuse ] || t_skip "/dev/fuse is absent"
t_require_cmd curl fusermount3 mountpoint go
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$MODFS_SOURCE_ROOT/tests/lsan.supp"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
FIX="$MODFS_FIXTURES"

t_start_upstream "$FIX/proxy"
store=$(t_tmpdir store)

# start NAME ARGS...: modfs with HTTP and a mount on the shared store; sets URL MNT PID LOG
start() {
	local name=$1 port i
	shift
	port=$(t_free_port)
	MNT=$(t_tmpdir "mnt-$name")
	LOG="$T_TMP/modfs-$name.log"
	# shellcheck disable=SC2046
	"$MODFS_BIN" serve --cache-dir "$store" --upstream "$UPSTREAM_URL" --listen "127.0.0.1:$port" \
		--mount "$MNT" $(t_sumdb_off "$@") "$@" >"$LOG" 2>&1 &
	PID=$!
	t_on_exit "kill $PID; wait $PID; fusermount3 -u -z $MNT"
	t_wait_port "$port"
	for ((i = 0; i < 400; i++)); do mountpoint -q "$MNT" && break; sleep 0.05; done
	mountpoint -q "$MNT" || t_fail "the mount did not appear: $(tail -5 "$LOG")"
	URL="http://127.0.0.1:$port"
}
get() { curl -s -o "$T_TMP/body" -w '%{http_code}' "$URL/$1"; }

# an earlier server put example.com/old in the store: the rules apply to stored copies too
start plain
t_assert_eq "$(get example.com/old/@v/v2.0.0+incompatible.info)" 200 "before the rules"
t_stop_modfs "$PID" "$LOG"
: >"$UPSTREAM_LOG"

start deny --deny example.com/old --deny 'example.com/multi@<v1.1.0'
t_assert_eq "$(get example.com/old/@v/v2.0.0+incompatible.info)" 403 "a denied module, stored"
grep -q 'deny rule "example.com/old"' "$T_TMP/body" || t_fail "the 403 does not name the rule: $(cat "$T_TMP/body")"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(get example.com/old/@v/list)" 403 "the list of a denied module"
t_assert_eq "$(get example.com/multi/@v/v1.0.0.zip)" 403 "a denied version"
grep -q 'deny rule "example.com/multi@<v1.1.0"' "$T_TMP/body" || t_fail "the 403 does not name the range rule: $(cat "$T_TMP/body")"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(get example.com/multi/@v/master.info)" 403 "a query under a ranged deny rule"
t_assert_eq "$(get example.com/multi/@v/v1.1.0.info)" 200 "a version the range leaves alone"
t_assert_eq "$(get example.com/multi/@v/list)" 200 "the list of a module denied in part"

# the mount: ENOENT, and a log line
for p in example.com/old@v2.0.0+incompatible cache/download/example.com/old/@v/v2.0.0+incompatible.mod \
	cache/download/example.com/multi/@v/v1.0.0.mod example.com/multi@v1.0.0; do
	if stat "$MNT/$p" >"$T_TMP/stat.out" 2>"$T_TMP/stat.err"; then
		t_fail "$p exists on the mount"
	fi
	grep -q "No such file or directory" "$T_TMP/stat.err" || t_fail "$p: $(cat "$T_TMP/stat.err")"
	T_CHECKS=$((T_CHECKS + 1))
done
[ -f "$MNT/cache/download/example.com/multi/@v/v1.1.0.mod" ] || t_fail "an allowed version is missing on the mount"
T_CHECKS=$((T_CHECKS + 1))
grep -q 'fs: example.com/multi/@v/v1.0.0.mod: .*deny rule' "$LOG" || t_fail "the mount's refusal is not logged"
T_CHECKS=$((T_CHECKS + 1))

# go through the mount: a denied version is not there for it either
t_go_env
export GOMODCACHE="$MNT" GOPROXY=off
cd "$(t_tmpdir work)"
printf 'module example.com/user\n\ngo 1.17\n' >go.mod
if go mod download example.com/multi@v1.0.0 2>"$T_TMP/go.err"; then
	t_fail "go downloaded a denied version from the mount"
fi
T_CHECKS=$((T_CHECKS + 1))
go mod download example.com/multi@v1.1.0 || t_fail "go could not download an allowed version from the mount"
T_CHECKS=$((T_CHECKS + 1))
cd "$T_TMP"

t_assert_eq "$(t_upstream_count example.com/old)" 0 "upstream requests for the denied module"
t_assert_eq "$(t_upstream_count example.com/multi/@v/v1.0.0)" 0 "upstream requests for the denied version"
t_assert_eq "$(t_upstream_count example.com/multi/@v/master)" 0 "upstream requests for a denied query"
t_stop_modfs "$PID" "$LOG"

start allow --allow 'example.com/multi@>=v1.1.0'
t_assert_eq "$(get example.com/multi/@v/v1.1.0.mod)" 200 "covered by the allow rule"
t_assert_eq "$(get example.com/multi/@v/v1.0.0.mod)" 403 "below the allow rule"
grep -q "no allow rule covers it" "$T_TMP/body" || t_fail "the 403 does not say why: $(cat "$T_TMP/body")"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(get example.com/m/v2/@v/v2.1.0.info)" 403 "a module no allow rule names"
t_stop_modfs "$PID" "$LOG"

# bad rules: start-up fails with the reason
for rule in 'example.com/x@~v1.0.0' 'example.com/x@<1.0' '[bad'; do
	if "$MODFS_BIN" serve --cache-dir "$store" --upstream off --listen "127.0.0.1:$(t_free_port)" \
		--deny "$rule" >"$T_TMP/bad.out" 2>&1; then
		t_fail "modfs started with the rule $rule"
	fi
	grep -q "deny rule" "$T_TMP/bad.out" || t_fail "no reason for the bad rule $rule: $(cat "$T_TMP/bad.out")"
	T_CHECKS=$((T_CHECKS + 1))
done
