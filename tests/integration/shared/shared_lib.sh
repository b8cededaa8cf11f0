# SPDX-License-Identifier: MIT
#
# Helpers of the shared-tier scripts (one S3 bucket behind several modfs fronts), sourced after
# tests/integration/lib.sh. The object store is a real one: a single-node Ceph cluster and its S3
# gateway (radosgw), started per test by ./ceph-rgw on a free port and stopped at exit. A test
# skips (77) only when ceph-rgw cannot run at all here (the Ceph packages are missing and cannot
# be installed); any other failure to start fails the test.
#   s_start_store [bluestore] start the cluster (its OSD on memstore, in RAM, or on bluestore, a
#                             sparse file that outlives a restart); sets S3_PORT, S3_DIR and
#                             exports the fronts' credentials (AWS_ACCESS_KEY_ID,
#                             AWS_SECRET_ACCESS_KEY)
#   s_store_stop / s_store_start
#                             stop the whole cluster (gateway, OSD, monitor), and start it again
#                             from S3_DIR on the same port; with bluestore the data is still there
#   s_url BUCKET              http://127.0.0.1:PORT/BUCKET, for --s3
#   s_gateway_stop            stop the gateway alone (the cluster keeps the data): the fronts'
#                             object store is gone, connections are refused
#   s_gateway_start           start it again and wait until it answers
#   s_gateway_freeze / s_gateway_thaw
#                             SIGSTOP / SIGCONT the gateway: it accepts connections and never
#                             answers, a hung store
#   s_s3 METHOD NAME [CURL ARGS...]
#                             a signed request (curl --aws-sigv4) to NAME ("BUCKET/key", the key
#                             percent-encoded as S3 wants), body on stdout; fails on a non-2xx
#   s_obj BUCKET KEY          "BUCKET/KEY" with KEY percent-encoded as S3 signs it, for s_s3
#   s_list BUCKET PREFIX      the object names under PREFIX, one a line (first 1000)
#   s_manifest KEY FILE [TIME [H1 [SUMDB]]]
#                             the manifest modfs writes for FILE's bytes as KEY (on stdout), with
#                             an h1 line and the proving database's line when given
#   s_tree DIR...             a GOPROXY tree in $T_TMP/tree made of the trees DIR (symlinked);
#                             sets S_TREE
#   s_start_farm [OBJECTSTORE [NGINX_CONF]]
#                             what the farm scripts start from: the cluster (s_start_store
#                             OBJECTSTORE), the bucket "farm" (S_BUCKET, its URL for --s3), the
#                             fixture proxy and load trees (s_tree) served by nginx with NGINX_CONF
#                             (t_start_upstream; S_UPSTREAM_PID is nginx's pid)
#   s_stat STORE FIELD        one field of `modfs stat`
#   s_metric URL NAME         the value of the /metrics series NAME of the front at URL

[ -x "${MODFS_BIN:-}" ] || t_skip "MODFS_BIN is not set"
[ -f "${MODFS_FIXTURES:-}/modules.txt" ] || t_fail "fixtures missing: $MODFS_FIXTURES"
t_require_cmd curl python3

FIX="$MODFS_FIXTURES"
CEPH_RGW=${MODFS_CEPH_RGW:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ceph-rgw}
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$MODFS_SOURCE_ROOT/tests/lsan.supp"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

s_start_store() {
	local out
	S3_DIR="$T_TMP/ceph"
	S3_PORT=$(t_free_port)
	t_on_exit "'$CEPH_RGW' stop '$S3_DIR'"
	if ! out=$(CEPH_RGW_OBJECTSTORE=${1:-memstore} "$CEPH_RGW" start "$S3_DIR" "$S3_PORT" 2>"$T_TMP/ceph-rgw.err"); then
		if ! command -v radosgw >/dev/null 2>&1 || ! command -v ceph-osd >/dev/null 2>&1; then
			t_skip "the Ceph object gateway cannot run here: $(tail -1 "$T_TMP/ceph-rgw.err")"
		fi
		t_fail "ceph-rgw start: $(tail -3 "$T_TMP/ceph-rgw.err")"
	fi
	eval "$out"
	S3_ACCESS=$S3_ACCESS_KEY
	S3_SECRET=$S3_SECRET_KEY
	export AWS_ACCESS_KEY_ID=$S3_ACCESS AWS_SECRET_ACCESS_KEY=$S3_SECRET
	t_log "object store on 127.0.0.1:$S3_PORT (started in $(cat "$S3_DIR/startup-seconds") s)"
}

s_url() {
	echo "http://127.0.0.1:$S3_PORT/$1"
}

_s_rgw_pid() {
	awk '$1 == "rgw.a" { p = $2 } END { print p }' "$S3_DIR/pids"
}

s_gateway_stop() {
	local pid i
	pid=$(_s_rgw_pid)
	kill -CONT "$pid" 2>/dev/null || true
	kill -TERM "$pid"
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# _s_spawn NAME CMD...: a daemon of the cluster as ceph-rgw starts it: in the foreground of its own
# session, no descriptor of ours, recorded in DIR/pids so that `ceph-rgw stop` stops it.
_s_spawn() {
	local name=$1
	shift
	(
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
		done
		exec setsid "$@" -f
	) </dev/null >>"$S3_DIR/log/$name.out" 2>&1 &
	echo "$name $!" >>"$S3_DIR/pids"
}

_s_wait_answer() { # _s_wait_answer WHAT SECONDS: until an authenticated request succeeds
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		s_s3 GET "" -o /dev/null 2>/dev/null && return 0
		sleep 0.05
	done
	t_fail "$1 did not answer within $2 s"
}

s_gateway_start() {
	_s_spawn rgw.a radosgw -c "$S3_DIR/ceph.conf" -n client.rgw.a
	_s_wait_answer "the gateway" 60
}

s_store_stop() {
	"$CEPH_RGW" stop "$S3_DIR" >>"$T_TMP/ceph-rgw.err" 2>&1 || t_fail "ceph-rgw stop failed"
}

s_store_start() {
	local conf="$S3_DIR/ceph.conf"
	_s_spawn mon.a ceph-mon -c "$conf" -i a
	_s_spawn osd.0 ceph-osd -c "$conf" -i 0
	_s_spawn rgw.a radosgw -c "$conf" -n client.rgw.a
	_s_wait_answer "the restarted object store" 180
}

s_gateway_freeze() {
	kill -STOP "$(_s_rgw_pid)"
}

s_gateway_thaw() {
	kill -CONT "$(_s_rgw_pid)"
}

s_s3() {
	local method=(-X "$1") name=$2
	[ "$1" != HEAD ] || method=(--head)
	shift 2
	curl -sS -f --max-time 30 "${method[@]}" --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS:$S3_SECRET" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@" "http://127.0.0.1:$S3_PORT/$name"
}

s_obj() {
	python3 -c 'import sys, urllib.parse; print(sys.argv[1] + "/" + urllib.parse.quote(sys.argv[2], safe="/-._~"))' "$1" "$2"
}

s_manifest() {
	python3 - "$1" "$2" "${3:-1700000000}" "${4:-}" "${5:-}" <<'EOF_PY'
import hashlib, sys
key, path, when, h1, sumdb = sys.argv[1:6]
data = open(path, "rb").read()
text = "modfs-object 1\nkey %s\nsize %d\nsha256 %s\n" % (key, len(data), hashlib.sha256(data).hexdigest())
text += ("h1 %s\n" % h1 if h1 else "") + ("sumdb %s\n" % sumdb if sumdb else "") + "time %s\n" % when
if len(data) <= 16384:
    text += "data %s\n" % data.hex()
else:
    text += "chunk-size 1048576\n" + "".join(
        "chunk %s\n" % hashlib.sha256(data[i:i + 1048576]).hexdigest() for i in range(0, len(data), 1048576))
sys.stdout.write(text + "end %s\n" % hashlib.sha256(text.encode()).hexdigest())
EOF_PY
}

s_list() {
	local prefix
	prefix=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$2")
	s_s3 GET "$1?list-type=2&max-keys=1000&prefix=$prefix" |
		python3 -c '
import sys, xml.etree.ElementTree as ET
ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
for c in ET.fromstring(sys.stdin.read()).iter(ns + "Contents"):
    print(c.find(ns + "Key").text)'
}

s_tree() {
	S_TREE=$(t_tmpdir tree)
	local d
	for d in "$@"; do
		cp -rs "$d/." "$S_TREE/"
	done
	rm -f "$S_TREE/modules.txt"
}

s_start_farm() {
	s_start_store "${1:-memstore}"
	S_BUCKET=$(s_url farm)
	s_tree "$FIX/proxy" "$FIX/load"
	t_start_upstream "$S_TREE" "${2:-}"
	S_UPSTREAM_PID=$UPSTREAM_PID
}

s_stat() {
	local v
	v=$("$MODFS_BIN" stat --cache-dir "$1" | awk -F': *' -v k="$2" '$1 == k { print $2 }')
	[ -n "$v" ] || t_fail "modfs stat has no field '$2'"
	echo "${v%% *}"
}

s_metric() {
	curl -sS -f "$1/metrics" | awk -v k="$2" '$1 == k { print $2 }'
}
