#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The kernel keeps directory listings, and they stay true. On a mount of one user, directories
# open without OPENDIR: a second `find` over a module's tree reaches modfs with no OPENDIR and,
# but for listings the kernel reclaimed meanwhile, no READDIR (/metrics). A directory listed once shows what was added to it later without any
# change the kernel saw: versions fetched through the GOPROXY front appear in
# cache/download/<module>/@v and in the module path's directory, and so does the note of a failed
# lookup in @v. A store file removed through
# <mount>/x is gone from the listing of the same directory seen through <mount>/gomodcache/x,
# and after a lookup brings it back it is listed again through both.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/fs_lib.sh"
t_require_cmd curl python3

t_start_upstream "$FIX/proxy"
port=$(t_free_port)
f_start_mount main "$UPSTREAM_URL" --listen "127.0.0.1:$port"
t_wait_port "$port"
proxy="http://127.0.0.1:$port"

metric() {
	curl -fsS "$proxy/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
# names DIR: the directory's entries, one a line, sorted (getdents only: nothing is stat-ed).
names() {
	python3 -c 'import os, sys; print("\n".join(sorted(os.listdir(sys.argv[1]))))' "$1"
}
has() { # WHAT DIR NAME
	local l
	l=$(names "$2")
	grep -qxF "$3" <<<"$l" || t_fail "$1: $3 is not listed in $2: $(tr '\n' ' ' <<<"$l")"
	T_CHECKS=$((T_CHECKS + 1))
}
lacks() { # WHAT DIR NAME
	local l
	l=$(names "$2")
	! grep -qxF "$3" <<<"$l" || t_fail "$1: $3 is still listed in $2"
	T_CHECKS=$((T_CHECKS + 1))
}

# A warm module tree is listed by the kernel alone.
tree="$F_MNT/golang.org/x/mod@v0.7.0"
find "$tree" >"$T_TMP/find.1"
dirs=$(find "$tree" -type d | wc -l)
[ "$dirs" -gt 5 ] || t_fail "the module shows $dirs directories"
opendirs=$(metric modfs_fuse_opendirs_total)
readdirs=$(metric modfs_fuse_readdirs_total)
[ "$readdirs" -gt 0 ] || t_fail "no READDIR reached modfs on the first pass"
find "$tree" >"$T_TMP/find.2"
find "$tree" >"$T_TMP/find.3"
t_assert_file_eq "$T_TMP/find.2" "$T_TMP/find.1" "the second find"
t_assert_file_eq "$T_TMP/find.3" "$T_TMP/find.1" "the third find"
t_assert_eq "$(metric modfs_fuse_opendirs_total)" "$opendirs" "OPENDIR requests on the second and third find over $dirs directories"
# Without cached listings each find would list every directory again (2 x $dirs READDIRs); with
# them only a listing the kernel reclaimed meanwhile comes back.
more=$(($(metric modfs_fuse_readdirs_total) - readdirs))
[ "$more" -lt $((dirs / 2)) ] || t_fail "READDIR requests on the second and third find: $more more over $dirs directories"
T_CHECKS=$((T_CHECKS + 1))

# Directories the store fills: listed once, then a version and a module fetched through the
# other front.
atv="$F_MNT/cache/download/example.com/multi/@v"
cat "$atv/v1.0.0.mod" >/dev/null
has "@v after a read through the mount" "$atv" v1.0.0.mod
lacks "@v before the fetch" "$atv" v1.1.0.mod
has "golang.org/x" "$F_MNT/golang.org/x" mod@v0.7.0
lacks "golang.org/x before the fetch" "$F_MNT/golang.org/x" text@v0.8.0
curl -fsS -o /dev/null "$proxy/example.com/multi/@v/v1.1.0.mod" || t_fail "the GOPROXY front: v1.1.0.mod"
curl -fsS -o /dev/null "$proxy/golang.org/x/text/@v/v0.8.0.zip" || t_fail "the GOPROXY front: text v0.8.0.zip"
has "@v listed again after a fetch through the GOPROXY front" "$atv" v1.1.0.mod
has "golang.org/x listed again after a fetch through the GOPROXY front" "$F_MNT/golang.org/x" text@v0.8.0
has "cache/download/golang.org/x/text/@v after the fetch" "$F_MNT/cache/download/golang.org/x/text/@v" v0.8.0.zip
# A failed lookup's note is a file of its @v directory, kept by the mount alone: a listing made
# before it shows it.
has "@v before a failed lookup" "$atv" v1.1.0.mod
[ ! -e "$atv/v9.9.9.info" ] || t_fail "a version upstream does not have: $atv/v9.9.9.info"
has "@v after a failed lookup" "$atv" v9.9.9.error

# One directory, two entry points: a removal through one shows in the other's listing, and so
# does the lookup that brings the name back.
twin="$F_MNT/gomodcache/golang.org/x/mod@v0.7.0"
has "the module through gomodcache/" "$twin" go.mod
has "the module through the mount's root" "$tree" go.mod
rm "$tree/go.mod"
lacks "the module through the mount's root after rm" "$tree" go.mod
lacks "the module through gomodcache/ after rm through the mount's root" "$twin" go.mod
[ -f "$tree/go.mod" ] || t_fail "go.mod did not come back at its lookup"
has "the module through the mount's root after go.mod came back" "$tree" go.mod
has "the module through gomodcache/ after go.mod came back" "$twin" go.mod
f_stop
