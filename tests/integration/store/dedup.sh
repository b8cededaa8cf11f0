#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Two versions of golang.org/x/text that share all but two files are stored once: unique_bytes
# and the bytes on disk stay well under the sum of both zips. The same holds inside one zip: the
# big fixture holds x/text three times, and is stored about once.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/store_lib.sh"

t_start_upstream "$FIX/proxy"
out=$(t_tmpdir out)
z7="$FIX/proxy/golang.org/x/text/@v/v0.7.0.zip"
z8="$FIX/proxy/golang.org/x/text/@v/v0.8.0.zip"
s7=$(stat -c %s "$z7")
s8=$(stat -c %s "$z8")
sum=$((s7 + s8))

s_get golang.org/x/text/@v/v0.7.0.zip >"$out/7"
t_assert_file_eq "$out/7" "$z7" "x/text v0.7.0 zip"
u7=$(s_stat unique_bytes)
[ "$u7" -ge "$((s7 * 9 / 10))" ] || t_fail "unique_bytes=$u7 after one ${s7}-byte zip: too small to be true"

s_get golang.org/x/text/@v/v0.8.0.zip >"$out/8"
t_assert_file_eq "$out/8" "$z8" "x/text v0.8.0 zip"
t_assert_eq "$(s_stat logical_bytes)" "$sum" "logical_bytes of both zips"
unique=$(s_stat unique_bytes)
limit=$((sum * 6 / 10))
t_log "zips $s7 + $s8 = $sum bytes; unique_bytes $u7 after v0.7.0, $unique after both (limit $limit)"
[ "$unique" -lt "$limit" ] || t_fail "unique_bytes=$unique, want < $limit (0.6 x $sum)"
T_CHECKS=$((T_CHECKS + 1))
disk=$(s_stat disk_bytes)
t_log "disk_bytes $disk; dedup_ratio $(s_stat dedup_ratio)"
[ "$disk" -lt "$((sum * 3 / 4))" ] || t_fail "disk_bytes=$disk, want < $((sum * 3 / 4)) (0.75 x $sum)"
T_CHECKS=$((T_CHECKS + 1))

# Inside one object: example.com/big is x/text three times over.
CACHE=$(t_tmpdir cache-big)
t_start_upstream "$FIX/big"
zb="$FIX/big/example.com/big/@v/v1.0.0.zip"
sb=$(stat -c %s "$zb")
s_get example.com/big/@v/v1.0.0.zip >"$out/big"
t_assert_file_eq "$out/big" "$zb" "big zip"
unique=$(s_stat unique_bytes)
disk=$(s_stat disk_bytes)
t_log "big zip $sb bytes: unique_bytes $unique, disk_bytes $disk"
[ "$unique" -lt "$((sb / 2))" ] || t_fail "big zip: unique_bytes=$unique, want < $((sb / 2)) (0.5 x $sb)"
T_CHECKS=$((T_CHECKS + 1))
[ "$disk" -lt "$((sb / 2))" ] ||
	t_fail "big zip: disk_bytes=$disk, want < $((sb / 2)) (0.5 x $sb): a chunk repeated inside one object is stored more than once"
T_CHECKS=$((T_CHECKS + 1))
