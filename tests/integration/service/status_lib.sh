# SPDX-License-Identifier: MIT
#
# A busy server for the tests of /metrics and the status page (and tools/docs-screenshot),
# sourced after tests/integration/lib.sh and ../http/http_lib.sh:
#   s_upstream         the fixture proxy tree (and the big fixture) served by broken_upstream.py,
#                      with two modules that fail: example.com/flaky answers 500 and 503,
#                      example.com/broken/@v/v1.0.0.zip is not a zip (it fails validation); sets
#                      S_UP and the UPSTREAM_* variables
#   s_workload URL     what a small build farm does to the GOPROXY at URL: the fixture app's
#                      modules downloaded by the go command into three fresh module caches (the
#                      first of the first call misses, the others hit; each call uses new ones), golang.org/x/text/@v/v0.8.0.info asked 96
#                      times more (the most requested module), lookups of modules that do not
#                      exist (404) and of the two failing ones (502)
#   s_wait_page URL PATTERN   wait (30 s at most) until the page at URL matches PATTERN (grep -E):
#                      the page's figures are taken once a second

s_upstream() {
	S_UP=$(t_tmpdir status-up)
	cp -r "$FIX/proxy/." "$S_UP/"
	[ ! -d "$FIX/big" ] || cp -r "$FIX/big/example.com/." "$S_UP/example.com/"
	mkdir -p "$S_UP/example.com/broken/@v" "$S_UP/example.com/flaky/@v"
	echo "not a zip" >"$S_UP/example.com/broken/@v/v1.0.0.zip"
	cat >"$T_TMP/status-rules.json" <<-'EOF'
		{"/example.com/flaky/@v/v1.0.0.info": {"status": 500, "body": "upstream on fire"},
		 "/example.com/flaky/@v/v1.1.0.info": {"status": 503, "body": "upstream on fire"}}
	EOF
	t_start_broken_upstream "$S_UP" "$T_TMP/status-rules.json"
}

s_workload() {
	local url=$1 i
	t_go_env
	[ -d "$T_TMP/app" ] || cp -r "$FIX/app" "$T_TMP/app"
	S_ROUND=$((${S_ROUND:-0} + 1))
	for i in 1 2 3; do
		(cd "$T_TMP/app" && GOMODCACHE="$T_TMP/gomodcache-$S_ROUND-$i" GOPROXY="$url" GOFLAGS=-modcacherw \
			go mod download) || t_fail "go mod download through $url failed"
	done
	for ((i = 0; i < 96; i++)); do
		echo "url = \"$url/golang.org/x/text/@v/v0.8.0.info\""
		echo "output = /dev/null"
	done | curl -sS --config - || t_fail "curl of the popular module failed"
	for path in example.com/nosuch/@v/v1.0.0.info example.com/gone/@v/list example.com/flaky/@v/v1.0.0.info \
		example.com/flaky/@v/v1.1.0.info example.com/broken/@v/v1.0.0.zip; do
		curl -sS -o /dev/null "$url/$path" || true
	done
}

s_wait_page() {
	local url=$1 pattern=$2 i
	for ((i = 0; i < 60; i++)); do
		curl -fsS "$url" 2>/dev/null | grep -Eq -- "$pattern" && return 0
		sleep 0.5
	done
	t_fail "the page at $url never matched '$pattern'"
}
