#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The real go command against modfs's GOPROXY front, over plain HTTP and over TLS (HTTP/2 by
# ALPN, the test CA given through SSL_CERT_FILE): `go mod download -json` of every fixture
# reports the same Sum and GoModSum as with GOPROXY=file://<fixtures>, `go build` of the fixture
# app prints app.expected, `go list -m -versions` and `go get module@latest` resolve as they do
# against the file:// proxy; curl and go both show that the TLS port speaks HTTP/2.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"
t_require_cmd go python3

t_start_upstream "$FIX/proxy"
h_make_ca
h_start_modfs main "$UPSTREAM_URL"
t_go_env

mapfile -t mods < <(awk '{ print $1 "@" $2 }' "$FIX/modules.txt")
[ "${#mods[@]}" -ge 5 ] || t_fail "only ${#mods[@]} fixture modules"

# download MODE PROXY: a fresh module cache each time, so every object crosses the wire.
download() {
	local mode=$1
	GOMODCACHE="$T_TMP/modcache-$mode" GOPROXY=$2 go mod download -json "${mods[@]}" >"$T_TMP/dl-$mode.json" ||
		t_fail "go mod download via $mode failed"
	t_go_sums <"$T_TMP/dl-$mode.json" >"$T_TMP/sums-$mode"
}

cd "$(t_tmpdir work)"
download file "file://$FIX/proxy"
awk '{ print $1, $2, $3, $4 }' "$FIX/modules.txt" | sort >"$T_TMP/sums-want"
t_assert_file_eq "$T_TMP/sums-file" "$T_TMP/sums-want" "file:// sums against modules.txt"

download http "$H_URL"
t_assert_file_eq "$T_TMP/sums-http" "$T_TMP/sums-file" "sums via http://"
export SSL_CERT_FILE="$H_CA"
download https "$H_TLS_URL"
t_assert_file_eq "$T_TMP/sums-https" "$T_TMP/sums-file" "sums via https://"

# The extracted trees are identical too (go verified them against go.sum's hashes already; this
# also catches a zip served with extra entries).
(cd "$T_TMP/modcache-file" && find . -path ./cache -prune -o -type f -printf '%P %s\n' | sort) >"$T_TMP/tree-file"
(cd "$T_TMP/modcache-https" && find . -path ./cache -prune -o -type f -printf '%P %s\n' | sort) >"$T_TMP/tree-https"
t_assert_file_eq "$T_TMP/tree-https" "$T_TMP/tree-file" "extracted module trees"

# go build of the fixture app, over HTTP/2 with TLS; GODEBUG makes go's transport say which
# protocol it spoke.
cp -r "$FIX/app" "$T_TMP/app"
cd "$T_TMP/app"
GOMODCACHE="$T_TMP/modcache-build" GOPROXY=$H_TLS_URL GODEBUG=http2debug=1 go build -o app . 2>"$T_TMP/build.err" ||
	t_fail "go build via https failed: $(grep -v '^http2:' "$T_TMP/build.err" | tail -5)"
grep -q "^http2: Transport received HEADERS" "$T_TMP/build.err" ||
	t_fail "go did not speak HTTP/2 to the TLS port: $(head -5 "$T_TMP/build.err")"
T_CHECKS=$((T_CHECKS + 1))
./app >"$T_TMP/app.out"
t_assert_file_eq "$T_TMP/app.out" "$FIX/app.expected" "output of the app built via https"

# and over plain HTTP (go speaks HTTP/1.1 there)
rm -f app
GOMODCACHE="$T_TMP/modcache-build-http" GOPROXY=$H_URL go build -o app . || t_fail "go build via http failed"
./app >"$T_TMP/app.out"
t_assert_file_eq "$T_TMP/app.out" "$FIX/app.expected" "output of the app built via http"

# go list -m -versions and go get @latest resolve as with the file:// proxy.
cd "$(t_tmpdir work2)"
for m in example.com/multi golang.org/x/text; do
	want=$(GOMODCACHE="$T_TMP/mc-l1" GOPROXY="file://$FIX/proxy" go list -m -versions "$m")
	got=$(GOMODCACHE="$T_TMP/mc-l2" GOPROXY=$H_TLS_URL go list -m -versions "$m")
	t_assert_eq "$got" "$want" "go list -m -versions $m"
	got=$(GOMODCACHE="$T_TMP/mc-l3" GOPROXY=$H_URL go list -m -versions "$m")
	t_assert_eq "$got" "$want" "go list -m -versions $m (http)"
done
# go get @latest: the versions it picks, as "module version" lines.
get_latest() {
	local d
	d=$(t_tmpdir "get-$1")
	(cd "$d" && go mod init example.com/probe >/dev/null 2>&1 &&
		GOMODCACHE="$d/mc" GOPROXY=$2 go get example.com/multi@latest golang.org/x/text@latest >/dev/null 2>&1) ||
		t_fail "go get @latest via $1 failed"
	(cd "$d" && GOMODCACHE="$d/mc" GOPROXY=$2 go list -m all | grep -E '^(example.com/multi|golang.org/x/text) ' | sort)
}
want=$(get_latest file "file://$FIX/proxy")
t_assert_eq "$(get_latest https "$H_TLS_URL")" "$want" "go get @latest via https"
t_assert_eq "$(get_latest http "$H_URL")" "$want" "go get @latest via http"
grep -q "example.com/multi v1.1.0" <<<"$want" || t_fail "@latest of example.com/multi is not v1.1.0: $want"

# curl negotiates h2 by ALPN on the TLS port.
curl -sS --http2 -v --cacert "$H_CA" -o /dev/null "$H_TLS_URL/golang.org/x/text/@v/v0.8.0.info" 2>"$T_TMP/curl.err"
grep -q "ALPN.*accepted h2\|ALPN, server accepted to use h2" "$T_TMP/curl.err" || t_fail "no ALPN h2: $(grep ALPN "$T_TMP/curl.err")"
grep -q "^< HTTP/2 200" "$T_TMP/curl.err" || t_fail "no HTTP/2 200 over TLS"
T_CHECKS=$((T_CHECKS + 2))
# TLS 1.2 is the floor; 1.3 is offered
curl -sS --tlsv1.3 --cacert "$H_CA" -o /dev/null "$H_TLS_URL/healthz" || t_fail "TLS 1.3 handshake failed"
curl -sS --tlsv1.2 --tls-max 1.2 --cacert "$H_CA" -o /dev/null "$H_TLS_URL/healthz" || t_fail "TLS 1.2 handshake failed"
# (curl and OpenSSL's default security level refuse TLS 1.1 on the client side already; lowered,
# s_client offers it, and only the server's floor can refuse it.)
tls11=$(echo | openssl s_client -connect "${H_TLS_URL#https://}" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' 2>&1 || true)
grep -q "Cipher is (NONE)" <<<"$tls11" || t_fail "a TLS 1.1 handshake succeeded: $(grep 'Cipher is' <<<"$tls11")"
T_CHECKS=$((T_CHECKS + 3))

# The store was filled once: what went upstream were misses, what came after were hits.
m=$(curl -sS "$H_URL/metrics")
hits=$(h_metric "$m" modfs_http_cache_hits_total)
fetches=$(h_metric "$m" modfs_http_upstream_fetches_total)
[ "$hits" != missing ] && [ "$hits" -gt 0 ] || t_fail "no cache hits counted: $hits"
[ "$fetches" != missing ] && [ "$fetches" -gt 0 ] || t_fail "no upstream fetches counted: $fetches"
T_CHECKS=$((T_CHECKS + 2))
zips=$(t_upstream_count ".zip 200")
t_assert_eq "$zips" "${#mods[@]}" "zips fetched from upstream (once each, whatever the protocol)"

h_stop "$H_PID" "$H_LOG"
