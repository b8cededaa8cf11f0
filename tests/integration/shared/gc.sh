#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Bucket gc removes only what no manifest names, and only past the grace period, while another
# front writes. A front W fills the bucket; then garbage is made behind its back, as crashes and
# rewrites leave it:
#   - the pack of a module whose writer died before its manifest (m20's zip);
#   - a second pack beside a module's real one (m01's zip, other bytes);
#   - an abandoned lease (m21's zip);
# and, after the grace period (3 s) has passed for those, a fresh orphan pack (m22's zip).
# While W fetches and writes more modules, `modfs gc --s3` runs passes beside it (at least three,
# and until W is done):
#   - the first pass deletes exactly the three old pieces of garbage and keeps the fresh orphan
#     (and whatever W was writing at that moment) for the grace period;
#   - nothing any manifest names is ever deleted: a front with an empty store and upstream
#     stopped then reads every module W fetched, from the bucket;
# and a front with --s3-gc-interval 1 collects new aged garbage in the background, once, for the
# bucket (its s3_gc_runs, the gc stamp).
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/shared_lib.sh"
. "$MODFS_SOURCE_ROOT/tests/integration/http/http_lib.sh"
t_require_cmd nginx

s_start_farm
grace=3
out=$(t_tmpdir out)
zip() { printf 'example.com/load/m%02d/@v/v1.0.0.zip' "$1"; }
sha() { sha256sum <"$1" | cut -c1-64; }

h_start_modfs w "$UPSTREAM_URL" --s3 "$S_BUCKET" --s3-gc-grace "$grace" --s3-gc-interval 0
fetch() { # fetch N...: the .info, .mod and .zip of load modules through W
	local n ext
	for n in "$@"; do
		for ext in info mod zip; do
			curl -sS -f -o /dev/null "$W_URL/example.com/load/m$(printf %02d "$n")/@v/v1.0.0.$ext" || return 1
		done
	done
}
fetch 0 1 2 3 4 || t_fail "filling the bucket failed"

# Garbage, aged past the grace period.
head -c 5000 /dev/urandom >"$out/junk"
s_s3 PUT "$(s_obj farm "packs/$(zip 20)/$(sha "$S_TREE/$(zip 20)")")" -T "$S_TREE/$(zip 20)" -o /dev/null
s_s3 PUT "$(s_obj farm "packs/$(zip 1)/$(sha "$out/junk")")" -T "$out/junk" -o /dev/null
printf 'modfs-lease 1\nholder gone 1 0000000000000000\nttl 30\n' >"$out/lease"
s_s3 PUT "$(s_obj farm "leases/$(zip 21)/0000000001")" -T "$out/lease" -o /dev/null
sleep $((grace + 2))
# A fresh orphan, within the grace period.
s_s3 PUT "$(s_obj farm "packs/$(zip 22)/$(sha "$S_TREE/$(zip 22)")")" -T "$S_TREE/$(zip 22)" -o /dev/null
packs_before=$(s_list farm packs/ | wc -l)

# W writes while gc runs.
(fetch 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 && echo ok >"$out/writer") &
writer=$!
gc() {
	"$MODFS_BIN" gc --cache-dir "$W_STORE" --s3 "$S_BUCKET" --s3-gc-grace "$grace" >"$out/gc$1" 2>&1 ||
		t_fail "modfs gc $1 failed: $(tail -3 "$out/gc$1")"
}
passes=0
while [ "$passes" -lt 3 ] || kill -0 "$writer" 2>/dev/null; do
	passes=$((passes + 1))
	gc "$passes"
done
wait "$writer" || true
# the passes saw the bucket grow: they ran while W wrote
seen=$(grep -h '^bucket: [0-9]* objects' "$out"/gc* | sort -u | wc -l)
[ "$seen" -ge 2 ] || t_fail "every gc pass saw the same bucket: none ran while W wrote"
T_CHECKS=$((T_CHECKS + 1))
t_log "$passes gc passes while W wrote, seeing $seen states of the bucket"

[ -s "$out/writer" ] || t_fail "W's fetches failed while gc ran"
T_CHECKS=$((T_CHECKS + 1))

grep -q "^bucket deleted: 2 packs no object names" "$out/gc1" || t_fail "the first pass: $(cat "$out/gc1")"
grep -q ", 1 abandoned leases$" "$out/gc1" || t_fail "the first pass deleted no abandoned lease: $(cat "$out/gc1")"
kept=$(sed -n 's/^bucket kept: \([0-9]*\) packs.*/\1/p' "$out/gc1")
[ "${kept:-0}" -ge 1 ] || t_fail "the first pass kept no young orphan: $(cat "$out/gc1")"
T_CHECKS=$((T_CHECKS + 3))
t_log "first pass: $(grep '^bucket' "$out/gc1" | tr '\n' ';')"
names=$(s_list farm "")
for gone in "packs/$(zip 20)/" "packs/$(zip 1)/$(sha "$out/junk")" "leases/$(zip 21)/"; do
	! grep -qF "$gone" <<<"$names" || t_fail "still in the bucket after gc: $gone"
	T_CHECKS=$((T_CHECKS + 1))
done
grep -qF "packs/$(zip 1)/$(sha "$S_TREE/$(zip 1)")" <<<"$names" || t_fail "gc deleted m01's real pack"
T_CHECKS=$((T_CHECKS + 1))

# Nothing named was lost: every module W fetched comes whole from the bucket, upstream stopped.
kill "$S_UPSTREAM_PID"
wait "$S_UPSTREAM_PID" 2>/dev/null || true
h_start_modfs r "http://127.0.0.1:$(t_free_port)" --s3 "$S_BUCKET"
for n in $(seq 0 19); do
	for ext in info mod zip; do
		key="example.com/load/m$(printf %02d "$n")/@v/v1.0.0.$ext"
		curl -sS -f -o "$out/got" "$R_URL/$key" || t_fail "after gc, $key is not readable from the bucket"
		cmp -s "$out/got" "$S_TREE/$key" || t_fail "after gc, $key differs"
	done
done
T_CHECKS=$((T_CHECKS + 1))
h_stop "$R_PID" "$R_LOG"

# The background collector: one front, a 1 s interval.
s_s3 PUT "$(s_obj farm "packs/$(zip 23)/$(sha "$S_TREE/$(zip 23)")")" -T "$S_TREE/$(zip 23)" -o /dev/null
h_start_modfs g "http://127.0.0.1:$(t_free_port)" --s3 "$S_BUCKET" --s3-gc-grace "$grace" --s3-gc-interval 1
for ((i = 0; i < 600; i++)); do
	! s_list farm "packs/$(zip 23)/" | grep -q . && ! s_list farm "packs/$(zip 22)/" | grep -q . && break
	sleep 0.1
done
! s_list farm "packs/$(zip 23)/" | grep -q . || t_fail "the background collector left m23's orphan pack"
! s_list farm "packs/$(zip 22)/" | grep -q . || t_fail "the background collector left m22's orphan pack"
s_s3 HEAD "$(s_obj farm gc-stamp)" -o /dev/null || t_fail "no gc stamp in the bucket"
T_CHECKS=$((T_CHECKS + 3))
h_stop "$G_PID" "$G_LOG"
[ "$(s_stat "$G_STORE" s3_gc_runs)" -ge 1 ] || t_fail "the background front counts no gc run"
T_CHECKS=$((T_CHECKS + 1))
h_stop "$W_PID" "$W_LOG"
t_log "packs: $packs_before before gc, $(s_list farm packs/ | wc -l) at the end"
