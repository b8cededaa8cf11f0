#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The mount with a checksum database: GOMODCACHE on the mount, GOPROXY at the same modfs's HTTP
# front, GOSUMDB the test database (name and key only: reachable through modfs alone). `go build`
# with no go.sum writes it from the database, and what go keeps of the database itself
# (cache/download/sumdb/<name>/lookup and tile) lands in the mount's write area, readable back
# and equal to what the front serves; `go mod verify` passes. From an upstream that serves another
# go.mod and zip than the database logged, the mount answers EIO (the reason, "checksum mismatch",
# in the log) and stores nothing.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"
t_require_cmd go curl python3

t_start_sumdb
t_start_upstream "$FIX/proxy"
port=$(t_free_port)
f_start_mount main "$UPSTREAM_URL" --listen "127.0.0.1:$port" --sumdb "$SUMDB_VKEY $SUMDB_URL"
front="http://127.0.0.1:$port"
t_go_env
export GOSUMDB=$SUMDB_VKEY GOPROXY=$front GOMODCACHE=$F_MNT
unset GONOSUMDB
awk '{ print $1, $2, $3; print $1, $2 "/go.mod", $4 }' "$FIX/modules.txt" | sort >"$T_TMP/db-lines"

cp -r "$FIX/app" "$T_TMP/app"
cd "$T_TMP/app"
rm -f go.sum
go build -o app . 2>"$T_TMP/build.err" || t_fail "go build on the mount failed: $(tail -5 "$T_TMP/build.err")"
./app >"$T_TMP/app.out"
t_assert_file_eq "$T_TMP/app.out" "$FIX/app.expected" "output of the app"
[ -s go.sum ] || t_fail "go wrote no go.sum"
sort go.sum | comm -23 - "$T_TMP/db-lines" >"$T_TMP/extra"
[ ! -s "$T_TMP/extra" ] || t_fail "go.sum has lines the database does not: $(head -3 "$T_TMP/extra")"
T_CHECKS=$((T_CHECKS + 2))

# go's own cache of the database, on the mount: in the write area, and the same bytes modfs serves
db="cache/download/sumdb/$SUMDB_NAME"
lookup="$db/lookup/example.com/!upper/!lib@v1.2.3"
[ -f "$F_MNT/$lookup" ] || t_fail "go kept no lookup on the mount: $(find "$F_MNT/$db" 2>&1 | head -5)"
t_assert_file_eq "$F_WRITE/$lookup" "$F_MNT/$lookup" "the lookup in the write area"
curl -sS -o "$T_TMP/served" "$front/sumdb/$SUMDB_NAME/lookup/example.com/!upper/!lib@v1.2.3"
t_assert_file_eq "$F_MNT/$lookup" "$T_TMP/served" "the lookup go kept against the one modfs serves"
n=$(wc -l <"$FIX/modules.txt")
tile="$db/tile/8/0/000.p/$n"
[ -f "$F_MNT/$tile" ] || t_fail "go kept no tile on the mount: $(find "$F_MNT/$db" 2>&1 | head -5)"
curl -sS -o "$T_TMP/served" "$front/sumdb/$SUMDB_NAME/tile/8/0/000.p/$n"
t_assert_file_eq "$F_MNT/$tile" "$T_TMP/served" "the tile go kept against the one modfs serves"

go mod verify >"$T_TMP/verify.out" 2>&1 || t_fail "go mod verify failed: $(cat "$T_TMP/verify.out")"
t_assert_eq "$(cat "$T_TMP/verify.out")" "all modules verified" "go mod verify"
# A second build from the warm mount and go's own sumdb cache asks nothing new.
rm -rf "$GOCACHE"
go build -o app . || t_fail "second go build failed"
f_stop

# ---- an upstream with another go.mod and zip than the database logged
bad=$(t_tmpdir bad)
cp -r "$FIX/proxy/." "$bad/"
printf '// not what was published\n' >>"$bad/example.com/multi/@v/v1.0.0.mod"
python3 - "$bad/example.com/multi/@v/v1.0.0.zip" <<'PY'
import sys, zipfile
path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    files = [(i.filename, z.read(i)) for i in z.infolist()]
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in files:
        z.writestr(name, data + (b"\n// not what was published\n" if name.endswith(".go") else b""))
PY
t_start_upstream "$bad"
f_start_mount bad "$UPSTREAM_URL" --sumdb "$SUMDB_VKEY $SUMDB_URL"
for p in cache/download/example.com/multi/@v/v1.0.0.mod example.com/multi@v1.0.0; do
	err=$(cat "$F_MNT/$p" 2>&1 >/dev/null || ls "$F_MNT/$p" 2>&1 >/dev/null || true)
	case $err in
	*"Input/output error"*) ;;
	*) t_fail "$p from a bad upstream: '$err', want EIO" ;;
	esac
	T_CHECKS=$((T_CHECKS + 1))
done
grep -q "checksum mismatch: go.mod has h1:" "$F_LOG" || t_fail "no go.mod mismatch in the log"
grep -q "checksum mismatch: zip has h1:" "$F_LOG" || t_fail "no zip mismatch in the log"
T_CHECKS=$((T_CHECKS + 2))
f_stop
t_assert_eq "$("$MODFS_BIN" stat --cache-dir "$F_STORE" | awk -F': *' '$1 == "objects" { print $2 }')" 0 \
	"objects stored from the bad upstream"
