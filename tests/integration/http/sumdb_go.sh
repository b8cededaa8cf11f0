#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The real go command and a real checksum database (tools/fixtures/sumdb: golang.org/x/mod/sumdb
# over the fixtures, a key made for this run) that go can reach only through modfs: go is given
# the database's name and key and no URL (the name resolves nowhere), so it asks
# $GOPROXY/sumdb/<name>/supported and then modfs for every lookup and tile. `go mod download`,
# `go get` and `go build` succeed with go.sum written from the database; modfs asked the database
# about each module version once or twice (its own proofs), and go's questions were answered
# by modfs. With the database stopped, a second client with empty caches is served lookups and
# tiles from the store, fresh and then stale; a modfs whose upstream is this modfs, and which
# knows no URL for the database, finds it through its upstream's /sumdb/ as go does.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/http_lib.sh"
t_require_cmd go python3

# 300 made-up records after the fixtures: tile 8/0/000 is full (kept for ever) and level 1 exists.
t_start_sumdb -filler 300
t_start_upstream "$FIX/proxy"
h_start_modfs main "$UPSTREAM_URL" --sumdb "$SUMDB_VKEY $SUMDB_URL" --list-ttl 3600 --log-level info
t_go_env
export GOSUMDB=$SUMDB_VKEY GOPROXY=$H_URL
unset GONOSUMDB
main_store=$H_STORE

mapfile -t mods < <(awk '{ print $1 "@" $2 }' "$FIX/modules.txt")
n=${#mods[@]}
# The go.sum lines the database holds.
awk '{ print $1, $2, $3; print $1, $2 "/go.mod", $4 }' "$FIX/modules.txt" | sort >"$T_TMP/db-lines"

# A go client with caches of its own: GOPATH (pkg/sumdb: its kept tree head) and GOMODCACHE.
client() {
	export GOPATH="$T_TMP/gopath-$1" GOMODCACHE="$T_TMP/gopath-$1/pkg/mod"
	mkdir -p "$T_TMP/work-$1"
	cd "$T_TMP/work-$1"
}

# go mod download -json of every fixture: its Sum and GoModSum lines, sorted.
download_all() {
	go mod download -json "${mods[@]}" >"$T_TMP/dl-$1.json" 2>"$T_TMP/dl-$1.err" ||
		t_fail "go mod download ($1) failed: $(tail -5 "$T_TMP/dl-$1.err") $(tail -3 "$T_TMP/dl-$1.json")"
	# as go.sum has them: one line for the zip, one for the go.mod
	t_go_sums <"$T_TMP/dl-$1.json" | awk '{ print $1, $2, $3; print $1, $2 "/go.mod", $4 }' | sort >"$T_TMP/sums-$1"
	t_assert_file_eq "$T_TMP/sums-$1" "$T_TMP/db-lines" "hashes go verified ($1)"
	[ -s "$GOPATH/pkg/sumdb/$SUMDB_NAME/latest" ] || t_fail "go kept no tree head of $SUMDB_NAME ($1)"
	T_CHECKS=$((T_CHECKS + 1))
}

# Every line of a go.sum is the database's.
check_gosum() {
	[ -s "$1" ] || t_fail "$1 is empty or missing"
	sort "$1" | comm -23 - "$T_TMP/db-lines" >"$T_TMP/extra"
	[ ! -s "$T_TMP/extra" ] || t_fail "$1 has lines the database does not: $(head -3 "$T_TMP/extra")"
	T_CHECKS=$((T_CHECKS + 1))
}

go_lookups() {
	grep -c "GET /sumdb/$SUMDB_NAME/lookup/.* 200 " "$H_LOG" || true
}

# ---- the proxy side, as go's probe and a cache in front of it see it
t_assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$H_URL/sumdb/$SUMDB_NAME/supported")" 200 "supported"
t_assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$H_URL/sumdb/sum.golang.org/supported")" 404 \
	"supported for a database not served"
t_assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$H_URL/sumdb/$SUMDB_NAME/tile/8/0/1000")" 404 \
	"a malformed tile path"

# ---- go mod download, go get, go build: each client starts with empty caches
client download
download_all download
db_lookups=$(grep -c "^GET /lookup/" "$SUMDB_LOG" || true)
[ "$db_lookups" -ge "$n" ] && [ "$db_lookups" -le $((2 * n)) ] ||
	t_fail "modfs asked the database $db_lookups lookups for $n module versions"
[ "$(go_lookups)" -ge "$n" ] || t_fail "go asked modfs only $(go_lookups) lookups for $n module versions"
T_CHECKS=$((T_CHECKS + 2))

client get
go mod init example.com/probe >/dev/null 2>&1
go get example.com/multi@v1.1.0 golang.org/x/text@v0.8.0 example.com/Upper/Lib@v1.2.3 >"$T_TMP/get.out" 2>&1 ||
	t_fail "go get failed: $(tail -5 "$T_TMP/get.out")"
check_gosum go.sum
grep -q "^example.com/multi v1.1.0 h1:" go.sum || t_fail "go get wrote no zip line of example.com/multi"
T_CHECKS=$((T_CHECKS + 1))

client build
cp -r "$FIX/app" "$T_TMP/app"
cd "$T_TMP/app"
rm -f go.sum
go build -o app . 2>"$T_TMP/build.err" || t_fail "go build failed: $(tail -5 "$T_TMP/build.err")"
./app >"$T_TMP/app.out"
t_assert_file_eq "$T_TMP/app.out" "$FIX/app.expected" "output of the app"
check_gosum go.sum
# What go asked modfs for beyond lookups: the database's tiles, the full one immutable.
grep -q "GET /sumdb/$SUMDB_NAME/tile/8/0/000 200 " "$H_LOG" || t_fail "go never asked modfs for tile 8/0/000"
T_CHECKS=$((T_CHECKS + 1))
hdr=$(curl -sS -D - -o /dev/null "$H_URL/sumdb/$SUMDB_NAME/tile/8/0/000")
grep -qi "^cache-control: public, max-age=31536000, immutable" <<<"$hdr" || t_fail "full tile: $hdr"
hdr=$(curl -sS -D - -o /dev/null "$H_URL/sumdb/$SUMDB_NAME/lookup/example.com/!upper/!lib@v1.2.3")
grep -qi "^cache-control: public, max-age=3600" <<<"$hdr" || t_fail "lookup: $hdr"
T_CHECKS=$((T_CHECKS + 2))
db_requests=$(wc -l <"$SUMDB_LOG")

# ---- the database stops: a second client is served from the store
t_stop_sumdb
before=$(go_lookups)
client second
download_all second
[ "$(go_lookups)" -ge $((before + n)) ] || t_fail "go's lookups did not reach modfs with the database stopped"
t_assert_eq "$(wc -l <"$SUMDB_LOG")" "$db_requests" "requests the database had (it was stopped)"
m=$(curl -sS "$H_URL/metrics")
t_assert_eq "$(h_metric "$m" modfs_sumdb_verified_total)" $((2 * n)) "module proofs in /metrics"
t_assert_eq "$(h_metric "$m" 'modfs_sumdb_verify_failures_total{reason="mismatch"}')" 0 "mismatches in /metrics"
h_stop "$H_PID" "$H_LOG"

# ---- the same store, every lookup and partial tile stale: a dead database gets the stale copy
port=$(t_free_port)
log="$T_TMP/modfs-stale.log"
"$MODFS_BIN" serve --cache-dir "$main_store" --upstream "$UPSTREAM_URL" --listen "127.0.0.1:$port" \
	--sumdb "$SUMDB_VKEY $SUMDB_URL" --list-ttl 1 >"$log" 2>&1 &
stale_pid=$!
t_on_exit "kill $stale_pid; wait $stale_pid"
t_wait_port "$port"
sleep 2
export GOPROXY="http://127.0.0.1:$port"
client stale
download_all stale
t_stop_modfs "$stale_pid" "$log"

# ---- a modfs in front of another, with no URL for the database: it probes its upstream
port=$(t_free_port)
"$MODFS_BIN" serve --cache-dir "$main_store" --upstream "$UPSTREAM_URL" --listen "127.0.0.1:$port" \
	--sumdb "$SUMDB_VKEY $SUMDB_URL" --list-ttl 3600 >"$T_TMP/modfs-back.log" 2>&1 &
back_pid=$!
t_on_exit "kill $back_pid; wait $back_pid"
t_wait_port "$port"
h_start_modfs front "http://127.0.0.1:$port" --sumdb "$SUMDB_VKEY" --log-level info
export GOPROXY=$FRONT_URL
client front
download_all front
grep -q "checksum database $SUMDB_NAME: through proxy http://127.0.0.1:$port" "$FRONT_LOG" ||
	t_fail "the front did not find the database through its upstream: $(grep -i sumdb "$FRONT_LOG" | head -3)"
m=$(curl -sS "$FRONT_URL/metrics")
t_assert_eq "$(h_metric "$m" modfs_sumdb_verified_total)" $((2 * n)) "proofs of the front"
h_stop "$FRONT_PID" "$FRONT_LOG"
t_stop_modfs "$back_pid" "$T_TMP/modfs-back.log"
