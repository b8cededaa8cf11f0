# SPDX-License-Identifier: MIT
#
# Functions shared by the fs scripts, sourced after tests/integration/lib.sh:
#   f_upstream_tree             a GOPROXY tree in $T_TMP/up: the fixture proxy and big trees
#                               (symlinked); sets F_UP
#   f_start_mount NAME UPSTREAM [ARGS...]
#                               `modfs serve --mount` on $T_TMP/mnt-NAME with the store
#                               $T_TMP/store-NAME (kept between starts of one NAME), waits for the
#                               mount; sets F_MNT, F_PID, F_LOG, F_STORE, F_WRITE (the write area
#                               of the user running the test)
#   f_stop                      SIGTERM the newest mount's modfs, wait; fails if the exit status
#                               is not 0, if stopping took more than 15 s, if the mount is still
#                               there, or if the log holds a sanitizer report
#   f_native_cache DIR PROXY MODS...
#                               a GOMODCACHE made by the go command itself: go mod download of
#                               MODS (path@version) from PROXY into DIR
#   f_escape PATH               Go's case-escaping ("Upper" -> "!upper")
#   f_build_user                a second, non-root build user (modfs-build, made with useradd
#                               when missing; needs root); sets F_USER, F_UID, F_GID and makes
#                               $T_TMP reachable for it
#   f_as_user CMD...            run CMD as that user (setpriv, with its own groups)
#   f_refused WHAT CMD...       CMD must fail with EROFS or EACCES (counts a check)
# Skips when /dev/fuse or fusermount3 is missing: that is the only part that may be absent.

[ -x "${MODFS_BIN:-}" ] || t_skip "MODFS_BIN is not set"
[ -f "${MODFS_FIXTURES:-}/modules.txt" ] || t_fail "fixtures missing: $MODFS_FIXTURES"
[ -c /dev/fuse ] || t_skip "/dev/fuse is absent"
t_require_cmd fusermount3 mountpoint

FIX="$MODFS_FIXTURES"
# libh2o's thread-local free lists (the HTTP front) are not leaks of ours; see tests/lsan.supp.
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$MODFS_SOURCE_ROOT/tests/lsan.supp"

f_upstream_tree() {
	F_UP=$(t_tmpdir up)
	cp -rs "$FIX/proxy/." "$F_UP/"
	[ ! -d "$FIX/big" ] || cp -rs "$FIX/big/example.com/." "$F_UP/example.com/"
}

_f_cleanup() {
	local mnt=$1 pid=$2
	kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	! mountpoint -q "$mnt" || fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt"
}

f_start_mount() {
	local name=$1 upstream=$2 i
	shift 2
	F_STORE="$T_TMP/store-$name"
	F_MNT=$(t_tmpdir "mnt-$name")
	F_LOG="$T_TMP/modfs-$name.log"
	F_WRITE="$F_STORE/gomodcache-rw/$(id -u)"
	# shellcheck disable=SC2046
	"$MODFS_BIN" serve --cache-dir "$F_STORE" --upstream "$upstream" --mount "$F_MNT" $(t_sumdb_off "$@") "$@" \
		>>"$F_LOG" 2>&1 &
	F_PID=$!
	t_on_exit "_f_cleanup $F_MNT $F_PID"
	for ((i = 0; i < 400; i++)); do
		mountpoint -q "$F_MNT" && break
		kill -0 "$F_PID" 2>/dev/null || t_fail "modfs serve died: $(tail -5 "$F_LOG")"
		sleep 0.05
	done
	mountpoint -q "$F_MNT" || t_fail "$F_MNT is not mounted after 20 s: $(tail -5 "$F_LOG")"
}

f_stop() {
	t_stop_modfs "$F_PID" "$F_LOG"
	! mountpoint -q "$F_MNT" || t_fail "$F_MNT is still mounted after modfs serve stopped"
}

f_native_cache() {
	local dir=$1 proxy=$2
	shift 2
	(cd "$T_TMP" && GOMODCACHE="$dir" GOPROXY="$proxy" GOFLAGS=-modcacherw go mod download "$@") ||
		t_fail "go mod download into a native GOMODCACHE failed"
}

f_escape() {
	sed 's/[A-Z]/!\L&/g' <<<"$1"
}

f_build_user() {
	[ "$(id -u)" -eq 0 ] || t_skip "needs root to act as a second build user"
	t_require_cmd setpriv
	F_USER=modfs-build
	if ! id "$F_USER" >/dev/null 2>&1; then
		t_require_cmd useradd
		useradd --system --no-create-home --shell /usr/sbin/nologin "$F_USER" ||
			t_fail "useradd $F_USER failed"
	fi
	F_UID=$(id -u "$F_USER")
	F_GID=$(id -g "$F_USER")
	chmod 755 "$T_TMP"
}

f_as_user() {
	setpriv --reuid="$F_UID" --regid="$F_GID" --init-groups -- "$@"
}

f_refused() {
	local what=$1 err
	shift
	if err=$("$@" 2>&1); then t_fail "$what succeeded"; fi
	case $err in
	*"Read-only file system"* | *"Permission denied"*) ;;
	*) t_fail "$what: $err (want EROFS or EACCES)" ;;
	esac
	T_CHECKS=$((T_CHECKS + 1))
}
