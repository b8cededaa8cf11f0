#!/bin/bash
# SPDX-License-Identifier: MIT
#
# 50 `modfs get` processes asking for one missing zip of one store at once make exactly one
# upstream request for it (single-flight across processes), and all print the exact bytes.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/store_lib.sh"

n=50
key=golang.org/x/text/@v/v0.7.0.zip
want="$FIX/proxy/$key"
out=$(t_tmpdir out)
# 4 MB/s: the 8 MB transfer lasts long enough for every process to start while it runs.
t_start_upstream "$FIX/proxy" 'location ~ \.zip$ { limit_rate 4m; }'

pids=()
for ((i = 0; i < n; i++)); do
	s_get "$key" >"$out/$i" 2>"$out/$i.err" &
	pids+=($!)
done
failed=0
for ((i = 0; i < n; i++)); do
	if ! wait "${pids[i]}"; then
		failed=$((failed + 1))
		t_log "process $i failed: $(head -c 300 "$out/$i.err")"
	fi
done
t_assert_eq "$failed" 0 "failed modfs get processes"
for ((i = 0; i < n; i++)); do
	t_assert_file_eq "$out/$i" "$want" "output of process $i"
done
t_assert_eq "$(t_upstream_count "GET /$key ")" 1 "upstream requests for $key from $n processes"
