#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Names the store cannot give: a module upstream does not have is ENOENT, and repeated stats
# within the not-found TTL (one by one and 50 at once) make at most one upstream request per
# key; names that can never be valid (capital letters, non-canonical versions, unknown suffixes,
# .partial, .lock) are ENOENT without any upstream request; .partial of a module the store has
# is ENOENT too. With short TTLs, a module that appears upstream is found once the not-found TTL
# has passed, and a list that grows upstream shows its new length after the list TTL.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"

up=$(t_tmpdir up)
cp -rs "$FIX/proxy/." "$up/"
t_start_upstream "$up"
f_start_mount main "$UPSTREAM_URL" --notfound-ttl 300

# enoent PATH: stat fails with "No such file or directory".
enoent() {
	local err
	if err=$(stat "$1" 2>&1); then
		t_fail "$1 exists: $err"
	fi
	case $err in
	*"No such file or directory"*) ;;
	*) t_fail "stat $1: $err (want ENOENT)" ;;
	esac
	T_CHECKS=$((T_CHECKS + 1))
}

missing_dir="$F_MNT/example.com/nothere@v1.0.0"
for i in $(seq 20); do enoent "$missing_dir"; done
n=$(t_upstream_count "/example.com/nothere/")
[ "$n" -le 1 ] || t_fail "$n upstream requests for a missing module within the TTL"
t_assert_eq "$n" 1 "upstream requests for the missing module"

missing_info="$F_MNT/cache/download/example.com/nothere2/@v/v1.0.0.info"
pids=()
for i in $(seq 50); do
	stat "$missing_info" >/dev/null 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do
	if wait "$p"; then t_fail "a parallel stat of $missing_info succeeded"; fi
done
for i in $(seq 10); do enoent "$missing_info"; done
t_assert_eq "$(t_upstream_count "/example.com/nothere2/")" 1 "upstream requests for a missing .info"

# Never valid, never asked for.
before=$(wc -l <"$UPSTREAM_LOG")
for p in \
	"$F_MNT/Example.com@v1.0.0" \
	"$F_MNT/example.com/Upper@v1.0.0" \
	"$F_MNT/example.com/x@v1.0" \
	"$F_MNT/example.com/x@v1.0.0@v2.0.0" \
	"$F_MNT/nodot/x@v1.0.0" \
	"$F_MNT/cache/download/example.com/x/@v/v1.0.0.tar" \
	"$F_MNT/cache/download/example.com/x/@v/v1.0.0.partial" \
	"$F_MNT/cache/download/example.com/x/@v/v1.0.0.lock" \
	"$F_MNT/cache/download/example.com/x/@v/v1.0.mod" \
	"$F_MNT/cache/download/example.com/x/@v/../@v/list.tmp" \
	"$F_MNT/cache/download/sumdb" \
	"$F_MNT/cache/lock"; do
	enoent "$p"
done
t_assert_eq "$(wc -l <"$UPSTREAM_LOG")" "$before" "upstream requests for names that can never be valid"

# A module the store has: its .partial is still ENOENT, its .ziphash is there.
stat "$F_MNT/golang.org/x/mod@v0.7.0" >/dev/null || t_fail "golang.org/x/mod@v0.7.0 not found"
enoent "$F_MNT/cache/download/golang.org/x/mod/@v/v0.7.0.partial"
t_assert_eq "$(stat -c %s "$F_MNT/cache/download/golang.org/x/mod/@v/v0.7.0.ziphash")" 47 ".ziphash size"

f_stop

# Short TTLs: misses and lists are asked again once they pass.
f_start_mount short "$UPSTREAM_URL" --notfound-ttl 2 --list-ttl 2
late="$F_MNT/example.com/late@v1.0.0"
enoent "$late"
mkdir -p "$up/example.com/late/@v"
printf '{"Version":"v1.0.0","Time":"2023-05-01T00:00:00Z"}' >"$up/example.com/late/@v/v1.0.0.info"
printf 'module example.com/late\n' >"$up/example.com/late/@v/v1.0.0.mod"
python3 - "$up/example.com/late/@v/v1.0.0.zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("example.com/late@v1.0.0/go.mod", "module example.com/late\n")
    z.writestr("example.com/late@v1.0.0/late.go", "package late\n")
PY
enoent "$late"
t_assert_eq "$(t_upstream_count "/example.com/late/@v/v1.0.0.zip")" 1 "upstream requests within the not-found TTL"
sleep 2.5
t_assert_eq "$(cat "$late/late.go")" "package late" "a module found upstream after the not-found TTL"
t_assert_eq "$(t_upstream_count "/example.com/late/@v/v1.0.0.zip")" 2 "upstream requests after the not-found TTL"

list="$F_MNT/cache/download/example.com/multi/@v/list"
cp --remove-destination "$FIX/proxy/example.com/multi/@v/list" "$up/example.com/multi/@v/list"
want=$(cat "$up/example.com/multi/@v/list")
t_assert_eq "$(cat "$list")" "$want" "list"
printf 'v1.3.0\n' >>"$up/example.com/multi/@v/list"
t_assert_eq "$(cat "$list")" "$want" "list within the list TTL"
sleep 2.5
t_assert_eq "$(cat "$list")" "$(cat "$up/example.com/multi/@v/list")" "list after the list TTL"
t_assert_eq "$(stat -c %s "$list")" "$(stat -c %s "$up/example.com/multi/@v/list")" "size of the list after the list TTL"
f_stop
