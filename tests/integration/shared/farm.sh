#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A build farm: three modfs fronts on one bucket of a real Ceph object gateway, each with a local
# store far smaller than the modules (--max-size 12M for 33 modules of 32 MB), serve the real go
# client concurrently: two over HTTP, one as a GOMODCACHE mount. Each client downloads every
# module, in its own order, twice (the second time, what the small stores evicted comes back
# from the bucket). Then:
#   - every .info, .mod and .zip was fetched from upstream exactly once in all (nginx's log);
#   - every go.sum line each client got matches a file:// proxy of the fixtures;
#   - the bucket holds each object once (one manifest each, no lease left behind);
#   - a fourth front started afterwards with an empty store serves everything with upstream
#     stopped, every object from the bucket (its s3_hits), and `go build` of the fixture app works
#     through it;
#   - modfs stat and /metrics count the shared tier (requests, bytes, hits, writes);
#   - the secret key is in no front's log and not in modfs config's output.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/shared_lib.sh"
. "$MODFS_SOURCE_ROOT/tests/integration/http/http_lib.sh"
. "$MODFS_SOURCE_ROOT/tests/integration/fs/fs_lib.sh"
t_require_cmd go nginx

s_start_farm
t_go_env

front_args=(--s3 "$S_BUCKET" --max-size 12M --s3-lease 10)
h_start_modfs a "$UPSTREAM_URL" "${front_args[@]}"
h_start_modfs c "$UPSTREAM_URL" "${front_args[@]}"
f_start_mount b "$UPSTREAM_URL" "${front_args[@]}"
B_MNT=$F_MNT B_PID=$F_PID B_LOG=$F_LOG B_STORE=$F_STORE

mapfile -t mods < <(cat "$FIX/modules.txt" "$FIX/load/modules.txt" | awk '{ print $1 "@" $2 }')
t_log "${#mods[@]} modules, three fronts"

# The file:// answer every client must match.
work=$(t_tmpdir work)
cd "$work"
GOMODCACHE="$T_TMP/modcache-file" GOPROXY="file://$S_TREE" go mod download -json "${mods[@]}" >"$T_TMP/dl-file.json" ||
	t_fail "go mod download from file:// failed"
t_go_sums <"$T_TMP/dl-file.json" >"$T_TMP/sums-want"

# client NAME ROUND: every module through front NAME in an order of its own, into a fresh
# module cache (so that every object crosses the front).
client() {
	local name=$1 round=$2 order
	mapfile -t order < <(printf '%s\n' "${mods[@]}" | python3 -c '
import random, sys
m = sys.stdin.read().split()
random.Random(sys.argv[1]).shuffle(m)
print("\n".join(m))' "$name$round")
	case $name in
	a) GOMODCACHE="$T_TMP/mc-$name$round" GOPROXY=$A_URL go mod download -json "${order[@]}" ;;
	c) GOMODCACHE="$T_TMP/mc-$name$round" GOPROXY=$C_URL go mod download -json "${order[@]}" ;;
	b) GOMODCACHE="$B_MNT" GOPROXY=off go mod download -json "${order[@]}" ;;
	esac >"$T_TMP/dl-$name$round.json" 2>"$T_TMP/dl-$name$round.err"
}

for round in 1 2; do
	pids=()
	for name in a b c; do
		client "$name" "$round" &
		pids+=($!)
	done
	for i in 0 1 2; do
		wait "${pids[$i]}" || t_fail "round $round: go mod download through front $(echo a b c | cut -d' ' -f$((i + 1))) failed: $(tail -3 "$T_TMP/dl-$(echo a b c | cut -d' ' -f$((i + 1)))$round.err")"
	done
	for name in a b c; do
		t_go_sums <"$T_TMP/dl-$name$round.json" >"$T_TMP/sums-$name$round" || t_fail "round $round via $name: an error"
		t_assert_file_eq "$T_TMP/sums-$name$round" "$T_TMP/sums-want" "go.sum lines via front $name, round $round"
	done
done

# Exactly once, in all: each immutable object crossed from upstream one time.
grep -E '^GET .*\.(info|mod|zip) 200 ' "$UPSTREAM_LOG" | awk '{ print $2 }' | sort | uniq -c |
	awk '$1 != 1 { print }' >"$T_TMP/twice"
[ ! -s "$T_TMP/twice" ] || t_fail "fetched from upstream more than once: $(head -5 "$T_TMP/twice")"
T_CHECKS=$((T_CHECKS + 1))
fetched=$(grep -cE '^GET .*\.zip 200 ' "$UPSTREAM_LOG" || true)
t_assert_eq "$fetched" "${#mods[@]}" "zips fetched from upstream"

# The small stores did evict, and the bucket answered for them (the second round's hits).
hits=0
evictions=0
for store in "$A_STORE" "$B_STORE" "$C_STORE"; do
	hits=$((hits + $(s_stat "$store" s3_hits)))
	evictions=$((evictions + $(s_stat "$store" evictions)))
done
[ "$evictions" -gt 0 ] || t_fail "no front evicted anything: the budget did not bite"
[ "$hits" -ge "${#mods[@]}" ] || t_fail "only $hits objects came from the bucket"
T_CHECKS=$((T_CHECKS + 2))
t_log "after two rounds: $hits objects from the bucket, $evictions evictions, $fetched zips from upstream"

# What the bucket holds: one manifest per object, no lease left over.
manifests=$(s_list farm manifests/ | wc -l)
t_assert_eq "$manifests" $((3 * ${#mods[@]})) "manifests in the bucket"
t_assert_eq "$(s_list farm leases/ | wc -l)" 0 "leases left in the bucket"

# /metrics of a front counts the tier.
[ "$(s_metric "$A_URL" modfs_s3_up)" = 1 ] || t_fail "/metrics says the object store is down"
[ "$(s_metric "$A_URL" modfs_s3_requests_total)" -gt 0 ] || t_fail "/metrics counts no request to the object store"
T_CHECKS=$((T_CHECKS + 2))

# A front started afterwards, with an empty store and upstream stopped, serves everything.
kill "$S_UPSTREAM_PID"
wait "$S_UPSTREAM_PID" 2>/dev/null || true
h_start_modfs d "http://127.0.0.1:$(t_free_port)" --s3 "$S_BUCKET"
GOMODCACHE="$T_TMP/mc-d" GOPROXY=$D_URL go mod download -json "${mods[@]}" >"$T_TMP/dl-d.json" 2>"$T_TMP/dl-d.err" ||
	t_fail "go mod download through the fresh front failed: $(tail -3 "$T_TMP/dl-d.err")"
t_go_sums <"$T_TMP/dl-d.json" >"$T_TMP/sums-d"
t_assert_file_eq "$T_TMP/sums-d" "$T_TMP/sums-want" "go.sum lines via the fresh front"
cp -r "$FIX/app" "$T_TMP/app"
(cd "$T_TMP/app" && GOMODCACHE="$T_TMP/mc-app" GOPROXY=$D_URL go build -o app . && ./app >"$T_TMP/app.out") ||
	t_fail "go build through the fresh front failed"
t_assert_file_eq "$T_TMP/app.out" "$FIX/app.expected" "output of the app built through the fresh front"

cd "$T_TMP"
h_stop "$D_PID" "$D_LOG"
t_assert_eq "$(s_stat "$D_STORE" s3_hits)" $((3 * ${#mods[@]})) "objects the fresh front read from the bucket"
t_assert_eq "$(s_stat "$D_STORE" s3_writes)" 0 "objects the fresh front wrote"
h_stop "$A_PID" "$A_LOG"
h_stop "$C_PID" "$C_LOG"
F_PID=$B_PID F_LOG=$B_LOG F_MNT=$B_MNT
f_stop
writes=0
for store in "$A_STORE" "$B_STORE" "$C_STORE"; do
	writes=$((writes + $(s_stat "$store" s3_writes)))
done
t_assert_eq "$writes" $((3 * ${#mods[@]})) "objects the three fronts wrote to the bucket"

# The secret key is in no log and not in modfs config's output.
"$MODFS_BIN" config --s3 "$S_BUCKET" >"$T_TMP/config.out"
grep -q "^s3 = $S_BUCKET " "$T_TMP/config.out" || t_fail "modfs config does not show the bucket"
for f in "$T_TMP"/modfs-*.log "$T_TMP/config.out"; do
	! grep -qF "$S3_SECRET" "$f" || t_fail "$f shows the object store's secret key"
	T_CHECKS=$((T_CHECKS + 1))
done
