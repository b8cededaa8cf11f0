#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Two build users on one mount (--allow-other), root and a non-root user, build at the same time
# a program whose modules come partly from the store (fetched lazily through modfs's upstream)
# and partly from a private git repository the go command fetches itself: each go command
# writes lock files, cache/vcs, .partial, temp files and the extracted module into that user's
# own write area (<store>/gomodcache-rw/<uid>, 0700, owned by the user), and the module go
# extracted is sealed afterwards (no new or changed file, root included). Root builds with
# GOMODCACHE=<mount>/gomodcache, the other user with GOMODCACHE=<mount> and -modcacherw: both
# entry points work, and -modcacherw leaves the user's own download writable (0755) while the
# store's directories stay 0555.
# Then `go clean -modcache` (GOMODCACHE=<mount>/gomodcache) exits 0 for both, frees everything
# each user's writes took, and a second concurrent build afterwards passes without a single
# request to modfs's upstream (the store's modules come back without a fetch).
#
# The private module offline: its path ends in .git (private.example/greet.git), which makes
# go 1.19 take the repository's URL from the path itself (https://private.example/greet.git)
# instead of asking https://private.example/greet?go-get=1; GOPRIVATE=private.example sends it
# to git directly (GOPROXY=off does not apply to it) and skips the checksum database; git's
# url.<base>.insteadOf (given through GIT_CONFIG_COUNT) turns that URL into a `git daemon` on
# 127.0.0.1, which serves the repository to every user alike (a file:// URL would trip git's
# "dubious ownership" check for the user who does not own the repository).
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"
t_require_cmd go git
f_build_user
git_daemon=$(git --exec-path)/git-daemon
[ -x "$git_daemon" ] || t_skip "git daemon is not installed"

# The private module, in a bare repository served by git daemon.
repos=$(t_tmpdir repos)
src=$(t_tmpdir greet-src)
git init -q --bare "$repos/greet.git"
(
	cd "$src"
	git init -q
	printf 'module private.example/greet.git\n\ngo 1.17\n' >go.mod
	printf 'package greet\n\nfunc Hello() string { return "hello from a private repository" }\n' >greet.go
	git add go.mod greet.go
	git -c user.email=t@example.com -c user.name=t commit -qm init
	git tag v1.0.0
	git push -q "$repos/greet.git" HEAD:refs/heads/master v1.0.0
) || t_fail "making the private repository failed"
git_port=$(t_free_port)
"$git_daemon" --export-all --base-path="$repos" --listen=127.0.0.1 --port="$git_port" --reuseaddr "$repos" \
	2>"$T_TMP/git-daemon.log" &
t_on_exit "kill $!; wait $!"
t_wait_port "$git_port"

t_start_upstream "$FIX/proxy"
f_start_mount main "$UPSTREAM_URL" --allow-other --notfound-ttl 3600
t_go_env
unset GOMODCACHE GOPATH GOCACHE

# The fixture app plus a file that uses the private module, one copy per user.
for who in root user; do
	app=$(t_tmpdir "app-$who")
	cp -r "$FIX/app/." "$app/"
	cat >"$app/private.go" <<'EOF'
package main

import (
	"fmt"

	"private.example/greet.git"
)

func init() { fmt.Println(greet.Hello()) }
EOF
	printf 'require private.example/greet.git v1.0.0\n' >>"$app/go.mod"
	mkdir -p "$T_TMP/home-$who"
done
chown -R "$F_UID:$F_GID" "$T_TMP/app-user" "$T_TMP/home-user"
{ echo "hello from a private repository"; cat "$FIX/app.expected"; } >"$T_TMP/want.out"

# go_as WHO GOMODCACHE CMD...: a go command of one user, in its app, with its own caches.
go_as() {
	local who=$1 modcache=$2
	shift 2
	local run=()
	[ "$who" = root ] || run=(setpriv --reuid="$F_UID" --regid="$F_GID" --init-groups --)
	(cd "$T_TMP/app-$who" && "${run[@]}" env HOME="$T_TMP/home-$who" GOPATH="$T_TMP/home-$who/go" \
		GOCACHE="$T_TMP/home-$who/gocache" GOMODCACHE="$modcache" GOPRIVATE=private.example \
		GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="url.git://127.0.0.1:$git_port/.insteadOf" \
		GIT_CONFIG_VALUE_0=https://private.example/ "$@")
}

# build_both ROUND: both users build at once; each program prints what it should.
build_both() {
	local round=$1 pr pu rc=0
	go_as root "$F_MNT/gomodcache" go build -o app . >"$T_TMP/$round-root.log" 2>&1 &
	pr=$!
	go_as user "$F_MNT" env GOFLAGS="-mod=mod -modcacherw" go build -o app . >"$T_TMP/$round-user.log" 2>&1 &
	pu=$!
	wait "$pr" || t_fail "$round: root's build failed: $(tail -5 "$T_TMP/$round-root.log")"
	wait "$pu" || t_fail "$round: $F_USER's build failed: $(tail -5 "$T_TMP/$round-user.log")"
	for who in root user; do
		"$T_TMP/app-$who/app" >"$T_TMP/$round-$who.out" || rc=$?
		t_assert_eq "$rc" 0 "$round: exit status of $who's program"
		t_assert_file_eq "$T_TMP/$round-$who.out" "$T_TMP/want.out" "$round: output of $who's program"
	done
}

build_both first
grep -q "downloading private.example/greet.git" "$T_TMP/first-user.log" ||
	t_fail "$F_USER's go did not fetch the private module itself: $(cat "$T_TMP/first-user.log")"
T_CHECKS=$((T_CHECKS + 1))
rw="$F_STORE/gomodcache-rw"
for uid in 0 "$F_UID"; do
	t_assert_eq "$(stat -c '%u %a' "$rw/$uid")" "$uid 700" "owner and mode of the write area of uid $uid"
	f="$rw/$uid/private.example/greet.git@v1.0.0/greet.go"
	t_assert_eq "$(stat -c '%u %a' "$f")" "$uid 444" "owner and mode of the private module's file of uid $uid"
	want=555
	[ "$uid" = 0 ] || want=755 # the user builds with -modcacherw: go leaves its own directories writable
	t_assert_eq "$(stat -c %a "$rw/$uid/private.example/greet.git@v1.0.0")" "$want" "mode of uid $uid's own download"
	vcs=$(find "$rw/$uid/cache/vcs" -mindepth 1 -maxdepth 1 -type d | head -1)
	[ -n "$vcs" ] && [ "$(stat -c %u "$vcs")" = "$uid" ] || t_fail "no repository of uid $uid in its cache/vcs"
	T_CHECKS=$((T_CHECKS + 1))
done
t_assert_eq "$(f_as_user stat -c %a "$F_MNT/golang.org/x/text@v0.8.0")" 555 "a store module's mode under -modcacherw"
# A module go extracted itself is sealed once go removed its .partial: not even its owner (or
# root, in its own view) adds a file to it.
f_refused "$F_USER: a file in its own finished download" f_as_user touch "$F_MNT/private.example/greet.git@v1.0.0/evil.go"
f_refused "root: a file in its own finished download" touch "$F_MNT/gomodcache/private.example/greet.git@v1.0.0/evil.go"
f_refused "root: overwrite a file of its own finished download" \
	sh -c "echo x >'$F_MNT/gomodcache/private.example/greet.git@v1.0.0/greet.go'"
# Nothing of the store's was written by either go command.
t_assert_eq "$(find "$rw" -path '*golang.org*' -o -path '*example.com*' | head -3)" "" "store modules in a write area"
go_as root "$F_MNT/gomodcache" go mod verify >"$T_TMP/verify-root.out" 2>&1 || t_fail "root: go mod verify: $(cat "$T_TMP/verify-root.out")"
go_as user "$F_MNT" go mod verify >"$T_TMP/verify-user.out" 2>&1 || t_fail "$F_USER: go mod verify: $(cat "$T_TMP/verify-user.out")"
T_CHECKS=$((T_CHECKS + 2))

# go clean -modcache, both users at once, with the documented GOMODCACHE.
requests=$(wc -l <"$UPSTREAM_LOG")
go_as root "$F_MNT/gomodcache" go clean -modcache >"$T_TMP/clean-root.log" 2>&1 &
pr=$!
go_as user "$F_MNT/gomodcache" go clean -modcache >"$T_TMP/clean-user.log" 2>&1 &
pu=$!
wait "$pr" || t_fail "root: go clean -modcache failed: $(cat "$T_TMP/clean-root.log")"
wait "$pu" || t_fail "$F_USER: go clean -modcache failed: $(cat "$T_TMP/clean-user.log")"
T_CHECKS=$((T_CHECKS + 2))
t_assert_eq "$(find "$rw" -mindepth 2 | head -3)" "" "what the write areas hold after go clean -modcache"
cat "$F_MNT/cache/download/golang.org/x/text/@v/v0.8.0.mod" >/dev/null || t_fail "the store's module is gone"
T_CHECKS=$((T_CHECKS + 1))

build_both second
t_assert_eq "$(wc -l <"$UPSTREAM_LOG")" "$requests" "requests to modfs's upstream after go clean -modcache"
grep -q "downloading private.example/greet.git" "$T_TMP/second-root.log" ||
	t_fail "root's go did not fetch the private module again after go clean -modcache"
T_CHECKS=$((T_CHECKS + 1))

f_stop
