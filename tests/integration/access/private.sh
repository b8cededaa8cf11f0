#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Private modules through `direct`: a git repository private.example/lib (tags v1.0.0, v1.2.0
# and an untagged commit) behind nginx (go-get meta page over https, git-http-backend behind
# Basic auth over http), in a network namespace where private.example is 127.0.0.1. modfs runs
# with --upstream '<public>,direct' --private private.example and a service HOME holding the
# git credentials (.netrc) and git config. Through the HTTP front as GOPROXY, `go get` of
# @v1.2.0, @latest and a commit (pseudo-version) work and the code builds; through the mount
# (GOMODCACHE) with GOPROXY=off and with GOPROXY=file://<mount>/cache/download the same; the
# public upstream never saw the private path; a missing tag gives go's "unknown revision" (404)
# and wrong credentials give git's refusal (502), both in the body and in modfs's log; a public
# module still comes from the public upstream, and one it lacks (not private) from direct after it.
# Private modules are served over HTTP to authenticated clients only: go uses a .netrc over
# https, a client without credentials gets 401, and a server without --auth-file refuses them
# (403, saying so, and says so in its log at start) while its mount still serves them.
set -euo pipefail
. "$(dirname "$0")/access_lib.sh"
a_enter_netns "$@"
. "$MODFS_TEST_LIB"
[ -x "${MODFS_BIN:-}" ] || t_skip "MODFS_BIN is not set"
[ -c /dev/fuse ] || t_skip "/dev/fuse is absent"
t_require_cmd go git nginx fcgiwrap openssl curl fusermount3 mkpasswd
[ -x /usr/lib/git-core/git-http-backend ] || t_skip "git-http-backend is missing"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$MODFS_SOURCE_ROOT/tests/lsan.supp"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
FIX="$MODFS_FIXTURES"

a_map_host private.example public.example
a_make_ca private.example public.example
a_git_repo
a_start_git_server alice s3cret
t_start_upstream "$FIX/proxy"
PUBLIC_LOG=$UPSTREAM_LOG

# the service account: its HOME has the git credentials; go trusts the test CA for the meta page
svc_home="$T_TMP/svc-home"
a_service_home "$svc_home" s3cret
# the HTTP front's one user (go sends .netrc credentials over https only)
authfile="$T_TMP/users"
printf 'user:carol:%s\n' "$(mkpasswd -m bcrypt carolpass)" >"$authfile"
chmod 600 "$authfile"
port=$(t_free_port)
tport=$(t_free_port)
store=$(t_tmpdir store)
mnt=$(t_tmpdir mnt)
log="$T_TMP/modfs.log"
# no checksum database on this network (--sumdb off); and public.example is not private: the go
# command run for direct would check it with sum.golang.org, which this
# network has not, so the service account exempts it as an operator would an internal host
HOME="$svc_home" SSL_CERT_FILE="$A_CA" GONOSUMDB=public.example "$MODFS_BIN" serve --cache-dir "$store" --log-level info --sumdb off \
	--upstream "$UPSTREAM_URL,direct" --private private.example --auth-file "$authfile" \
	--listen "127.0.0.1:$port" --tls-listen "127.0.0.1:$tport" --tls-cert "$A_CERT" --tls-key "$A_KEY" \
	--mount "$mnt" >"$log" 2>&1 &
pid=$!
t_on_exit "kill $pid; wait $pid; fusermount3 -u -z $mnt"
t_wait_port "$port"
t_wait_port "$tport"
for ((i = 0; i < 400; i++)); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || t_fail "the mount did not appear: $(tail -5 "$log")"
url="https://127.0.0.1:$tport"
plain="http://127.0.0.1:$port"

t_go_env
# the client's side: no git credentials, only its .netrc for modfs; it trusts the test CA
export HOME="$T_TMP/client-home" SSL_CERT_FILE="$A_CA"
mkdir -p "$HOME"
printf 'machine 127.0.0.1 login carol password carolpass\n' >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"

# run NAME CMD...: must succeed
run() {
	local name=$1
	shift
	"$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err" || t_fail "$name: $* failed: $(tail -5 "$T_TMP/$name.err")"
	T_CHECKS=$((T_CHECKS + 1))
}
new_work() {
	local w
	w=$(t_tmpdir "$1")
	cd "$w"
	printf 'module example.com/user\n\ngo 1.17\n' >go.mod
	printf 'package main\n\nimport (\n\t"fmt"\n\n\t"private.example/lib"\n)\n\nfunc main() { fmt.Println(lib.Version) }\n' >main.go
}
required() { go list -m -f '{{.Version}}' private.example/lib; }
pseudo_re="^v1\.2\.1-0\.[0-9]{14}-${A_HEAD:0:12}\$"

# ---- through the HTTP front as GOPROXY ----
export GOPROXY="$url"
new_work http
run get-v120 go get private.example/lib@v1.2.0
t_assert_eq "$(required)" v1.2.0 "go get @v1.2.0 (http)"
run build-v120 go build -o prog .
t_assert_eq "$(./prog)" v1.2.0 "the program built with v1.2.0"
run get-latest go get private.example/lib@latest
t_assert_eq "$(required)" v1.2.0 "go get @latest (http)"
run get-commit go get "private.example/lib@${A_HEAD:0:12}"
[[ "$(required)" =~ $pseudo_re ]] || t_fail "go get @commit (http): got $(required), want a pseudo-version of ${A_HEAD:0:12}"
T_CHECKS=$((T_CHECKS + 1))
run build-head go build -o prog .
t_assert_eq "$(./prog)" untagged "the program built at the untagged commit"
run versions go list -m -versions private.example/lib
t_assert_eq "$(cat "$T_TMP/versions.out")" "private.example/lib v1.0.0 v1.2.0" "go list -m -versions (http)"
t_assert_eq "$(curl -s -u carol:carolpass "$plain/private.example/lib/@v/main.info" | sed 's/"Time".*//')" \
	"{\"Version\":\"$(required)\"," ".info of a branch gives the pseudo-version"
t_assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$plain/private.example/lib/@v/v1.2.0.info")" 401 \
	"a private module without credentials"

# a missing tag: go's reason, as not found, in the body and the log
body=$(curl -s -u carol:carolpass -o - -w '\n%{http_code}' "$plain/private.example/lib/@v/v9.9.9.info")
t_assert_eq "$(tail -1 <<<"$body")" 404 "a missing tag is not found"
grep -q "unknown revision v9.9.9" <<<"$body" || t_fail "the body lacks go's reason: $body"
grep -q "unknown revision v9.9.9" "$log" || t_fail "the log lacks go's reason"
T_CHECKS=$((T_CHECKS + 2))

# ---- through the mount ----
export GOMODCACHE="$mnt" GOFLAGS="-mod=mod"
new_work mount
GOPROXY=off run mnt-get-v100 go get private.example/lib@v1.0.0
t_assert_eq "$(GOPROXY=off required)" v1.0.0 "go get @v1.0.0 (mount, GOPROXY=off)"
GOPROXY=off run mnt-build go build -o prog .
t_assert_eq "$(./prog)" v1.0.0 "the program built from the mount"
export GOPROXY="file://$mnt/cache/download"
run mnt-get-latest go get private.example/lib@latest
t_assert_eq "$(required)" v1.2.0 "go get @latest (mount)"
run mnt-get-commit go get "private.example/lib@${A_HEAD:0:12}"
[[ "$(required)" =~ $pseudo_re ]] || t_fail "go get @commit (mount): got $(required)"
T_CHECKS=$((T_CHECKS + 1))
[ ! -e "$mnt/private.example/lib@v9.9.9" ] || t_fail "a missing tag exists on the mount"
T_CHECKS=$((T_CHECKS + 1))
export GOMODCACHE="$GOPATH/pkg/mod" GOPROXY="$url"

# a public module still comes from the public upstream, never through go
cd "$T_TMP"
run public go mod download -json example.com/multi@v1.1.0
t_assert_eq "$(t_upstream_count "example.com/multi/@v/v1.1.0.zip" "$PUBLIC_LOG")" 1 "the public module came from the public upstream"

# a module the public upstream lacks and --private does not name: the upstream's 404, then direct
run public-direct go mod download -json public.example/tool@v0.1.0
t_assert_eq "$(t_upstream_count "public.example/tool/@v/v0.1.0.zip" "$PUBLIC_LOG")" 1 "the public upstream was asked first"
grep -q '"Zip"' "$T_TMP/public-direct.out" || t_fail "no zip for public.example/tool through direct"
T_CHECKS=$((T_CHECKS + 1))

# the public upstream never heard of the private module
t_assert_eq "$(t_upstream_count private.example "$PUBLIC_LOG")" 0 "requests for private.example at the public upstream"

# ---- wrong credentials: git's refusal reaches the client and the log ----
bad_home="$T_TMP/bad-home"
a_service_home "$bad_home" wrong
port2=$(t_free_port)
log2="$T_TMP/modfs-bad.log"
HOME="$bad_home" SSL_CERT_FILE="$A_CA" "$MODFS_BIN" serve --cache-dir "$(t_tmpdir store-bad)" --sumdb off \
	--upstream "$UPSTREAM_URL,direct" --private private.example --auth-file "$authfile" \
	--listen "127.0.0.1:$port2" >"$log2" 2>&1 &
pid2=$!
t_on_exit "kill $pid2; wait $pid2"
t_wait_port "$port2"
body=$(curl -s -u carol:carolpass -o - -w '\n%{http_code}' "http://127.0.0.1:$port2/private.example/lib/@v/v1.0.0.info")
t_assert_eq "$(tail -1 <<<"$body")" 502 "wrong git credentials fail"
grep -qE "terminal prompts disabled|Authentication failed" <<<"$body" || t_fail "the body lacks git's reason: $body"
grep -qE "terminal prompts disabled|Authentication failed" "$log2" || t_fail "the log lacks git's reason"
T_CHECKS=$((T_CHECKS + 2))
grep -q 'alice.*401\|" 401 ' "$A_GIT_LOG" || t_fail "the git server saw no refused login"
T_CHECKS=$((T_CHECKS + 1))

t_stop_modfs "$pid2" "$log2"

# ---- no auth file: private modules are refused over HTTP, still served on the mount ----
port3=$(t_free_port)
mnt3=$(t_tmpdir mnt-noauth)
log3="$T_TMP/modfs-noauth.log"
HOME="$svc_home" SSL_CERT_FILE="$A_CA" "$MODFS_BIN" serve --cache-dir "$store" --sumdb off \
	--upstream "$UPSTREAM_URL,direct" --private private.example --listen "127.0.0.1:$port3" \
	--mount "$mnt3" >"$log3" 2>&1 &
pid3=$!
t_on_exit "kill $pid3; wait $pid3; fusermount3 -u -z $mnt3"
t_wait_port "$port3"
for ((i = 0; i < 400; i++)); do mountpoint -q "$mnt3" && break; sleep 0.05; done
grep -q "notice: private modules (private.example) are served only to authenticated clients, and there is no --auth-file: the HTTP front refuses them (403)" "$log3" ||
	t_fail "the start does not say that private modules are refused: $(head -5 "$log3")"
T_CHECKS=$((T_CHECKS + 1))
body=$(curl -s -u carol:carolpass -o - -w '\n%{http_code}' "http://127.0.0.1:$port3/private.example/lib/@v/v1.0.0.info")
t_assert_eq "$(tail -1 <<<"$body")" 403 "a private module from a server without users"
grep -q "private modules are served only to authenticated clients.*configure --auth-file" <<<"$body" ||
	t_fail "the 403 does not say why: $body"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port3/example.com/multi/@v/v1.1.0.info")" 200 \
	"a public module from that server"
[ -f "$mnt3/cache/download/private.example/lib/@v/v1.0.0.mod" ] || t_fail "the mount does not serve the private module"
T_CHECKS=$((T_CHECKS + 1))
t_stop_modfs "$pid3" "$log3"

cd "$T_TMP"
t_stop_modfs "$pid" "$log"
