/* SPDX-License-Identifier: MIT */
/*
 * optable.c — every option of every modfs command, in one table.
 *
 * This is the only place an option is described: flags, environment variables, config-file keys,
 * --help, `modfs config` and the man pages are all generated from these rows (see options.h).
 * To add an option: add its field to options_t (or to the subsystem config it feeds), add one row
 * here, and read the field where it is used. Mark it OPTF_RELOAD only if the reload path in
 * cmd_serve.c applies it to a running server.
 */
#include <assert.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define F(field) offsetof(options_t, field)
#define YEAR_S (86400LL * 365)

#define FETCH_CMDS (CMD_SERVE | CMD_GET | CMD_WARM)
/* the commands that may talk to the shared tier: those that fetch, and gc (which collects it) */
#define S3_CMDS (FETCH_CMDS | CMD_GC)

/* The store's default place: systemd's CacheDirectory= for a service, else the XDG cache. */
static const char *default_cache_dir(char *buf, size_t cap)
{
    const char *sd = getenv("CACHE_DIRECTORY"); /* systemd may give several, ':'-separated */
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (sd != NULL && sd[0] == '/')
        snprintf(buf, cap, "%.*s", (int)strcspn(sd, ":"), sd);
    else if (xdg != NULL && xdg[0] == '/')
        snprintf(buf, cap, "%s/modfs", xdg);
    else if (home != NULL && home[0] != '\0')
        snprintf(buf, cap, "%s/.cache/modfs", home);
    else
        return NULL;
    return buf;
}

const option_spec_t option_table[] = {
    {.name = "config", .env = "MODFS_CONFIG", .arg = "FILE", .type = &opt_path, .offset = F(config),
     .cmds = CMD_ALL, .flags = OPTF_NOFILE,
     .help = "read options from FILE (key = value lines, keys named as the long options)",
     .doc = "Flags and environment variables override the file. The system service reads "
            "/etc/modfs/modfs.conf."},
    {.name = "cache-dir", .env = "MODFS_CACHE_DIR", .arg = "DIR", .type = &opt_path, .offset = F(cache.dir),
     .def_fn = default_cache_dir,
     .def_doc = "$CACHE_DIRECTORY (set by systemd), else $XDG_CACHE_HOME/modfs, else ~/.cache/modfs",
     .cmds = CMD_STORE, .help = "the store",
     .doc = "serve, get and warm create it when missing; stat, gc, verify and repair refuse a directory that holds no store."},
    {.name = "upstream", .env = "MODFS_UPSTREAM", .arg = "LIST", .type = &opt_upstream,
     .offset = F(cache.upstream), .def = CACHE_DEFAULT_UPSTREAM, .cmds = FETCH_CMDS | CMD_VERIFY,
     .help = "GOPROXY-style list: URL1,URL2 moves on after 404/410, URL1|URL2 after any error, off, direct",
     .doc = "A password in a URL (https://user:pass@host) is used but never printed: messages, logs "
            "and modfs config show it as xxxxx. off serves what the store holds and nothing else. direct "
            "runs the go command (see --go-command) against the module's version control system, with "
            "the service's own credentials (HOME's .netrc and git config, SSH_AUTH_SOCK), as GOPROXY=direct "
            "would; it ends the list like off."},
    {.name = "ca-file", .env = "MODFS_CA_FILE", .arg = "FILE", .type = &opt_path, .offset = F(cache.ca_file),
     .def_doc = "the system's CAs", .cmds = FETCH_CMDS | CMD_VERIFY,
     .help = "PEM CA bundle to verify the upstream with (e.g. another modfs's CA)"},
    {.name = "list-ttl", .env = "MODFS_LIST_TTL", .arg = "SECONDS", .type = &opt_uint,
     .offset = F(cache.list_ttl_s), .max = YEAR_S, .def = "60", .cmds = FETCH_CMDS, .flags = OPTF_RELOAD,
     .help = "how long list and @latest stay fresh"},
    {.name = "notfound-ttl", .env = "MODFS_NOTFOUND_TTL", .arg = "SECONDS", .type = &opt_uint,
     .offset = F(cache.notfound_ttl_s), .max = YEAR_S, .def = "60", .cmds = FETCH_CMDS, .flags = OPTF_RELOAD,
     .help = "how long a 404/410 from upstream is remembered"},
    {.name = "timeout", .env = "MODFS_TIMEOUT", .arg = "SECONDS", .type = &opt_seconds_ms,
     .offset = F(cache.total_timeout_ms), .max = 86400, .def = "300", .cmds = FETCH_CMDS,
     .help = "upper bound of one upstream request, even while its body still arrives; 0: the default",
     .doc = "The default lets the largest zip go allows (500 MiB) arrive at under 2 MB/s. A request "
            "that stalls fails much sooner: see --stall-timeout."},
    {.name = "connect-timeout", .env = "MODFS_CONNECT_TIMEOUT", .arg = "SECONDS", .type = &opt_seconds_ms,
     .offset = F(cache.connect_timeout_ms), .max = 3600, .def = "5", .cmds = FETCH_CMDS,
     .help = "upper bound of connecting to the upstream, TLS included; 0: the default"},
    {.name = "stall-timeout", .env = "MODFS_STALL_TIMEOUT", .arg = "SECONDS", .type = &opt_seconds_ms,
     .offset = F(cache.stall_timeout_ms), .max = 3600, .def = "15", .cmds = FETCH_CMDS,
     .help = "an upstream request fails when no answer comes, or its body moves under 1 KiB/s, this long; 0: the default",
     .doc = "A hung upstream then errors within seconds instead of after --timeout, while a slow body that "
            "keeps moving still completes."},
    {.name = "retries", .env = "MODFS_RETRIES", .arg = "N", .type = &opt_int, .offset = F(cache.retries),
     .max = 100, .def = "2", .cmds = FETCH_CMDS,
     .help = "extra attempts after a transient upstream error (refused, reset, timeout, 429, 5xx)",
     .doc = "A retry starts only within 8 s of the first attempt (a Retry-After from upstream is honoured "
            "when it fits), so with the default timeouts a hung upstream errors within 30 s."},
    {.name = "sumdb", .env = "MODFS_SUMDB", .arg = "'NAME+KEY [URL]'", .type = &opt_sumdbs, .offset = F(cache.sumdb),
     .def = CACHE_DEFAULT_SUMDB, .cmds = FETCH_CMDS | CMD_VERIFY, .flags = OPTF_REPEAT,
     .help = "checksum database in GOSUMDB syntax (a known name, NAME+KEY, NAME+KEY URL); off: none",
     .doc = "Every .mod and .zip from upstream is proven against the first one before it is stored, as the "
            "go command proves it (the signed tree head, the record's inclusion, the consistency of each "
            "newer head with the one kept in the store's sumdb/NAME/latest); a mismatch stores nothing and "
            "answers 502 (EIO on the mount) naming both hashes. Each database given (at most 16: the flag may "
            "be repeated, the environment and the file take a comma-separated list, so a URL holds no comma) "
            "is also served under /sumdb/NAME/. Without a URL a database is reached as go reaches it: through "
            "the first proxy of --upstream that serves it, else at https://NAME."},
    {.name = "nosumdb", .env = "MODFS_NOSUMDB", .arg = "GLOBS", .type = &opt_globs, .offset = F(cache.nosumdb),
     .cmds = FETCH_CMDS | CMD_VERIFY,
     .help = "modules never checked against the checksum database (GONOSUMDB syntax, comma-separated)",
     .doc = "--private modules are never checked either, and no lookup of one is sent to a database."},
    {.name = "private", .env = "MODFS_PRIVATE", .arg = "GLOBS", .type = &opt_globs,
     .offset = F(cache.private_patterns), .cmds = FETCH_CMDS | CMD_VERIFY, .flags = OPTF_RELOAD,
     .help = "private modules: fetched only by the go command, served over HTTP only to authenticated clients",
     .doc = "Comma-separated globs with GOPRIVATE's syntax and meaning (corp.example, *.corp.example/team). "
            "A private module is never asked of a proxy in --upstream, whatever the list says, and skips "
            "the public checksum database, as GONOSUMDB would make go do. The HTTP front serves it only "
            "to clients with good credentials from --auth-file, and refuses it (403) when there is no "
            "auth file; the mount serves it to its local users."},
    {.name = "allow", .env = "MODFS_ALLOW", .arg = "RULES", .type = &opt_rules, .offset = F(cache.allow),
     .cmds = FETCH_CMDS, .flags = OPTF_RELOAD | OPTF_REPEAT,
     .help = "serve only the modules these rules cover: GLOB or GLOB@OPVERSION (OP <, <=, >, >=, =), comma-separated",
     .doc = "GLOB has --private's syntax; a version range such as github.com/x/y@>=v1.4.2 limits a rule to "
            "those versions (list and @latest of the module stay answerable). With any allow rule, a module "
            "no allow rule covers is refused: 403 naming the reason over HTTP, absent (ENOENT) on the "
            "mount, and upstream is never asked."},
    {.name = "deny", .env = "MODFS_DENY", .arg = "RULES", .type = &opt_rules, .offset = F(cache.deny),
     .cmds = FETCH_CMDS, .flags = OPTF_RELOAD | OPTF_REPEAT,
     .help = "refuse the modules these rules cover (403 over HTTP, ENOENT on the mount); same syntax as --allow",
     .doc = "Deny wins over allow. A denied module is refused even when the store holds it, and upstream "
            "is never asked for it; the 403 names the rule. A version query (a branch, a commit) under a "
            "ranged deny rule is refused, as it may resolve into the range."},
    {.name = "go-command", .env = "MODFS_GO_COMMAND", .arg = "PATH", .type = &opt_path, .offset = F(cache.go_command),
     .def_doc = "go, looked up in $PATH", .cmds = FETCH_CMDS,
     .help = "the go command that fetches direct and private modules",
     .doc = "Each run gets a throwaway GOPATH under the store's tmp/ with GOPROXY=direct, GOFLAGS=-mod=mod, "
            "GOTOOLCHAIN=local; its own error text is the reason a client and the log see."},
    {.name = "direct-jobs", .env = "MODFS_DIRECT_JOBS", .arg = "N", .type = &opt_int, .offset = F(cache.direct_jobs),
     .min = 1, .max = 256, .def = "4", .cmds = FETCH_CMDS, .help = "go commands running at once"},
    {.name = "direct-timeout", .env = "MODFS_DIRECT_TIMEOUT", .arg = "SECONDS", .type = &opt_seconds_ms,
     .offset = F(cache.direct_timeout_ms), .min = 1, .max = 86400, .def = "300", .cmds = FETCH_CMDS,
     .help = "upper bound of one go command run; then it and its git processes are killed"},
    {.name = "max-size", .env = "MODFS_MAX_SIZE", .arg = "SIZE", .type = &opt_size, .offset = F(cache.max_size),
     .def = "0", .def_doc = "no limit", .cmds = FETCH_CMDS | CMD_GC | CMD_STAT,
     .help = "budget of the store's bytes on disk, e.g. 20G; 0: no limit",
     .doc = "Past it, the objects least worth keeping are evicted (what builds keep reading stays; a "
            "one-off scan such as go mod download all goes first) down to 90% of it, and their disk "
            "is given back. Evicted objects are fetched again on their next use. An object larger "
            "than the whole budget is refused. The store may pass the budget by about a pack "
            "(a sixteenth of it) between passes."},
    {.name = "s3", .env = "MODFS_S3", .arg = "URL", .type = &opt_s3url, .offset = F(cache.s3_url), .cmds = S3_CMDS,
     .help = "an S3 bucket shared with other modfs fronts: http(s)://HOST[:PORT]/BUCKET[/PREFIX]",
     .doc = "The bucket is the tier between this store and upstream: a miss here looks in the bucket before "
            "going upstream, and what one front fetches from upstream is written there, so that no other front "
            "fetches it again (a lease in the bucket keeps fronts from fetching one module at the same time). "
            "Only .info, .mod and .zip of canonical versions are shared. The bucket is created when missing. "
            "When the object store is down, hits of the local store are served as usual and misses go upstream "
            "unshared (see --s3-required). Credentials come from --s3-credentials or the environment, never "
            "from the URL."},
    {.name = "s3-region", .env = "MODFS_S3_REGION", .arg = "REGION", .type = &opt_string,
     .offset = F(cache.s3_region), .def = "us-east-1", .cmds = S3_CMDS,
     .help = "the region the bucket's requests are signed for (AWS Signature V4)"},
    {.name = "s3-credentials", .env = "MODFS_S3_CREDENTIALS", .arg = "FILE", .type = &opt_path,
     .offset = F(cache.s3_credentials), .def_doc = "$AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY", .cmds = S3_CMDS,
     .help = "AWS credentials file (aws_access_key_id, aws_secret_access_key)",
     .doc = "The keys are read from the file (before any section, or in [default]), else from the environment; "
            "they are never taken from the command line and never written to a message, a log or modfs config."},
    {.name = "s3-timeout", .env = "MODFS_S3_TIMEOUT", .arg = "SECONDS", .type = &opt_seconds_ms,
     .offset = F(cache.s3_timeout_ms), .min = 1, .max = 3600, .def = "10", .cmds = S3_CMDS,
     .help = "give up on the object store after this long without an answer or progress",
     .doc = "After a failure the shared tier is skipped for 5 s at a time until the store answers again, so a "
            "dead or hanging store costs one timeout, not one per miss."},
    {.name = "s3-required", .env = "MODFS_S3_REQUIRED", .type = &opt_bool, .offset = F(cache.s3_required),
     .def = "false", .cmds = FETCH_CMDS,
     .help = "when the object store is unreachable, fail misses rather than fetch them unshared",
     .doc = "For a farm that must fetch every module from upstream once: a miss then fails with an error that "
            "names the shared store (HTTP 503) until it answers again. Hits of the local store are served either "
            "way."},
    {.name = "s3-lease", .env = "MODFS_S3_LEASE", .arg = "SECONDS", .type = &opt_uint, .offset = F(cache.s3_lease_s),
     .min = 2, .max = 86400, .def = "30", .cmds = FETCH_CMDS,
     .help = "lifetime of a front's lease on a module it fetches (renewed while it fetches)",
     .doc = "A front that dies while fetching blocks the module for the other fronts for at most this long."},
    {.name = "s3-gc-grace", .env = "MODFS_S3_GC_GRACE", .arg = "SECONDS", .type = &opt_uint,
     .offset = F(cache.s3_gc_grace_s), .min = 1, .max = YEAR_S, .def = "3600", .cmds = S3_CMDS,
     .help = "bucket gc keeps bytes no object names yet for this long (a write in progress)"},
    {.name = "s3-gc-interval", .env = "MODFS_S3_GC_INTERVAL", .arg = "SECONDS", .type = &opt_uint,
     .offset = F(cache.s3_gc_interval_s), .max = YEAR_S, .def = "3600", .cmds = CMD_SERVE,
     .help = "collect the bucket's garbage once per interval, one front for all; 0: never",
     .doc = "Each front checks a stamp in the bucket once per interval and collects only when no front did "
            "within it. modfs gc with --s3 collects at once."},
    {.name = "listen", .env = "MODFS_LISTEN", .arg = "ADDR:PORT", .type = &opt_address, .offset = F(http.listen),
     .cmds = CMD_SERVE, .help = "serve GOPROXY over HTTP/1.1 and h2c, e.g. 127.0.0.1:3000 or [::1]:3000",
     .doc = "An empty host (:3000) listens on every address."},
    {.name = "tls-listen", .env = "MODFS_TLS_LISTEN", .arg = "ADDR:PORT", .type = &opt_address,
     .offset = F(http.tls_listen), .cmds = CMD_SERVE,
     .help = "serve GOPROXY over TLS (HTTP/2 via ALPN, and HTTP/1.1)"},
    {.name = "tls-cert", .env = "MODFS_TLS_CERT", .arg = "FILE", .type = &opt_path, .offset = F(http.tls_cert),
     .cmds = CMD_SERVE, .flags = OPTF_RELOAD, .help = "PEM certificate chain for --tls-listen",
     .doc = "SIGHUP reads the certificate and key again: new connections get the new ones, open ones "
            "keep theirs."},
    {.name = "tls-key", .env = "MODFS_TLS_KEY", .arg = "FILE", .type = &opt_path, .offset = F(http.tls_key),
     .cmds = CMD_SERVE, .flags = OPTF_RELOAD, .help = "PEM private key for --tls-listen"},
    {.name = "threads", .env = "MODFS_THREADS", .arg = "N", .type = &opt_int, .offset = F(http.threads),
     .max = 256, .def = "0", .cmds = CMD_SERVE, .help = "HTTP event loops; 0: one per core"},
    {.name = "miss-rate", .env = "MODFS_MISS_RATE", .arg = "N", .type = &opt_int, .offset = F(http.miss_rate),
     .max = 1000000, .def = "50", .cmds = CMD_SERVE, .flags = OPTF_RELOAD,
     .help = "misses (requests that must go upstream) per second per client beyond the burst; 0: no limit",
     .doc = "More get 429 with Retry-After, while other clients' misses still go through; hits are never "
            "limited. A client is its authenticated user (--auth-file), else its address (an IPv6 client "
            "by its /64). Each client may also have at most 256 misses waiting for upstream, and three "
            "quarters of the fetch workers at once."},
    {.name = "miss-burst", .env = "MODFS_MISS_BURST", .arg = "N", .type = &opt_int, .offset = F(http.miss_burst),
     .min = 1, .max = 1000000, .def = "500", .cmds = CMD_SERVE, .flags = OPTF_RELOAD,
     .help = "misses a client may make at once before --miss-rate applies",
     .doc = "The default takes the first wave of a cold go mod download of a large project."},
    {.name = "metrics-listen", .env = "MODFS_METRICS_LISTEN", .arg = "ADDR:PORT", .type = &opt_address,
     .offset = F(http.metrics_listen), .cmds = CMD_SERVE,
     .help = "serve /metrics, the status page and /healthz only (no GOPROXY) on this address, e.g. for a mount",
     .doc = "Over HTTP/1.1 and h2c. With --mount, /metrics (here and on --listen) also has the mount's "
            "figures: lookups, lazy fetches and their latency, reads and bytes, writes, errors by errno. "
            "--metrics-auth applies here too."},
    {.name = "status-page", .env = "MODFS_STATUS_PAGE", .type = &opt_bool, .offset = F(http.status_page),
     .def = "true", .cmds = CMD_SERVE, .flags = OPTF_RELOAD,
     .help = "answer / with an HTML status page (store against its budget, the last hour, slow and failing "
             "fetches, most requested modules)",
     .doc = "On --listen, --tls-listen and --metrics-listen, under the same rules as /metrics: open, or "
            "behind credentials with --metrics-auth or --auth-required. It shows nothing /metrics does not "
            "already tell, bar the names of public modules and keys; private module names are shown only to "
            "a reader who showed credentials. Plain HTML with inline SVG, nothing loaded from elsewhere; it "
            "refreshes itself every 10 s. --status-page=false answers / with 404."},
    {.name = "auth-file", .env = "MODFS_AUTH_FILE", .arg = "FILE", .type = &opt_path, .offset = F(http.auth_file),
     .cmds = CMD_SERVE, .flags = OPTF_RELOAD,
     .help = "users and tokens of the HTTP front: user:NAME:CRYPT-HASH and token:NAME:SHA256-HEX lines",
     .doc = "Hashes are yescrypt or bcrypt (mkpasswd -m yescrypt); clients send Basic credentials (go "
            "sends .netrc ones, over https only) or Authorization: Bearer TOKEN. With the file, private "
            "modules need credentials; a wrong one gets 401 and an address with too many failures 429. "
            "SIGHUP reads it again: a removed user is refused from the reload on."},
    {.name = "auth-required", .env = "MODFS_AUTH_REQUIRED", .type = &opt_bool, .offset = F(http.auth_required),
     .def = "false", .cmds = CMD_SERVE, .flags = OPTF_RELOAD,
     .help = "every HTTP request but /healthz and /readyz needs credentials (needs --auth-file)"},
    {.name = "metrics-auth", .env = "MODFS_METRICS_AUTH", .type = &opt_bool, .offset = F(http.metrics_auth),
     .def = "false", .cmds = CMD_SERVE, .flags = OPTF_RELOAD,
     .help = "/metrics and the status page need credentials (needs --auth-file; implied by --auth-required)"},
    {.name = "mount", .env = "MODFS_MOUNT", .arg = "DIR", .type = &opt_path, .offset = F(fs.mountpoint),
     .cmds = CMD_SERVE, .help = "mount the store there in GOMODCACHE layout (use it as GOMODCACHE)"},
    {.name = "allow-other", .env = "MODFS_ALLOW_OTHER", .type = &opt_bool, .offset = F(fs.allow_other),
     .def = "false", .cmds = CMD_SERVE,
     .help = "let other users (build users) use the mount, each with a private write area",
     .doc = "Each user sees the store read-only and immutable, and writes what the go command writes "
            "(lock files, its own downloads, cache/vcs, cache/download/sumdb) into a write area of their "
            "own in the store's gomodcache-rw/<uid>. As a user other than root this needs "
            "user_allow_other in /etc/fuse.conf."},
    {.name = "fuse-threads", .env = "MODFS_FUSE_THREADS", .arg = "N", .type = &opt_int,
     .offset = F(fs.max_threads), .max = 1024, .def = "64", .cmds = CMD_SERVE,
     .help = "most FUSE worker threads (lookups may wait on upstream); 0: the default"},
    {.name = "fuse-debug", .env = "MODFS_FUSE_DEBUG", .type = &opt_bool, .offset = F(fs.debug), .def = "false",
     .cmds = CMD_SERVE, .help = "print every FUSE request"},
    {.name = "jobs", .env = "MODFS_JOBS", .arg = "N", .type = &opt_uint, .offset = F(jobs), .min = 1, .max = 256,
     .def = "8", .cmds = CMD_WARM, .help = "module versions fetched in parallel"},
    {.name = "dry-run", .env = "MODFS_DRY_RUN", .type = &opt_bool, .offset = F(dry_run), .def = "false",
     .cmds = CMD_GC, .help = "say what collecting garbage would free; change nothing"},
    {.name = "heal", .env = "MODFS_HEAL", .type = &opt_bool, .offset = F(heal), .def = "true", .cmds = CMD_VERIFY,
     .help = "drop damaged chunks with the objects using them (fetched again on their next use)",
     .doc = "--heal=false only reports."},
    {.name = "sumdb-check", .env = "MODFS_SUMDB_CHECK", .type = &opt_bool, .offset = F(sumdb_check),
     .def = "false", .cmds = CMD_VERIFY,
     .help = "also check every stored .mod and .zip against the checksum database (--sumdb) again",
     .doc = "Modules exempt by --nosumdb or --private are skipped. Each one the database does not vouch for "
            "is listed and the exit status is 4; nothing is dropped. The database is reached as a fetch "
            "would reach it (--upstream)."},
    {.name = "log-level", .env = "MODFS_LOG_LEVEL", .arg = "LEVEL", .type = &opt_level, .offset = F(log_level),
     .def = "notice", .cmds = CMD_ALL, .flags = OPTF_RELOAD,
     .help = "error, warn, notice (start, reload, stop), info (a line per request) or debug"},
};

const size_t option_count = sizeof option_table / sizeof option_table[0];
static_assert(sizeof option_table / sizeof option_table[0] <= OPTION_MAX, "raise OPTION_MAX");
