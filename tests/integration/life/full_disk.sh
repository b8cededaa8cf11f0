#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The store's limits, as a user meets them over HTTP:
#   - a full disk (the store on a 3 MiB tmpfs): the miss that cannot be stored is answered with
#     its verified bytes all the same (an early answer, cache_get_early: its client is answered
#     before the store writes it), or gets 507 with a body that says the store's disk is full (and
#     names no path) where it is not answered early; the log says why and names the key not
#     stored, every object stored before is still served byte-identical, and the store is sound
#     afterwards (modfs verify) and holds exactly the objects whose ingest completed;
#   - a budget smaller than one object (--max-size 512K, a 640 KiB zip): 507 naming the budget,
#     nothing stored, and smaller objects are still stored and served.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/life_lib.sh"
. "$MODFS_SOURCE_ROOT/tests/integration/http/http_lib.sh"

t_start_upstream "$LOAD"
out=$(t_tmpdir out)

# ---- a full disk
small=$(t_tmpdir small)
mount -t tmpfs -o size=3m modfs-test "$small" 2>"$out/mount.err" || t_skip "cannot mount a tmpfs: $(cat "$out/mount.err")"
t_on_exit "umount -l $small"
port=$(t_free_port)
"$MODFS_BIN" serve --cache-dir "$small/store" --upstream "$UPSTREAM_URL" --sumdb off --listen "127.0.0.1:$port" \
	>"$out/full.log" 2>&1 &
pid=$!
t_on_exit "kill $pid; wait $pid"
t_wait_port "$port"
url="http://127.0.0.1:$port"

served=()
full=
for ((i = 0; i < LOAD_MODULES; i++)); do
	status=$(curl -sS -o "$out/body" -w '%{http_code}' "$url/$(l_key "$i")")
	if [ "$status" = 200 ]; then
		t_assert_file_eq "$out/body" "$(l_zip "$i")" "$(l_key "$i") on a filling disk"
		# answered before the store kept it: wait for its ingest's outcome
		outcome=
		for ((w = 0; w < 600; w++)); do
			if grep -qF "$(l_key "$i"): a client was answered from verified bytes that were then not stored" \
				"$out/full.log"; then
				outcome=lost
				break
			fi
			[ "$(l_stat "$small/store" objects)" -gt "${#served[@]}" ] && outcome=stored && break
			sleep 0.1
		done
		[ -n "$outcome" ] || t_fail "$(l_key "$i"): neither stored nor logged as not stored"
		T_CHECKS=$((T_CHECKS + 1))
		if [ "$outcome" = stored ]; then
			served+=("$i")
			continue
		fi
		full=$i
		break
	fi
	t_assert_eq "$status" 507 "status of the miss the full disk cannot hold"
	grep -q "insufficient storage: the store cannot hold /$(l_key "$i"): its disk is full" "$out/body" ||
		t_fail "507 body: $(cat "$out/body")"
	! grep -q "$small" "$out/body" || t_fail "the 507 body names the store's path: $(cat "$out/body")"
	T_CHECKS=$((T_CHECKS + 2))
	full=$i
	break
done
[ -n "$full" ] || t_fail "a 3 MiB disk held all $LOAD_MODULES modules"
[ "${#served[@]}" -ge 1 ] || t_fail "not even one module fit on the disk"
grep -q "No space left on device" "$out/full.log" || t_fail "the log does not say the disk is full: $(tail -5 "$out/full.log")"
T_CHECKS=$((T_CHECKS + 2))
t_log "the disk held ${#served[@]} modules; $(l_key "$full") was not stored"

# Hits keep working on the full disk, byte-identical.
for i in "${served[@]}"; do
	curl -sS -f -o "$out/body" "$url/$(l_key "$i")" || t_fail "hit of $(l_key "$i") on a full disk"
	t_assert_file_eq "$out/body" "$(l_zip "$i")" "hit of $(l_key "$i") on a full disk"
done
t_stop_modfs "$pid" "$out/full.log"
"$MODFS_BIN" verify --cache-dir "$small/store" --heal=false >"$out/verify" 2>&1 ||
	t_fail "modfs verify after the full disk: $(cat "$out/verify")"
t_assert_eq "$(l_stat "$small/store" objects)" "${#served[@]}" "objects stored after the full disk"

# ---- a budget smaller than one object
port=$(t_free_port)
store=$(t_tmpdir store-budget)
"$MODFS_BIN" serve --cache-dir "$store" --upstream "$UPSTREAM_URL" --sumdb off --listen "127.0.0.1:$port" \
	--max-size 512K \
	>"$out/budget.log" 2>&1 &
pid=$!
t_on_exit "kill $pid; wait $pid"
t_wait_port "$port"
url="http://127.0.0.1:$port"
status=$(curl -sS -o "$out/body" -w '%{http_code}' "$url/$(l_key 3)")
t_assert_eq "$status" 507 "status of a zip larger than the whole budget"
grep -q "insufficient storage: the store cannot hold /$(l_key 3): .* more than the store's whole budget (--max-size 524288)" \
	"$out/body" || t_fail "507 body: $(cat "$out/body")"
T_CHECKS=$((T_CHECKS + 1))
mod=example.com/load/m03/@v/v1.0.0.mod
curl -sS -f -o "$out/body" "$url/$mod" || t_fail "GET $mod under a small budget"
t_assert_file_eq "$out/body" "$LOAD/$mod" "$mod under a small budget"
t_stop_modfs "$pid" "$out/budget.log"
t_assert_eq "$(l_stat "$store" objects)" 1 "objects stored under a budget smaller than the zip"
