# SPDX-License-Identifier: MIT
#
# Functions shared by the access scripts (private modules, auth, allow/deny), sourced after
# tests/integration/lib.sh:
#   a_enter_netns "$@"      first thing in a script, before lib.sh: re-runs the script in new
#                           mount and network namespaces (unshare -mn) with the loopback up, so
#                           it may bind ports 80/443 and map a host name in /etc/hosts (a
#                           bind mount over it, private to the namespace) and leaves nothing
#                           behind on the host; skips when namespaces cannot be made
#   a_map_host NAME...      NAME -> 127.0.0.1 in the namespace's /etc/hosts
#   a_make_ca NAME...       a throwaway CA and a server certificate for the names (and
#                           127.0.0.1): sets A_CA, A_CERT, A_KEY
#   a_git_repo              a git repository private.example/lib with tags v1.0.0 and v1.2.0 and
#                           one untagged commit after them, and public.example/tool (tag v0.1.0):
#                           sets A_REPOS (the bare repositories' root), A_HEAD (the untagged commit)
#   a_start_git_server USER PASSWORD
#                           nginx on private.example and public.example: https :443 serves the
#                           go-get meta pages,
#                           http :80 serves the repositories through git-http-backend (fcgiwrap)
#                           behind Basic auth for USER/PASSWORD; sets A_GIT_LOG (access log)
#   a_service_home DIR PASSWORD
#                           a HOME for modfs, as a service account has one: .netrc with
#                           alice/PASSWORD for private.example, git config that sends
#                           https://private.example/git/ to the http port

a_enter_netns() {
	if [ -z "${MODFS_IN_NETNS:-}" ]; then
		command -v unshare >/dev/null 2>&1 || { echo "SKIP: unshare is not installed" >&2; exit 77; }
		unshare -mn true 2>/dev/null || { echo "SKIP: cannot create mount and network namespaces" >&2; exit 77; }
		MODFS_IN_NETNS=1 exec unshare -mn "$0" "$@"
	fi
	ip link set lo up
}

a_map_host() {
	local hosts="$T_TMP/hosts"
	if [ ! -f "$hosts" ]; then
		printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >"$hosts"
		mount --bind "$hosts" /etc/hosts
	fi
	printf '127.0.0.1 %s\n' "$@" >>"$hosts"
}

a_make_ca() {
	t_make_ca ca "$@"
	A_CA=$T_CA
	A_CERT=$T_CERT
	A_KEY=$T_KEY
}

a_git_repo() {
	local src
	src=$(t_tmpdir git-src)
	A_REPOS=$(t_tmpdir git)
	(
		cd "$src"
		export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
		export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@private.example GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@private.example
		git init -q -b main .
		printf 'module private.example/lib\n\ngo 1.17\n' >go.mod
		printf 'package lib\n\nconst Version = "v1.0.0"\n' >lib.go
		git add . && git commit -qm "v1.0.0" && git tag v1.0.0
		sed -i 's/v1.0.0/v1.2.0/' lib.go && git commit -qam "v1.2.0" && git tag v1.2.0
		sed -i 's/v1.2.0/untagged/' lib.go && git commit -qam "after v1.2.0"
		git clone -q --bare . "$A_REPOS/lib.git"
		mkdir ../tool && cd ../tool
		git init -q -b main .
		printf 'module public.example/tool\n\ngo 1.17\n' >go.mod
		printf 'package tool\n' >tool.go
		git add . && git commit -qm "v0.1.0" && git tag v0.1.0
		git clone -q --bare . "$A_REPOS/tool.git"
	)
	A_HEAD=$(git -C "$A_REPOS/lib.git" rev-parse HEAD)
}

a_start_git_server() {
	local user=$1 password=$2 pfx
	pfx=$(t_tmpdir git-server)
	printf '%s:%s\n' "$user" "$(openssl passwd -apr1 "$password")" >"$pfx/htpasswd"
	fcgiwrap -s "unix:$pfx/fcgi.sock" >"$pfx/fcgiwrap.log" 2>&1 &
	t_on_exit "kill $!; wait $!"
	A_GIT_LOG="$pfx/access.log"
	cat >"$pfx/nginx.conf" <<NGINX
user root;
daemon off;
worker_processes 1;
pid $pfx/nginx.pid;
error_log $pfx/error.log warn;
events { worker_connections 256; }
http {
    access_log $A_GIT_LOG;
    client_body_temp_path $pfx/body;
    fastcgi_temp_path $pfx/fastcgi;
    proxy_temp_path $pfx/proxy;
    uwsgi_temp_path $pfx/uwsgi;
    scgi_temp_path $pfx/scgi;
    server {
        listen 127.0.0.1:443 ssl;
        server_name private.example public.example;
        ssl_certificate $A_CERT;
        ssl_certificate_key $A_KEY;
        location = /lib {
            default_type text/html;
            return 200 '<html><head><meta name="go-import" content="private.example/lib git https://private.example/git/lib.git"></head></html>\n';
        }
        location = /tool {
            default_type text/html;
            return 200 '<html><head><meta name="go-import" content="public.example/tool git https://private.example/git/tool.git"></head></html>\n';
        }
    }
    server {
        listen 127.0.0.1:80;
        server_name private.example;
        location ~ ^/git(/.*) {
            auth_basic "git";
            auth_basic_user_file $pfx/htpasswd;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
            fastcgi_param GIT_PROJECT_ROOT $A_REPOS;
            fastcgi_param GIT_HTTP_EXPORT_ALL 1;
            fastcgi_param PATH_INFO \$1;
            fastcgi_param REMOTE_USER \$remote_user;
            fastcgi_pass unix:$pfx/fcgi.sock;
        }
    }
}
NGINX
	nginx -c "$pfx/nginx.conf" -p "$pfx" 2>>"$pfx/error.log" &
	t_on_exit "kill $!; wait $!"
	t_wait_port 443
	t_wait_port 80
}

a_service_home() {
	local home=$1 password=$2
	mkdir -p "$home"
	printf 'machine private.example login alice password %s\n' "$password" >"$home/.netrc"
	chmod 600 "$home/.netrc"
	printf '[url "http://private.example/git/"]\n\tinsteadOf = https://private.example/git/\n' >"$home/.gitconfig"
}
