#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Configuration: precedence flag > environment > file > default for several options, as
# `modfs config` reports them with their origins; the output is itself a valid config file; a bad
# value, an unknown key, a key set twice and a malformed line are one "modfs: FILE:LINE: ..." line
# with exit status 2; passwords in upstream URLs are masked; --help lists what the table says.
set -euo pipefail
. "$MODFS_TEST_LIB"
[ -x "${MODFS_BIN:-}" ] || t_skip "MODFS_BIN is not set"
unset $(env | sed -n 's/^\(MODFS_[A-Z_]*\)=.*/\1/p' | grep -v '^MODFS_\(BIN\|FIXTURES\|SOURCE_ROOT\|TEST_LIB\)$') || true

D=$(t_tmpdir conf)
cfg() { "$MODFS_BIN" config "$@"; }
line_of() { # KEY OUTPUT: the "key = value ; origin" line
	grep -E "^#?$1 =" <<<"$2" | head -1
}
value_of() { line_of "$1" "$2" | sed -E 's/^[^=]*= ([^;]*[^ ;]) *;.*$/\1/; s/^[^=]*= ([^;]*[^ ;])$/\1/'; }
origin_of() { line_of "$1" "$2" | sed -n 's/.*; //p'; }

cat >"$D/modfs.conf" <<'CONF'
# a comment
; another
cache-dir = /srv/file-store
list-ttl = 11
notfound-ttl = 12
timeout = 13

upstream = https://alice:s3cret@proxy.internal.example|off
log-level = warn
allow-other = yes
CONF

# default only
out=$(cfg)
t_assert_eq "$(value_of list-ttl "$out")" 60 "default list-ttl"
t_assert_eq "$(origin_of list-ttl "$out")" default "origin of the default list-ttl"
t_assert_eq "$(value_of log-level "$out")" notice "default log-level"

# file over default; env over file; flag over env
out=$(MODFS_NOTFOUND_TTL=22 MODFS_TIMEOUT=23 cfg --config "$D/modfs.conf" --timeout 33 --log-level=debug)
t_assert_eq "$(value_of list-ttl "$out")" 11 "list-ttl from the file"
t_assert_eq "$(origin_of list-ttl "$out")" "file $D/modfs.conf:4" "origin of list-ttl"
t_assert_eq "$(value_of cache-dir "$out")" /srv/file-store "cache-dir from the file"
t_assert_eq "$(origin_of cache-dir "$out")" "file $D/modfs.conf:3" "origin of cache-dir"
t_assert_eq "$(value_of notfound-ttl "$out")" 22 "notfound-ttl: env over file"
t_assert_eq "$(origin_of notfound-ttl "$out")" "env MODFS_NOTFOUND_TTL" "origin of notfound-ttl"
t_assert_eq "$(value_of timeout "$out")" 33 "timeout: flag over env over file"
t_assert_eq "$(origin_of timeout "$out")" "flag --timeout" "origin of timeout"
t_assert_eq "$(value_of log-level "$out")" debug "log-level: flag over file"
t_assert_eq "$(value_of allow-other "$out")" true "allow-other from the file"
t_assert_eq "$(value_of retries "$out")" 2 "retries keeps its default"
# MODFS_CONFIG names the file as --config does
out=$(MODFS_CONFIG="$D/modfs.conf" cfg)
t_assert_eq "$(value_of list-ttl "$out")" 11 "list-ttl from the file named by MODFS_CONFIG"
# a switch flag with a value overrides the file's true
out=$(cfg --config "$D/modfs.conf" --allow-other=false)
t_assert_eq "$(value_of allow-other "$out")" false "allow-other: --allow-other=false over the file"

# the password never shows; the masked list does
out=$(cfg --config "$D/modfs.conf")
grep -q s3cret <<<"$out" && t_fail "modfs config printed the upstream password"
t_assert_eq "$(value_of upstream "$out")" "https://alice:xxxxx@proxy.internal.example|off" "masked upstream"

# the output is a config file that gives the same configuration back (upstream aside: masked)
grep -v '^upstream' <<<"$out" >"$D/roundtrip.conf"
again=$(cfg --config "$D/roundtrip.conf")
t_assert_eq "$(grep -v -e '^upstream' -e '^# config' <<<"$again" | sed 's/ *;.*//')" \
	"$(grep -v -e '^upstream' -e '^# config' <<<"$out" | sed 's/ *;.*//')" "modfs config output read back as a config file"

# every option of the table is in the output, in --help of a command that takes it, and documented
# (help is read whole first: grep -q would leave modfs writing into a closed pipe)
serve_help=$("$MODFS_BIN" serve --help)
for key in cache-dir upstream ca-file list-ttl notfound-ttl timeout retries listen tls-listen tls-cert tls-key \
	threads mount allow-other fuse-threads fuse-debug jobs log-level private allow deny go-command direct-jobs \
	direct-timeout auth-file auth-required metrics-auth metrics-listen; do
	line_of "$key" "$out" >/dev/null || t_fail "modfs config does not show $key"
	grep -q -- "--$key" <<<"$serve_help" || [ "$key" = jobs ] || t_fail "serve --help lacks --$key"
done
grep -q -- '--list-ttl SECONDS' <<<"$serve_help" || t_fail "serve --help lacks --list-ttl"
grep -q 'MODFS_LIST_TTL; default 60; SIGHUP reloads it' <<<"$serve_help" ||
	t_fail "serve --help lacks the variable, default and reload note of --list-ttl"
grep -q 'MODFS_DENY; repeatable; SIGHUP reloads it' <<<"$serve_help" ||
	t_fail "serve --help lacks the repeatable and reload notes of --deny"
"$MODFS_BIN" stat --help >"$D/stat-help"
grep -q -- '--listen' "$D/stat-help" && t_fail "stat --help shows a serve-only option"

# a repeatable list: flags add to each other and replace the file's list
printf 'deny = a.example\n' >"$D/deny.conf"
out=$(cfg --config "$D/deny.conf")
t_assert_eq "$(value_of deny "$out")" a.example "deny from the file"
out=$(cfg --config "$D/deny.conf" --deny b.example --deny 'c.example@<v1.2.0')
t_assert_eq "$(value_of deny "$out")" 'b.example,c.example@<v1.2.0' "repeated --deny flags"
t_assert_eq "$(origin_of deny "$out")" "flag --deny" "origin of repeated --deny flags"

# errors: one line naming file, line and option; exit 2
bad() { # WANT LINES...: a config made of LINES must fail with exactly WANT
	local want=$1 rc=0
	shift
	printf '%s\n' "$@" >"$D/bad.conf"
	"$MODFS_BIN" stat --config "$D/bad.conf" >"$D/out" 2>"$D/err" || rc=$?
	t_assert_eq "$rc" 2 "exit status for: $*"
	t_assert_eq "$(cat "$D/err")" "$want" "error for: $*"
}
bad "modfs: $D/bad.conf:3: list-ttl: not a number from 0 to 31536000: \"1m\"" "# ok" "retries = 1" "list-ttl = 1m"
bad "modfs: $D/bad.conf:2: unknown option \"list_ttl\" (modfs config lists them all)" "" "list_ttl = 5"
bad "modfs: $D/bad.conf:3: retries: set twice (first on line 1; an indented line continues the one before)" \
	"retries = 1" "" "retries = 2"
bad "modfs: $D/bad.conf:2: expected \"key = value\", a comment or an empty line" "retries = 1" "retries"
bad "modfs: $D/bad.conf:2: options are not grouped in sections: remove [serve]" "[serve]" "retries = 1"
bad "modfs: $D/bad.conf:1: upstream: invalid GOPROXY entry \"ftp://x\": unsupported scheme \"ftp\" (must be https, http or file)" \
	"upstream = ftp://x"
bad "modfs: $D/bad.conf:1: listen: expected host:port, [v6]:port or :port with a port from 1 to 65535, not \"localhost\"" \
	"listen = localhost"
bad "modfs: $D/bad.conf:1: config cannot be set in a config file" "config = /etc/other.conf"
rc=0
MODFS_RETRIES=many "$MODFS_BIN" stat >/dev/null 2>"$D/err" || rc=$?
t_assert_eq "$rc:$(cat "$D/err")" '2:modfs: MODFS_RETRIES: retries: not a number from 0 to 100: "many"' "a bad variable"
rc=0
"$MODFS_BIN" stat --config "$D/missing.conf" 2>"$D/err" || rc=$?
t_assert_eq "$rc:$(cat "$D/err")" "2:modfs: config file $D/missing.conf: No such file or directory" "a missing file"
