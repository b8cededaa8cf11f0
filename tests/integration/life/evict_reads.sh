#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Eviction under readers: with a 3 MiB budget, slow readers hold three objects (an HTTP download
# of a zip at 128 KiB/s, a FUSE read of a .zip in cache/download, a FUSE read of a file extracted
# from a zip) while other modules are fetched through both fronts, several times the budget. The
# slow reads complete byte-identical, and eviction goes on around them; once the readers are done,
# the store is back within its budget plus a segment (the packs they kept alive are given back),
# and the objects they held are evicted like any cold object and come back from upstream,
# identical, when asked for again.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/life_lib.sh"
. "$MODFS_SOURCE_ROOT/tests/integration/fs/fs_lib.sh"
t_require_cmd python3 unzip

budget=$((3 << 20))
segment=$((1 << 20))
t_start_upstream "$LOAD"
port=$(t_free_port)
f_start_mount main "$UPSTREAM_URL" --listen "127.0.0.1:$port" --max-size 3M
t_wait_port "$port"
url="http://127.0.0.1:$port"
out=$(t_tmpdir out)

# A reader that takes its time: 32 KiB every 0.2 s.
slow_read() {
	python3 - "$1" "$2" <<'PY'
import sys, time
with open(sys.argv[1], 'rb') as f, open(sys.argv[2], 'wb') as o:
    while True:
        b = f.read(32768)
        if not b:
            break
        o.write(b)
        time.sleep(0.2)
PY
}

zip1="$F_MNT/cache/download/example.com/load/m01/@v/v1.0.0.zip"
blob2="$F_MNT/example.com/load/m02@v1.0.0/blob.bin"
unzip -p "$(l_zip 2)" example.com/load/m02@v1.0.0/blob.bin >"$out/want-blob2"
# first touches: fetched now, so that what follows reads stored objects
cmp -s "$zip1" "$(l_zip 1)" || t_fail "first read of $zip1"
cmp -s "$blob2" "$out/want-blob2" || t_fail "first read of $blob2"
curl -sS -f -o /dev/null "$url/$(l_key 0)"

curl -sS -f --limit-rate 128k -o "$out/http0" "$url/$(l_key 0)" &
http_pid=$!
slow_read "$zip1" "$out/fs1" &
fs1_pid=$!
slow_read "$blob2" "$out/fs2" &
fs2_pid=$!

# Pressure while they read: modules 3..14 through HTTP and the mount in turn.
for ((i = 3; i < 15; i++)); do
	if ((i % 2)); then
		curl -sS -f -o "$out/got" "$url/$(l_key "$i")" || t_fail "GET $(l_key "$i")"
	else
		cat "$F_MNT/cache/download/$(l_key "$i")" >"$out/got" || t_fail "read $(l_key "$i") on the mount"
	fi
	t_assert_file_eq "$out/got" "$(l_zip "$i")" "$(l_key "$i") while others read"
done
evicted_during=$("$MODFS_BIN" stat --cache-dir "$F_STORE" | awk -F': *' '$1 == "evictions" { print $2 }')

wait "$http_pid" || t_fail "the slow HTTP download of $(l_key 0) failed"
wait "$fs1_pid" || t_fail "the slow FUSE read of $zip1 failed"
wait "$fs2_pid" || t_fail "the slow FUSE read of $blob2 failed"
t_assert_file_eq "$out/http0" "$(l_zip 0)" "slow HTTP download under eviction"
t_assert_file_eq "$out/fs1" "$(l_zip 1)" "slow FUSE read of a .zip under eviction"
t_assert_file_eq "$out/fs2" "$out/want-blob2" "slow FUSE read of an extracted file under eviction"
[ "${evicted_during:-0}" -ge 5 ] || t_fail "only ${evicted_during:-0} evictions while the readers read"
T_CHECKS=$((T_CHECKS + 1))
t_log "$evicted_during evictions while three readers read"

# Done reading: the mount lets go of a reader's handle a few seconds after its last read (parked
# readers), and the maintainer's next pass gives back what it kept: wait for the store to be back
# within its budget plus a segment, then the objects they held are cold and go as any cold one.
for ((w = 0; w < 600; w++)); do
	[ "$(l_usage "$F_STORE")" -le $((budget + segment)) ] && break
	sleep 0.1
done
for ((i = 15; i < LOAD_MODULES; i++)); do
	curl -sS -f -o /dev/null "$url/$(l_key "$i")" || t_fail "GET $(l_key "$i")"
	# a small miss is answered before its ingest has synced and committed (and the next one may
	# begin meanwhile): the store is held to its bound once that ingest is done
	for ((w = 0; w < 300; w++)); do
		usage=$(l_usage "$F_STORE")
		[ "$usage" -le $((budget + segment)) ] && break
		sleep 0.1
	done
	[ "$usage" -le $((budget + segment)) ] || t_fail "the store holds $usage bytes, over its budget plus a segment"
	T_CHECKS=$((T_CHECKS + 1))
done
before=$(t_upstream_count "GET /$(l_key 0) ")
curl -sS -f -o "$out/again0" "$url/$(l_key 0)"
t_assert_file_eq "$out/again0" "$(l_zip 0)" "$(l_key 0) after its eviction"
t_assert_eq "$(t_upstream_count "GET /$(l_key 0) ")" "$((before + 1))" "upstream requests of $(l_key 0) after the readers left"
cat "$zip1" >"$out/again1"
t_assert_file_eq "$out/again1" "$(l_zip 1)" "$zip1 after its eviction"
f_stop
