#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The kernel keeps what never changes: after one read of a module's files, of a .mod and of a
# .ziphash, reading them all again (new opens, new processes) reaches modfs neither for the opens
# nor, but for pages the kernel reclaimed meanwhile, for the bytes: /metrics shows no new OPEN
# and few new READs. A write opened on a store file
# is refused and leaves the cached bytes as they were; a file of the write area is still read
# and written through the mount (its opens no longer reach modfs either).
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"
t_require_cmd curl

t_start_upstream "$FIX/proxy"
mport=$(t_free_port)
f_start_mount main "$UPSTREAM_URL" --metrics-listen "127.0.0.1:$mport"
t_wait_port "$mport"
tree="$F_MNT/golang.org/x/mod@v0.7.0"
atv="$F_MNT/cache/download/golang.org/x/mod/@v"

metric() {
	curl -fsS "http://127.0.0.1:$mport/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
read_all() {
	find "$tree" -type f -print0 | xargs -0 cat >"$T_TMP/all.$1"
	cat "$atv/v0.7.0.mod" "$atv/v0.7.0.ziphash" >>"$T_TMP/all.$1"
}

read_all 1
files=$(find "$tree" -type f | wc -l)
[ "$files" -gt 20 ] || t_fail "the module shows $files files"
opens=$(metric modfs_fuse_opens_total)
reads=$(metric modfs_fuse_reads_total)
[ "$reads" -gt 0 ] || t_fail "no READ reached modfs on the first pass"
for i in 2 3; do
	read_all $i
	t_assert_file_eq "$T_TMP/all.$i" "$T_TMP/all.1" "pass $i read other bytes"
done
t_assert_eq "$(metric modfs_fuse_opens_total)" "$opens" "OPEN requests on the second and third pass over $files files"
# Without keep_cache both passes would read every page again (twice the first pass's READs);
# with it, only pages the kernel reclaimed in between come back (a few, under memory pressure or
# proactive reclaim), so "no READ" would be a race with the kernel.
more=$(($(metric modfs_fuse_reads_total) - reads))
[ "$more" -lt $((reads / 4 + 1)) ] ||
	t_fail "READ requests on the second and third pass: $more more, after $reads on the first"
T_CHECKS=$((T_CHECKS + 1))

# A write opened on a store file: refused, and the cache still holds the store's bytes.
wrc=0
python3 - "$tree/go.mod" <<'PY' || wrc=$?
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    os.pwrite(fd, b"module evil\n", 0)
except OSError as e:
    sys.exit(0 if e.errno == errno.EROFS else 2)
sys.exit(1)
PY
[ "$wrc" -eq 0 ] || t_fail "a write into go.mod: want EROFS (exit $wrc: 1 = it succeeded, 2 = another error)"
T_CHECKS=$((T_CHECKS + 1))
cmp -s "$tree/go.mod" "$FIX/proxy/golang.org/x/mod/@v/v0.7.0.mod" || t_fail "go.mod changed after a refused write"
T_CHECKS=$((T_CHECKS + 1))

# The write area: made, written, read back through new opens.
lock="$F_MNT/cache/download/golang.org/x/mod/@v/v0.7.0.lock"
printf 'one\n' >"$lock"
printf 'two\n' >>"$lock"
t_assert_eq "$(cat "$lock")" "$(printf 'one\ntwo')" "a write-area file written in two opens"
python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDWR); os.pwrite(fd, b"ONE", 0); os.close(fd)' "$lock"
t_assert_eq "$(cat "$lock")" "$(printf 'ONE\ntwo')" "a write-area file rewritten in place"
t_assert_eq "$(cat "$F_WRITE/cache/download/golang.org/x/mod/@v/v0.7.0.lock")" "$(printf 'ONE\ntwo')" \
	"the write area's copy"
f_stop
