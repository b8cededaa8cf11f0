#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Objects damaged in the bucket are detected, never served, and fetched and written again; what
# a writer left half-written is not visible. A front fills the bucket; then, behind its back:
#   - a byte of chunk 3 of golang.org/x/text v0.7.0's zip is flipped in its pack;
#   - the pack of example.com/load/m00's zip is deleted;
#   - the pack of golang.org/x/mod v0.7.0's zip is cut short;
#   - golang.org/x/text v0.7.0's .mod manifest (an inline object) gets a flipped byte;
#   - example.com/load/m02's .info manifest is replaced by m01's (a manifest under another name);
#   - example.com/load/m03's zip is replaced, manifest and pack, by m04's zip: hashes all match,
#     but the bytes fail Go's checks for m03;
#   - example.com/load/m05's zip pack is written with no manifest (a writer that died between
#     the two).
# A front with an empty store is asked for each: every answer is byte-identical to upstream's,
# each damaged object was fetched from upstream once more (m05's for the first time), its
# s3_damaged counts the six, and a last front with upstream stopped reads all of them from the
# repaired bucket.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/shared_lib.sh"
. "$MODFS_SOURCE_ROOT/tests/integration/http/http_lib.sh"
t_require_cmd nginx

s_start_farm
out=$(t_tmpdir out)

text_zip=golang.org/x/text/@v/v0.7.0.zip
text_mod=golang.org/x/text/@v/v0.7.0.mod
mod_zip=golang.org/x/mod/@v/v0.7.0.zip
m00_zip=example.com/load/m00/@v/v1.0.0.zip
m01_info=example.com/load/m01/@v/v1.0.0.info
m02_info=example.com/load/m02/@v/v1.0.0.info
m03_zip=example.com/load/m03/@v/v1.0.0.zip
m04_zip=example.com/load/m04/@v/v1.0.0.zip
m05_zip=example.com/load/m05/@v/v1.0.0.zip
filled=("$text_zip" "$text_mod" "$mod_zip" "$m00_zip" "$m01_info" "$m02_info" "$m03_zip")
damaged=("$text_zip" "$text_mod" "$mod_zip" "$m00_zip" "$m02_info" "$m03_zip")

h_start_modfs a "$UPSTREAM_URL" --s3 "$S_BUCKET"
for key in "${filled[@]}"; do
	curl -sS -f -o /dev/null "$A_URL/$key" || t_fail "filling: $key"
done
h_stop "$A_PID" "$A_LOG"
pack() { echo "packs/$1/$(sha256sum <"$S_TREE/$1" | cut -c1-64)"; }

# chunk 3 of a zip's pack, one byte flipped
s_s3 GET "$(s_obj farm "$(pack "$text_zip")")" -o "$out/pack"
python3 -c 'import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[3 * 1048576 + 100] ^= 1; open(p, "wb").write(b)' "$out/pack"
s_s3 PUT "$(s_obj farm "$(pack "$text_zip")")" -T "$out/pack" -o /dev/null
# a pack gone, a pack cut short
s_s3 DELETE "$(s_obj farm "$(pack "$m00_zip")")" -o /dev/null
head -c 1000 "$S_TREE/$mod_zip" >"$out/short"
s_s3 PUT "$(s_obj farm "$(pack "$mod_zip")")" -T "$out/short" -o /dev/null
# an inline manifest with a flipped byte
s_s3 GET "$(s_obj farm "manifests/$text_mod")" -o "$out/manifest"
sed -i 's/^size /size 1/' "$out/manifest"
s_s3 PUT "$(s_obj farm "manifests/$text_mod")" -T "$out/manifest" -o /dev/null
# another key's manifest
s_s3 GET "$(s_obj farm "manifests/$m01_info")" -o "$out/m01"
s_s3 PUT "$(s_obj farm "manifests/$m02_info")" -T "$out/m01" -o /dev/null
# sound hashes, bytes that are not m03's zip
s_s3 PUT "$(s_obj farm "packs/$m03_zip/$(sha256sum <"$S_TREE/$m04_zip" | cut -c1-64)")" -T "$S_TREE/$m04_zip" -o /dev/null
s_manifest "$m03_zip" "$S_TREE/$m04_zip" >"$out/m03"
s_s3 PUT "$(s_obj farm "manifests/$m03_zip")" -T "$out/m03" -o /dev/null
# a pack whose writer died before the manifest
s_s3 PUT "$(s_obj farm "$(pack "$m05_zip")")" -T "$S_TREE/$m05_zip" -o /dev/null

before=$(cp "$UPSTREAM_LOG" "$out/log-before" && wc -l <"$UPSTREAM_LOG")
h_start_modfs b "$UPSTREAM_URL" --s3 "$S_BUCKET"
for key in "${damaged[@]}" "$m05_zip"; do
	curl -sS -f -o "$out/got" "$B_URL/$key" || t_fail "B could not serve $key"
	t_assert_file_eq "$out/got" "$S_TREE/$key" "$key through B"
done
tail -n +$((before + 1)) "$UPSTREAM_LOG" | awk '$3 == 200 { print $2 }' | sort >"$out/refetched"
printf '/%s\n' "${damaged[@]}" "$m05_zip" | sort >"$out/want-refetched"
t_assert_file_eq "$out/refetched" "$out/want-refetched" "objects B fetched from upstream"
h_stop "$B_PID" "$B_LOG"
t_assert_eq "$(s_stat "$B_STORE" s3_damaged)" "${#damaged[@]}" "damaged objects B found"
t_assert_eq "$(s_stat "$B_STORE" s3_writes)" $((${#damaged[@]} + 1)) "objects B wrote back"
for what in "chunk 3 of its pack is damaged" "its pack is missing" "its pack is shorter" "damaged (its end line" \
	"the manifest is $m01_info" "damaged: the bucket: invalid .zip"; do
	grep -qF "$what" "$B_LOG" || t_fail "B's log does not say \"$what\""
	T_CHECKS=$((T_CHECKS + 1))
done

# The bucket is whole again: a front with no upstream reads everything from it.
kill "$S_UPSTREAM_PID"
wait "$S_UPSTREAM_PID" 2>/dev/null || true
h_start_modfs c "http://127.0.0.1:$(t_free_port)" --s3 "$S_BUCKET"
for key in "${filled[@]}" "$m05_zip"; do
	curl -sS -f -o "$out/got" "$C_URL/$key" || t_fail "C could not serve $key from the bucket"
	t_assert_file_eq "$out/got" "$S_TREE/$key" "$key through C, from the bucket"
done
h_stop "$C_PID" "$C_LOG"
t_assert_eq "$(s_stat "$C_STORE" s3_damaged)" 0 "damaged objects C found"
