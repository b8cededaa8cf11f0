#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The shared tier and the checksum database (tools/fixtures/sumdb over the fixtures, a key made
# for this run; cache/fetch.c says why a bucket copy is not looked up again):
#   - a front with the database fills the bucket: it proves every .mod and .zip, and each
#     manifest carries the object's h1 (the go.sum hash modules.txt gives) and the database's name;
#   - a front with an empty store, no upstream and the same database at an address where nothing
#     answers serves every object from the bucket, byte-identical: the writer's proof stands, and
#     the database's log has no new request;
#   - a manifest whose h1 is not its bytes' (all else sound, the database named) is damaged: the
#     object is fetched from upstream again, proven, and written anew;
#   - a front with --sumdb off behind an upstream that serves a changed go.mod writes it, with the
#     sound objects, to another prefix, naming no database; a front with the database proves what
#     it reads there: the sound objects are served from the bucket (proven, never fetched), the
#     changed go.mod is refused by the database, counted as damaged, fetched from the good
#     upstream once, and its copy in the bucket replaced by the good one, naming the database.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/shared_lib.sh"
. "$MODFS_SOURCE_ROOT/tests/integration/http/http_lib.sh"
t_require_cmd nginx

s_start_store
bucket=$(s_url farm)
t_start_sumdb
db=(--sumdb "$SUMDB_VKEY $SUMDB_URL")
t_start_upstream "$FIX/proxy"
good_url=$UPSTREAM_URL good_log=$UPSTREAM_LOG
out=$(t_tmpdir out)

# module, version, zip h1, go.mod h1, and the escaped key of each fixture (without the extension)
mapfile -t lines <"$FIX/modules.txt"
n=${#lines[@]}
esc() { python3 -c 'import re, sys; print(re.sub("[A-Z]", lambda m: "!" + m.group(0).lower(), sys.argv[1]))' "$1"; }
keys=() zip_h1=() mod_h1=()
for l in "${lines[@]}"; do
	read -r m v zh mh <<<"$l"
	keys+=("$(esc "$m")/@v/$(esc "$v")")
	zip_h1+=("$zh")
	mod_h1+=("$mh")
done
manifest() { # manifest PREFIX KEY: the object's manifest in the bucket, on stdout
	s_s3 GET "$(s_obj farm "$1manifests/$2")"
}
new_gets() { # new_gets LOG BEFORE: the paths the upstream served with 200 after line BEFORE, sorted
	tail -n +$(($2 + 1)) "$1" | awk '$1 == "GET" && $3 == 200 { print $2 }' | sort
}

# A proves and writes.
h_start_modfs a "$good_url" --s3 "$bucket" "${db[@]}"
for k in "${keys[@]}"; do
	for ext in info mod zip; do
		curl -sS -f -o /dev/null "$A_URL/$k.$ext" || t_fail "filling through A: $k.$ext"
	done
done
h_stop "$A_PID" "$A_LOG"
t_assert_eq "$(s_stat "$A_STORE" sumdb_verified)" $((2 * n)) "modules A proved"
for i in "${!keys[@]}"; do
	manifest "" "${keys[$i]}.mod" >"$out/m"
	grep -qx "h1 ${mod_h1[$i]}" "$out/m" || t_fail "the manifest of ${keys[$i]}.mod has not its h1: $(cat "$out/m")"
	grep -qx "sumdb $SUMDB_NAME" "$out/m" || t_fail "the manifest of ${keys[$i]}.mod names no database"
	manifest "" "${keys[$i]}.zip" >"$out/m"
	grep -qx "h1 ${zip_h1[$i]}" "$out/m" || t_fail "the manifest of ${keys[$i]}.zip has not its h1"
	grep -qx "sumdb $SUMDB_NAME" "$out/m" || t_fail "the manifest of ${keys[$i]}.zip names no database"
	T_CHECKS=$((T_CHECKS + 4))
done

# B: everything from the bucket, no upstream, the database unreachable.
asked=$(wc -l <"$SUMDB_LOG")
h_start_modfs b "http://127.0.0.1:$(t_free_port)" --s3 "$bucket" --sumdb "$SUMDB_VKEY http://127.0.0.1:$(t_free_port)"
for k in "${keys[@]}"; do
	for ext in info mod zip; do
		curl -sS -f -o "$out/got" "$B_URL/$k.$ext" || t_fail "B could not serve $k.$ext from the bucket"
		t_assert_file_eq "$out/got" "$FIX/proxy/$k.$ext" "$k.$ext through B"
	done
done
h_stop "$B_PID" "$B_LOG"
t_assert_eq "$(wc -l <"$SUMDB_LOG")" "$asked" "requests to the database while B read the bucket"
t_assert_eq "$(s_stat "$B_STORE" s3_hits)" $((3 * n)) "objects B read from the bucket"
t_assert_eq "$(s_stat "$B_STORE" sumdb_verified)" 0 "modules B proved itself"

# A manifest whose h1 is another module's: damaged, fetched again, proven, written anew.
x=golang.org/x/mod/@v/v0.7.0.mod
s_manifest "$x" "$FIX/proxy/$x" 1700000000 "${mod_h1[0]}" "$SUMDB_NAME" >"$out/forged"
s_s3 PUT "$(s_obj farm "manifests/$x")" -T "$out/forged" -o /dev/null
before=$(wc -l <"$good_log")
h_start_modfs d "$good_url" --s3 "$bucket" "${db[@]}"
curl -sS -f -o "$out/got" "$D_URL/$x" || t_fail "D could not serve $x"
t_assert_file_eq "$out/got" "$FIX/proxy/$x" "$x through D"
h_stop "$D_PID" "$D_LOG"
t_assert_eq "$(new_gets "$good_log" "$before")" "/$x" "what D fetched from upstream"
grep -qF "its bytes hash to h1:fTQkwYSp12xi8VSgw33FA4M04B7qxBA7HgiKCQ+PvEw=, its manifest says ${mod_h1[0]}" "$D_LOG" ||
	t_fail "D's log does not name both hashes: $(grep -F "$x" "$D_LOG" | tail -3)"
t_assert_eq "$(s_stat "$D_STORE" s3_damaged)" 1 "damaged objects D found"
t_assert_eq "$(s_stat "$D_STORE" s3_writes)" 1 "objects D wrote back"
manifest "" "$x" | grep -qx "h1 h1:fTQkwYSp12xi8VSgw33FA4M04B7qxBA7HgiKCQ+PvEw=" || t_fail "$x's manifest was not rewritten"
T_CHECKS=$((T_CHECKS + 2))

# W, without a database, behind an upstream that changed a go.mod, writes to the prefix t/.
bad=$(t_tmpdir bad)
cp -rs "$FIX/proxy/." "$bad/"
changed=golang.org/x/text/@v/v0.8.0.mod
sound=example.com/m/v2/@v/v2.1.0
rm "$bad/$changed"
{ cat "$FIX/proxy/$changed"; echo '// changed upstream'; } >"$bad/$changed"
t_start_upstream "$bad"
h_start_modfs w "$UPSTREAM_URL" --s3 "$bucket/t"
for k in "$changed" "$sound.mod" "$sound.zip"; do
	curl -sS -f -o /dev/null "$W_URL/$k" || t_fail "W could not serve $k"
done
h_stop "$W_PID" "$W_LOG"
for k in "$changed" "$sound.mod" "$sound.zip"; do
	! manifest t/ "$k" | grep -q '^sumdb ' || t_fail "W, which has no database, named one for $k"
	T_CHECKS=$((T_CHECKS + 1))
done

# C, with the database, proves what W wrote.
before=$(wc -l <"$good_log")
h_start_modfs c "$good_url" --s3 "$bucket/t" "${db[@]}"
for k in "$sound.mod" "$sound.zip" "$changed"; do
	curl -sS -f -o "$out/got" "$C_URL/$k" || t_fail "C could not serve $k"
	t_assert_file_eq "$out/got" "$FIX/proxy/$k" "$k through C"
done
h_stop "$C_PID" "$C_LOG"
t_assert_eq "$(new_gets "$good_log" "$before")" "/$changed" "what C fetched from upstream"
grep -qF "the bucket: $changed refused by the checksum database (mismatch)" "$C_LOG" ||
	t_fail "C's log does not say the database refused the bucket's $changed"
T_CHECKS=$((T_CHECKS + 1))
t_assert_eq "$(s_stat "$C_STORE" s3_hits)" 2 "objects C took from the bucket"
t_assert_eq "$(s_stat "$C_STORE" s3_damaged)" 1 "damaged objects C found"
t_assert_eq "$(s_stat "$C_STORE" sumdb_verified)" 3 "modules C proved"
t_assert_eq "$(s_stat "$C_STORE" sumdb_refused_mismatch)" 1 "copies the database refused"
manifest t/ "$changed" >"$out/m"
grep -qx "sumdb $SUMDB_NAME" "$out/m" || t_fail "the rewritten manifest of $changed names no database"
grep -qx "h1 ${mod_h1[1]}" "$out/m" || t_fail "the rewritten manifest of $changed has not the good h1"
T_CHECKS=$((T_CHECKS + 2))
