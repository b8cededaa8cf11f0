# SPDX-License-Identifier: MIT
#
# Shared helpers of the integration scripts. A script starts with
#
#   #!/bin/bash
#   set -euo pipefail
#   . "$MODFS_TEST_LIB"
#
# and then uses the t_* functions below. Sourcing creates the test's temporary
# directory ($T_TMP) and installs an EXIT trap that runs the cleanup stack
# (t_on_exit), removes $T_TMP and prints one summary line:
#   "# <test>: PASS (<n> checks)" | "# <test>: FAIL (exit <rc>)" | "# <test>: SKIP"
# Exit codes follow meson: 0 pass, 1 fail, 77 skip.
#
# Functions:
#   t_tmpdir [NAME]          print $T_TMP, or create and print $T_TMP/NAME
#   t_on_exit CMD...         push CMD on the cleanup stack (run last-in first-out)
#   t_free_port              print a free TCP port on 127.0.0.1
#   t_wait_port PORT [SECS [PID LOG]]  wait until 127.0.0.1:PORT accepts connections (PID: fail at once if it dies)
#   t_pack_bytes STORE       print the bytes of the pack files of the store directory STORE
#   t_wait_fault_hang LOG STEP  wait until a thread of the server logging to LOG stopped at a
#                            MODFS_FAULT=<STEP>:<n>:hang point (fails after 60 s, with the log)
#   t_start_upstream DIR [NGINX_SNIPPET]
#                            serve the GOPROXY tree DIR on 127.0.0.1 (nginx, or
#                            python3 http.server when nginx is missing); sets
#                            UPSTREAM_URL, UPSTREAM_LOG (one line per request,
#                            "<method> <decoded path> <status> <body bytes>")
#                            and UPSTREAM_PID. NGINX_SNIPPET is put inside the
#                            server block (extra locations such as limit_rate or
#                            "return 500"). May be called more than once; the
#                            variables then name the newest server.
#   t_start_broken_upstream DIR [RULES_JSON]
#                            like t_start_upstream, served by broken_upstream.py,
#                            which misbehaves on the paths RULES_JSON names
#   t_upstream_count SUBSTR [LOG]   requests whose log line contains SUBSTR
#   t_make_ca DIR [NAME...]  a throwaway CA and a server certificate for 127.0.0.1 and the
#                            host NAMEs (default localhost) in $T_TMP/DIR (again: a renewal,
#                            same files); sets T_CA, T_CERT, T_KEY
#   t_start_sumdb [ARGS...]  a real checksum database over the fixtures (golang.org/x/mod/sumdb in
#                            $MODFS_SUMDB_SERVER) on 127.0.0.1, signed by a key made for this run
#                            unless ARGS give -key-file; ARGS go to the server (-mode fork,
#                            -filler N, ...). Sets SUMDB_VKEY (NAME+HASH+KEY), SUMDB_URL,
#                            SUMDB_NAME, SUMDB_LOG (one line per request: "GET /lookup/... 200")
#                            and SUMDB_PID. May be called more than once; the variables then name
#                            the newest server.
#   t_stop_sumdb             stop the newest checksum database and wait for it
#   t_stop_modfs PID LOG     stop a `modfs serve` with SIGTERM; fail on a sanitizer (ASan, LSan, TSan, UBSan)
#                            report in LOG, a non-zero exit, or a stop over 15 s
#   t_sumdb_off ARGS...      print "--sumdb off" unless ARGS (a modfs command line) give a --sumdb:
#                            modfs checks modules against sum.golang.org by default, which tests
#                            cannot reach; use unquoted: modfs serve $(t_sumdb_off "$@") "$@"
#   t_go_sums <JSON          "path version sum gomodsum" of each module in the stream of
#                            `go mod download -json`, sorted; fails on a module with an Error
#   t_go_env                 export a hermetic go environment in $T_TMP
#                            (GOPROXY=off until the test sets it)
#   T_KEEP_TMP=1             (environment) keep $T_TMP for a post-mortem
#   t_log MSG                print a progress line on stderr
#   t_fail MSG               fail the test
#   t_skip MSG               skip the test (only when a part is truly absent)
#   t_assert_eq GOT WANT MSG
#   t_assert_file_eq GOT_FILE WANT_FILE MSG   byte comparison (cmp)
#   t_require_cmd CMD...     skip when a command is not installed

T_NAME=$(basename "$0" .sh)
T_CHECKS=0
_T_EXIT_STACK=()

T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/modfs-$T_NAME.XXXXXX")
export T_TMP

t_log() {
	echo "# $T_NAME: $*" >&2
}

t_on_exit() {
	_T_EXIT_STACK+=("$*")
}

# Unmount anything still mounted under $T_TMP before removing it: rm must
# never walk into a live FUSE mount.
_t_remove_tmp() {
	local m
	if command -v findmnt >/dev/null 2>&1; then
		findmnt -rn -o TARGET | grep -F "$T_TMP/" | sort -r | while read -r m; do
			fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		done
	fi
	# The go command leaves its module cache read-only.
	chmod -R u+w "$T_TMP" 2>/dev/null || true
	rm -rf --one-file-system "$T_TMP"
}

_t_on_exit_run() {
	local rc=$? i
	set +e
	trap - ERR
	for ((i = ${#_T_EXIT_STACK[@]} - 1; i >= 0; i--)); do
		eval "${_T_EXIT_STACK[i]}" >/dev/null 2>&1
	done
	if [ -n "${T_KEEP_TMP:-}" ]; then
		echo "# $T_NAME: kept $T_TMP" >&2
	else
		_t_remove_tmp
	fi
	case $rc in
	0) echo "# $T_NAME: PASS ($T_CHECKS checks)" ;;
	77) echo "# $T_NAME: SKIP" ;;
	*) echo "# $T_NAME: FAIL (exit $rc)" ;;
	esac
	exit "$rc"
}
trap _t_on_exit_run EXIT
trap 'exit 1' INT TERM

# Name the command and line that failed under set -e, which bash keeps quiet.
set -E
trap 'echo "# $T_NAME: command failed (line $LINENO): $BASH_COMMAND" >&2' ERR

t_fail() {
	echo "FAIL: $T_NAME: $*" >&2
	exit 1
}

t_skip() {
	echo "SKIP: $T_NAME: $*" >&2
	exit 77
}

t_assert_eq() {
	T_CHECKS=$((T_CHECKS + 1))
	[ "$1" = "$2" ] || t_fail "$3: got '$1', want '$2'"
}

t_assert_file_eq() {
	T_CHECKS=$((T_CHECKS + 1))
	[ -f "$1" ] || t_fail "$3: $1 is missing"
	cmp -s -- "$1" "$2" ||
		t_fail "$3: $1 ($(stat -c %s "$1") bytes) differs from $2 ($(stat -c %s "$2") bytes)"
}

t_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || t_skip "$c is not installed"
	done
}

t_tmpdir() {
	if [ $# -eq 0 ]; then
		echo "$T_TMP"
	else
		mkdir -p "$T_TMP/$1"
		echo "$T_TMP/$1"
	fi
}

# A port below the kernel's ephemeral range (net.ipv4.ip_local_port_range starts at 32768): one
# the kernel gave out as free could be taken as the local port of an outgoing connection (a
# curl to the upstream) before the server that is to listen on it binds it.
t_free_port() {
	python3 -c 'import random, socket
for _ in range(1000):
    port = random.randint(20000, 32767)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
else:
    raise SystemExit("no free port in 20000-32767")'
}

# t_wait_port PORT [SECS [PID LOG]]: with PID, a server that died fails at once, with its log.
t_wait_port() {
	local port=$1 secs=${2:-20} pid=${3:-} log=${4:-} i
	for ((i = 0; i < secs * 20; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			t_fail "the server for 127.0.0.1:$port died before listening${log:+: $(tail -5 "$log")}"
		fi
		sleep 0.05
	done
	t_fail "nothing listens on 127.0.0.1:$port after ${secs}s${log:+: $(tail -5 "$log")}"
}

t_pack_bytes() {
	local total=0 f
	for f in "$1"/packs/*.pack; do
		[ -e "$f" ] && total=$((total + $(stat -c %s "$f")))
	done
	echo "$total"
}

t_wait_fault_hang() {
	local log=$1 step=$2 i
	for ((i = 0; i < 600; i++)); do
		grep -q "fault point reached: this thread stops here" "$log" && {
			T_CHECKS=$((T_CHECKS + 1))
			return 0
		}
		sleep 0.1
	done
	t_fail "no thread stopped at $step: $(tail -3 "$log")"
}

_T_UPSTREAMS=0

t_start_upstream() {
	local dir=$1 snippet=${2:-} port pfx
	[ -d "$dir" ] || t_fail "upstream tree $dir does not exist"
	dir=$(cd "$dir" && pwd)
	_T_UPSTREAMS=$((_T_UPSTREAMS + 1))
	pfx="$T_TMP/upstream.$_T_UPSTREAMS"
	mkdir -p "$pfx"
	port=$(t_free_port)
	UPSTREAM_LOG="$pfx/access.log"
	: >"$UPSTREAM_LOG"
	if command -v nginx >/dev/null 2>&1; then
		cat >"$pfx/nginx.conf" <<EOF
user root;
daemon off;
worker_processes 1;
pid $pfx/nginx.pid;
error_log $pfx/error.log warn;
events { worker_connections 1024; }
http {
    log_format modfs_test '\$request_method \$uri \$status \$body_bytes_sent';
    access_log $UPSTREAM_LOG modfs_test;
    client_body_temp_path $pfx/body;
    proxy_temp_path $pfx/proxy;
    fastcgi_temp_path $pfx/fastcgi;
    uwsgi_temp_path $pfx/uwsgi;
    scgi_temp_path $pfx/scgi;
    default_type application/octet-stream;
    sendfile on;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$port;
        root $dir;
$snippet
    }
}
EOF
		nginx -c "$pfx/nginx.conf" -p "$pfx" 2>>"$pfx/error.log" &
	else
		[ -z "$snippet" ] || t_skip "nginx is needed for this upstream"
		# http.server logs '"GET /path HTTP/1.1" 200 -' on stderr.
		python3 -u -m http.server --bind 127.0.0.1 --directory "$dir" "$port" \
			>/dev/null 2>"$UPSTREAM_LOG" &
	fi
	UPSTREAM_PID=$!
	t_on_exit "kill $UPSTREAM_PID; wait $UPSTREAM_PID"
	UPSTREAM_URL="http://127.0.0.1:$port"
	t_wait_port "$port"
	kill -0 "$UPSTREAM_PID" 2>/dev/null ||
		t_fail "upstream server died: $(cat "$pfx/error.log" 2>/dev/null)"
	export UPSTREAM_URL UPSTREAM_LOG UPSTREAM_PID
}

t_start_broken_upstream() {
	local dir=$1 rules=${2:-} port pfx
	[ -d "$dir" ] || t_fail "upstream tree $dir does not exist"
	_T_UPSTREAMS=$((_T_UPSTREAMS + 1))
	pfx="$T_TMP/upstream.$_T_UPSTREAMS"
	mkdir -p "$pfx"
	port=$(t_free_port)
	UPSTREAM_LOG="$pfx/access.log"
	: >"$UPSTREAM_LOG"
	python3 "$(dirname "${BASH_SOURCE[0]}")/broken_upstream.py" --root "$dir" --port "$port" \
		--log "$UPSTREAM_LOG" ${rules:+--rules "$rules"} 2>"$pfx/error.log" &
	UPSTREAM_PID=$!
	t_on_exit "kill $UPSTREAM_PID; wait $UPSTREAM_PID"
	UPSTREAM_URL="http://127.0.0.1:$port"
	t_wait_port "$port"
	kill -0 "$UPSTREAM_PID" 2>/dev/null || t_fail "broken upstream died: $(cat "$pfx/error.log")"
	export UPSTREAM_URL UPSTREAM_LOG UPSTREAM_PID
}

_T_SUMDBS=0

t_start_sumdb() {
	local pfx i
	[ -x "${MODFS_SUMDB_SERVER:-}" ] || t_fail "MODFS_SUMDB_SERVER is not set (tools/fixtures/sumdb)"
	_T_SUMDBS=$((_T_SUMDBS + 1))
	pfx="$T_TMP/sumdb.$_T_SUMDBS"
	mkdir -p "$pfx"
	SUMDB_LOG="$pfx/requests.log"
	: >"$SUMDB_LOG"
	"$MODFS_SUMDB_SERVER" -modules "$MODFS_FIXTURES/modules.txt" -log "$SUMDB_LOG" "$@" \
		>"$pfx/out" 2>"$pfx/err" </dev/null &
	SUMDB_PID=$!
	t_on_exit "kill $SUMDB_PID; wait $SUMDB_PID"
	for ((i = 0; i < 400; i++)); do
		grep -qx ready "$pfx/out" && break
		kill -0 "$SUMDB_PID" 2>/dev/null || t_fail "checksum database died: $(cat "$pfx/err")"
		sleep 0.05
	done
	grep -qx ready "$pfx/out" || t_fail "checksum database not ready after 20 s: $(cat "$pfx/err")"
	SUMDB_VKEY=$(awk '$1 == "vkey" { print $2 }' "$pfx/out")
	SUMDB_URL=$(awk '$1 == "url" { print $2 }' "$pfx/out")
	SUMDB_NAME=${SUMDB_VKEY%%+*}
	export SUMDB_VKEY SUMDB_URL SUMDB_NAME SUMDB_LOG SUMDB_PID
}

t_stop_sumdb() {
	kill "$SUMDB_PID" 2>/dev/null || true
	wait "$SUMDB_PID" 2>/dev/null || true
}

t_upstream_count() {
	local n
	n=$(grep -cF -- "$1" "${2:-$UPSTREAM_LOG}") || true
	echo "${n:-0}"
}

t_make_ca() {
	local d san="IP:127.0.0.1" n names
	d=$(t_tmpdir "$1")
	shift
	names=("${@:-localhost}")
	for n in "${names[@]}"; do san="$san,DNS:$n"; done
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
		-subj "/CN=modfs test CA" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
		-subj "/CN=${names[0]}" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$san" >"$d/ext.cnf"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-out "$d/server.crt" -days 2 -extfile "$d/ext.cnf" 2>/dev/null
	T_CA="$d/ca.crt"
	T_CERT="$d/server.crt"
	T_KEY="$d/server.key"
}

t_stop_modfs() {
	local pid=$1 log=$2 rc=0 start end
	start=$(date +%s)
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	end=$(date +%s)
	T_CHECKS=$((T_CHECKS + 1))
	if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:" "$log"; then
		grep -E -A40 "ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:" "$log" | head -80 >&2
		t_fail "sanitizer report in $log"
	fi
	[ "$rc" -eq 0 ] || t_fail "modfs serve exited with status $rc: $(tail -5 "$log")"
	[ $((end - start)) -le 15 ] || t_fail "modfs serve took $((end - start)) s to stop"
}

t_sumdb_off() {
	local a
	for a in "$@"; do
		case $a in --sumdb | --sumdb=*) return 0 ;; esac
	done
	echo "--sumdb off"
}

t_go_sums() {
	python3 -c '
import json, sys
text = sys.stdin.read()
dec = json.JSONDecoder()
i, out = 0, []
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    obj, i = dec.raw_decode(text, i)
    if obj.get("Error"):
        sys.exit("go: " + obj["Path"] + ": " + obj["Error"])
    out.append("%s %s %s %s" % (obj["Path"], obj["Version"], obj["Sum"], obj["GoModSum"]))
print("\n".join(sorted(out)))'
}

t_go_env() {
	export GOTOOLCHAIN=local GOWORK=off GOFLAGS=-mod=mod GOSUMDB=off GONOSUMDB='*'
	export GOENV=off GOTELEMETRY=off
	export GOPATH="$T_TMP/gopath" GOCACHE="$T_TMP/gocache"
	export GOMODCACHE="$GOPATH/pkg/mod"
	# Never the network by accident: each test sets GOPROXY itself.
	export GOPROXY=off
	unset GOPRIVATE GONOPROXY GOINSECURE
}
