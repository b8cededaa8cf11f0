#!/bin/bash
# SPDX-License-Identifier: MIT
#
# GOMODCACHE on the mount, GOPROXY=off, an empty store and an nginx upstream: `go build` of the
# fixture app succeeds with everything fetched lazily by lookups on the mount, and the binary
# prints app.expected. `go mod verify` passes (it hashes every extracted tree), `go list -m all`
# works, the go command wrote nothing into the cache, each .ziphash on the mount is
# byte-identical to the one go writes into a native GOMODCACHE, and each extracted tree lists
# the same files with the same sizes as go's own extraction.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"
t_require_cmd go

t_start_upstream "$FIX/proxy"
f_start_mount main "$UPSTREAM_URL"
t_go_env

cp -r "$FIX/app" "$T_TMP/app"
cd "$T_TMP/app"
GOMODCACHE="$F_MNT" GOPROXY=off go build -o app . 2>"$T_TMP/build.err" ||
	t_fail "go build with GOMODCACHE on the mount failed: $(tail -5 "$T_TMP/build.err")"
./app >"$T_TMP/app.out"
t_assert_file_eq "$T_TMP/app.out" "$FIX/app.expected" "output of the app built on the mount"
zips=$(t_upstream_count ".zip")
[ "$zips" -ge 5 ] || t_fail "only $zips zips fetched from upstream: the build did not go through the mount"
t_log "go build fetched $zips zips and $(wc -l <"$UPSTREAM_LOG") objects in all through lookups"

GOMODCACHE="$F_MNT" GOPROXY=off go mod verify >"$T_TMP/verify.out" 2>&1 ||
	t_fail "go mod verify on the mount failed: $(cat "$T_TMP/verify.out")"
t_assert_eq "$(cat "$T_TMP/verify.out")" "all modules verified" "go mod verify"
GOMODCACHE="$F_MNT" GOPROXY=off go list -m all >"$T_TMP/list.out" 2>&1 ||
	t_fail "go list -m all on the mount failed: $(cat "$T_TMP/list.out")"
t_assert_eq "$(wc -l <"$T_TMP/list.out")" 6 "modules in go list -m all"

# A warm cache is read, never written: canonical .info, valid .ziphash, no .partial.
written=$({ find "$F_WRITE" -mindepth 1 -not -type d 2>/dev/null || true; } | head -5)
t_assert_eq "$written" "" "files the go command wrote into the mount's cache"

# A second build with a fresh GOCACHE reads every file again, from the kernel's cache or
# the store, and asks upstream for nothing more.
before=$(wc -l <"$UPSTREAM_LOG")
rm -f app
GOCACHE="$T_TMP/gocache2" GOMODCACHE="$F_MNT" GOPROXY=off go build -o app . || t_fail "second go build failed"
./app >"$T_TMP/app2.out"
t_assert_file_eq "$T_TMP/app2.out" "$FIX/app.expected" "output of the second build"
t_assert_eq "$(wc -l <"$UPSTREAM_LOG")" "$before" "upstream requests of the warm build"

# The same modules in a GOMODCACHE the go command fills itself.
native="$T_TMP/native"
mapfile -t mods < <(GOMODCACHE="$F_MNT" GOPROXY=off go list -m -f '{{if .Version}}{{.Path}}@{{.Version}}{{end}}' all | grep .)
f_native_cache "$native" "file://$FIX/proxy" "${mods[@]}"

n=0
while IFS= read -r -d '' zh; do
	rel=${zh#"$F_MNT/"}
	t_assert_eq "$(stat -c %s "$zh")" 47 "size of $rel"
	t_assert_file_eq "$zh" "$native/$rel" ".ziphash on the mount against go's own"
	n=$((n + 1))
done < <(find "$F_MNT/cache/download" -name '*.ziphash' -print0)
t_assert_eq "$n" "${#mods[@]}" ".ziphash files on the mount"

for mv in "${mods[@]}"; do
	m=${mv%@*} v=${mv#*@}
	dir="$(f_escape "$m")@$(f_escape "$v")"
	(cd "$native/$dir" && find . -printf '%y %P %s\n' | grep -v '^d' | LC_ALL=C sort) >"$T_TMP/tree-native"
	(cd "$F_MNT/$dir" && find . -printf '%y %P %s\n' | grep -v '^d' | LC_ALL=C sort) >"$T_TMP/tree-mount"
	t_assert_file_eq "$T_TMP/tree-mount" "$T_TMP/tree-native" "files of $dir"
	for ext in info mod; do
		f="cache/download/$(f_escape "$m")/@v/$(f_escape "$v").$ext"
		t_assert_file_eq "$F_MNT/$f" "$native/$f" "$f"
	done
done

cd "$T_TMP"
f_stop
