#!/bin/bash
# SPDX-License-Identifier: MIT
#
# modfs verify and modfs gc --dry-run on a store with one byte flipped in a pack:
#   - verify --heal=false reports the damaged chunk, exits 3 and changes nothing;
#   - verify drops it with the object using it (exit 3), and a second verify finds the store
#     sound (exit 0);
#   - gc --dry-run counts the dropped object's other chunks as unused and changes nothing; gc
#     then collects them;
#   - the dropped object comes back from upstream, byte-identical, and the others were never
#     touched.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/life_lib.sh"

n=6
t_start_upstream "$LOAD"
store=$(t_tmpdir store)
out=$(t_tmpdir out)
for ((i = 0; i < n; i++)); do
	l_get "$store" "$(l_key "$i")" >/dev/null
done
t_assert_eq "$("$MODFS_BIN" verify --cache-dir "$store" | tail -1)" "the store is sound" "verify of a fresh store"

# One byte in the middle of the first pack: every byte there belongs to some chunk of random data.
pack=$(ls "$store"/packs/*.pack | head -1)
python3 - "$pack" <<'PY'
import os, sys
with open(sys.argv[1], 'r+b') as f:
    size = os.fstat(f.fileno()).st_size
    f.seek(size // 2)
    b = f.read(1)
    f.seek(size // 2)
    f.write(bytes([b[0] ^ 0x5a]))
PY
objects=$(l_stat "$store" objects)
rc=0
"$MODFS_BIN" verify --cache-dir "$store" --heal=false >"$out/v1" || rc=$?
t_assert_eq "$rc" 3 "exit status of verify --heal=false on a damaged store"
t_assert_eq "$(awk -F': ' '$1 == "chunks damaged" { print $2 }' "$out/v1")" 1 "damaged chunks found"
t_assert_eq "$(l_stat "$store" objects)" "$objects" "objects after verify --heal=false"

rc=0
"$MODFS_BIN" verify --cache-dir "$store" >"$out/v2" || rc=$?
t_assert_eq "$rc" 3 "exit status of the healing verify"
t_assert_eq "$(l_stat "$store" objects)" "$((objects - 1))" "objects after the healing verify"
rc=0
"$MODFS_BIN" verify --cache-dir "$store" >"$out/v3" || rc=$?
t_assert_eq "$rc" 0 "exit status of verify after healing ($(cat "$out/v3"))"

# The dropped object's other chunks are garbage now: counted by a dry run, collected by gc.
unused=$("$MODFS_BIN" gc --cache-dir "$store" --dry-run | awk '/^would collect:/ { print $3 }')
[ "$unused" -gt 0 ] || t_fail "gc --dry-run counts no unused chunks after a drop"
t_assert_eq "$("$MODFS_BIN" gc --cache-dir "$store" --dry-run | awk '/^would collect:/ { print $3 }')" "$unused" \
	"a second dry run (the first changed nothing)"
"$MODFS_BIN" gc --cache-dir "$store" >"$out/gc"
t_assert_eq "$(awk '/^collected:/ { print $2 }' "$out/gc")" "$unused" "chunks collected by gc"
t_assert_eq "$("$MODFS_BIN" gc --cache-dir "$store" --dry-run | awk '/^would collect:/ { print $3 }')" 0 \
	"unused chunks after gc"
before=$(t_upstream_count "GET /example.com/load/")
for ((i = 0; i < n; i++)); do
	l_get "$store" "$(l_key "$i")" >"$out/got"
	t_assert_file_eq "$out/got" "$(l_zip "$i")" "$(l_key "$i") after healing"
done
t_assert_eq "$(t_upstream_count "GET /example.com/load/")" "$((before + 1))" "upstream requests after healing (the dropped object only)"

t_assert_eq "$("$MODFS_BIN" verify --cache-dir "$store" | tail -1)" "the store is sound" "verify after gc"
