/* SPDX-License-Identifier: MIT */
/*
 * options.c — flags to configuration. Defaults: cache dir $XDG_CACHE_HOME/modfs (else
 * ~/.cache/modfs), upstream https://proxy.golang.org, list TTL 60 s, not-found TTL 60 s,
 * checksum database sum.golang.org.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

enum {
    O_CACHE_DIR = 1000,
    O_UPSTREAM,
    O_CA_FILE,
    O_LIST_TTL,
    O_NOTFOUND_TTL,
    O_TIMEOUT,
    O_RETRIES,
    O_SUMDB,
    O_NOSUMDB,
    O_LISTEN,
    O_TLS_LISTEN,
    O_TLS_CERT,
    O_TLS_KEY,
    O_THREADS,
    O_MOUNT,
    O_ALLOW_OTHER,
    O_FUSE_THREADS,
    O_FUSE_DEBUG,
    O_LOG_LEVEL,
    O_HELP,
};

typedef struct option_doc {
    struct option opt;
    unsigned group; /* 0: every command */
    const char *arg;
    const char *help;
} option_doc_t;

static const option_doc_t docs[] = {
    {{"cache-dir", required_argument, NULL, O_CACHE_DIR}, OPT_STORE, "DIR",
     "the store (default $XDG_CACHE_HOME/modfs, else ~/.cache/modfs)"},
    {{"upstream", required_argument, NULL, O_UPSTREAM}, OPT_UPSTREAM, "LIST",
     "GOPROXY-style list: URL1,URL2 moves on after 404/410, URL1|URL2 after any error, off "
     "(default " CACHE_DEFAULT_UPSTREAM ")"},
    {{"ca-file", required_argument, NULL, O_CA_FILE}, OPT_UPSTREAM, "FILE",
     "PEM CA bundle to verify the upstream with (e.g. another modfs's CA)"},
    {{"list-ttl", required_argument, NULL, O_LIST_TTL}, OPT_UPSTREAM, "SECONDS",
     "how long list and @latest stay fresh (default 60)"},
    {{"notfound-ttl", required_argument, NULL, O_NOTFOUND_TTL}, OPT_UPSTREAM, "SECONDS",
     "how long a 404/410 from upstream is remembered (default 60)"},
    {{"timeout", required_argument, NULL, O_TIMEOUT}, OPT_UPSTREAM, "SECONDS",
     "upper bound of one upstream request (default 300)"},
    {{"retries", required_argument, NULL, O_RETRIES}, OPT_UPSTREAM, "N",
     "extra attempts after a transient upstream error (default 2)"},
    {{"sumdb", required_argument, NULL, O_SUMDB}, OPT_UPSTREAM, "'NAME+KEY [URL]'",
     "checksum database, GOSUMDB syntax; repeatable: each is served under /sumdb/NAME/, the first "
     "proves every .mod and .zip before it is stored (default " CACHE_DEFAULT_SUMDB "; off: none)"},
    {{"nosumdb", required_argument, NULL, O_NOSUMDB}, OPT_UPSTREAM, "PATTERNS",
     "modules not checked against the checksum database, GONOSUMDB/GOPRIVATE globs (a,b/*,*.c)"},
    {{"listen", required_argument, NULL, O_LISTEN}, OPT_HTTP, "ADDR:PORT",
     "serve GOPROXY over HTTP/1.1 and h2c, e.g. 127.0.0.1:3000 or [::1]:3000"},
    {{"tls-listen", required_argument, NULL, O_TLS_LISTEN}, OPT_HTTP, "ADDR:PORT",
     "serve GOPROXY over TLS (HTTP/2 via ALPN, and HTTP/1.1)"},
    {{"tls-cert", required_argument, NULL, O_TLS_CERT}, OPT_HTTP, "FILE", "PEM certificate chain for --tls-listen"},
    {{"tls-key", required_argument, NULL, O_TLS_KEY}, OPT_HTTP, "FILE", "PEM private key for --tls-listen"},
    {{"threads", required_argument, NULL, O_THREADS}, OPT_HTTP, "N", "HTTP event loops (default: one per core)"},
    {{"mount", required_argument, NULL, O_MOUNT}, OPT_FS, "DIR",
     "mount the store there in GOMODCACHE layout (use it as GOMODCACHE)"},
    {{"allow-other", no_argument, NULL, O_ALLOW_OTHER}, OPT_FS, NULL,
     "let users other than the one running modfs read the mount"},
    {{"fuse-threads", required_argument, NULL, O_FUSE_THREADS}, OPT_FS, "N",
     "most FUSE worker threads (default 64: lookups may wait on upstream)"},
    {{"fuse-debug", no_argument, NULL, O_FUSE_DEBUG}, OPT_FS, NULL, "print every FUSE request"},
    {{"log-level", required_argument, NULL, O_LOG_LEVEL}, 0, "LEVEL",
     "error, warn, info (one line per request) or debug (default warn)"},
    {{"help", no_argument, NULL, O_HELP}, 0, NULL, "show this help"},
};

#define NDOCS (sizeof docs / sizeof docs[0])

void die_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("modfs: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void options_print_help(const command_t *cmd, FILE *to)
{
    fprintf(to, "usage: modfs %s [options]%s%s\n\n%s\n", cmd->name, cmd->args[0] ? " " : "", cmd->args,
            cmd->summary);
    if (cmd->details)
        fprintf(to, "\n%s\n", cmd->details);
    fputs("\noptions:\n", to);
    for (size_t i = 0; i < NDOCS; i++) {
        if (docs[i].group != 0 && !(docs[i].group & cmd->opts))
            continue;
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", docs[i].opt.name, docs[i].arg ? " " : "",
                 docs[i].arg ? docs[i].arg : "");
        fprintf(to, "  %-24s %s\n", left, docs[i].help);
    }
}

static int parse_uint(const char *flag, const char *s, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != 0 || v > max || s[0] == '-') {
        die_msg("--%s: not a number from 0 to %u: %s", flag, max, s);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static char *default_cache_dir(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char buf[PATH_MAX];
    if (xdg && xdg[0] == '/')
        snprintf(buf, sizeof buf, "%s/modfs", xdg);
    else if (home && home[0])
        snprintf(buf, sizeof buf, "%s/.cache/modfs", home);
    else
        return NULL;
    return strdup(buf);
}

int options_parse(const command_t *cmd, int argc, char **argv, options_t *o)
{
    memset(o, 0, sizeof *o);
    cache_config_init(&o->cache);
    struct option longopts[NDOCS + 1];
    size_t n = 0;
    for (size_t i = 0; i < NDOCS; i++)
        if (docs[i].group == 0 || (docs[i].group & cmd->opts))
            longopts[n++] = docs[i].opt;
    memset(&longopts[n], 0, sizeof longopts[n]);
    optind = 1;
    opterr = 0;
    int c;
    unsigned v;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case O_CACHE_DIR:
            o->cache.dir = optarg;
            break;
        case O_UPSTREAM:
            o->cache.upstream = optarg;
            break;
        case O_CA_FILE:
            o->cache.ca_file = optarg;
            break;
        case O_LIST_TTL:
            if (parse_uint("list-ttl", optarg, 86400 * 365, &o->cache.list_ttl_s))
                return 1002;
            break;
        case O_NOTFOUND_TTL:
            if (parse_uint("notfound-ttl", optarg, 86400 * 365, &o->cache.notfound_ttl_s))
                return 1002;
            break;
        case O_TIMEOUT:
            if (parse_uint("timeout", optarg, 86400, &v))
                return 1002;
            o->cache.total_timeout_ms = (long)v * 1000;
            break;
        case O_RETRIES:
            if (parse_uint("retries", optarg, 100, &v))
                return 1002;
            o->cache.retries = (int)v;
            break;
        case O_SUMDB:
            if (o->nsumdb == OPTIONS_SUMDB_MAX) {
                die_msg("--sumdb: at most %d checksum databases", OPTIONS_SUMDB_MAX);
                return 1002;
            }
            o->sumdb[o->nsumdb++] = optarg;
            break;
        case O_NOSUMDB:
            o->cache.nosumdb = optarg;
            break;
        case O_LISTEN:
            o->http.listen = optarg;
            break;
        case O_TLS_LISTEN:
            o->http.tls_listen = optarg;
            break;
        case O_TLS_CERT:
            o->http.tls_cert = optarg;
            break;
        case O_TLS_KEY:
            o->http.tls_key = optarg;
            break;
        case O_THREADS:
            if (parse_uint("threads", optarg, 256, &v))
                return 1002;
            o->http.threads = (int)v;
            break;
        case O_MOUNT:
            o->fs.mountpoint = optarg;
            break;
        case O_ALLOW_OTHER:
            o->fs.allow_other = true;
            break;
        case O_FUSE_THREADS:
            if (parse_uint("fuse-threads", optarg, 1024, &v))
                return 1002;
            o->fs.max_threads = (int)v;
            break;
        case O_FUSE_DEBUG:
            o->fs.debug = true;
            break;
        case O_LOG_LEVEL: {
            modfs_log_level_t level;
            if (modfs_log_level_parse(optarg, &level) != 0) {
                die_msg("--log-level: expected error, warn, info or debug, not %s", optarg);
                return 1002;
            }
            modfs_log_set_level(level);
            break;
        }
        case 'h':
        case O_HELP:
            options_print_help(cmd, stdout);
            return 1000;
        default:
            if (optopt >= O_CACHE_DIR)
                die_msg("%s: option %s needs a value (see modfs %s --help)", cmd->name, argv[optind - 1], cmd->name);
            else
                die_msg("%s: unknown option %s (see modfs %s --help)", cmd->name, argv[optind - 1], cmd->name);
            return 1002;
        }
    }
    o->first_arg = optind;
    o->cache.sumdb = o->sumdb;
    o->cache.nsumdb = o->nsumdb;
    cache_err_t err = {0};
    if (cache_config_check(&o->cache, &err) != 0) {
        die_msg("%s", err.msg);
        return 1002;
    }
    if (o->cache.dir == NULL) {
        o->cache_dir_owned = default_cache_dir();
        if (o->cache_dir_owned == NULL) {
            die_msg("no --cache-dir given and neither XDG_CACHE_HOME nor HOME is set");
            return 1002;
        }
        o->cache.dir = o->cache_dir_owned;
    }
    return 0;
}

void options_dispose(options_t *o)
{
    free(o->cache_dir_owned);
    free((char *)o->write_dir_owned);
}
