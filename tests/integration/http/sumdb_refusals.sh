#!/bin/bash
# SPDX-License-Identifier: MIT
#
# What the checksum database refuses, through the HTTP front, each time with nothing stored
# (`modfs stat` objects unchanged), a 502 whose reason names what failed (never the upstream: the
# log does), a log line and a count in /metrics; and the same module from a correct upstream or
# database then works:
#   - an upstream serving a go.mod and a zip other than the ones the database logged: "checksum
#     mismatch", both hashes named (computed here independently); go itself reports it;
#   - a database that logged another hash (wronghash mode): mismatch of the zip, the go.mod fine;
#   - a database whose tree heads another key signed (wrongkey mode): refused, no head kept;
#   - a database that forks its log after modfs kept a head of it (fork mode, same key): SECURITY
#     ERROR, and the honest database again is accepted.
# Modules matched by --nosumdb, and everything with --sumdb off, are stored unchecked, as go would.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"
t_require_cmd go python3

MOD=example.com/multi/@v/v1.0.0.mod
ZIP=example.com/multi/@v/v1.1.0.zip
db_mod_h1=$(awk '$1 == "example.com/multi" && $2 == "v1.0.0" { print $4 }' "$FIX/modules.txt")
db_zip_h1=$(awk '$1 == "example.com/multi" && $2 == "v1.1.0" { print $3 }' "$FIX/modules.txt")
db_zip10_h1=$(awk '$1 == "example.com/multi" && $2 == "v1.0.0" { print $3 }' "$FIX/modules.txt")

# A bad upstream: the fixture proxy with one go.mod and one zip changed (still valid for Go).
bad=$(t_tmpdir bad)
cp -r "$FIX/proxy/." "$bad/"
printf '// not what was published\n' >>"$bad/$MOD"
python3 - "$bad/$ZIP" <<'PY'
import sys, zipfile
path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    files = [(i.filename, z.read(i)) for i in z.infolist()]
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in files:
        if name.endswith("/multi.go"):
            data += b"\n// not what was published\n"
        z.writestr(name, data)
PY
# The h1 hashes of the bad files, by dirhash.Hash1's definition.
h1_of() {
	python3 - "$1" "$2" <<'PY'
import base64, hashlib, sys, zipfile
kind, path = sys.argv[1], sys.argv[2]
if kind == "mod":
    files = [("go.mod", open(path, "rb").read())]
else:
    with zipfile.ZipFile(path) as z:
        files = [(i.filename, z.read(i)) for i in z.infolist()]
lines = "".join("%s  %s\n" % (hashlib.sha256(d).hexdigest(), n) for n, d in sorted(files))
print("h1:" + base64.b64encode(hashlib.sha256(lines.encode()).digest()).decode())
PY
}
bad_mod_h1=$(h1_of mod "$bad/$MOD")
bad_zip_h1=$(h1_of zip "$bad/$ZIP")
[ "$bad_mod_h1" != "$db_mod_h1" ] && [ "$bad_zip_h1" != "$db_zip_h1" ] || t_fail "the bad files hash as the good ones"

t_start_upstream "$FIX/proxy"
good_url=$UPSTREAM_URL
t_start_upstream "$bad"
bad_url=$UPSTREAM_URL

RUNS=0
# serve STORE UPSTREAM ARGS...: modfs on the store STORE (kept between runs); sets S_URL S_PID S_LOG.
serve() {
	local store=$1 upstream=$2 port
	shift 2
	port=$(t_free_port)
	RUNS=$((RUNS + 1))
	S_LOG="$T_TMP/modfs-$RUNS.log"
	"$MODFS_BIN" serve --cache-dir "$T_TMP/$store" --upstream "$upstream" --listen "127.0.0.1:$port" "$@" \
		>"$S_LOG" 2>&1 &
	S_PID=$!
	t_on_exit "kill $S_PID; wait $S_PID"
	t_wait_port "$port"
	S_URL="http://127.0.0.1:$port"
}
stop() {
	t_stop_modfs "$S_PID" "$S_LOG"
}
objects() {
	"$MODFS_BIN" stat --cache-dir "$T_TMP/$1" | awk -F': *' '$1 == "objects" { print $2 }'
}
# get PATH: the status, the body in $T_TMP/body
get() {
	curl -sS -o "$T_TMP/body" -w '%{http_code}' "$S_URL/$1"
}
metric() {
	h_metric "$(curl -sS "$S_URL/metrics")" "$1"
}
# refused PATH WORDS...: a 502 whose body holds every one of WORDS
refused() {
	local path=$1 w
	shift
	t_assert_eq "$(get "$path")" 502 "status of $path"
	for w in "$@"; do
		grep -qF -- "$w" "$T_TMP/body" || t_fail "$path: \"$w\" not in the reason: $(cat "$T_TMP/body")"
	done
	T_CHECKS=$((T_CHECKS + 1))
}

# ---- a bad upstream
key="$T_TMP/db.key"
t_start_sumdb -key-file "$key"
serve s-bad "$bad_url" --sumdb "$SUMDB_VKEY $SUMDB_URL"
before=$(objects s-bad)
refused "$MOD" "checksum mismatch" "go.mod has $bad_mod_h1" "checksum database $SUMDB_NAME says $db_mod_h1"
refused "$ZIP" "checksum mismatch" "zip has $bad_zip_h1" "says $db_zip_h1"
# the body names no upstream (the operator's business); the log says where the body came from
grep -qF "$bad_url" "$T_TMP/body" && t_fail "the reason names the upstream: $(cat "$T_TMP/body")"
grep -qF "upstream $bad_url/$ZIP: $ZIP refused by the checksum database (mismatch)" "$S_LOG" ||
	t_fail "no log line naming the upstream of the refused zip"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(objects s-bad)" "$before" "objects after the refusals"
t_assert_eq "$(metric 'modfs_sumdb_verify_failures_total{reason="mismatch"}')" 2 "mismatches counted"
grep -q "refused example.com/multi@v1.0.0 (mismatch)" "$S_LOG" || t_fail "no log line for the refusal"
T_CHECKS=$((T_CHECKS + 1))
# go is told why
t_go_env
(cd "$(t_tmpdir go-bad)" && GOPROXY=$S_URL go mod download example.com/multi@v1.1.0 >"$T_TMP/go-bad.out" 2>&1) &&
	t_fail "go mod download through a bad upstream succeeded"
grep -q "checksum mismatch" "$T_TMP/go-bad.out" || t_fail "go's error does not say why: $(cat "$T_TMP/go-bad.out")"
T_CHECKS=$((T_CHECKS + 1))
# (go stored what did verify, the go.mod of v1.1.0 and the database's answers; the zip is not
# stored: asking again goes upstream again)
zips=$(t_upstream_count "$ZIP 200")
refused "$ZIP" "checksum mismatch"
t_assert_eq "$(t_upstream_count "$ZIP 200")" $((zips + 1)) "upstream asked again for the refused zip"
stop
# the same store, a correct upstream: the same module works
serve s-bad "$good_url" --sumdb "$SUMDB_VKEY $SUMDB_URL"
t_assert_eq "$(get "$MOD")" 200 "$MOD from a correct upstream"
t_assert_file_eq "$T_TMP/body" "$FIX/proxy/$MOD" "$MOD bytes"
t_assert_eq "$(get "$ZIP")" 200 "$ZIP from a correct upstream"
t_assert_file_eq "$T_TMP/body" "$FIX/proxy/$ZIP" "$ZIP bytes"
stop

# ---- exempt: --nosumdb, --sumdb off
serve s-exempt "$bad_url" --sumdb "$SUMDB_VKEY $SUMDB_URL" --nosumdb "corp.example.com,example.com/multi"
t_assert_eq "$(get "$MOD")" 200 "$MOD exempt by --nosumdb"
t_assert_file_eq "$T_TMP/body" "$bad/$MOD" "the exempt go.mod is upstream's"
t_assert_eq "$(metric modfs_sumdb_verify_skipped_total)" 1 "unchecked modules counted"
t_assert_eq "$(get golang.org/x/text/@v/v0.7.0.mod)" 200 "a module not exempt"
t_assert_eq "$(metric modfs_sumdb_verified_total)" 1 "checked modules counted"
stop
serve s-off "$bad_url" --sumdb off
t_assert_eq "$(get "$ZIP")" 200 "$ZIP with --sumdb off"
t_assert_file_eq "$T_TMP/body" "$bad/$ZIP" "the zip with --sumdb off is upstream's"
t_assert_eq "$(get "sumdb/$SUMDB_NAME/supported")" 404 "no database served with --sumdb off"
stop
t_stop_sumdb

# ---- a database that logged another hash for a zip
t_start_sumdb -mode wronghash -target example.com/multi@v1.0.0
serve s-wronghash "$good_url" --sumdb "$SUMDB_VKEY $SUMDB_URL"
t_assert_eq "$(get "$MOD")" 200 "the go.mod the database logged right"
before=$(objects s-wronghash)
refused example.com/multi/@v/v1.0.0.zip "checksum mismatch" "zip has $db_zip10_h1" "checksum database $SUMDB_NAME says h1:"
t_assert_eq "$(objects s-wronghash)" "$before" "objects after the refusal"
stop
t_stop_sumdb

# ---- a database whose tree heads another key signed
t_start_sumdb -mode wrongkey
serve s-wrongkey "$good_url" --sumdb "$SUMDB_VKEY $SUMDB_URL"
refused "$MOD" "invalid signature"
refused "sumdb/$SUMDB_NAME/lookup/example.com/multi@v1.0.0" "signature"
t_assert_eq "$(objects s-wrongkey)" 0 "objects after the refusals"
t_assert_eq "$(metric 'modfs_sumdb_verify_failures_total{reason="invalid"}')" 1 "invalid answers counted"
[ ! -e "$T_TMP/s-wrongkey/sumdb/$SUMDB_NAME/latest" ] || t_fail "a tree head of the wrong key was kept"
T_CHECKS=$((T_CHECKS + 1))
stop
t_stop_sumdb

# ---- a database that forks its log: the same key, an honest head kept first
key="$T_TMP/fork.key"
t_start_sumdb -key-file "$key"
serve s-fork "$good_url" --sumdb "$SUMDB_VKEY $SUMDB_URL"
t_assert_eq "$(get golang.org/x/text/@v/v0.7.0.mod)" 200 "a module from the honest database"
stop
t_stop_sumdb
t_start_sumdb -key-file "$key" -mode fork
serve s-fork "$good_url" --sumdb "$SUMDB_VKEY $SUMDB_URL"
before=$(objects s-fork)
refused "$MOD" "SECURITY ERROR" "is not a prefix of"
t_assert_eq "$(objects s-fork)" "$before" "objects after the refusal"
t_assert_eq "$(metric 'modfs_sumdb_verify_failures_total{reason="security"}')" 1 "security errors counted"
grep -q "go.sum database server misbehavior detected" "$S_LOG" || t_fail "no SECURITY ERROR report in the log"
T_CHECKS=$((T_CHECKS + 1))
stop
t_stop_sumdb
t_start_sumdb -key-file "$key"
serve s-fork "$good_url" --sumdb "$SUMDB_VKEY $SUMDB_URL"
t_assert_eq "$(get "$MOD")" 200 "the same module from the honest database again"
stop
t_stop_sumdb
