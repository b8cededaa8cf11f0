#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Authentication on the HTTP front, with the real go command over TLS (go sends .netrc
# credentials over https only): with --auth-required, `go mod download` succeeds with a .netrc
# and fails with a clear 401 without one; a yescrypt and a bcrypt user and a bearer token are
# accepted, a wrong password, an unknown user and a wrong token refused with 401 and
# WWW-Authenticate; /healthz stays open, /metrics counts the failures; a burst of bad attempts
# gets 429 (with Retry-After), even for good credentials from that address. A second server
# without --auth-required serves public modules to anyone and a --private module to
# authenticated clients only; a third with --metrics-auth locks /metrics on its metrics-only
# address too. Runs in its own network namespace, so the blocked address is its own.
set -euo pipefail
. "$(dirname "$0")/access_lib.sh"
a_enter_netns "$@"
. "$MODFS_TEST_LIB"
[ -x "${MODFS_BIN:-}" ] || t_skip "MODFS_BIN is not set"
t_require_cmd go curl openssl mkpasswd sha256sum
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$MODFS_SOURCE_ROOT/tests/lsan.supp"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
FIX="$MODFS_FIXTURES"

a_make_ca localhost
t_start_upstream "$FIX/proxy"
token=tok-$RANDOM$RANDOM
authfile="$T_TMP/auth"
{
	echo "# users of the test"
	echo "user:alice:$(mkpasswd -m yescrypt 'alice pass')"
	echo "user:bob:$(mkpasswd -m bcrypt bobpass)"
	echo "token:ci:$(printf %s "$token" | sha256sum | cut -d' ' -f1)"
} >"$authfile"
chmod 600 "$authfile"

# start NAME ARGS...: modfs with a plain and a TLS listener; sets URL, TLS_URL, PID, LOG
start() {
	local name=$1 port tport
	shift
	port=$(t_free_port)
	tport=$(t_free_port)
	LOG="$T_TMP/modfs-$name.log"
	# shellcheck disable=SC2046
	"$MODFS_BIN" serve --cache-dir "$(t_tmpdir "store-$name")" --upstream "$UPSTREAM_URL" \
		--listen "127.0.0.1:$port" --tls-listen "127.0.0.1:$tport" --tls-cert "$A_CERT" --tls-key "$A_KEY" \
		--auth-file "$authfile" $(t_sumdb_off "$@") "$@" >"$LOG" 2>&1 &
	PID=$!
	t_on_exit "kill $PID; wait $PID"
	t_wait_port "$port"
	t_wait_port "$tport"
	URL="http://127.0.0.1:$port"
	TLS_URL="https://127.0.0.1:$tport"
}
code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$A_CA" "$@"; }

start main --auth-required
t_go_env
export SSL_CERT_FILE="$A_CA" GOPROXY="$TLS_URL"
cd "$T_TMP"

# go with a .netrc: downloads
export HOME="$T_TMP/home-good"
mkdir -p "$HOME"
# .netrc fields are blank-separated (alice's password has a space): go uses bob's
printf 'machine 127.0.0.1 login bob password bobpass\n' >"$HOME/.netrc"
go mod download -json example.com/multi@v1.1.0 >"$T_TMP/good.json" 2>"$T_TMP/good.err" ||
	t_fail "go mod download with a .netrc failed: $(tail -3 "$T_TMP/good.err")"
grep -q '"Zip"' "$T_TMP/good.json" || t_fail "go mod download gave no zip"
T_CHECKS=$((T_CHECKS + 1))

# go without one: a clear 401
export HOME="$T_TMP/home-none" GOMODCACHE="$T_TMP/modcache-none"
mkdir -p "$HOME"
if go mod download -json example.com/multi@v1.0.0 >"$T_TMP/none.json" 2>"$T_TMP/none.err"; then
	t_fail "go mod download without credentials succeeded"
fi
grep -q "401 Unauthorized" "$T_TMP/none.json" "$T_TMP/none.err" ||
	t_fail "go does not report the 401: $(cat "$T_TMP/none.json" "$T_TMP/none.err" | head -5)"
grep -q "credentials required" "$T_TMP/none.json" "$T_TMP/none.err" ||
	t_fail "go does not show modfs's reason: $(cat "$T_TMP/none.json" | head -5)"
T_CHECKS=$((T_CHECKS + 2))

key=example.com/multi/@v/v1.1.0.info
t_assert_eq "$(code -u 'alice:alice pass' "$TLS_URL/$key")" 200 "yescrypt user"
t_assert_eq "$(code -u bob:bobpass "$URL/$key")" 200 "bcrypt user (plain listener)"
t_assert_eq "$(code -H "Authorization: Bearer $token" "$TLS_URL/$key")" 200 "bearer token"
t_assert_eq "$(code "$TLS_URL/$key")" 401 "no credentials"
t_assert_eq "$(code -u alice:wrong "$TLS_URL/$key")" 401 "wrong password"
t_assert_eq "$(code -u mallory:bobpass "$TLS_URL/$key")" 401 "unknown user"
t_assert_eq "$(code -H "Authorization: Bearer ${token}x" "$TLS_URL/$key")" 401 "wrong token"
t_assert_eq "$(code -H "Authorization: Bearer" "$TLS_URL/$key")" 401 "empty bearer"
t_assert_eq "$(code -H "Authorization: Basic !!!!" "$TLS_URL/$key")" 401 "malformed Basic"
curl -s -D - -o /dev/null --cacert "$A_CA" "$TLS_URL/$key" | tr -d '\r' | grep -qi '^www-authenticate: Basic realm="modfs"$' ||
	t_fail "a 401 lacks WWW-Authenticate"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(code "$TLS_URL/healthz")" 200 "/healthz stays open"
t_assert_eq "$(code "$TLS_URL/metrics")" 401 "/metrics needs credentials under --auth-required"
metrics=$(curl -s --cacert "$A_CA" -H "Authorization: Bearer $token" "$TLS_URL/metrics")
bad=$(awk '$1 == "modfs_http_auth_failures_total{reason=\"bad\"}" { print $2 }' <<<"$metrics")
[ "${bad:-0}" -ge 5 ] || t_fail "failed attempts not counted in /metrics: bad=$bad"
T_CHECKS=$((T_CHECKS + 1))

# a burst of bad attempts: limited (the 5 above count too), then even good credentials wait
codes=""
for i in $(seq 1 12); do codes="$codes $(code -u "alice:guess$i" "$TLS_URL/$key")"; done
[[ "$codes" == *429* ]] || t_fail "a burst of bad logins was never limited: $codes"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(code -u 'alice:alice pass' "$TLS_URL/$key")" 429 "good credentials from a blocked address"
curl -s -D - -o /dev/null --cacert "$A_CA" -u bob:bobpass "$TLS_URL/$key" | tr -d '\r' | grep -qi '^retry-after: [0-9]' ||
	t_fail "a 429 lacks Retry-After"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(code "$TLS_URL/healthz")" 200 "/healthz from a blocked address"
grep -q "too many failed logins" "$LOG" || t_fail "the block is not logged"
T_CHECKS=$((T_CHECKS + 1))
t_stop_modfs "$PID" "$LOG"

# public open, private behind credentials
start open --private example.com/old --direct-timeout 60
t_assert_eq "$(code "$TLS_URL/$key")" 200 "a public module without credentials"
t_assert_eq "$(code "$TLS_URL/example.com/old/@v/list")" 401 "a private module without credentials"
t_assert_eq "$(code -u bob:wrong "$TLS_URL/example.com/old/@v/list")" 401 "a private module with a wrong password"
t_assert_eq "$(code "$TLS_URL/metrics")" 200 "/metrics is open without --auth-required and --metrics-auth"
got=$(code -u bob:bobpass "$TLS_URL/example.com/old/@v/list")
[ "$got" != 401 ] || t_fail "a private module with good credentials still gets 401"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(t_upstream_count example.com/old)" 0 "requests for the private module at the public upstream"
t_stop_modfs "$PID" "$LOG"

# --metrics-auth holds on the metrics-only address too; /healthz stays open there
mport=$(t_free_port)
start metrics --metrics-auth --metrics-listen "127.0.0.1:$mport"
t_wait_port "$mport"
t_assert_eq "$(code "http://127.0.0.1:$mport/metrics")" 401 "/metrics on the metrics address without credentials"
t_assert_eq "$(code -H "Authorization: Bearer $token" "http://127.0.0.1:$mport/metrics")" 200 \
	"/metrics on the metrics address with a token"
t_assert_eq "$(code "http://127.0.0.1:$mport/healthz")" 200 "/healthz on the metrics address"
t_assert_eq "$(code -H "Authorization: Bearer $token" "http://127.0.0.1:$mport/$key")" 404 \
	"a module on the metrics address"
t_assert_eq "$(code "$TLS_URL/$key")" 200 "a public module (only /metrics is locked)"
t_stop_modfs "$PID" "$LOG"
