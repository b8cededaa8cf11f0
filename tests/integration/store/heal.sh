#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A store heals whole, and says when it is not sound (the faults issue):
#   - a pack deleted under a running server (not yet opened by it): every zip is right on its
#     first request, each fetched once — the lost pack's objects all go at once;
#   - every pack deleted, then a restart: noticed at open, every zip right on its first request;
#   - a byte flipped at the very start of a zip's first chunk: the answer is a 200 with the right
#     bytes (the damage is found before the status line goes out), never a 200 cut short;
#   - random bytes in the middle of index.db, or an empty index.db: the server refuses to start,
#     with one line naming `modfs repair`; the repair restores every object byte for byte with
#     the upstream switched off.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/store_lib.sh"
t_require_cmd curl

t_start_upstream "$FIX/proxy"
zips=$(cd "$FIX/proxy" && find . -name '*.zip' -printf '%P\n' | LC_ALL=C sort)
nzips=$(wc -l <<<"$zips")

PID=""
start() { # start [ARGS...]: modfs serve on $CACHE; sets URL, PID
	local port log
	port=$(t_free_port)
	log="$T_TMP/modfs.$port.log"
	"$MODFS_BIN" serve --cache-dir "$CACHE" --listen "127.0.0.1:$port" --upstream "$UPSTREAM_URL" \
		--list-ttl 3600 --sumdb off "$@" >"$log" 2>&1 &
	PID=$!
	LOG=$log
	t_on_exit "kill $PID"
	t_wait_port "$port"
	URL="http://127.0.0.1:$port"
}

stop() {
	t_stop_modfs "$PID" "$LOG"
}

# get_all TAG: every zip once through the server; each must be 200 and byte-identical.
get_all() {
	local z out code
	out=$(t_tmpdir "got-$1")
	while read -r z; do
		code=$(curl -s -o "$out/x" -w '%{http_code}' "$URL/$z")
		t_assert_eq "$code" 200 "$1: status of $z"
		t_assert_file_eq "$out/x" "$FIX/proxy/$z" "$1: bytes of $z"
	done <<<"$zips"
}

fetches() { # upstream GETs of zips so far
	grep -c '^GET .*\.zip ' "$UPSTREAM_LOG" || true
}

start
get_all fill
t_assert_eq "$(fetches)" "$nzips" "zips fetched to fill the store"
stop

# ---- a pack deleted under a running server ----
start
rm "$CACHE"/packs/*.pack
before=$(fetches)
get_all deleted-running
t_assert_eq "$(($(fetches) - before))" "$nzips" "zips fetched again after the pack was deleted (once each)"
stop

# ---- every pack deleted while stopped: noticed at the next start ----
rm "$CACHE"/packs/*.pack "$CACHE"/packs/*.log
start
grep -q "is gone" "$LOG" || t_fail "the lost packs were not noticed at start: $(cat "$LOG")"
before=$(fetches)
get_all deleted-stopped
t_assert_eq "$(($(fetches) - before))" "$nzips" "zips fetched again after every pack was deleted (once each)"
stop

# ---- damage at the start of an object: no 200 cut short ----
# The zip's first bytes are its first local header, a chunk of its own, stored raw: find them.
key=golang.org/x/text/@v/v0.7.0.zip
pack=$(ls "$CACHE"/packs/*.pack | head -1)
off=$(python3 - "$pack" "$FIX/proxy/$key" <<'EOF'
import sys
pack = open(sys.argv[1], "rb").read()
head = open(sys.argv[2], "rb").read()[:30 + 25]  # the header and "golang.org/x/text@v0.7.0/"
print(pack.find(head))
EOF
)
[ "$off" -ge 0 ] || t_fail "the start of $key is not in $pack"
printf '\xff' | dd of="$pack" bs=1 seek="$off" conv=notrunc 2>/dev/null
start
before=$(fetches)
out=$(t_tmpdir damaged)
code=$(curl -s -o "$out/x" -w '%{http_code}' "$URL/$key")
t_assert_eq "$code" 200 "status of the damaged zip"
t_assert_file_eq "$out/x" "$FIX/proxy/$key" "bytes of the damaged zip"
t_assert_eq "$(($(fetches) - before))" 1 "fetches of the damaged zip"
stop

# ---- a damaged index is refused, and repaired from the pack logs ----
damage_index() { # damage_index MODE: random bytes in the middle, or an empty file
	local size
	size=$(stat -c %s "$CACHE/index.db")
	if [ "$1" = middle ]; then
		head -c 8192 /dev/urandom | dd of="$CACHE/index.db" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	else
		: >"$CACHE/index.db"
	fi
	rm -f "$CACHE/index.db-wal" "$CACHE/index.db-shm"
}

for mode in middle empty; do
	start
	get_all "before-$mode"
	objects=$(s_stat objects)
	stop
	damage_index "$mode"
	rc=0
	"$MODFS_BIN" serve --cache-dir "$CACHE" --listen "127.0.0.1:$(t_free_port)" --upstream off \
		>"$T_TMP/refused.out" 2>"$T_TMP/refused.err" || rc=$?
	t_assert_eq "$rc" 1 "$mode: exit status of serve on a damaged index"
	t_assert_eq "$(wc -l <"$T_TMP/refused.err")" 1 "$mode: lines of the refusal ($(cat "$T_TMP/refused.err"))"
	grep -q "modfs repair --cache-dir $CACHE" "$T_TMP/refused.err" ||
		t_fail "$mode: the refusal names no repair command: $(cat "$T_TMP/refused.err")"
	"$MODFS_BIN" repair --cache-dir "$CACHE" >"$T_TMP/repair.out" ||
		t_fail "$mode: modfs repair failed: $(cat "$T_TMP/repair.out")"
	t_log "$mode: $(tr '\n' ';' <"$T_TMP/repair.out")"
	t_assert_eq "$(s_stat objects)" "$objects" "$mode: objects after the repair"
	# Every object back, byte for byte, with no upstream at all.
	out=$(t_tmpdir "repaired-$mode")
	while read -r z; do
		"$MODFS_BIN" get --cache-dir "$CACHE" --upstream off "$z" >"$out/x" ||
			t_fail "$mode: $z is not in the repaired store"
		t_assert_file_eq "$out/x" "$FIX/proxy/$z" "$mode: bytes of $z after the repair"
	done <<<"$zips"
done
