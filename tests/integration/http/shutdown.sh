#!/bin/bash
# SPDX-License-Identifier: MIT
#
# SIGTERM while upstream hangs (issue 8, finding 2): `modfs serve` with the HTTP front and, where
# /dev/fuse exists, the mount, default upstream settings, and every kind of waiter blocked on an
# upstream that never answers: three HTTP clients on one key (a fetch and two single-flight
# waiters), two more hung keys, a fetch sleeping in its retry backoff (503 with Retry-After: 5),
# and a FUSE lookup. SIGTERM must answer every HTTP waiter with 503 and the FUSE reader with an
# error, and the process must exit cleanly within 10 s.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"
t_require_cmd python3

h_upstream_tree
W=$(t_tmpdir w)
hung=/golang.org/x/text/@v/v0.7.0.info
busy=/golang.org/x/text/@v/v0.7.0.mod
fshung=/golang.org/x/mod/@v/v0.7.0.mod
cat >"$W/rules.json" <<EOF
{"$hung": {"hang": true}, "$fshung": {"hang": true}, "/example.com/hang*": {"hang": true},
 "$busy": {"status": 503, "body": "busy\n", "retry_after": 5}}
EOF
t_start_broken_upstream "$H_UP" "$W/rules.json"

fuse=false
if [ -c /dev/fuse ] && command -v fusermount3 >/dev/null && command -v mountpoint >/dev/null; then
	fuse=true
	MNT=$(t_tmpdir mnt)
	h_start_modfs main "$UPSTREAM_URL" --threads 2 --mount "$MNT"
	t_on_exit "mountpoint -q $MNT && fusermount3 -u -z $MNT"
	for ((i = 0; i < 200; i++)); do
		mountpoint -q "$MNT" && break
		sleep 0.05
	done
	mountpoint -q "$MNT" || t_fail "$MNT is not mounted"
else
	t_log "no /dev/fuse: the HTTP front alone"
	h_start_modfs main "$UPSTREAM_URL" --threads 2
fi

# wait_count PATTERN N SECS: until the upstream log has N lines matching PATTERN
wait_count() {
	local i n=0
	for ((i = 0; i < $3 * 10; i++)); do
		n=$(grep -cE -- "$1" "$UPSTREAM_LOG" || true)
		[ "$n" -lt "$2" ] || return 0
		sleep 0.1
	done
	t_fail "upstream logged '$1' $n times, not $2"
}

pids=()
names=()
client() { # client NAME PATH
	curl -sS -o "$W/$1.body" -w '%{http_code}' --max-time 60 "$H_URL$2" >"$W/$1.code" 2>"$W/$1.err" &
	pids+=($!)
	names+=("$1")
}
client same1 "$hung"
client same2 "$hung"
client same3 "$hung"
client other1 /example.com/hang1/@v/v1.0.0.info
client other2 /example.com/hang2/@v/v1.0.0.mod
client backoff "$busy"
if $fuse; then
	cat "$MNT/cache/download$fshung" >"$W/fs.out" 2>"$W/fs.err" &
	fs_pid=$!
fi
wait_count "^GET $hung hang" 1 10
wait_count "^GET /example.com/hang[12]/" 2 10
wait_count "^GET $busy 503" 1 10
! $fuse || wait_count "^GET $fshung hang" 1 10
sleep 0.5 # the two waiters of $hung have joined its flight
t_assert_eq "$(grep -c "^GET $hung hang" "$UPSTREAM_LOG")" 1 "upstream requests for the key three clients wait on"

start=$(date +%s.%N)
h_stop "$H_PID" "$H_LOG"
end=$(date +%s.%N)
took=$(python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$end")
t_log "stopped in $took s with every waiter blocked on upstream"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 10 else 1)" "$took" ||
	t_fail "modfs took $took s to stop while upstream hangs"

for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || true
	t_assert_eq "$(cat "$W/${names[$i]}.code")" 503 "status of waiter ${names[$i]} at shutdown"
	grep -q "shutting down" "$W/${names[$i]}.body" ||
		t_fail "waiter ${names[$i]} was told: $(cat "$W/${names[$i]}.body")"
done
if $fuse; then
	rc=0
	wait "$fs_pid" || rc=$?
	[ "$rc" -ne 0 ] || t_fail "the FUSE read of a hung key succeeded"
	T_CHECKS=$((T_CHECKS + 1))
	! mountpoint -q "$MNT" || t_fail "$MNT is still mounted after modfs stopped"
fi
