#!/bin/sh
# SPDX-License-Identifier: MIT
#
# make-test-zips.sh OUTDIR
#
# Builds the zips of tests/unit/gomod/zipfile.c into OUTDIR: hand-made valid and malicious
# ones (testzips/badzips.py) and real module zips of Debian's golang.org/x/mod and x/text
# (testzips/main.go gen, golang.org/x/mod/zip.CreateFromDir), then lets golang.org/x/mod judge
# each of them as the go command would (testzips/main.go verdict) into OUTDIR/manifest.txt.
# Runs in GOPATH mode against /usr/share/gocode, so nothing is downloaded.
# OUTDIR/.complete holds a hash of the generators: when it matches, OUTDIR is reused as is.
# A new tree is built beside OUTDIR and renamed into place, so an interrupted run never
# leaves a half-built OUTDIR that looks complete.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
out=$1
here=$(cd "$(dirname "$0")" && pwd)
version=$(cat "$0" "$here/testzips/main.go" "$here/testzips/badzips.py" | sha256sum | cut -c1-32)

if [ -f "$out/.complete" ] && [ "$(cat "$out/.complete")" = "$version" ]; then
	exit 0
fi

tmp="$out.new.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM

python3 "$here/testzips/badzips.py" "$tmp"
gocache=${GOCACHE:-$(dirname "$out")/testzips-gocache}
export GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE="$gocache"
go build -o "$tmp/testzips" "$here/testzips/main.go"
"$tmp/testzips" gen "$tmp"
"$tmp/testzips" verdict "$tmp"
rm "$tmp/testzips"
echo "$version" >"$tmp/.complete"

rm -rf "$out"
mv "$tmp" "$out"
