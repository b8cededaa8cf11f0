#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `go get` with GOMODCACHE on the mount: with GOPROXY=file://<mount>/cache/download, @latest
# resolves through upstream's list and `go list -m -versions` shows upstream's versions; a
# module modfs's upstream lacks is downloaded by the go command itself from a second proxy,
# into the mount (lock files, temp files and renames, .partial, extraction, chmod all land in
# the write area) and is then built and verified like the rest; the same through the HTTP front
# when it is there. No go command reports a failed write. `go clean -modcache` empties the write
# area and leaves the store serving: with GOMODCACHE at the mount's root its only error is the
# kernel's EBUSY for removing the mount point itself, with GOMODCACHE=<mount>/gomodcache it
# exits 0.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"
t_require_cmd go curl

up=$(t_tmpdir up)
cp -rs "$FIX/proxy/." "$up/"
rm -rf "$up/example.com/old"
t_start_upstream "$up"
port=$(t_free_port)
f_start_mount main "$UPSTREAM_URL" --listen "127.0.0.1:$port"
t_go_env
export GOMODCACHE="$F_MNT"
local_proxy="file://$F_MNT/cache/download"

work=$(t_tmpdir work)
cd "$work"
cat >go.mod <<'EOF'
module example.com/getter

go 1.17
EOF
cat >main.go <<'EOF'
package main

import (
	"fmt"

	"example.com/multi"
	"example.com/old"
)

func main() { fmt.Println(old.Greeting(), multi.Version) }
EOF

# run NAME CMD...: the go command succeeds and reports no failed write.
run() {
	local name=$1
	shift
	"$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err" || t_fail "$name: $* failed: $(tail -5 "$T_TMP/$name.err")"
	if grep -qiE "read-only file system|permission denied|operation not permitted|writing .* cache" "$T_TMP/$name.err"; then
		t_fail "$name: a write failed: $(grep -iE "read-only|permission|not permitted|writing" "$T_TMP/$name.err" | head -3)"
	fi
	T_CHECKS=$((T_CHECKS + 1))
}

modver() { GOPROXY=off go list -m -f '{{.Version}}' "$1"; }
sum_of() { awk -v m="$1" -v v="$2" '$1 == m && $2 == v { print $3 " " $4 }' "$FIX/modules.txt"; }

run get-latest env GOPROXY="$local_proxy" go get example.com/multi@latest
t_assert_eq "$(modver example.com/multi)" v1.1.0 "version of example.com/multi@latest"
t_assert_eq "$(awk '$1 == "example.com/multi" && $2 == "v1.1.0" { print $3 }' go.sum)" "$(sum_of example.com/multi v1.1.0 | cut -d' ' -f1)" \
	"go.sum line of example.com/multi"
run versions env GOPROXY="$local_proxy" go list -m -versions example.com/multi
t_assert_eq "$(cat "$T_TMP/versions.out")" "example.com/multi v1.0.0 v1.1.0 v1.2.0-pre" "go list -m -versions"

# A module modfs's upstream does not have: the go command downloads it into the mount.
run get-old env GOPROXY="$local_proxy,file://$FIX/proxy" go get example.com/old@v2.0.0+incompatible
grep -q "downloading example.com/old" "$T_TMP/get-old.err" || t_fail "go did not download example.com/old itself"
T_CHECKS=$((T_CHECKS + 1))
old="$F_MNT/example.com/old@v2.0.0+incompatible"
t_assert_eq "$(cd "$old" && find . -type f -printf '%P %m\n' | sort | tr '\n' ' ')" "LICENSE 444 old.go 444 " "files go extracted"
t_assert_eq "$(stat -c %a "$old")" 555 "mode of the directory go extracted"
t_assert_eq "$(cat "$F_MNT/cache/download/example.com/old/@v/v2.0.0+incompatible.ziphash")" \
	"$(sum_of example.com/old v2.0.0+incompatible | cut -d' ' -f1)" ".ziphash go wrote"
[ -f "$F_WRITE/example.com/old@v2.0.0+incompatible/old.go" ] || t_fail "the download is not in the write area"
t_assert_eq "$(find "$F_WRITE" -name '*.partial' -o -name '*.tmp' | head -3)" "" "leftover .partial or .tmp files"

run build env GOPROXY=off go build -o getter .
t_assert_eq "$(./getter)" "hello from old v2 (incompatible) v1.1.0" "output of the program"
run verify env GOPROXY=off go mod verify
t_assert_eq "$(cat "$T_TMP/verify.out")" "all modules verified" "go mod verify"

# Through the HTTP front of the same modfs, when it works.
if curl -fsS "http://127.0.0.1:$port/example.com/m/v2/@v/list" >/dev/null 2>&1; then
	run get-http env GOPROXY="http://127.0.0.1:$port" go get example.com/m/v2@v2.1.0
	t_assert_eq "$(modver example.com/m/v2)" v2.1.0 "version of example.com/m/v2"
	t_assert_eq "$(awk '$1 == "example.com/m/v2" && $2 == "v2.1.0" { print $3 }' go.sum)" \
		"$(sum_of example.com/m/v2 v2.1.0 | cut -d' ' -f1)" "go.sum line of example.com/m/v2"
else
	t_log "HTTP front not answering on 127.0.0.1:$port: skipped go get through it"
fi

# go clean -modcache: the write area goes, the store stays. At the mount's root, go's last step
# (rmdir of GOMODCACHE) meets the mount point: EBUSY, from the kernel, and nothing else fails.
requests=$(wc -l <"$UPSTREAM_LOG")
rc=0
go clean -modcache 2>"$T_TMP/clean.err" || rc=$?
t_log "go clean -modcache: exit $rc: $(head -1 "$T_TMP/clean.err")"
[ "$rc" -eq 0 ] || [ "$(cat "$T_TMP/clean.err")" = "go: unlinkat $F_MNT: device or resource busy" ] ||
	t_fail "go clean -modcache failed other than with EBUSY on the mount point: $(cat "$T_TMP/clean.err")"
T_CHECKS=$((T_CHECKS + 1))
GOMODCACHE="$F_MNT/gomodcache" go clean -modcache 2>"$T_TMP/clean2.err" ||
	t_fail "go clean -modcache with GOMODCACHE=<mount>/gomodcache failed: $(cat "$T_TMP/clean2.err")"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(find "$F_WRITE" -mindepth 1 -not -type d | head -3)" "" "files left in the write area"
[ ! -e "$old" ] || t_fail "$old is still there after go clean -modcache"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(cat "$F_MNT/example.com/multi@v1.1.0/go.mod")" \
	"$(unzip -p "$FIX/proxy/example.com/multi/@v/v1.1.0.zip" example.com/multi@v1.1.0/go.mod)" "store file after go clean"
run list-after-clean env GOPROXY=off go list -m example.com/multi
t_assert_eq "$(cat "$T_TMP/list-after-clean.out")" "example.com/multi v1.1.0" "go list -m after go clean"
t_assert_eq "$(wc -l <"$UPSTREAM_LOG")" "$requests" "upstream requests after go clean -modcache"

cd "$T_TMP"
f_stop
