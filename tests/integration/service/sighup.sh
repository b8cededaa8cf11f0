#!/bin/bash
# SPDX-License-Identifier: MIT
#
# SIGHUP reloads without dropping a connection: while a 25 MB zip is being fetched through modfs
# from an upstream throttled by nginx (limit_rate), the config file is changed (list-ttl, log
# level) and the TLS certificate is replaced, and SIGHUP is sent. Then list answers carry the new
# max-age, request lines appear at the new log level (with the client address), new TLS
# connections get the new certificate, and the download completes byte-identical. A reload of a
# broken file changes nothing and says why, with file and line. sd_notify messages (READY,
# RELOADING, STOPPING) reach NOTIFY_SOCKET.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/../http/http_lib.sh"
t_require_cmd ss python3

h_slow_upstream
h_make_ca
cp "$H_CA" "$T_TMP/ca1.crt"

# a stand-in for systemd's notify socket: every datagram, one per line
notify="$T_TMP/notify.sock"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n"); out.flush()
' "$notify" "$T_TMP/notify.log" &
t_on_exit "kill $!"
for ((i = 0; i < 100; i++)); do [ -S "$notify" ] && break; sleep 0.05; done

conf="$T_TMP/modfs.conf"
printf 'list-ttl = 60\nlog-level = notice\n' >"$conf"
NOTIFY_SOCKET="$notify" h_start_modfs main "$UPSTREAM_URL" --config "$conf"
for ((i = 0; i < 200; i++)); do grep -q READY=1 "$T_TMP/notify.log" 2>/dev/null && break; sleep 0.05; done
grep -q 'READY=1 STATUS=serving store' "$T_TMP/notify.log" || t_fail "no READY=1 on NOTIFY_SOCKET"

cc() { curl -fsS -o /dev/null -D - "$H_URL/example.com/multi/@v/list" | tr -d '\r' | sed -n 's/^cache-control: //Ip'; }
t_assert_eq "$(cc)" "public, max-age=60" "Cache-Control of list before the reload"
t_assert_eq "$(grep -c ' GET /example.com/multi/@v/list 200 ' "$H_LOG" || true)" 0 "request lines at notice"

curl -fsS -o "$T_TMP/big.zip" "$H_URL/example.com/big/@v/v1.0.0.zip" &
curl_pid=$!
h_wait_fetching

printf 'list-ttl = 7\nlog-level = info\n' >"$conf"
h_make_ca # a new CA and server certificate, in the same files: a renewal
kill -HUP "$H_PID"
for ((i = 0; i < 200; i++)); do grep -q 'notice: reloaded' "$H_LOG" && break; sleep 0.05; done
grep -q 'notice: reloaded: list-ttl 7 s, notfound-ttl 60 s, log-level info, TLS certificate and key' "$H_LOG" ||
	t_fail "no reload notice: $(tail -5 "$H_LOG")"
T_CHECKS=$((T_CHECKS + 1))
kill -0 "$curl_pid" 2>/dev/null || t_fail "the download was over before the reload: the test proves nothing"

t_assert_eq "$(cc)" "public, max-age=7" "Cache-Control of list after the reload"
grep -q '^modfs: info: 127\.0\.0\.1 GET /example.com/multi/@v/list 200 ' "$H_LOG" ||
	t_fail "no info request line with the client address after the reload: $(tail -3 "$H_LOG")"
curl -fsS --cacert "$H_CA" -o /dev/null "$H_TLS_URL/healthz" || t_fail "TLS with the new certificate failed"
curl -fsS --cacert "$T_TMP/ca1.crt" -o /dev/null "$H_TLS_URL/healthz" 2>/dev/null &&
	t_fail "a new TLS connection still got the old certificate"

wait "$curl_pid" || t_fail "the download in flight during the reload failed"
t_assert_file_eq "$T_TMP/big.zip" "$FIX/big/example.com/big/@v/v1.0.0.zip" "zip downloaded across the reload"

# a broken file: one error with file and line, nothing changes
printf 'list-ttl = 7\nlog-level = loud\n' >"$conf"
kill -HUP "$H_PID"
for ((i = 0; i < 200; i++)); do grep -q 'keeping the running configuration' "$H_LOG" && break; sleep 0.05; done
grep -q "^modfs: error: reload: $conf:2: log-level: expected error, warn, notice, info or debug, not \"loud\"; keeping the running configuration$" "$H_LOG" ||
	t_fail "no file:line error for a broken reload: $(tail -3 "$H_LOG")"
t_assert_eq "$(cc)" "public, max-age=7" "Cache-Control after a failed reload"
grep -q 'RELOADING=1' "$T_TMP/notify.log" || t_fail "no RELOADING=1 on NOTIFY_SOCKET"

h_stop "$H_PID" "$H_LOG"
grep -q 'STOPPING=1' "$T_TMP/notify.log" || t_fail "no STOPPING=1 on NOTIFY_SOCKET"
