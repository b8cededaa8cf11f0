#!/bin/bash
# SPDX-License-Identifier: MIT
#
# SIGHUP reloads the access rules under load: modfs runs from a config file with an auth file
# (alice and bob), auth-required and a deny rule. bob's good credentials are remembered by the
# server (a verdict made before the reload); example.com/multi is served and stored. While alice
# downloads a 25 MB zip from an upstream throttled by nginx, the auth file loses bob, the deny
# rule comes to name example.com/multi, and SIGHUP is sent. Then bob gets 401 at once (his
# remembered verdict went with the old file), alice still gets in, example.com/multi answers 403
# naming the new rule even from the store, the upstream is not asked for it, and the download in
# flight completes byte-identical. A second reload drops auth-required and names a private
# module: a public module is then open and the private one needs credentials. A reload with a
# bad rule changes nothing.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/../http/http_lib.sh"
t_require_cmd ss mkpasswd

h_slow_upstream

authfile="$T_TMP/users"
alice="user:alice:$(mkpasswd -m bcrypt alicepass)"
bob="user:bob:$(mkpasswd -m bcrypt bobpass)"
printf '%s\n%s\n' "$alice" "$bob" >"$authfile"
chmod 600 "$authfile"
conf="$T_TMP/modfs.conf"
printf 'auth-file = %s\nauth-required = true\ndeny = example.com/old\n' "$authfile" >"$conf"
h_start_modfs main "$UPSTREAM_URL" --config "$conf"

code() { curl -s -o "$T_TMP/body" -w '%{http_code}' "$@"; }
reloaded() {
	local n=$1 i
	for ((i = 0; i < 200; i++)); do
		[ "$(grep -c 'notice: reloaded' "$H_LOG")" -ge "$n" ] && return 0
		sleep 0.05
	done
	t_fail "no reload notice: $(tail -5 "$H_LOG")"
}
multi=example.com/multi/@v/v1.1.0.info

# before: bob is let in (twice: the second answer comes from the remembered verdict), multi is
# served and stored, old is denied
t_assert_eq "$(code -u bob:bobpass "$H_URL/$multi")" 200 "bob before the reload"
t_assert_eq "$(code -u bob:bobpass "$H_URL/example.com/multi/@v/list")" 200 "bob again (remembered)"
t_assert_eq "$(code -u alice:alicepass "$H_URL/example.com/old/@v/list")" 403 "the first deny rule"
t_assert_eq "$(code "$H_URL/$multi")" 401 "no credentials"

curl -fsS -u alice:alicepass -o "$T_TMP/big.zip" "$H_URL/example.com/big/@v/v1.0.0.zip" &
curl_pid=$!
h_wait_fetching

printf '%s\n' "$alice" >"$authfile"
printf 'auth-file = %s\nauth-required = true\ndeny = example.com/multi\n' "$authfile" >"$conf"
kill -HUP "$H_PID"
reloaded 1
kill -0 "$curl_pid" 2>/dev/null || t_fail "the download was over before the reload: the test proves nothing"
T_CHECKS=$((T_CHECKS + 1))

t_assert_eq "$(code -u bob:bobpass "$H_URL/example.com/m/v2/@v/list")" 401 "bob after he left the auth file"
t_assert_eq "$(code -u alice:alicepass "$H_URL/example.com/m/v2/@v/list")" 200 "alice after the reload"
requests_before=$(t_upstream_count example.com/multi)
t_assert_eq "$(code -u alice:alicepass "$H_URL/$multi")" 403 "a stored module under the new deny rule"
grep -q 'deny rule "example.com/multi"' "$T_TMP/body" || t_fail "the 403 does not name the new rule: $(cat "$T_TMP/body")"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(code -u alice:alicepass "$H_URL/example.com/old/@v/list")" 200 "the old deny rule is gone"
t_assert_eq "$(t_upstream_count example.com/multi)" "$requests_before" "upstream requests for the denied module"

wait "$curl_pid" || t_fail "the download in flight during the reload failed"
t_assert_file_eq "$T_TMP/big.zip" "$FIX/big/example.com/big/@v/v1.0.0.zip" "zip downloaded across the reload"

# open again, but a private module needs credentials
printf 'auth-file = %s\nprivate = example.com/m\n' "$authfile" >"$conf"
kill -HUP "$H_PID"
reloaded 2
t_assert_eq "$(code "$H_URL/$multi")" 200 "a public module without credentials"
t_assert_eq "$(code "$H_URL/example.com/m/v2/@v/list")" 401 "a module made private by the reload"

# a bad rule: nothing changes, the log says why
printf 'auth-file = %s\nprivate = example.com/m\ndeny = example.com/x@~v1\n' "$authfile" >"$conf"
kill -HUP "$H_PID"
for ((i = 0; i < 200; i++)); do grep -q 'keeping the running configuration' "$H_LOG" && break; sleep 0.05; done
grep -q "reload: $conf:3: deny: deny rule \"example.com/x@~v1\": the version range must start with" "$H_LOG" ||
	t_fail "no file:line error for a bad rule: $(tail -3 "$H_LOG")"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(code "$H_URL/$multi")" 200 "the rules after a failed reload"
t_assert_eq "$(code "$H_URL/example.com/m/v2/@v/list")" 401 "the private module after a failed reload"

h_stop "$H_PID" "$H_LOG"
