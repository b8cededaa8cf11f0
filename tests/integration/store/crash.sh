#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A `modfs get` killed with SIGKILL in the middle of ingesting a 25 MB zip leaves no object behind,
# and the next get of that key succeeds with the exact bytes. The partial pack bytes the dead
# process wrote do not stay on disk for good.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/store_lib.sh"

big="$FIX/big/example.com/big/@v/v1.0.0.zip"
size=$(stat -c %s "$big")
key=example.com/big/@v/v1.0.0.zip
out=$(t_tmpdir out)

# The zip comes at 2 MB/s: the kill lands mid-transfer, with megabytes already ingested.
t_start_upstream "$FIX/big" 'location ~ \.zip$ { limit_rate 2m; }'
slow=$UPSTREAM_URL
s_get example.com/big/@v/v1.0.0.mod >"$out/mod"
s_get example.com/big/@v/v1.0.0.info >"$out/info"
before=$(s_stat objects)

for delay in 1 4; do
	# The binary itself, not a function: $! must be the modfs process that SIGKILL hits.
	"$MODFS_BIN" get --cache-dir "$CACHE" --upstream "$slow" "$key" >"$out/killed" 2>"$out/killed.err" &
	pid=$!
	sleep "$delay"
	kill -0 "$pid" 2>/dev/null || t_fail "modfs get ended before the kill: $(cat "$out/killed.err")"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	t_log "killed after ${delay}s, $(stat -c %s "$out/killed") bytes written to stdout"
	t_assert_eq "$(s_stat objects)" "$before" "objects after the kill at ${delay}s"
done

# Retry from a fast upstream: the store must not be wedged by the dead process (locks, partial state).
t_start_upstream "$FIX/big"
timeout 120 "$MODFS_BIN" get --cache-dir "$CACHE" --upstream "$UPSTREAM_URL" "$key" >"$out/got" ||
	t_fail "modfs get after the crash failed (rc $?)"
t_assert_file_eq "$out/got" "$big" "big zip after the crash"
t_assert_eq "$(s_stat objects)" "$((before + 1))" "objects after the retry"
t_assert_eq "$(t_upstream_count "GET /$key ")" 1 "upstream requests of the retry"

# A hit, from the store alone.
s_get "$key" >"$out/got2"
t_assert_file_eq "$out/got2" "$big" "big zip, second get"
t_assert_eq "$(t_upstream_count "GET /$key ")" 1 "upstream requests after the hit"

# Crashed tails are reclaimed: the store takes no more disk than a store that ingested the same
# objects without a crash (plus 1 MiB of slack for the index).
crashed_disk=$(s_stat disk_bytes)
CACHE=$(t_tmpdir control)
s_get example.com/big/@v/v1.0.0.mod >/dev/null
s_get example.com/big/@v/v1.0.0.info >/dev/null
s_get "$key" >/dev/null
clean_disk=$(s_stat disk_bytes)
t_log "disk_bytes $crashed_disk after two killed ingests, $clean_disk without (zip $size bytes)"
[ "$crashed_disk" -le "$((clean_disk + (1 << 20)))" ] ||
	t_fail "disk_bytes=$crashed_disk after two killed ingests, $clean_disk in a clean store: partial bytes were not reclaimed"
T_CHECKS=$((T_CHECKS + 1))
