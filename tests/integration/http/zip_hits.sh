#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Zip hits served from memory (a zip asked for whole again is loaded once, its chunks checked as
# they are loaded, then handed to h2o with no read per response):
#   - a byte damaged in the middle of the zip's pack after its first download is caught before
#     the next status line goes out: that answer is a 200 with the right bytes (fetched again
#     once), never a 200 cut short mid-body;
#   - the hits after it are byte-identical over HTTP/1.1, h2c and TLS h2, whole, HEAD and ranged,
#     with no further upstream request;
#   - TLS 1.3 picks AES-128-GCM (the cheaper suite for bulk bytes) when the client offers it.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"
t_require_cmd python3

h_upstream_tree
t_start_upstream "$H_UP"
h_make_ca
h_start_modfs main "$UPSTREAM_URL" --threads 2
W=$(t_tmpdir w)
key=golang.org/x/text/@v/v0.8.0.zip
want="$H_UP/$key"
fetches() { t_upstream_count "GET /$key "; }

curl -sS -f -o "$W/first" "$H_URL/$key"
t_assert_file_eq "$W/first" "$want" "first download (a miss)"
t_assert_eq "$(fetches)" 1 "upstream requests of the first download"
# the miss was answered from its checked bytes before the store wrote them (cache_get_early): a
# HEAD waits for that ingest (it joins the fetch) and then finds the object stored
curl -sS -f -I -o /dev/null "$H_URL/$key"

# Damage one byte in the middle of the zip where it lies in its pack (the zip's bytes stored raw).
python3 - "$H_STORE" "$want" <<'EOF' || t_fail "no raw copy of the zip's middle in any pack"
import glob, sys
store, zip_path = sys.argv[1], sys.argv[2]
z = open(zip_path, "rb").read()
for frac in (2, 3, 5):
    probe = z[len(z) // frac:len(z) // frac + 64]
    for path in glob.glob(store + "/**/*.pack", recursive=True):
        with open(path, "r+b") as f:
            data = f.read()
            at = data.find(probe)
            if at >= 0:
                f.seek(at + 32)
                f.write(bytes([data[at + 32] ^ 0xFF]))
                print(f"flipped byte {at + 32} of {path}", file=sys.stderr)
                sys.exit(0)
sys.exit(1)
EOF

code=$(curl -sS -o "$W/second" -w '%{http_code}' "$H_URL/$key") ||
	t_fail "the download after the damage broke off (a 200 cut short): $(tail -3 "$H_LOG")"
t_assert_eq "$code" 200 "status of the download after the damage"
t_assert_file_eq "$W/second" "$want" "bytes of the download after the damage"
t_assert_eq "$(fetches)" 2 "upstream requests after the damage (fetched again once)"

# Hits, from memory once the new copy is loaded: every protocol, whole, HEAD and ranged.
for i in 1 2 3; do
	for proto in h1 h2c tls; do
		case $proto in
		h1) args=(--http1.1 "$H_URL/$key") ;;
		h2c) args=(--http2-prior-knowledge "$H_URL/$key") ;;
		tls) args=(--http2 --cacert "$H_CA" "$H_TLS_URL/$key") ;;
		esac
		rm -f "$W/hit"
		curl -sS -f -o "$W/hit" "${args[@]}" || t_fail "hit $i over $proto failed"
		t_assert_file_eq "$W/hit" "$want" "hit $i over $proto"
		size=$(curl -sS -f -I "${args[@]}" | tr -d '\r' | awk 'tolower($1) == "content-length:" { print $2 }')
		t_assert_eq "$size" "$(stat -L -c %s "$want")" "Content-Length of HEAD $i over $proto"
		curl -sS -f -r 1000000-1999999 -o "$W/range" "${args[@]}" || t_fail "ranged hit $i over $proto failed"
		dd if="$want" of="$W/range.want" bs=1000000 skip=1 count=1 status=none
		t_assert_file_eq "$W/range" "$W/range.want" "ranged hit $i over $proto"
	done
done
t_assert_eq "$(fetches)" 2 "upstream requests after the hits"

suite=$(curl -sS -v -o /dev/null --tlsv1.3 --http2 --cacert "$H_CA" "$H_TLS_URL/$key" 2>&1 |
	sed -n 's/.*SSL connection using \(TLSv1.3\) \/ \([A-Z0-9_]*\).*/\1 \2/p')
t_assert_eq "$suite" "TLSv1.3 TLS_AES_128_GCM_SHA256" "TLS version and suite of a hit"

h_stop "$H_PID" "$H_LOG"
