#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The h1 that modfs reports for a zip (<module>/@v/<version>.ziphash) equals what the real go
# command writes into .ziphash in its own GOMODCACHE, and the go.sum line in modules.txt.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/store_lib.sh"
t_require_cmd go
t_go_env

t_start_upstream "$FIX/proxy"
export GOPROXY="file://$FIX/proxy"
checked=0
while read -r mod ver zsum _; do
	go mod download "$mod@$ver" || t_fail "go mod download $mod@$ver"
	key="$(s_escape "$mod")/@v/$(s_escape "$ver")"
	native="$GOMODCACHE/cache/download/$key.ziphash"
	[ -f "$native" ] || t_fail "go wrote no $native"
	got=$(s_get "$key.ziphash") || t_fail "modfs get $key.ziphash failed"
	t_assert_eq "$got" "$(cat "$native")" "h1 of $mod@$ver against go's .ziphash"
	t_assert_eq "$got" "$zsum" "h1 of $mod@$ver against modules.txt"
	checked=$((checked + 1))
done <"$FIX/modules.txt"
t_assert_eq "$checked" "$(wc -l <"$FIX/modules.txt")" "modules checked"

# Asked again (now a hit), and for the big module (h1 over a 25 MB zip).
got=$(s_get "golang.org/x/text/@v/v0.8.0.ziphash")
t_assert_eq "$got" "$(cat "$GOMODCACHE/cache/download/golang.org/x/text/@v/v0.8.0.ziphash")" "h1 of a cached zip"
t_start_upstream "$FIX/big"
GOPROXY="file://$FIX/big" go mod download example.com/big@v1.0.0
got=$(s_get "example.com/big/@v/v1.0.0.ziphash")
t_assert_eq "$got" "$(cat "$GOMODCACHE/cache/download/example.com/big/@v/v1.0.0.ziphash")" "h1 of the big zip"
