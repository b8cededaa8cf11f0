# SPDX-License-Identifier: MIT
#
# Helpers of the store scripts, sourced after tests/integration/lib.sh:
#   s_get [ARGS...] KEY      modfs get against $CACHE and $UPSTREAM_URL
#   s_stat FIELD             one field of `modfs stat` for $CACHE
#   s_escape PATH            Go's case-escaping ("Upper" -> "!upper")
#   s_fixture_keys           every file of the fixture proxy tree, as keys
# CACHE is the store directory of the test (fresh, empty).

[ -x "${MODFS_BIN:-}" ] || t_skip "MODFS_BIN is not set"
[ -f "${MODFS_FIXTURES:-}/modules.txt" ] || t_fail "fixtures missing: $MODFS_FIXTURES"

FIX="$MODFS_FIXTURES"
CACHE=$(t_tmpdir cache)

s_get() {
	# shellcheck disable=SC2046
	"$MODFS_BIN" get --cache-dir "$CACHE" --upstream "$UPSTREAM_URL" --list-ttl 3600 $(t_sumdb_off "$@") "$@"
}

s_stat() {
	local v
	v=$("$MODFS_BIN" stat --cache-dir "$CACHE" | awk -F': *' -v k="$1" '$1 == k { print $2 }')
	[ -n "$v" ] || t_fail "modfs stat has no field '$1'"
	echo "$v"
}

s_escape() {
	sed 's/[A-Z]/!\L&/g' <<<"$1"
}

s_fixture_keys() {
	(cd "$FIX/proxy" && find . -type f -printf '%P\n' | LC_ALL=C sort)
}
