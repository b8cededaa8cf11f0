#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Clients that leave mid-body: curl cut off mid-zip over HTTP/1.1, h2c and TLS h2, and HTTP/2
# streams reset mid-zip on a connection that goes on. The server stays healthy (the next request
# on the same connection, and new ones, are answered; the zip still arrives whole), its memory
# does not grow with the number of abandoned downloads, and a connection that resets streams by
# the hundred ("rapid reset") is closed while one that resets a few is not. The count is per
# client, not per connection: a client that reconnects before each limit is cut all the same,
# and another client (another loopback address) is not.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"
t_require_cmd python3

h_upstream_tree
t_start_upstream "$H_UP"
h_make_ca
h_start_modfs main "$UPSTREAM_URL" --threads 2
W=$(t_tmpdir w)
RESET="$(dirname "$0")/h2_reset.py"
PORT=${H_URL##*:}
big=/example.com/big/@v/v1.0.0.zip
[ -f "$H_UP$big" ] || t_fail "no big fixture zip"

curl -sS -f -o "$W/big" "$H_URL$big"
t_assert_file_eq "$W/big" "$H_UP$big" "big zip, first download"

# abandon N: N downloads cut off after ~0.2 s at 2 MB/s, a third over each protocol, and N/3
# HTTP/2 streams reset after their first DATA frame.
abandon() {
	local i rc
	for ((i = 0; i < $1; i++)); do
		case $((i % 3)) in
		0) args=(--http1.1 "$H_URL$big") ;;
		1) args=(--http2-prior-knowledge "$H_URL$big") ;;
		2) args=(--http2 --cacert "$H_CA" "$H_TLS_URL$big") ;;
		esac
		rc=0
		curl -sS --limit-rate 2M --max-time 0.2 -o /dev/null "${args[@]}" 2>/dev/null || rc=$?
		[ "$rc" -eq 28 ] || t_fail "a cut-off download ended with curl status $rc, not a timeout"
	done
	for ((i = 0; i < $1 / 3; i++)); do
		[ "$(python3 "$RESET" "$PORT" abort "$big")" = ok ] || t_fail "request after a stream reset failed"
	done
	T_CHECKS=$((T_CHECKS + 2))
}

abandon 30
rss1=$(h_rss_kib "$H_PID")
abandon 90
rss2=$(h_rss_kib "$H_PID")
t_log "RSS after 40 abandoned downloads: $rss1 KiB, after 160: $rss2 KiB"
if [[ $(ldd "$MODFS_BIN" 2>/dev/null) == *libasan* ]]; then
	# AddressSanitizer holds freed memory in quarantine (256 MiB by default): RSS says nothing
	t_log "sanitizer build: RSS growth not checked"
else
	[ $((rss2 - rss1)) -lt 16384 ] || t_fail "RSS grew by $((rss2 - rss1)) KiB over 120 abandoned downloads"
	T_CHECKS=$((T_CHECKS + 1))
fi

t_assert_eq "$(curl -sS "$H_URL/healthz")" ok "healthz after the aborts"
curl -sS -f -o "$W/big" --http2-prior-knowledge "$H_URL$big"
t_assert_file_eq "$W/big" "$H_UP$big" "big zip over h2c after the aborts"
curl -sS -f -o "$W/big" --cacert "$H_CA" "$H_TLS_URL$big"
t_assert_file_eq "$W/big" "$H_UP$big" "big zip over TLS after the aborts"

# A few resets are normal client behaviour; hundreds within seconds are an attack.
t_assert_eq "$(python3 "$RESET" "$PORT" rapid "$big" 50)" open "a connection that reset 50 streams"
t_assert_eq "$(python3 "$RESET" "$PORT" rapid "$big" 1000)" closed "a connection that reset 1000 streams"
t_assert_eq "$(curl -sS "$H_URL/healthz")" ok "healthz after the rapid resets"
# 150 resets per connection stay under the limit of one connection; the second 150 of the same
# client pass the client's limit (200 in 10 s); a third client's 150 are its own.
t_assert_eq "$(python3 "$RESET" --from 127.0.0.3 "$PORT" rapid "$big" 150)" open "client 3, first 150 resets"
t_assert_eq "$(python3 "$RESET" --from 127.0.0.3 "$PORT" rapid "$big" 150)" closed "client 3, 150 more on a new connection"
t_assert_eq "$(python3 "$RESET" --from 127.0.0.4 "$PORT" rapid "$big" 150)" open "client 4, first 150 resets"

m=$(curl -sS "$H_URL/metrics")
aborted=$(h_metric "$m" modfs_http_aborted_responses_total)
[ "$aborted" != missing ] && [ "$aborted" -ge 40 ] || t_fail "aborted responses counted: $aborted"
t_assert_eq "$(h_metric "$m" modfs_http_connections_cut_total)" 2 "connections cut"
t_assert_eq "$(h_metric "$m" 'modfs_http_errors_total{kind="read"}')" 0 "store read errors"
T_CHECKS=$((T_CHECKS + 1))

h_stop "$H_PID" "$H_LOG"
