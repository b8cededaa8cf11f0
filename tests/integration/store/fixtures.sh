#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The fixtures are what the real go command accepts: the app builds from the fixture proxy with
# its go.sum as is and prints app.expected; go mod tidy changes nothing; go mod download reports
# the hashes of modules.txt; list holds every version. Served by nginx, so the tree works over
# HTTP as well as file://.
set -euo pipefail
. "$MODFS_TEST_LIB"
t_require_cmd go
t_go_env
FIX="$MODFS_FIXTURES"

t_start_upstream "$FIX/proxy"
export GOPROXY="$UPSTREAM_URL"
app=$(t_tmpdir app)
cp -r "$FIX/app/." "$app/"
(cd "$app" && GOFLAGS=-mod=readonly go build -o app .) || t_fail "go build of the fixture app"
"$app/app" >"$app/out"
t_assert_file_eq "$app/out" "$FIX/app.expected" "output of the fixture app"
(cd "$app" && go mod tidy) || t_fail "go mod tidy"
t_assert_file_eq "$app/go.sum" "$FIX/app/go.sum" "go.sum after go mod tidy"
t_assert_file_eq "$app/go.mod" "$FIX/app/go.mod" "go.mod after go mod tidy"

json_field() {
	python3 -c 'import json, sys; print(json.loads(sys.argv[2]).get(sys.argv[1], ""))' "$1" "$2"
}

check_sums() {
	local listing=$1 mod ver zsum msum json
	while read -r mod ver zsum msum; do
		json=$(go mod download -json "$mod@$ver") || t_fail "go mod download $mod@$ver"
		t_assert_eq "$(json_field Sum "$json")" "$zsum" "Sum of $mod@$ver"
		t_assert_eq "$(json_field GoModSum "$json")" "$msum" "GoModSum of $mod@$ver"
	done <"$listing"
}
check_sums "$FIX/modules.txt"
t_assert_eq "$(go list -m -versions example.com/multi)" "example.com/multi v1.0.0 v1.1.0 v1.2.0-pre" "versions of example.com/multi"

export GOPROXY="file://$FIX/big"
check_sums "$FIX/big/modules.txt"
size=$(stat -c %s "$FIX/big/example.com/big/@v/v1.0.0.zip")
[ "$size" -ge $((20 << 20)) ] || t_fail "big zip is only $size bytes"
