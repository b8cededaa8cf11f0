# SPDX-License-Identifier: MIT
#
# Functions shared by the http scripts, sourced after tests/integration/lib.sh:
#   h_make_ca                 a throwaway CA and a certificate for 127.0.0.1/localhost:
#                             sets H_CA, H_CERT, H_KEY
#   h_upstream_tree           a GOPROXY tree in $T_TMP/up: the fixture proxy and big trees
#                             (symlinked) plus example.com/multi/@latest and the query
#                             example.com/multi/@v/master.info; sets H_UP
#   h_slow_upstream           h_upstream_tree served by t_start_upstream, with its big zips
#                             throttled to 4 MB/s (a download stays in flight for seconds)
#   h_wait_fetching           wait until modfs holds a connection to the upstream: a fetch is
#                             in flight
#   h_start_modfs NAME UPSTREAM [ARGS...]
#                             `modfs serve` with a fresh store, --listen on a free port and,
#                             after h_make_ca, --tls-listen; sets H_URL, H_TLS_URL, H_PID,
#                             H_LOG, H_STORE (and the same with the NAME_ prefix upper-cased)
#   h_stop PID LOG            SIGTERM, wait; fails if the exit status is not 0, if it took more
#                             than 15 s, or if the log holds a sanitizer report
#   h_metric TEXT NAME        the value of the series NAME (exact, labels included) in TEXT
#   h_rss_kib PID             VmRSS of PID in KiB
# Under a sanitizer build, libh2o's thread-local free lists are reported as leaks when the loop
# threads exit; tests/lsan.supp suppresses exactly those (h2o_mem_alloc_recycle).

[ -x "${MODFS_BIN:-}" ] || t_skip "MODFS_BIN is not set"
[ -f "${MODFS_FIXTURES:-}/modules.txt" ] || t_fail "fixtures missing: $MODFS_FIXTURES"
t_require_cmd curl openssl

FIX="$MODFS_FIXTURES"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$MODFS_SOURCE_ROOT/tests/lsan.supp"
# The test's own curl must not pick up a proxy from the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

h_make_ca() {
	t_make_ca tls localhost
	H_CA=$T_CA
	H_CERT=$T_CERT
	H_KEY=$T_KEY
}

h_upstream_tree() {
	H_UP=$(t_tmpdir up)
	cp -rs "$FIX/proxy/." "$H_UP/"
	[ ! -d "$FIX/big" ] || cp -rs "$FIX/big/example.com/." "$H_UP/example.com/"
	# a static tree has no @latest and answers no queries: give one module its own @latest and
	# a branch name that resolves to v1.1.0
	cp --remove-destination "$FIX/proxy/example.com/multi/@v/v1.1.0.info" "$H_UP/example.com/multi/@latest"
	cp "$FIX/proxy/example.com/multi/@v/v1.1.0.info" "$H_UP/example.com/multi/@v/master.info"
}

h_slow_upstream() {
	h_upstream_tree
	t_start_upstream "$H_UP" '        location ~ ^/example\.com/big/@v/.*\.zip$ { limit_rate 4m; }'
	[ -f "$FIX/big/example.com/big/@v/v1.0.0.zip" ] || t_fail "the big fixture is missing"
}

h_wait_fetching() {
	local port=${UPSTREAM_URL##*:} i
	t_require_cmd ss
	for ((i = 0; i < 400; i++)); do
		[ -n "$(ss -Htn state established "( dport = :$port )")" ] && return 0
		sleep 0.05
	done
	t_fail "modfs never connected to the upstream"
}

h_start_modfs() {
	local name=$1 upstream=$2 port tport store log args=()
	shift 2
	port=$(t_free_port)
	store=$(t_tmpdir "store-$name")
	log="$T_TMP/modfs-$name.log"
	args=(--listen "127.0.0.1:$port")
	if [ -n "${H_CERT:-}" ]; then
		tport=$(t_free_port)
		args+=(--tls-listen "127.0.0.1:$tport" --tls-cert "$H_CERT" --tls-key "$H_KEY")
	fi
	# shellcheck disable=SC2046
	"$MODFS_BIN" serve --cache-dir "$store" --upstream "$upstream" "${args[@]}" $(t_sumdb_off "$@") "$@" >"$log" 2>&1 &
	H_PID=$!
	t_on_exit "kill $H_PID; wait $H_PID"
	t_wait_port "$port"
	[ -z "${tport:-}" ] || t_wait_port "$tport"
	kill -0 "$H_PID" 2>/dev/null || t_fail "modfs serve died: $(cat "$log")"
	H_URL="http://127.0.0.1:$port"
	H_TLS_URL=${tport:+https://127.0.0.1:$tport}
	H_LOG=$log
	H_STORE=$store
	local up=${name^^}
	printf -v "${up}_URL" '%s' "$H_URL"
	printf -v "${up}_TLS_URL" '%s' "$H_TLS_URL"
	printf -v "${up}_PID" '%s' "$H_PID"
	printf -v "${up}_LOG" '%s' "$H_LOG"
	printf -v "${up}_STORE" '%s' "$H_STORE"
}

h_stop() {
	t_stop_modfs "$1" "$2"
}

h_metric() {
	awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print "missing" }' <<<"$1"
}

h_rss_kib() {
	awk '/^VmRSS/ { print $2 }' "/proc/$1/status"
}
