#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `dpkg-buildpackage -us -uc -b` builds the .deb from a copy of the source tree; `dpkg -i`
# installs it on this machine: the modfs user and /var/cache/modfs exist, /etc/modfs/modfs.conf
# is a conffile, the units are in place, and the installed `modfs serve`, started with the
# installed unit's ExecStart line as its user (or through systemd when it is PID 1), answers on
# the default port 127.0.0.1:3000. The package is purged at the end.
set -euo pipefail
. "$MODFS_TEST_LIB"
t_require_cmd dpkg-buildpackage dpkg dh curl setpriv
[ -n "${MODFS_SOURCE_ROOT:-}" ] || t_skip "MODFS_SOURCE_ROOT is not set"
[ "$(id -u)" = 0 ] || t_skip "installing a package needs root"
if dpkg-query -W -f='${Status}' modfs 2>/dev/null | grep -q installed; then
	t_fail "a modfs package is already installed here; this test installs and purges its own"
fi
(exec 3<>/dev/tcp/127.0.0.1/3000) 2>/dev/null && t_fail "127.0.0.1:3000 is already in use"

src="$T_TMP/src/modfs-0.1.0"
mkdir -p "$src"
(cd "$MODFS_SOURCE_ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp -a --parents -t "$src")
start=$(date +%s)
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$T_TMP/build.log" 2>&1 ||
	t_fail "dpkg-buildpackage failed: $(tail -15 "$T_TMP/build.log")"
t_log "dpkg-buildpackage took $(($(date +%s) - start)) s"
deb=$(ls "$T_TMP"/src/modfs_*_*.deb | grep -v dbgsym)

# postinst creates the user before the store directory that it owns
dpkg-deb -I "$deb" postinst >"$T_TMP/postinst"
sysusers_at=$(grep -n 'systemd-sysusers' "$T_TMP/postinst" | head -1 | cut -d: -f1)
tmpfiles_at=$(grep -n 'systemd-tmpfiles' "$T_TMP/postinst" | head -1 | cut -d: -f1)
[ -n "$sysusers_at" ] && [ -n "$tmpfiles_at" ] && [ "$sysusers_at" -lt "$tmpfiles_at" ] ||
	t_fail "postinst does not run systemd-sysusers before systemd-tmpfiles: $(cat "$T_TMP/postinst")"
# a user left by an earlier run of this test (purge keeps system users) would hide a package
# that no longer creates it
if getent passwd modfs >/dev/null && ! pgrep -u modfs >/dev/null; then
	userdel modfs 2>/dev/null || true
	getent group modfs >/dev/null && groupdel modfs 2>/dev/null || true
fi

t_on_exit "dpkg --purge modfs >/dev/null 2>&1"
dpkg -i "$deb" >"$T_TMP/install.log" 2>&1 || t_fail "dpkg -i failed: $(tail -10 "$T_TMP/install.log")"
T_CHECKS=$((T_CHECKS + 1))
getent passwd modfs >/dev/null || t_fail "installing did not create the modfs user"
t_assert_eq "$(stat -c %U "/var/cache/modfs")" modfs "owner of /var/cache/modfs"
dpkg-query --showformat='${Conffiles}\n' --show modfs | grep -q /etc/modfs/modfs.conf ||
	t_fail "/etc/modfs/modfs.conf is not a conffile"
/usr/bin/modfs --version | grep -q '^modfs ' || t_fail "the installed modfs does not run"
man -w modfs >/dev/null 2>&1 || t_fail "man modfs finds no page"

exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/modfs.service)
t_assert_eq "$exec_start" "/usr/bin/modfs serve --config /etc/modfs/modfs.conf" "ExecStart of modfs.service"
if [ "$(ps -p 1 -o comm=)" = systemd ]; then
	t_log "systemd is PID 1: starting modfs.service"
	systemctl start modfs.service
	t_on_exit "systemctl stop modfs.service"
else
	t_log "PID 1 is $(ps -p 1 -o comm=), not systemd: running the unit's ExecStart as User=modfs with CACHE_DIRECTORY"
	# setpriv execs (runuser would stay as a parent and turn SIGTERM into its own exit 143)
	setpriv --reuid=modfs --regid=modfs --init-groups env CACHE_DIRECTORY=/var/cache/modfs $exec_start \
		>"$T_TMP/serve.log" 2>&1 &
	pid=$!
	t_on_exit "kill $pid; wait $pid"
fi
t_wait_port 3000
t_assert_eq "$(curl -fsS http://127.0.0.1:3000/healthz)" ok "/healthz of the installed modfs serve"
curl -fsS http://127.0.0.1:3000/readyz >/dev/null || t_fail "/readyz of the installed modfs serve"
if [ -n "${pid:-}" ]; then
	t_stop_modfs "$pid" "$T_TMP/serve.log"
	grep -q "serving store /var/cache/modfs on http://127.0.0.1:3000" "$T_TMP/serve.log" ||
		t_fail "the installed modfs did not use its default store: $(cat "$T_TMP/serve.log")"
fi
