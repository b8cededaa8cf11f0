# SPDX-License-Identifier: MIT
#
# Helpers of the lifecycle scripts (a store with a budget), sourced after tests/integration/lib.sh.
# They work on the load fixture: LOAD_MODULES modules example.com/load/mNN v1.0.0 whose zips are
# 640 KiB of random bytes (nothing compresses, nothing is shared), so a store's disk grows by
# about a zip per zip stored.
#   l_zip N                   the fixture zip of module N
#   l_key N                   its key, example.com/load/mNN/@v/v1.0.0.zip
#   l_usage STORE             the store's bytes on disk as the budget counts them: the allocated
#                             blocks of packs/*, index.db and index.db-wal
#   l_stat STORE FIELD [ARGS] one field of `modfs stat` (ARGS: more flags, e.g. --max-size)
#   l_get STORE KEY [ARGS]    modfs get with upstream $UPSTREAM_URL

[ -x "${MODFS_BIN:-}" ] || t_skip "MODFS_BIN is not set"
[ -f "${MODFS_FIXTURES:-}/load/modules.txt" ] || t_fail "load fixture missing: $MODFS_FIXTURES/load"

FIX="$MODFS_FIXTURES"
LOAD="$FIX/load"
LOAD_MODULES=$(wc -l <"$LOAD/modules.txt")
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$MODFS_SOURCE_ROOT/tests/lsan.supp"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

l_key() {
	printf 'example.com/load/m%02d/@v/v1.0.0.zip' "$1"
}

l_zip() {
	echo "$LOAD/$(l_key "$1")"
}

l_usage() {
	local store=$1 total=0 f
	# a pack may be deleted between the listing and its stat: it then counts nothing
	for f in "$store"/packs/* "$store/index.db" "$store/index.db-wal"; do
		total=$((total + $(stat -c '%b * %B' "$f" 2>/dev/null || echo 0)))
	done
	echo "$total"
}

l_stat() {
	local store=$1 field=$2 v
	shift 2
	v=$("$MODFS_BIN" stat --cache-dir "$store" "$@" | awk -F': *' -v k="$field" '$1 == k { print $2 }')
	[ -n "$v" ] || t_fail "modfs stat has no field '$field'"
	echo "${v%% *}"
}

l_get() {
	local store=$1 key=$2
	shift 2
	# shellcheck disable=SC2046
	"$MODFS_BIN" get --cache-dir "$store" --upstream "$UPSTREAM_URL" $(t_sumdb_off "$@") "$@" "$key"
}
