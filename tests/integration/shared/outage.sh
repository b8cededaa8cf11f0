#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The object store fails under running fronts, and comes back. Three fronts on one bucket: A over
# HTTP falls back to upstream when the store is unreachable (the default), C over HTTP and B as a
# GOMODCACHE mount are configured with --s3-required. Each has served the fixture app's modules
# once. Then the gateway:
#   - hangs (SIGSTOP: it accepts connections and never answers), then stops (connections
#     refused). Each time: hits keep working on every front (go build of the app through A, go mod
#     download through C, files read on B's mount); a miss on A is served from upstream,
#     unshared; a miss on C is a 503 naming the shared store, which go prints; a miss on B is
#     "remote I/O error"; a hang costs about one --s3-timeout (2 s), not one per miss;
#     /metrics says modfs_s3_up 0;
#   - comes back (the same cluster: the data is still there): the misses that failed now succeed,
#     fetched from upstream once and written to the bucket;
#   - stops whole (gateway, OSD and monitor) while A is fetching a zip for a go client: the
#     client gets it (stored on A, not shared: A says so), and everything above holds again with
#     the cluster down; the cluster starts again from its disk (bluestore) and the misses succeed;
#     the zip A could not share is fetched once more by C, after taking over the lease A could not
#     end; and a new front with an empty store serves all of it and the app's modules from the
#     bucket with upstream stopped: what was written before the restart was kept.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/shared_lib.sh"
. "$MODFS_SOURCE_ROOT/tests/integration/http/http_lib.sh"
. "$MODFS_SOURCE_ROOT/tests/integration/fs/fs_lib.sh"
t_require_cmd go nginx

# m14's zip arrives slowly (about 10 s): the cluster is stopped while it does
s_start_farm bluestore '        location ~ ^/example.com/load/m14/@v/v1.0.0.zip$ { limit_rate 64k; }'
t_go_env

args=(--s3 "$S_BUCKET" --s3-timeout 2 --s3-lease 5)
h_start_modfs a "$UPSTREAM_URL" "${args[@]}"
h_start_modfs c "$UPSTREAM_URL" "${args[@]}" --s3-required
f_start_mount b "$UPSTREAM_URL" "${args[@]}" --s3-required
B_MNT=$F_MNT B_PID=$F_PID B_LOG=$F_LOG

mapfile -t app_mods < <(awk '$1 == "require" { next } /^\t/ { print $1 "@" $2 }' "$FIX/app/go.mod")
[ "${#app_mods[@]}" -ge 5 ] || t_fail "the app requires only ${#app_mods[@]} modules"
cp -r "$FIX/app" "$T_TMP/app"
cd "$T_TMP/app"

build_via_a() { # build_via_a TAG: the app through A, in a fresh module cache
	GOMODCACHE="$T_TMP/mc-a-$1" GOPROXY=$A_URL go build -o "app-$1" . 2>"$T_TMP/build-$1.err" ||
		t_fail "go build through A ($1) failed: $(tail -3 "$T_TMP/build-$1.err")"
	"./app-$1" >"$T_TMP/app-$1.out"
	t_assert_file_eq "$T_TMP/app-$1.out" "$FIX/app.expected" "the app built through A ($1)"
}
download_via_c() { # download_via_c TAG MODS...
	local tag=$1
	shift
	GOMODCACHE="$T_TMP/mc-c-$tag" GOPROXY=$C_URL go mod download "$@" 2>"$T_TMP/dl-c-$tag.err"
}
read_on_b() { # read_on_b MOD@VERSION: the module's .info, .mod and .zip, as files of B's mount
	local m=${1%@*} v=${1#*@} ext
	for ext in info mod zip; do
		cat "$B_MNT/cache/download/$(f_escape "$m")/@v/$(f_escape "$v").$ext" >/dev/null || return 1
	done
}
# read_on_b_back MOD@VERSION: read_on_b once the store is back, for up to 30 s: B skips the tier
# for 5 s after its last failure (shared.h's back-off), and it has no /metrics to wait on
read_on_b_back() {
	local i
	for ((i = 0; i < 300; i++)); do
		read_on_b "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
zip_key() { printf 'example.com/load/m%02d/@v/v1.0.0.zip' "$1"; }

# Before: each front serves the app's modules once (A fetches, the others read the bucket).
build_via_a before
download_via_c before "${app_mods[@]}" || t_fail "go mod download through C failed: $(tail -3 "$T_TMP/dl-c-before.err")"
for mv in "${app_mods[@]}"; do read_on_b "$mv" || t_fail "reading $mv on B's mount failed"; done
T_CHECKS=$((T_CHECKS + 2))

# check_down PHASE N: the store is unreachable; N is a load module none has seen.
check_down() {
	local phase=$1 n=$2 start i
	build_via_a "$phase"
	download_via_c "$phase" "${app_mods[@]}" ||
		t_fail "$phase: a hit through C failed: $(tail -3 "$T_TMP/dl-c-$phase.err")"
	for mv in "${app_mods[@]}"; do read_on_b "$mv" || t_fail "$phase: a hit on B's mount failed: $mv"; done
	T_CHECKS=$((T_CHECKS + 2))

	# a miss on C: a 503 that says why, and a go error that shows it
	start=$(date +%s)
	status=$(curl -sS -o "$T_TMP/body-$phase" -w '%{http_code}' "$C_URL/$(zip_key "$n")")
	t_assert_eq "$status" 503 "$phase: status of a miss on C"
	grep -q "shared object store is unreachable" "$T_TMP/body-$phase" ||
		t_fail "$phase: the 503's body does not say why: $(cat "$T_TMP/body-$phase")"
	! download_via_c "$phase-miss" "example.com/load/m$(printf %02d $((n + 1)))@v1.0.0" ||
		t_fail "$phase: a miss through C succeeded"
	grep -q "shared object store is unreachable" "$T_TMP/dl-c-$phase-miss.err" ||
		t_fail "$phase: go does not show why the miss failed: $(tail -3 "$T_TMP/dl-c-$phase-miss.err")"
	# a miss on B's mount: EREMOTEIO
	! cat "$B_MNT/cache/download/example.com/load/m$(printf %02d $((n + 2)))/@v/v1.0.0.mod" \
		>/dev/null 2>"$T_TMP/cat-$phase.err" || t_fail "$phase: a miss on B's mount succeeded"
	grep -qi "remote I/O error" "$T_TMP/cat-$phase.err" ||
		t_fail "$phase: a miss on B's mount gave: $(cat "$T_TMP/cat-$phase.err")"
	# a miss on A: from upstream, unshared
	curl -sS -f -o "$T_TMP/got" "$A_URL/$(zip_key $((n + 3)))" || t_fail "$phase: a miss on A failed"
	t_assert_file_eq "$T_TMP/got" "$S_TREE/$(zip_key $((n + 3)))" "$phase: a miss on A, from upstream"
	# a small miss is answered before it is stored and shared: the failed write to the bucket that
	# tells A the store is down comes just after the answer
	for ((i = 0; i < 300; i++)); do
		[ "$(s_metric "$A_URL" modfs_s3_up)" = 0 ] && break
		sleep 0.1
	done
	t_assert_eq "$(s_metric "$A_URL" modfs_s3_up)" 0 "$phase: modfs_s3_up on A"
	T_CHECKS=$((T_CHECKS + 3))
	# one timeout per spell, not one per miss: this whole phase took a few, not dozens
	t_log "$phase: the misses took $(($(date +%s) - start)) s"
}

s_gateway_freeze
t_on_exit "kill -CONT $(awk '$1 == "rgw.a" { p = $2 } END { print p }' "$S3_DIR/pids")"
start=$(date +%s)
check_down hung 0
took=$(($(date +%s) - start))
[ "$took" -lt 60 ] || t_fail "with the store hung, the checks took $took s: timeouts were paid per miss"
T_CHECKS=$((T_CHECKS + 1))
s_gateway_thaw
s_gateway_stop
check_down stopped 10

# Back: the misses that failed succeed now, fetched once and written to the bucket.
s_gateway_start
for ((i = 0; i < 600; i++)); do
	status=$(curl -sS -o /dev/null -w '%{http_code}' "$C_URL/$(zip_key 0)")
	[ "$status" = 200 ] && break
	sleep 0.1
done
t_assert_eq "$status" 200 "a miss on C once the store is back"
for n in 0 1 10 11; do
	download_via_c "back$n" "example.com/load/m$(printf %02d $n)@v1.0.0" ||
		t_fail "back: go mod download of m$n through C failed: $(tail -3 "$T_TMP/dl-c-back$n.err")"
done
for n in 2 12; do
	read_on_b_back "example.com/load/m$(printf %02d $n)@v1.0.0" || t_fail "back: reading m$n on B's mount failed"
done
T_CHECKS=$((T_CHECKS + 2))
for n in 0 1 2 3 10 11 12 13; do
	t_assert_eq "$(grep -c " /$(zip_key "$n") 200 " "$UPSTREAM_LOG" || true)" 1 "upstream fetches of $(zip_key "$n")"
done
[ "$(s_metric "$C_URL" modfs_s3_up)" = 1 ] || t_fail "/metrics of C still says the store is down"
T_CHECKS=$((T_CHECKS + 1))

# Mid-run: the whole cluster stops while A fetches m14's zip for a go client.
GOMODCACHE="$T_TMP/mc-a-midrun" GOPROXY=$A_URL go mod download example.com/load/m14@v1.0.0 \
	2>"$T_TMP/dl-a-midrun.err" &
midrun=$!
lease=$(s_obj farm "leases/$(zip_key 14)/0000000001")
for ((i = 0; i < 600; i++)); do
	s_s3 HEAD "$lease" -o /dev/null 2>/dev/null && break
	sleep 0.05
done
s_s3 HEAD "$lease" -o /dev/null 2>/dev/null || t_fail "A never took the lease on $(zip_key 14)"
s_store_stop
t_log "the cluster stopped while A fetched $(zip_key 14)"
wait "$midrun" || t_fail "go mod download of m14 through A failed: $(tail -3 "$T_TMP/dl-a-midrun.err")"
t_assert_file_eq "$T_TMP/mc-a-midrun/cache/download/$(zip_key 14)" "$S_TREE/$(zip_key 14)" \
	"m14's zip, fetched while the cluster stopped"
grep -qF "$(zip_key 14): stored here but not shared" "$A_LOG" ||
	t_fail "A does not say it could not share $(zip_key 14): the cluster did not stop mid-fetch"
T_CHECKS=$((T_CHECKS + 1))
# A's tier is in its back-off since the failure; once that lapses (/metrics says up again, untried),
# the next miss on A meets the stopped cluster afresh, as in the phases above
for ((i = 0; i < 600; i++)); do
	[ "$(s_metric "$A_URL" modfs_s3_up)" = 1 ] && break
	sleep 0.1
done
check_down cluster-stopped 20
s_store_start
t_log "the cluster is back from its disk"
for ((i = 0; i < 600; i++)); do
	status=$(curl -sS -o /dev/null -w '%{http_code}' "$C_URL/$(zip_key 20)")
	[ "$status" = 200 ] && break
	sleep 0.1
done
t_assert_eq "$status" 200 "a miss on C once the cluster is back"
for n in 14 20 21; do
	download_via_c "restarted$n" "example.com/load/m$n@v1.0.0" ||
		t_fail "restarted: go mod download of m$n through C failed: $(tail -3 "$T_TMP/dl-c-restarted$n.err")"
done
read_on_b_back example.com/load/m22@v1.0.0 || t_fail "restarted: reading m22 on B's mount failed"
T_CHECKS=$((T_CHECKS + 1))
for n in 20 21 22 23; do
	t_assert_eq "$(grep -c " /$(zip_key "$n") 200 " "$UPSTREAM_LOG" || true)" 1 "upstream fetches of $(zip_key "$n")"
done
t_assert_eq "$(grep -c " /$(zip_key 14) 200 " "$UPSTREAM_LOG" || true)" 2 "upstream fetches of $(zip_key 14) (A's unshared)"
[ "$(s_metric "$C_URL" modfs_s3_lease_takeovers_total)" -ge 1 ] || t_fail "C took over no lease (A's on m14)"
T_CHECKS=$((T_CHECKS + 1))

# A new front with an empty store and no upstream finds all of it in the bucket.
kill "$S_UPSTREAM_PID"
wait "$S_UPSTREAM_PID" 2>/dev/null || true
h_start_modfs e "http://127.0.0.1:$(t_free_port)" --s3 "$S_BUCKET" --s3-required
GOMODCACHE="$T_TMP/mc-e" GOPROXY=$E_URL go mod download "${app_mods[@]}" example.com/load/m00@v1.0.0 \
	example.com/load/m01@v1.0.0 example.com/load/m02@v1.0.0 example.com/load/m10@v1.0.0 \
	example.com/load/m11@v1.0.0 example.com/load/m12@v1.0.0 example.com/load/m14@v1.0.0 \
	example.com/load/m20@v1.0.0 example.com/load/m21@v1.0.0 example.com/load/m22@v1.0.0 2>"$T_TMP/dl-e.err" ||
	t_fail "the new front could not serve everything from the bucket: $(tail -3 "$T_TMP/dl-e.err")"
T_CHECKS=$((T_CHECKS + 1))

cd "$T_TMP"
h_stop "$E_PID" "$E_LOG"
h_stop "$A_PID" "$A_LOG"
h_stop "$C_PID" "$C_LOG"
F_PID=$B_PID F_LOG=$B_LOG F_MNT=$B_MNT
f_stop
