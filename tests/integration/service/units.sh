#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `meson install` into a DESTDIR puts the binary, both man pages, the systemd units, the sysusers
# and tmpfiles entries and the commented configs in place, and `systemd-analyze verify` passes
# on the installed units (the template as an instance). The prefix is made reachable at its real
# path through a symlink into the DESTDIR, so verify checks the installed ExecStart binary and
# finds the man pages named in Documentation=. The man pages document every option.
set -euo pipefail
. "$MODFS_TEST_LIB"
t_require_cmd meson ninja systemd-analyze scdoc man
[ -n "${MODFS_SOURCE_ROOT:-}" ] || t_skip "MODFS_SOURCE_ROOT is not set"

P="$T_TMP/prefix"
DEST="$T_TMP/dest"
meson setup "$T_TMP/build" "$MODFS_SOURCE_ROOT" --prefix="$P" -Dsystemdunitdir="$P/lib/systemd/system" \
	-Dman=enabled >"$T_TMP/setup.log" 2>&1 || t_fail "meson setup failed: $(tail -5 "$T_TMP/setup.log")"
meson compile -C "$T_TMP/build" >"$T_TMP/compile.log" 2>&1 || t_fail "build failed: $(tail -5 "$T_TMP/compile.log")"
DESTDIR="$DEST" meson install -C "$T_TMP/build" --no-rebuild >"$T_TMP/install.log" 2>&1 ||
	t_fail "meson install failed: $(tail -5 "$T_TMP/install.log")"
ln -s "$DEST$P" "$P"

for f in bin/modfs share/man/man1/modfs.1 share/man/man5/modfs.conf.5 lib/systemd/system/modfs.service \
	"lib/systemd/system/modfs-mount@.service" etc/modfs/modfs.conf etc/modfs/modfs-mount.conf; do
	T_CHECKS=$((T_CHECKS + 1))
	[ -e "$P/$f" ] || t_fail "meson install did not install $f"
done
for f in sysusers.d/modfs.conf tmpfiles.d/modfs.conf; do
	T_CHECKS=$((T_CHECKS + 1))
	[ -n "$(find "$DEST" -path "*/$f")" ] || t_fail "meson install did not install $f"
done
grep -q "^ExecStart=$P/bin/modfs serve --config $P/etc/modfs/modfs.conf$" "$P/lib/systemd/system/modfs.service" ||
	t_fail "modfs.service does not run the installed binary with the installed config"
# the installed config is valid and what the service would run with
"$P/bin/modfs" config --config "$P/etc/modfs/modfs.conf" >"$T_TMP/config.out" 2>&1 ||
	t_fail "the installed modfs.conf does not load: $(cat "$T_TMP/config.out")"
"$P/bin/modfs" config --config "$P/etc/modfs/modfs-mount.conf" >/dev/null 2>&1 ||
	t_fail "the installed modfs-mount.conf does not load"

cp "$P/lib/systemd/system/modfs-mount@.service" "$T_TMP/modfs-mount@mnt-gomodcache.service"
MANPATH="$P/share/man" SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
	"$P/lib/systemd/system/modfs.service" "$T_TMP/modfs-mount@mnt-gomodcache.service" >"$T_TMP/verify.out" 2>&1 ||
	t_fail "systemd-analyze verify failed: $(cat "$T_TMP/verify.out")"
T_CHECKS=$((T_CHECKS + 1))
[ ! -s "$T_TMP/verify.out" ] || t_fail "systemd-analyze verify complained: $(cat "$T_TMP/verify.out")"

# every option in both man pages: the table is their source
MANWIDTH=200 man -l "$P/share/man/man1/modfs.1" 2>/dev/null >"$T_TMP/modfs.1.txt"
MANWIDTH=200 man -l "$P/share/man/man5/modfs.conf.5" 2>/dev/null >"$T_TMP/modfs.conf.5.txt"
for key in $(sed -n 's/^#\{0,1\}\([a-z-]*\) =.*/\1/p' "$T_TMP/config.out"); do
	T_CHECKS=$((T_CHECKS + 1))
	grep -q -- "--$key" "$T_TMP/modfs.1.txt" || t_fail "modfs(1) does not document --$key"
	grep -q "^ *$key = " "$T_TMP/modfs.conf.5.txt" || t_fail "modfs.conf(5) does not document $key"
	env=MODFS_$(tr 'a-z-' 'A-Z_' <<<"$key")
	grep -q "$env" "$T_TMP/modfs.1.txt" || t_fail "modfs(1) does not document $env"
done
for w in /healthz /readyz /metrics SIGHUP "EXIT STATUS" /etc/modfs/modfs.conf; do
	T_CHECKS=$((T_CHECKS + 1))
	grep -q -- "$w" "$T_TMP/modfs.1.txt" || t_fail "modfs(1) does not mention $w"
done
t_log "installed and verified in $P"
