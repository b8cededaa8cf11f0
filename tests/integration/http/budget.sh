#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Miss budgets (issue 8, finding 5): one client's flood of misses must neither hammer the upstream
# nor starve another client's misses. Clients are loopback addresses (127.0.0.1, .2, .3), the
# budget --miss-rate 20 --miss-burst 40.
#   1. Client A floods distinct missing keys (answered 404 at once upstream) for 6 s: the upstream
#      sees at most burst + rate x time of them, A gets 429 with Retry-After and a clear body,
#      while client B's misses, one every half second, are all answered (200/404) in well under
#      a second, and hits are never refused.
#   2. Client C floods keys that hang upstream: C holds at most three quarters of the fetch
#      workers and its share of the queue, so B's misses still go straight through.
#   3. With --auth-file, a client is its user: from one address, alice (a bearer token) spends
#      her budget while bob (Basic credentials) still has his; SIGHUP with --miss-rate 0 in the
#      config file lifts the limit for the running server.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"
t_require_cmd h2load python3

h_upstream_tree
W=$(t_tmpdir w)
cat >"$W/rules.json" <<EOF
{"/example.com/hang*": {"hang": true}}
EOF
t_start_broken_upstream "$H_UP" "$W/rules.json"
h_start_modfs main "$UPSTREAM_URL" --threads 2 --miss-rate 20 --miss-burst 40 --stall-timeout 5

now() { date +%s.%N; }

# b_misses N LOG: client B asks N distinct keys (half of them exist upstream), one every half
# second, and writes "<status> <seconds>" per request to LOG
b_misses() {
	local i key
	: >"$2"
	for ((i = 0; i < $1; i++)); do
		case $((i % 4)) in
		0) key=/golang.org/x/text/@v/v0.$((i % 2 + 7)).0.mod ;;
		1) key=/example.com/b$RANDOM$i/@v/v1.0.0.info ;;
		2) key=/golang.org/x/mod/@v/v0.7.0.info ;;
		3) key=/example.com/b$RANDOM$i/@v/v1.0.0.mod ;;
		esac
		curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 30 --interface 127.0.0.2 \
			"$H_URL$key" >>"$2" 2>&1 || echo "000 30" >>"$2"
		# the same key again: a hit or a remembered 404, never refused
		curl -sS -o /dev/null -w '%{http_code} %{time_total} again\n' --max-time 30 --interface 127.0.0.2 \
			"$H_URL$key" >>"$2" 2>&1 || echo "000 30 again" >>"$2"
		sleep 0.5
	done
}

# b_check LOG WHAT: every answer of B was 200 or 404, each well under a second (1.5 s allowed)
b_check() {
	local code secs rest worst
	while read -r code secs rest; do
		case $code in
		200 | 404) ;;
		*) t_fail "$2: client B got $code ($secs s) $rest" ;;
		esac
		python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 1.5 else 1)" "$secs" ||
			t_fail "$2: a miss of client B took $secs s"
	done <"$1"
	worst=$(sort -k2 -g "$1" | tail -1 | cut -d' ' -f2)
	t_log "$2: client B's slowest answer of $(wc -l <"$1"): $worst s"
	T_CHECKS=$((T_CHECKS + 1))
}

# 1. A floods fast misses.
python3 -c "
for i in range(100000): print('$H_URL/example.com/flood%d/@v/v1.0.0.info' % i)" >"$W/flood.uris"
t0=$(now)
h2load -i "$W/flood.uris" -D 6 -c 2 -m 16 >"$W/h2load.out" 2>&1 &
flood_pid=$!
b_misses 10 "$W/b1.log"
wait "$flood_pid" || true
t1=$(now)
b_check "$W/b1.log" "during a flood of fast misses"
sent=$(sed -n 's/^requests: \([0-9]*\) total.*/\1/p' "$W/h2load.out")
up=$(t_upstream_count "GET /example.com/flood")
max=$(python3 -c "import sys; print(int(40 + 20 * (float(sys.argv[2]) - float(sys.argv[1]) + 1)))" "$t0" "$t1")
t_log "client A sent $sent misses; upstream saw $up of them (at most $max allowed)"
[ "${sent:-0}" -gt $((max * 3)) ] || t_fail "the flood was too small to tell: $sent requests"
[ "$up" -le "$max" ] || t_fail "upstream saw $up requests of the flood, more than $max"
[ "$up" -ge 40 ] || t_fail "upstream saw only $up requests of the flood: the burst was not granted"
T_CHECKS=$((T_CHECKS + 3))
# what A is told once its budget is spent again (it refilled since the flood): misses on one
# connection, as fast as they go, until the first 429
python3 - "${H_URL#http://}" >"$W/429" <<'PY'
import http.client, sys, threading
found = []
lock = threading.Lock()
def run(t):
    c = http.client.HTTPConnection(sys.argv[1], timeout=30)
    for i in range(200):
        if found:
            return
        c.request("GET", "/example.com/again%d-%d/@v/v1.0.0.info" % (t, i))
        r = c.getresponse()
        body = r.read().decode()
        if r.status == 429:
            with lock:
                found.append("Retry-After: %s\n%s" % (r.getheader("Retry-After"), body))
            return
threads = [threading.Thread(target=run, args=(t,)) for t in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(found[0] if found else "no 429", end="")
PY
t_log "$(cat "$W/429")"
grep -q '^Retry-After: [1-9]' "$W/429" || t_fail "client A over budget: $(cat "$W/429")"
grep -q "^too many requests: this client's budget of misses" "$W/429" || t_fail "429 body: $(cat "$W/429")"
# A's hits are never limited
t_assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' "$H_URL/golang.org/x/mod/@v/v0.7.0.info")" 200 \
	"a hit of client A while over its miss budget"
m=$(curl -sS "$H_URL/metrics")
refused=$(h_metric "$m" 'modfs_http_misses_refused_total{reason="budget"}')
[ "$refused" != missing ] && [ "$refused" -gt 0 ] || t_fail "misses refused for the budget: $refused"
T_CHECKS=$((T_CHECKS + 4))

# 2. C floods misses that hang upstream: 300 at once from 127.0.0.3 (over HTTP/1.1: curl 7.88
#    breaks parallel transfers with --http2-prior-knowledge, curl issue 10634).
m=$(curl -sS "$H_URL/metrics")
refused0=$(h_metric "$m" 'modfs_http_misses_refused_total{reason="budget"}')
for i in $(seq 1 300); do
	printf 'url = "%s/example.com/hang%d/@v/v1.0.0.info"\noutput = "/dev/null"\n' "$H_URL" "$i"
done >"$W/hang.cfg"
curl -sS -Z --parallel-max 300 --http1.1 --interface 127.0.0.3 -K "$W/hang.cfg" >/dev/null 2>&1 &
hang_pid=$!
for ((i = 0; i < 100; i++)); do
	n=$(t_upstream_count "/example.com/hang")
	[ "$n" -lt 6 ] || break
	sleep 0.1
done
[ "$n" -ge 6 ] || t_fail "only $n of client C's hung misses reached upstream"
b_misses 8 "$W/b2.log"
b_check "$W/b2.log" "during a flood of hung misses"
kill "$hang_pid" 2>/dev/null || true
wait "$hang_pid" 2>/dev/null || true
running=$(grep "^GET /example.com/hang[0-9]*/@v/v1.0.0.info hang" "$UPSTREAM_LOG" | cut -d' ' -f2 | sort -u | wc -l)
m=$(curl -sS "$H_URL/metrics")
refused=$(($(h_metric "$m" 'modfs_http_misses_refused_total{reason="budget"}') - refused0))
t_log "client C: $refused of 300 misses refused 429, $running distinct keys reached upstream"
[ "$refused" -ge 200 ] || t_fail "only $refused of client C's 300 misses were refused"
[ "$running" -le 40 ] || t_fail "upstream saw $running of client C's misses, beyond its burst"
T_CHECKS=$((T_CHECKS + 2))

h_stop "$H_PID" "$H_LOG"

# 3. Users, not addresses, once they authenticate; and the budget reloaded.
t_require_cmd mkpasswd sha256sum
token=tok-$RANDOM$RANDOM
{
	echo "token:alice:$(printf %s "$token" | sha256sum | cut -d' ' -f1)"
	echo "user:bob:$(mkpasswd -m yescrypt 'bob pass')"
} >"$W/auth"
printf 'miss-rate = 1\nmiss-burst = 5\n' >"$W/modfs.conf"
h_start_modfs users "$UPSTREAM_URL" --threads 2 --config "$W/modfs.conf" --auth-file "$W/auth" --auth-required
# misses N PREFIX CURL-ARGS...: N distinct missing keys, the statuses on one line
misses() {
	local n=$1 prefix=$2 i
	shift 2
	for ((i = 0; i < n; i++)); do
		curl -sS -o /dev/null -w '%{http_code} ' --max-time 30 "$@" "$H_URL/example.com/$prefix$i/@v/v1.0.0.info"
	done
}
a=$(misses 12 alice -H "Authorization: Bearer $token")
b=$(misses 4 bob -u 'bob:bob pass')
t_log "from one address, alice's 12 misses: $a; then bob's 4: $b"
[[ $a == *429* ]] || t_fail "alice was never refused with a burst of 5: $a"
[[ $b != *429* ]] || t_fail "bob, from alice's address, was refused for her budget: $b"
t_assert_eq "$(misses 1 x -H 'Authorization: Bearer made-up')" "401 " "a made-up token"
T_CHECKS=$((T_CHECKS + 2))
# no limit from the next reload on
printf 'miss-rate = 0\nmiss-burst = 5\n' >"$W/modfs.conf"
kill -HUP "$H_PID"
for ((i = 0; i < 100; i++)); do
	! grep -q "reloaded" "$H_LOG" || break
	sleep 0.1
done
grep -q "reloaded" "$H_LOG" || t_fail "no reload in the log"
a=$(misses 12 again -H "Authorization: Bearer $token")
t_log "after the reload, alice's 12 misses: $a"
[[ $a != *429* ]] || t_fail "alice still refused after --miss-rate 0 was reloaded: $a"
T_CHECKS=$((T_CHECKS + 1))
h_stop "$H_PID" "$H_LOG"
