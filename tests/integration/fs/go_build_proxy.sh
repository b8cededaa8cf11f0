#!/bin/bash
# SPDX-License-Identifier: MIT
#
# GOMODCACHE on the mount and GOPROXY at the HTTP front of the same modfs (one store behind
# both): `go build` of the fixture app prints app.expected, `go mod verify` and
# `go mod download -json` pass with every Dir on the mount, and nothing is written into the
# cache. A native GOMODCACHE filled through the HTTP front afterwards costs no upstream zip
# request (the mount's lookups stored them) and its .ziphash files equal the mount's. Without a
# working HTTP front the proxy part is skipped with a message and the mount part still runs.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"
t_require_cmd go curl python3

t_start_upstream "$FIX/proxy"
port=$(t_free_port)
f_start_mount main "$UPSTREAM_URL" --listen "127.0.0.1:$port"
t_go_env
front="http://127.0.0.1:$port"
if curl -fsS -o /dev/null "$front/golang.org/x/text/@v/list" 2>/dev/null; then
	proxy=$front
else
	t_log "the HTTP front does not answer on $front: building with GOPROXY=off only"
	proxy=off
fi

cp -r "$FIX/app" "$T_TMP/app"
cd "$T_TMP/app"
GOMODCACHE="$F_MNT" GOPROXY=$proxy go build -o app . 2>"$T_TMP/build.err" ||
	t_fail "go build (GOPROXY=$proxy) with GOMODCACHE on the mount failed: $(tail -5 "$T_TMP/build.err")"
./app >"$T_TMP/app.out"
t_assert_file_eq "$T_TMP/app.out" "$FIX/app.expected" "output of the app"
grep -q "downloading" "$T_TMP/build.err" && t_fail "go downloaded a module itself: $(grep downloading "$T_TMP/build.err" | head -3)"
T_CHECKS=$((T_CHECKS + 1))

GOMODCACHE="$F_MNT" GOPROXY=$proxy go mod verify >"$T_TMP/verify.out" 2>&1 ||
	t_fail "go mod verify failed: $(cat "$T_TMP/verify.out")"
t_assert_eq "$(cat "$T_TMP/verify.out")" "all modules verified" "go mod verify"

GOMODCACHE="$F_MNT" GOPROXY=$proxy go mod download -json >"$T_TMP/dl.json" 2>"$T_TMP/dl.err" ||
	t_fail "go mod download -json failed: $(tail -5 "$T_TMP/dl.err")"
python3 - "$T_TMP/dl.json" "$F_MNT" <<'PY' || t_fail "go mod download -json on the mount"
import json, os, sys
text, mnt = open(sys.argv[1]).read(), sys.argv[2]
dec, i, n = json.JSONDecoder(), 0, 0
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    obj, i = dec.raw_decode(text, i)
    if obj.get("Error"):
        sys.exit("%s: %s" % (obj["Path"], obj["Error"]))
    for k in ("Dir", "Zip", "Info", "GoMod"):
        if not obj[k].startswith(mnt + "/") or not os.path.exists(obj[k]):
            sys.exit("%s %s: %s = %s" % (obj["Path"], obj["Version"], k, obj[k]))
    n += 1
if n < 5:
    sys.exit("only %d modules" % n)
PY
T_CHECKS=$((T_CHECKS + 1))
written=$({ find "$F_WRITE" -mindepth 1 -not -type d 2>/dev/null || true; } | head -5)
t_assert_eq "$written" "" "files the go command wrote into the mount's cache"

if [ "$proxy" != off ]; then
	zips=$(t_upstream_count ".zip")
	mapfile -t mods < <(GOMODCACHE="$F_MNT" GOPROXY=off go list -m -f '{{if .Version}}{{.Path}}@{{.Version}}{{end}}' all | grep .)
	native="$T_TMP/native"
	f_native_cache "$native" "$front" "${mods[@]}"
	t_assert_eq "$(t_upstream_count ".zip")" "$zips" "upstream zip requests of the download through the HTTP front"
	n=0
	while IFS= read -r -d '' zh; do
		rel=${zh#"$native/"}
		t_assert_file_eq "$F_MNT/$rel" "$zh" "$rel on the mount against go's own via the HTTP front"
		n=$((n + 1))
	done < <(find "$native/cache/download" -name '*.ziphash' -print0)
	t_assert_eq "$n" "${#mods[@]}" ".ziphash files compared"
fi

cd "$T_TMP"
f_stop
