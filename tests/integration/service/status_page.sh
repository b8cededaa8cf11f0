#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The status page at /, opened in headless Chromium after a busy workload (status_lib.sh) on a
# store with a budget: the DOM Chromium built shows the budget figure, the charts as SVG with
# bars in them, the most requested module first, the failing fetches (without upstream's
# address), the slowest fetches; the page loads nothing from elsewhere (no src or external href,
# a Content-Security-Policy that forbids it). --status-page=false answers / with 404; with
# --metrics-auth the page asks for credentials, as /metrics does, and private module names are
# masked for a reader without them.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/../http/http_lib.sh"
. "$(dirname "$0")/status_lib.sh"
t_require_cmd chromium go mkpasswd

s_upstream
h_start_modfs main "$UPSTREAM_URL" --max-size 64M
s_workload "$H_URL"
first_row='id="popular"><h2>Most requested modules</h2><table><tr><th>module</th><th class="n">requests \(est.\)</th><th></th></tr><tr><td><code>'
s_wait_page "$H_URL/" "$first_row"'golang.org/x/text</code>'

# what the browser built from the page
dom="$T_TMP/dom.html"
timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$T_TMP/chromium" \
	--dump-dom "$H_URL/" >"$dom" 2>"$T_TMP/chromium.err" || t_fail "chromium failed: $(tail -5 "$T_TMP/chromium.err")"
has() {
	T_CHECKS=$((T_CHECKS + 1))
	grep -Eq -- "$1" "$dom" || t_fail "the page lacks $2"
}
has '<title>modfs status</title>' "its title"
has 'id="budget"><span class="big">[0-9.]+ [KMG]?i?B</span><span class="sub">of 64.0 MiB budget' "the budget figure"
has '<svg id="budget-gauge"' "the budget gauge"
for chart in chart-requests chart-fetches chart-usage; do
	has "<svg id=\"$chart\" class=\"chart\" viewBox=" "the $chart chart"
done
has '<svg id="chart-requests"[^¤]*<rect class="hit"' "bars of hits in the requests chart"
has '<svg id="chart-fetches"[^¤]*<rect class="fail"' "bars of failures in the fetches chart"
has 'id="hit-ratio">[0-9.]+ %<' "the hit ratio"
# the most requested module is the first row of its table
first=$(grep -o 'id="popular">.*' "$dom" | grep -o '<code>[^<]*</code>' | head -1)
t_assert_eq "$first" "<code>golang.org/x/text</code>" "the most requested module"
has 'id="failing">.*<code>example.com/broken/@v/v1.0.0.zip</code></td><td>upstream.s answer failed validation' \
	"the fetch that failed validation"
has 'id="failing">.*<code>example.com/flaky/@v/v1.0.0.info</code></td><td>upstream answered 500' \
	"the fetch upstream answered 500"
has 'id="slowest">.*<code>golang.org/x/' "the slowest fetches"
port=${UPSTREAM_URL##*:}
T_CHECKS=$((T_CHECKS + 1))
! grep -q "127.0.0.1:$port" "$dom" || t_fail "the page names the upstream"
T_CHECKS=$((T_CHECKS + 1))
! grep -Eiq '(src|href)="(https?:)?//|<link |<img |@import|url\(' "$dom" || t_fail "the page loads something from elsewhere"
curl -fsS -D "$T_TMP/headers" -o /dev/null "$H_URL/"
T_CHECKS=$((T_CHECKS + 1))
grep -qi "^content-security-policy: default-src 'none';" "$T_TMP/headers" || t_fail "no Content-Security-Policy"
h_stop "$H_PID" "$H_LOG"

# switched off: 404, as any path that is no module
h_start_modfs off "$UPSTREAM_URL" --status-page=false
t_assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$H_URL/")" 404 "/ with --status-page=false"
h_stop "$H_PID" "$H_LOG"

# behind --metrics-auth, as /metrics; private names only for a reader with credentials
authfile="$T_TMP/auth"
echo "user:ops:$(mkpasswd -m yescrypt 'ops pass')" >"$authfile"
# (the go command that fetches private modules fails at once here: no network is tried)
h_start_modfs open "$UPSTREAM_URL" --auth-file "$authfile" --private 'golang.org/x/*' --go-command "$(command -v false)"
for ((i = 0; i < 24; i++)); do
	echo "url = \"$H_URL/golang.org/x/text/@v/v0.8.0.info\""
	echo "output = /dev/null"
done | curl -sS -u 'ops:ops pass' --config - || true # counted whatever its fate (the go command cannot fetch it here)
s_wait_page "$H_URL/" "$first_row"'\(a private module\)</code>'
T_CHECKS=$((T_CHECKS + 1))
! curl -fsS "$H_URL/" | grep -q 'golang.org/x/text' || t_fail "the open page names a private module"
h_stop "$H_PID" "$H_LOG"
h_start_modfs auth "$UPSTREAM_URL" --auth-file "$authfile" --metrics-auth
t_assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$H_URL/")" 401 "/ without credentials under --metrics-auth"
t_assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$H_URL/metrics")" 401 "/metrics without credentials"
t_assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -u 'ops:ops pass' "$H_URL/")" 200 "/ with credentials"
h_stop "$H_PID" "$H_LOG"
