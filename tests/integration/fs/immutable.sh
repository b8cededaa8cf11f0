#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The store's content is immutable for everyone, root included: as root and as a second build
# user, every way of creating, writing, truncating, chmod-ing, renaming or linking something
# inside a module's extracted tree or among its cache/download/.../@v/ objects fails with EROFS
# or EACCES (new files, directories, fifos, symbolic and hard links, renames within, out of and
# over them, a .partial, a temp file renamed over the .ziphash), and afterwards every file,
# size, mode and listing is what it was, no write area holds a file, and `go mod verify`
# passes for both users.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"
t_require_cmd go sha256sum mkfifo
f_build_user

t_start_upstream "$FIX/proxy"
f_start_mount main "$UPSTREAM_URL" --allow-other
t_go_env
G="$F_MNT/gomodcache"
export GOMODCACHE="$G"
for who in root user; do
	cp -r "$FIX/app" "$T_TMP/app-$who"
	mkdir -p "$T_TMP/home-$who"
done
chown -R "$F_UID:$F_GID" "$T_TMP/app-user" "$T_TMP/home-user"

# go_as WHO CMD...: a go command of one user in its copy of the app.
go_as() {
	local who=$1
	shift
	local run=()
	[ "$who" = root ] || run=(setpriv --reuid="$F_UID" --regid="$F_GID" --init-groups --)
	(cd "$T_TMP/app-$who" && "${run[@]}" env HOME="$T_TMP/home-$who" GOPATH="$T_TMP/home-$who/go" \
		GOCACHE="$T_TMP/home-$who/gocache" "$@")
}
go_as root go mod download -x >/dev/null 2>&1 || true # lazy fetches of every module the app uses
go_as root go mod verify >"$T_TMP/verify0.out" 2>&1 || t_fail "go mod verify before the attempts: $(cat "$T_TMP/verify0.out")"

tree="$G/golang.org/x/mod@v0.7.0"
atv="$G/cache/download/golang.org/x/mod/@v"
[ -f "$tree/semver/semver.go" ] && [ -f "$atv/v0.7.0.zip" ] || t_fail "the module is not on the mount"

# What must not change: every file of the tree (path, size, mode, sha256) and the @v objects.
manifest() {
	(cd "$tree" && find . -printf '%p %s %m %y\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
	(cd "$atv" && ls -l --time-style=+ . | awk '{print $1, $5, $NF}' && sha256sum v0.7.0.info v0.7.0.mod v0.7.0.zip v0.7.0.ziphash)
}
manifest >"$T_TMP/before"

for who in root user; do
	as=()
	[ "$who" = root ] || as=(setpriv --reuid="$F_UID" --regid="$F_GID" --init-groups --)
	t_log "attempts as $who"
	# inside the module's tree
	f_refused "$who: touch in a module" "${as[@]}" touch "$tree/new.go"
	f_refused "$who: a go file beside the package's" "${as[@]}" sh -c "echo 'package semver' >'$tree/semver/evil.go'"
	f_refused "$who: mkdir in a module" "${as[@]}" mkdir "$tree/newdir"
	f_refused "$who: mkfifo in a module" "${as[@]}" mkfifo "$tree/fifo"
	f_refused "$who: symbolic link in a module" "${as[@]}" ln -s go.mod "$tree/link"
	f_refused "$who: hard link in a module" "${as[@]}" ln "$tree/go.mod" "$tree/go.mod.link"
	f_refused "$who: append to a module's file" "${as[@]}" sh -c "echo x >>'$tree/go.mod'"
	f_refused "$who: overwrite a module's file" "${as[@]}" sh -c "echo x >'$tree/semver/semver.go'"
	f_refused "$who: truncate a module's file" "${as[@]}" truncate -s 0 "$tree/go.mod"
	f_refused "$who: chmod a module's file" "${as[@]}" chmod 644 "$tree/go.mod"
	f_refused "$who: chmod a module's directory" "${as[@]}" chmod 755 "$tree/semver"
	f_refused "$who: chmod a module's root" "${as[@]}" chmod 755 "$tree"
	f_refused "$who: touch (utimes) a module's file" "${as[@]}" touch "$tree/go.mod"
	f_refused "$who: rename within a module" "${as[@]}" mv "$tree/go.mod" "$tree/go.mod2"
	f_refused "$who: rename a directory of a module" "${as[@]}" mv "$tree/semver" "$tree/semver2"
	"${as[@]}" mkdir -p "$G/cache/download/sumdb" || t_fail "$who: mkdir of the sumdb cache, as go does, was refused"
	f_refused "$who: rename out of a module" "${as[@]}" mv "$tree/semver/semver.go" "$G/cache/download/sumdb/semver.go"
	f_refused "$who: a new directory beside the tree" "${as[@]}" mkdir "$G/golang.org/x/mod@v0.7.0.tmp-1"
	f_refused "$who: a new file in the root" "${as[@]}" touch "$G/evil"
	# among the @v objects
	f_refused "$who: a new name among the objects" "${as[@]}" touch "$atv/v0.7.0.evil"
	f_refused "$who: .partial of a module the store serves" "${as[@]}" touch "$atv/v0.7.0.partial"
	f_refused "$who: truncate the .zip" "${as[@]}" truncate -s 0 "$atv/v0.7.0.zip"
	f_refused "$who: overwrite the .ziphash" "${as[@]}" sh -c "echo h1:x >'$atv/v0.7.0.ziphash'"
	f_refused "$who: chmod the .info" "${as[@]}" chmod 666 "$atv/v0.7.0.info"
	f_refused "$who: rename the .mod" "${as[@]}" mv "$atv/v0.7.0.mod" "$atv/v0.7.0.mod.bak"
	f_refused "$who: hard link to the .zip" "${as[@]}" ln "$atv/v0.7.0.zip" "$atv/v0.7.0.zip1.tmp"
	"${as[@]}" touch "$atv/v0.7.0.zip1234.tmp" || t_fail "$who: a temp file, as go makes, was refused"
	f_refused "$who: rename a temp file over the .ziphash" "${as[@]}" mv "$atv/v0.7.0.zip1234.tmp" "$atv/v0.7.0.ziphash"
	f_refused "$who: rename a temp file over the .zip" "${as[@]}" mv "$atv/v0.7.0.zip1234.tmp" "$atv/v0.7.0.zip"
	"${as[@]}" rm "$atv/v0.7.0.zip1234.tmp" || t_fail "$who: removing its temp file failed"
done

manifest >"$T_TMP/after"
cmp -s "$T_TMP/before" "$T_TMP/after" || t_fail "the module changed: $(diff "$T_TMP/before" "$T_TMP/after" | head -5)"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(find "$F_STORE/gomodcache-rw" -type f | head -3)" "" "files in the write areas"
go_as root go mod verify >"$T_TMP/verify-root.out" 2>&1 || t_fail "root: go mod verify: $(cat "$T_TMP/verify-root.out")"
go_as user go mod verify >"$T_TMP/verify-user.out" 2>&1 || t_fail "$F_USER: go mod verify: $(cat "$T_TMP/verify-user.out")"
t_assert_eq "$(cat "$T_TMP/verify-root.out")" "all modules verified" "go mod verify as root"
t_assert_eq "$(cat "$T_TMP/verify-user.out")" "all modules verified" "go mod verify as $F_USER"

f_stop
