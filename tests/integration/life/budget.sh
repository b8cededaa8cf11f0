#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A store with a 5 MiB budget under a workload of three times that, over HTTP (the load fixture:
# 24 zips of 640 KiB that neither compress nor deduplicate). Two hot modules are asked for
# between every cold one, as a build farm keeps reading its common dependencies while a scan
# (a `go mod download all`) passes through:
#   - after every response, the store's disk (packs, their logs, the index) is within the budget
#     plus one pack segment (1 MiB for this budget); sampled while it works, within the budget
#     plus two (a pack being compacted and an object being written, at once);
#   - every zip served is byte-identical to the fixture;
#   - the hot modules survive: upstream was asked for each once;
#   - cold ones were evicted: the first is fetched from upstream again when asked for again;
#   - /metrics and modfs stat count the evictions and the bytes given back; modfs verify finds
#     the store sound afterwards.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/life_lib.sh"
. "$MODFS_SOURCE_ROOT/tests/integration/http/http_lib.sh"

budget=$((5 << 20))
segment=$((1 << 20))
t_start_upstream "$LOAD"
h_start_modfs main "$UPSTREAM_URL" --max-size 5M
out=$(t_tmpdir out)

get_zip() {
	local n=$1
	curl -sS -f -o "$out/got" "$H_URL/$(l_key "$n")" || t_fail "GET $(l_key "$n") failed"
	t_assert_file_eq "$out/got" "$(l_zip "$n")" "$(l_key "$n") served"
	local usage
	usage=$(l_usage "$H_STORE")
	[ "$usage" -le $((budget + segment)) ] ||
		t_fail "after $(l_key "$n"): the store holds $usage bytes, over the budget $budget plus a segment"
	T_CHECKS=$((T_CHECKS + 1))
	peak=$((usage > peak ? usage : peak))
}

# Between the responses too: a sampler records the most the store ever held while it worked.
sampler() {
	local most=0 u
	while [ ! -e "$out/stop" ]; do
		u=$(l_usage "$H_STORE")
		if [ "$u" -gt "$most" ]; then
			most=$u
			echo "$most" >"$out/most.tmp" && mv "$out/most.tmp" "$out/most"
		fi
		sleep 0.01
	done
}
sampler &
sampler_pid=$!
t_on_exit "touch $out/stop; wait $sampler_pid"

peak=0
for ((i = 2; i < LOAD_MODULES; i++)); do
	get_zip "$i"
	get_zip 0
	get_zip 1
done
touch "$out/stop"
wait "$sampler_pid"
most=$(cat "$out/most")
t_log "workload of $(((LOAD_MODULES - 2) * 656)) KiB through a $((budget >> 20)) MiB budget: at most $peak bytes on disk after a response, $most at any time sampled"
# While work is under way the disk may also hold, for a moment, the copy of a pack being compacted
# beside an object being written: at most a segment each.
[ "$most" -le $((budget + 2 * segment)) ] || t_fail "the store held $most bytes at some point, over the budget $budget plus two segments"
T_CHECKS=$((T_CHECKS + 1))

t_assert_eq "$(t_upstream_count "GET /$(l_key 0) ")" 1 "upstream requests of hot module m00"
t_assert_eq "$(t_upstream_count "GET /$(l_key 1) ")" 1 "upstream requests of hot module m01"
get_zip 2
t_assert_eq "$(t_upstream_count "GET /$(l_key 2) ")" 2 "upstream requests of cold module m02 (evicted, asked again)"

# The figures: the background pass publishes them a second or so after the work, and may
# publish a round's evictions before the next round's: wait for the whole count, not the first.
for ((i = 0; i < 300; i++)); do
	metrics=$(curl -sS "$H_URL/metrics")
	[ "$(h_metric "$metrics" modfs_store_evictions_total)" -ge $((LOAD_MODULES - 2 - 8)) ] && break
	sleep 0.1
done
evictions=$(h_metric "$metrics" modfs_store_evictions_total)
reclaimed=$(h_metric "$metrics" modfs_store_reclaimed_bytes_total)
t_log "/metrics: $evictions evictions, $reclaimed bytes given back"
[ "$evictions" -ge $((LOAD_MODULES - 2 - 8)) ] || t_fail "/metrics counts $evictions evictions"
[ "$reclaimed" -gt $((5 << 20)) ] || t_fail "/metrics counts $reclaimed bytes given back"
t_assert_eq "$(h_metric "$metrics" modfs_store_max_bytes)" "$budget" "modfs_store_max_bytes"
T_CHECKS=$((T_CHECKS + 2))

h_stop "$H_PID" "$H_LOG"
t_assert_eq "$(l_stat "$H_STORE" max_bytes --max-size 5M)" "$budget" "modfs stat max_bytes"
[ "$(l_stat "$H_STORE" evictions)" -ge "$evictions" ] || t_fail "modfs stat counts fewer evictions than /metrics"
[ "$(l_stat "$H_STORE" usage_bytes)" -le $((budget + segment)) ] || t_fail "modfs stat usage over the budget"
T_CHECKS=$((T_CHECKS + 2))
"$MODFS_BIN" verify --cache-dir "$H_STORE" >"$out/verify" || t_fail "modfs verify: $(cat "$out/verify")"
grep -q '^chunks damaged: 0$' "$out/verify" || t_fail "modfs verify: $(cat "$out/verify")"
T_CHECKS=$((T_CHECKS + 1))
