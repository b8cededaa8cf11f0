#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Every header and status rule of the GOPROXY front, checked with curl over HTTP/1.1, h2c and
# TLS h2: Content-Type per kind, exact Content-Length, a strong ETag from the SHA-256, Cache-Control
# (immutable versus the list TTL), Last-Modified, HEAD (same headers, no body, the connection
# still usable), 304 on If-None-Match / If-Modified-Since, Range (206 with the exact bytes, 416,
# If-Range), and the error statuses: 404 unknown module, 410 when upstream says 410, 404/400 for
# bad names, 405 for POST, 502 when upstream fails, /healthz, /sumdb, /metrics.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"
t_require_cmd h2load

h_upstream_tree
t_start_upstream "$H_UP" '        location /example.com/gone/ { return 410; }
        location /example.com/broken/ { return 500 "upstream exploded\n"; }'
h_make_ca
started=$(date +%s)
h_start_modfs main "$UPSTREAM_URL" --list-ttl 77 --retries 0
U=$H_URL
T=$H_TLS_URL
W=$(t_tmpdir w)
OPTS=(-sS --cacert "$H_CA")
CURL=(curl "${OPTS[@]}")

# hdr FILE NAME: the value of header NAME (case-insensitive) in a curl -D dump, without CR.
hdr() {
	awk -v n="$(tr 'A-Z' 'a-z' <<<"$2")" 'BEGIN { FS = ": " } { k = tolower($1); sub(/\r$/, "") }
		k == n { sub(/^[^:]*: /, ""); print; exit }' "$1"
}
# status FILE: the status code of the (last) response in a curl -D dump.
status() {
	awk '/^HTTP\// { s = $2 } END { print s }' "$1"
}
# The headers of a dump that must agree between GET and HEAD, one per line, sorted.
stable_headers() {
	tr -d '\r' <"$1" | awk -F': ' 'NR > 1 && NF > 1 && tolower($1) != "date" { print tolower($1) ": " $2 }' | sort
}
etag_of() {
	printf '"%s"' "$(sha256sum "$1" | cut -c1-32)"
}

# check_object KEY URL_PATH CONTENT_TYPE CACHE_CONTROL
check_object() {
	local key=$1 path=$2 ct=$3 cc=$4 file="$H_UP/$1" proto url lm c
	for proto in h1 h2c h2; do
		case $proto in
		h1) c=("${OPTS[@]}" --http1.1) url=$U$path ;;
		h2c) c=("${OPTS[@]}" --http2-prior-knowledge) url=$U$path ;;
		h2) c=("${OPTS[@]}" --http2) url=$T$path ;;
		esac
		curl "${c[@]}" -D "$W/get.h" -o "$W/get.b" "$url"
		t_assert_eq "$(status "$W/get.h")" 200 "$proto GET $path status"
		t_assert_file_eq "$W/get.b" "$file" "$proto GET $path body"
		t_assert_eq "$(hdr "$W/get.h" content-length)" "$(stat -L -c %s "$file")" "$proto $path Content-Length"
		t_assert_eq "$(hdr "$W/get.h" content-type)" "$ct" "$proto $path Content-Type"
		t_assert_eq "$(hdr "$W/get.h" etag)" "$(etag_of "$file")" "$proto $path ETag"
		t_assert_eq "$(hdr "$W/get.h" cache-control)" "$cc" "$proto $path Cache-Control"
		lm=$(date -u -d "$(hdr "$W/get.h" last-modified)" +%s) || t_fail "$path: bad Last-Modified"
		[ "$lm" -ge $((started - 5)) ] && [ "$lm" -le $(($(date +%s) + 5)) ] ||
			t_fail "$path: Last-Modified $(hdr "$W/get.h" last-modified) is not when it was stored"
		if [[ $key == *.zip ]]; then
			t_assert_eq "$(hdr "$W/get.h" accept-ranges)" bytes "$proto $path Accept-Ranges"
		else
			t_assert_eq "$(hdr "$W/get.h" accept-ranges)" "" "$proto $path has no Accept-Ranges"
		fi
		# HEAD: the same headers and no body.
		curl "${c[@]}" -I -D "$W/head.h" -o /dev/null "$url"
		t_assert_eq "$(status "$W/head.h")" 200 "$proto HEAD $path status"
		t_assert_eq "$(stable_headers "$W/head.h")" "$(stable_headers "$W/get.h")" "$proto HEAD $path headers"
		if [ $proto = h1 ]; then
			# Were a body sent, the GET that follows on the same connection would read it as its
			# response.
			curl "${c[@]}" -I -o /dev/null "$url" --next "${c[@]}" -o "$W/next.b" -w '%{num_connects}' "$url" >"$W/next.n"
			t_assert_file_eq "$W/next.b" "$file" "$proto GET after HEAD on one connection, $path"
			t_assert_eq "$(cat "$W/next.n")" 0 "$proto new connections for the GET after HEAD"
		else
			# (curl 7.88 cannot reuse an h2 connection after HEAD, whatever the server; h2load
			# and nghttp can.) Many HEADs multiplexed on one connection: a body on any of them
			# would be a protocol error for the whole connection.
			h2load -n 40 -c 1 -m 8 -H ':method: HEAD' "$url" >"$W/h2load.out" 2>&1 || true
			grep -q "40 succeeded, 0 failed, 0 errored" "$W/h2load.out" || t_fail "$proto h2load HEAD $path: $(grep requests: "$W/h2load.out")"
			grep -q "headers.*, 0B (0) data" "$W/h2load.out" || t_fail "$proto HEAD $path sent data: $(grep traffic: "$W/h2load.out")"
			T_CHECKS=$((T_CHECKS + 2))
		fi
	done
}

immutable="public, max-age=31536000, immutable"
check_object golang.org/x/text/@v/v0.8.0.info /golang.org/x/text/@v/v0.8.0.info application/json "$immutable"
check_object golang.org/x/text/@v/v0.8.0.mod /golang.org/x/text/@v/v0.8.0.mod "text/plain; charset=utf-8" "$immutable"
check_object golang.org/x/text/@v/v0.8.0.zip /golang.org/x/text/@v/v0.8.0.zip application/zip "$immutable"
check_object golang.org/x/text/@v/list /golang.org/x/text/@v/list "text/plain; charset=utf-8" "public, max-age=77"
check_object example.com/multi/@latest /example.com/multi/@latest application/json "public, max-age=77"
# a query (branch name) resolves differently over time: short max-age like list
check_object example.com/multi/@v/master.info /example.com/multi/@v/master.info application/json "public, max-age=77"
# '!' arrives as %21 from go, '+' stays literal; both spellings of '!' name one object
check_object 'example.com/!upper/!lib/@v/v1.2.3.info' '/example.com/%21upper/%21lib/@v/v1.2.3.info' application/json "$immutable"
check_object 'example.com/!upper/!lib/@v/v1.2.3.mod' '/example.com/!upper/!lib/@v/v1.2.3.mod' "text/plain; charset=utf-8" "$immutable"
check_object 'example.com/old/@v/v2.0.0+incompatible.mod' '/example.com/old/@v/v2.0.0+incompatible.mod' "text/plain; charset=utf-8" "$immutable"

# ---- conditional requests ----
Z=/golang.org/x/text/@v/v0.8.0.zip
ZF="$H_UP/golang.org/x/text/@v/v0.8.0.zip"
ZS=$(stat -L -c %s "$ZF")
ET=$(etag_of "$ZF")
"${CURL[@]}" -D "$W/z.h" -o /dev/null "$U$Z"
LM=$(hdr "$W/z.h" last-modified)
cond() { # EXPECTED_STATUS DESCRIPTION CURL_ARGS...
	local want=$1 what=$2
	shift 2
	: >"$W/c.b" # curl creates no file for an empty body
	"${CURL[@]}" -D "$W/c.h" -o "$W/c.b" "$@"
	t_assert_eq "$(status "$W/c.h")" "$want" "$what"
}
cond 304 "If-None-Match with the ETag" -H "If-None-Match: $ET" "$U$Z"
t_assert_eq "$(stat -c %s "$W/c.b")" 0 "304 body size"
t_assert_eq "$(hdr "$W/c.h" etag)" "$ET" "304 carries the ETag"
cond 304 "If-None-Match W/ETag (weak comparison)" -H "If-None-Match: W/$ET" "$U$Z"
cond 304 "If-None-Match in a list" -H "If-None-Match: \"0123\", $ET" "$U$Z"
cond 304 "If-None-Match: *" -H "If-None-Match: *" "$U$Z"
cond 200 "If-None-Match with another ETag" -H 'If-None-Match: "00000000000000000000000000000000"' "$U$Z"
cond 304 "If-None-Match over h2" --http2 -H "If-None-Match: $ET" "$T$Z"
cond 304 "If-Modified-Since Last-Modified" -H "If-Modified-Since: $LM" "$U$Z"
cond 200 "If-Modified-Since long ago" -H "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT" "$U$Z"
cond 200 "If-None-Match decides over If-Modified-Since" -H 'If-None-Match: "x"' -H "If-Modified-Since: $LM" "$U$Z"
# entity-tag lists are parsed strictly: two tags with no comma between them are no list
cond 200 "If-None-Match without a comma between tags" -H "If-None-Match: \"x\"$ET" "$U$Z"
t_assert_file_eq "$W/c.b" "$ZF" "malformed If-None-Match: body"
cond 200 "If-None-Match with junk after the tag" -H "If-None-Match: ${ET}x" "$U$Z"
# If-Match (strong) and If-Unmodified-Since: 412 when they fail, before any 304
cond 200 "If-Match with the ETag" -H "If-Match: $ET" "$U$Z"
cond 200 "If-Match: *" -H "If-Match: *" "$U$Z"
cond 412 "If-Match with another ETag" -H 'If-Match: "00000000000000000000000000000000"' "$U$Z"
grep -q "^precondition failed: If-Match" "$W/c.b" || t_fail "412 body: $(cat "$W/c.b")"
cond 412 "If-Match with a weak ETag" -H "If-Match: W/$ET" "$U$Z"
cond 412 "malformed If-Match" -H "If-Match: \"x\"$ET" "$U$Z"
cond 412 "If-Match over h2" --http2 -H 'If-Match: "0"' "$T$Z"
cond 412 "If-Match fails before If-None-Match" -H 'If-Match: "0"' -H "If-None-Match: $ET" "$U$Z"
cond 200 "If-Unmodified-Since Last-Modified" -H "If-Unmodified-Since: $LM" "$U$Z"
cond 412 "If-Unmodified-Since long ago" -H "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT" "$U$Z"
grep -q "^precondition failed: modified since" "$W/c.b" || t_fail "412 body: $(cat "$W/c.b")"
cond 200 "If-Unmodified-Since not a date" -H "If-Unmodified-Since: yesterday" "$U$Z"
cond 412 "If-Unmodified-Since on HEAD" -I -H "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT" "$U$Z"

# ---- Range ----
range() { # RANGE FIRST LAST DESCRIPTION [CURL_ARGS...]
	local r=$1 a=$2 b=$3 what=$4
	shift 4
	"${CURL[@]}" -D "$W/r.h" -o "$W/r.b" -H "Range: $r" "$@"
	t_assert_eq "$(status "$W/r.h")" 206 "$what status"
	t_assert_eq "$(hdr "$W/r.h" content-range)" "bytes $a-$b/$ZS" "$what Content-Range"
	t_assert_eq "$(hdr "$W/r.h" content-length)" "$((b - a + 1))" "$what Content-Length"
	dd if="$ZF" of="$W/r.want" bs=1M iflag=skip_bytes,count_bytes skip="$a" count=$((b - a + 1)) status=none
	t_assert_file_eq "$W/r.b" "$W/r.want" "$what bytes"
}
range "bytes=100-199" 100 199 "Range 100-199" "$U$Z"
range "bytes=1000000-" 1000000 $((ZS - 1)) "open-ended Range" "$U$Z"
range "bytes=-500" $((ZS - 500)) $((ZS - 1)) "suffix Range" "$U$Z"
range "bytes=0-$((ZS + 100))" 0 $((ZS - 1)) "Range past the end" "$U$Z"
range "bytes=4000000-4200000" 4000000 4200000 "Range over h2c" --http2-prior-knowledge "$U$Z"
range "bytes=7-7" 7 7 "Range over TLS h2" --http2 "$T$Z"
range "bytes=10-19" 10 19 "If-Range with the ETag" -H "If-Range: $ET" "$U$Z"
range "bytes=10-19" 10 19 "If-Range with Last-Modified" -H "If-Range: $LM" "$U$Z"
"${CURL[@]}" -D "$W/r.h" -o "$W/r.b" -H "Range: bytes=$ZS-" "$U$Z"
t_assert_eq "$(status "$W/r.h")" 416 "Range beyond the end"
t_assert_eq "$(hdr "$W/r.h" content-range)" "bytes */$ZS" "416 Content-Range"
cond 200 "two ranges get the whole object" -H "Range: bytes=0-1,5-9" "$U$Z"
t_assert_file_eq "$W/c.b" "$ZF" "two ranges: body"
cond 200 "If-Range with another ETag" -H "Range: bytes=0-9" -H 'If-Range: "0000"' "$U$Z"
t_assert_file_eq "$W/c.b" "$ZF" "stale If-Range: body"
cond 200 "malformed Range is ignored" -H "Range: bytes=abc" "$U$Z"

# ---- statuses ----
text() { # STATUS PATH DESCRIPTION [CURL_ARGS...]: a text/plain answer with that status
	local want=$1 path=$2 what=$3
	shift 3
	"${CURL[@]}" -D "$W/e.h" -o "$W/e.b" "$@" "$U$path"
	t_assert_eq "$(status "$W/e.h")" "$want" "$what status"
	t_assert_eq "$(hdr "$W/e.h" content-type)" "text/plain; charset=utf-8" "$what Content-Type"
	t_assert_eq "$(hdr "$W/e.h" content-length)" "$(stat -c %s "$W/e.b")" "$what Content-Length"
	[ -s "$W/e.b" ] || t_fail "$what: empty body"
}
text 404 /example.com/nope/@v/list "unknown module"
grep -q "^not found" "$W/e.b" || t_fail "404 body: $(cat "$W/e.b")"
text 404 /example.com/nope/@v/v1.0.0.zip "unknown module zip"
text 410 /example.com/gone/@v/list "upstream 410"
text 410 /example.com/gone/@v/v1.0.0.info "upstream 410 (.info)"
text 404 /Golang.org/x/text/@v/list "upper-case in an escaped path"
text 404 /golang.org/x/text/@v/v0.8.0.tar "unknown suffix"
text 404 /golang.org/x/text/@v/v0.8.0.zip/x "name below a zip"
text 404 "/golang.org/x/text/@v/v1.0.0+meta.zip" "non-canonical version of a zip"
text 404 /nodot/@v/list "module path without a dot"
text 404 // "an empty module path (/ is the status page)"
text 404 /sumdb/sum.golang.org/supported "checksum database"
text 400 /%zz "bad percent-encoding"
text 400 /golang.org/x/text/@v/list%2 "truncated percent-encoding"
text 400 /golang.org/x/text/%00/@v/list "encoded NUL"
# one object, one URL: an encoded '/' is not a path separator, and no key has one
text 404 /golang.org%2Fx/text/@v/v0.8.0.info "encoded / in the module path"
grep -q '%2F' "$W/e.b" || t_fail "404 body for an encoded /: $(cat "$W/e.b")"
text 404 /golang.org/x/text/@v%2fv0.8.0.info "encoded / before the version"
text 405 /golang.org/x/text/@v/list "POST" -X POST -d x
t_assert_eq "$(hdr "$W/e.h" allow)" "GET, HEAD" "405 Allow"
text 405 /golang.org/x/text/@v/list "PUT" -X PUT -d x
text 502 /example.com/broken/@v/list "upstream 500"
grep -q "500" "$W/e.b" || t_fail "502 body does not say why: $(cat "$W/e.b")"
text 200 /healthz "healthz"
t_assert_eq "$(cat "$W/e.b")" ok "healthz body"
# query strings are not part of the key
"${CURL[@]}" -o "$W/q.b" "$U/golang.org/x/text/@v/v0.8.0.mod?go-get=1"
t_assert_file_eq "$W/q.b" "$H_UP/golang.org/x/text/@v/v0.8.0.mod" "query string ignored"

# ---- metrics ----
# The store's counts come from memory, taken again by a background thread a second or so after
# the store changes: wait for them (generously, the machine may be loaded), then check the rest.
for _ in $(seq 60); do
	m=$("${CURL[@]}" "$U/metrics")
	v=$(h_metric "$m" modfs_store_objects)
	[ "$v" != missing ] && [ "$v" -gt 0 ] && break
	sleep 0.5
done
for series in 'modfs_http_requests_total{route="zip",code="206"}' 'modfs_http_requests_total{route="zip",code="304"}' \
	'modfs_http_requests_total{route="list",code="410"}' 'modfs_http_requests_total{route="list",code="502"}' \
	'modfs_http_requests_total{route="other",code="400"}' 'modfs_http_requests_total{route="list",code="405"}' \
	'modfs_http_requests_total{route="info",code="200"}' 'modfs_http_requests_total{route="latest",code="200"}' \
	modfs_http_cache_hits_total modfs_http_cache_misses_total modfs_http_upstream_fetches_total \
	'modfs_http_errors_total{kind="upstream"}' modfs_http_request_duration_seconds_count \
	modfs_http_response_bytes_total modfs_store_objects modfs_store_logical_bytes; do
	v=$(h_metric "$m" "$series")
	[ "$v" != missing ] && awk -v v="$v" 'BEGIN { exit !(v > 0) }' || t_fail "metric $series: $v"
	T_CHECKS=$((T_CHECKS + 1))
done
grep -q 'code="500"' <<<"$m" && t_fail "a request was answered 500"
grep -q '^# TYPE modfs_http_request_duration_seconds histogram' <<<"$m" || t_fail "no duration histogram"
T_CHECKS=$((T_CHECKS + 2))

# Group commit figures: concurrent misses of keys not asked for yet are each committed to the
# index, in at most as many commits as objects. A small miss is answered before its commit:
# wait for the figures.
commits0=$(h_metric "$m" modfs_store_commits_total)
objects0=$(h_metric "$m" modfs_store_committed_objects_total)
[ "$commits0" != missing ] && [ "$objects0" != missing ] || t_fail "no group commit figures in /metrics"
[ "$commits0" -ge 1 ] && [ "$commits0" -le "$objects0" ] || t_fail "group commits: $commits0 commits of $objects0 objects"
keys=()
for v in v1.0.0 v1.1.0 v1.2.0-pre; do
	keys+=("example.com/multi/@v/$v.info" "example.com/multi/@v/$v.mod" "example.com/multi/@v/$v.zip")
done
keys+=(golang.org/x/mod/@v/v0.7.0.info golang.org/x/mod/@v/v0.7.0.mod golang.org/x/mod/@v/v0.7.0.zip)
pids=()
for k in "${keys[@]}"; do
	"${CURL[@]}" -f -o /dev/null "$U/$k" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || t_fail "a concurrent miss failed"
done
n=${#keys[@]}
for _ in $(seq 60); do
	m=$("${CURL[@]}" "$U/metrics")
	objects=$(h_metric "$m" modfs_store_committed_objects_total)
	[ $((objects - objects0)) -ge "$n" ] && break
	sleep 0.5
done
commits=$(h_metric "$m" modfs_store_commits_total)
t_log "$n concurrent misses: $((commits - commits0)) commits of $((objects - objects0)) objects"
[ $((objects - objects0)) -ge "$n" ] || t_fail "$n concurrent misses committed $((objects - objects0)) objects"
[ "$commits" -gt "$commits0" ] && [ $((commits - commits0)) -le $((objects - objects0)) ] ||
	t_fail "$n concurrent misses: $((commits - commits0)) commits of $((objects - objects0)) objects"
T_CHECKS=$((T_CHECKS + 3))

h_stop "$H_PID" "$H_LOG"
# `modfs stat` shows the same figures, written to the store when the server stopped.
stat_of() {
	"$MODFS_BIN" stat --cache-dir "$H_STORE" | awk -F': *' -v k="$1" '$1 == k { print $2 }'
}
t_assert_eq "$(stat_of committed_objects)" "$objects" "modfs stat committed_objects after the stop"
t_assert_eq "$(stat_of store_commits)" "$commits" "modfs stat store_commits after the stop"
