#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Bad keys and bad upstream answers: each `modfs get` exits 1 with one clear line on stderr,
# writes nothing to stdout, and stores nothing (the object count does not move). Invalid keys
# never reach upstream.
set -euo pipefail
. "$MODFS_TEST_LIB"
. "$(dirname "$0")/store_lib.sh"

out=$(t_tmpdir out)

# expect_fail WHAT KEY [WORD]: get KEY must fail cleanly; WORD, if given, must be in the message.
expect_fail() {
	local what=$1 key=$2 word=${3:-} rc=0 objects
	objects=$(s_stat objects)
	# Warnings (retries) are log lines; at --log-level error only the result is left.
	s_get --log-level error "$key" >"$out/stdout" 2>"$out/stderr" || rc=$?
	t_assert_eq "$rc" 1 "$what: exit status of modfs get '$key' (stderr: $(head -c 300 "$out/stderr"))"
	t_assert_eq "$(wc -l <"$out/stderr")" 1 "$what: lines on stderr ($(head -c 300 "$out/stderr"))"
	case $(cat "$out/stderr") in
	"modfs: "?*) ;;
	*) t_fail "$what: stderr does not start with 'modfs: ': $(cat "$out/stderr")" ;;
	esac
	if [ -n "$word" ]; then
		grep -qiF -- "$word" "$out/stderr" || t_fail "$what: '$word' not in: $(cat "$out/stderr")"
	fi
	t_assert_eq "$(stat -c %s "$out/stdout")" 0 "$what: bytes on stdout"
	t_assert_eq "$(s_stat objects)" "$objects" "$what: objects after the failed get"
	t_log "$what: $(cat "$out/stderr")"
}

# --- invalid keys: refused before any upstream request
t_start_upstream "$FIX/proxy"
s_get golang.org/x/text/@v/list >/dev/null # the store holds something
requests=$(wc -l <"$UPSTREAM_LOG")
expect_fail "dot-dot path" "../x/@v/list"
expect_fail "dot-dot inside" "golang.org/x/../../etc/@v/list"
expect_fail "capital letter in an escaped path" "Golang.org/x/@v/v1.zip"
expect_fail "non-canonical version" "golang.org/x/text/@v/v0.7.zip"
expect_fail "empty key" ""
expect_fail "unknown suffix" "golang.org/x/text/@v/v0.7.0.tar"
expect_fail "absolute file path" "/etc/passwd"
expect_fail "bad escape" "example.com/!!upper/@v/list"
t_assert_eq "$(wc -l <"$UPSTREAM_LOG")" "$requests" "upstream requests for invalid keys"
expect_fail "module upstream does not have" "example.com/nothere/@v/v1.0.0.mod" "not found"

# --- a broken upstream, and zips that break Go's rules
bad=$(t_tmpdir badtree)
cp -r "$FIX/proxy/." "$bad/"
python3 - "$bad" <<'PY'
import os, sys, zipfile, zlib
root = sys.argv[1]

def vdir(mod):
    d = os.path.join(root, mod, "@v")
    os.makedirs(d, exist_ok=True)
    return d

def zip_of(mod, ver, entries, stored=False):
    path = os.path.join(vdir(mod), ver + ".zip")
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, compress_type=method)
    return path

ev = "example.com/evil"
gomod = b"module example.com/evil\n"
src = b"package evil\n"
zip_of(ev, "v1.0.0", [(ev + "@v1.0.0/go.mod", gomod), (ev + "@v1.0.0/../../../etc/evil.go", src)])
zip_of(ev, "v1.0.1", [(ev + "@v1.0.1/go.mod", gomod), ("example.com/other@v1.0.1/a.go", src)])
import warnings
warnings.simplefilter("ignore")
zip_of(ev, "v1.0.2", [(ev + "@v1.0.2/go.mod", gomod), (ev + "@v1.0.2/a.go", src), (ev + "@v1.0.2/a.go", src)])
zip_of(ev, "v1.0.3", [(ev + "@v1.0.3/go.mod", gomod), (ev + "@v1.0.3/A.go", src), (ev + "@v1.0.3/a.go", src)])
# Bad CRC: a stored member whose data no longer matches its checksum.
p = zip_of(ev, "v1.0.4", [(ev + "@v1.0.4/go.mod", gomod), (ev + "@v1.0.4/a.go", b"package evil // sentinel\n")], stored=True)
data = open(p, "rb").read()
i = data.index(b"sentinel")
open(p, "wb").write(data[:i] + b"SENTINEL" + data[i + 8:])
# Not a zip at all.
open(os.path.join(vdir(ev), "v1.0.5.zip"), "wb").write(b"this is not a zip file\n" * 100)
# go.mod in a subdirectory spelled differently is fine, but a go.mod of 17 MiB is not.
huge = b"module example.com/huge\n" + (b"// " + b"x" * 1021 + b"\n") * (17 * 1024)
open(os.path.join(vdir("example.com/huge"), "v1.0.0.mod"), "wb").write(huge)
# An .info that is not JSON, and one naming another version.
open(os.path.join(vdir(ev), "v1.0.6.info"), "w").write("<html>not json</html>")
open(os.path.join(vdir(ev), "v1.0.7.info"), "w").write('{"Version":"v9.9.9","Time":"2023-01-01T00:00:00Z"}')
open(os.path.join(vdir(ev), "v1.0.8.info"), "w").write('{"Version":"v1.0.0","Time":"2023-01-01T00:00:00Z"}')
PY
cat >"$out/rules.json" <<'EOF2'
{
  "/golang.org/x/mod/@v/v0.7.0.zip": {"status": 500, "body": "upstream exploded\n"},
  "/golang.org/x/mod/@v/v0.7.0.mod": {"status": 503, "body": "try later\n"},
  "/golang.org/x/text/@v/v0.7.0.zip": {"truncate": 1000000},
  "/golang.org/x/text/@v/v0.8.0.zip": {"extra_length": 4096},
  "/golang.org/x/text/@v/v0.8.0.info": {"truncate": 10},
  "/example.com/multi/@v/list": {"status": 500}
}
EOF2
t_start_broken_upstream "$bad" "$out/rules.json"

expect_fail "upstream 500 on a zip" golang.org/x/mod/@v/v0.7.0.zip 500
expect_fail "upstream 503 on a mod" golang.org/x/mod/@v/v0.7.0.mod 503
expect_fail "upstream 500 on a list" example.com/multi/@v/list 500
expect_fail "truncated zip body" golang.org/x/text/@v/v0.7.0.zip
expect_fail "Content-Length longer than the body" golang.org/x/text/@v/v0.8.0.zip
expect_fail "truncated info body" golang.org/x/text/@v/v0.8.0.info
expect_fail "go.mod over 16 MiB" example.com/huge/@v/v1.0.0.mod
expect_fail "zip entry with ../" example.com/evil/@v/v1.0.0.zip
expect_fail "zip entry with a wrong prefix" example.com/evil/@v/v1.0.1.zip
expect_fail "duplicate zip entries" example.com/evil/@v/v1.0.2.zip
expect_fail "zip entries equal under case folding" example.com/evil/@v/v1.0.3.zip
expect_fail "zip member with a bad CRC" example.com/evil/@v/v1.0.4.zip
expect_fail "not a zip" example.com/evil/@v/v1.0.5.zip
expect_fail ".info that is not JSON" example.com/evil/@v/v1.0.6.info
expect_fail ".info with a version invalid for the path" example.com/evil/@v/v1.0.7.info
expect_fail ".info for another version" example.com/evil/@v/v1.0.8.info

# Refused answers are not remembered as good ones: asked again, still refused.
expect_fail "bad CRC, asked again" example.com/evil/@v/v1.0.4.zip
expect_fail "truncated zip, asked again" golang.org/x/text/@v/v0.7.0.zip

# The store still works: a good object from the same upstream.
s_get golang.org/x/text/@v/v0.7.0.mod >"$out/mod"
t_assert_file_eq "$out/mod" "$FIX/proxy/golang.org/x/text/@v/v0.7.0.mod" "good object after the bad ones"
