/* SPDX-License-Identifier: MIT */
/*
 * shared_i.h — what the files of cache/shared/ share and nothing outside it may include: the
 * pure parts (the URL, credentials, bucket layout, manifest, lease bodies, listings; each unit
 * tested and the parsers fuzzed), the S3 request machinery (s3.c) and the shared_t struct.
 */
#ifndef MODFS_SHARED_I_H
#define MODFS_SHARED_I_H

#include <pthread.h>
#include <stdatomic.h>

#include "shared.h"

/* ---- hex (layout.c) ------------------------------------------------------------------------- */

/* n bytes as 2n lower-case hex digits and a NUL. */
void shared_hex(const uint8_t *p, size_t n, char *out);
/* 2n lower-case hex digits into n bytes: 0, or -EINVAL for anything else (upper case included:
 * one spelling per value, so a name or a manifest has one form). */
int shared_unhex(const char *s, size_t n, uint8_t *out);

/* ---- the URL (url.c) ------------------------------------------------------------------------
 * http(s)://HOST[:PORT]/BUCKET[/PREFIX]: path-style requests only (virtual-host style needs DNS
 * names per bucket, which a gateway on an address does not have). */

#define SHARED_BUCKET_MAX 63
#define SHARED_PREFIX_MAX 256

typedef struct shared_url {
    char endpoint[320]; /* "http://host:port", no slash at the end */
    char bucket[SHARED_BUCKET_MAX + 1];
    char prefix[SHARED_PREFIX_MAX + 2]; /* "" or "a/b/": ends in '/' */
    bool https;
} shared_url_t;

int shared_url_parse(const char *url, shared_url_t *out, cache_err_t *err);

/* ---- credentials (credentials.c) ------------------------------------------------------------ */

/* An AWS credentials file: `aws_access_key_id = ...` and `aws_secret_access_key = ...` before any
 * section or in [default]. *access and *secret are malloc'd (free the secret with
 * shared_secret_free). 0, -EINVAL with err (which never quotes a value), -ENOMEM. */
int shared_credentials_parse(const char *text, size_t len, const char *where, char **access, char **secret,
                             cache_err_t *err);
/* From path (NULL: $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY). */
int shared_credentials_load(const char *path, char **access, char **secret, cache_err_t *err);
/* Wipes and frees a secret. */
void shared_secret_free(char *secret);

/* ---- the bucket's layout (layout.c) ----------------------------------------------------------
 *   PREFIX manifests/KEY              the object's manifest (written last)
 *   PREFIX packs/KEY/SHA256           its bytes, named by their SHA-256 (written once)
 *   PREFIX leases/KEY/GENERATION      a lease on KEY (10 digits, so names sort as numbers)
 *   PREFIX gc-stamp                   when a front last collected garbage
 * Packs are grouped under their key so that bucket gc can tell, from two listings alone, the
 * packs of a key with a manifest and exactly one pack (the common case) from those worth reading
 * the manifest for. */

#define SHARED_KEY_MAX 1024

/* Whether key may name an object: 1 to SHARED_KEY_MAX bytes of A-Z a-z 0-9 and -._~!+@/, no empty,
 * "." or ".." segment, and a last segment that is neither 10 digits nor 64 hex digits (the names
 * of the layout would be ambiguous). */
bool shared_key_valid(const char *key, size_t len);

int shared_layout_manifest(const char *prefix, const char *key, buf_t *out);
int shared_layout_pack(const char *prefix, const char *key, const uint8_t sha256[32], buf_t *out);
int shared_layout_lease(const char *prefix, const char *key, uint32_t gen, buf_t *out);
/* PREFIX leases/KEY/ : what a listing of one key's leases asks for. */
int shared_layout_lease_dir(const char *prefix, const char *key, buf_t *out);

typedef enum shared_name_kind {
    SHARED_NAME_OTHER, /* not ours, or malformed: never deleted */
    SHARED_NAME_MANIFEST,
    SHARED_NAME_PACK,
    SHARED_NAME_LEASE,
} shared_name_kind_t;

typedef struct shared_name {
    shared_name_kind_t kind;
    const char *key; /* into the name parsed */
    size_t key_len;
    uint8_t sha256[32]; /* a pack's */
    uint32_t gen;       /* a lease's */
} shared_name_t;

/* Classifies an object name of the bucket (as a listing gives it). */
void shared_layout_parse(const char *prefix, const char *name, size_t len, shared_name_t *out);

/* AWS's URI encoding: everything but A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash) as %XX with
 * upper-case hex. libcurl signs the path and the query as they are sent, so they must already be
 * in this one canonical form. */
int shared_uri_encode(buf_t *out, const char *s, size_t len, bool keep_slash);

/* ---- the manifest (manifest.c) --------------------------------------------------------------- */

#define SHARED_MANIFEST_MAX (4u << 20)

typedef struct shared_manifest {
    char *key; /* malloc'd */
    shared_object_info_t info;
    uint8_t *data; /* the bytes of an object kept inside its manifest (info.size of them), or NULL */
    bool inline_data;
    uint32_t chunk_size;   /* of a packed object */
    uint8_t (*chunks)[32]; /* SHA-256 of each chunk, ceil(size / chunk_size) of them; malloc'd */
    size_t nchunks;
} shared_manifest_t;

/* The manifest of body[0..len) (inline when len <= SHARED_INLINE_MAX; else chunk hashes
 * computed here). 0, -ENOMEM, -EINVAL (a bad key or h1). */
int shared_manifest_build(const char *key, const uint8_t *body, size_t len, const shared_object_info_t *info,
                          shared_manifest_t *m);
int shared_manifest_encode(const shared_manifest_t *m, buf_t *out);
/* Parses a manifest; anything but the exact form encode writes is -EBADMSG with err. m is
 * disposed on failure. */
int shared_manifest_decode(const uint8_t *p, size_t len, shared_manifest_t *m, cache_err_t *err);
void shared_manifest_dispose(shared_manifest_t *m);

/* ---- lease bodies (lease.c) ------------------------------------------------------------------ */

#define SHARED_HOLDER_MAX 160

/* "modfs-lease 1\nholder HOLDER\nttl SECONDS\n" */
int shared_lease_body_encode(const char *holder, unsigned ttl_s, buf_t *out);
int shared_lease_body_decode(const uint8_t *p, size_t len, char *holder, size_t cap, unsigned *ttl_s,
                             cache_err_t *err);
/* Whether a lease written (or renewed) at written_ms, by the object store's clock, is past its
 * lifetime ttl_s at now_ms (the same clock). */
bool shared_lease_expired(int64_t written_ms, int64_t now_ms, unsigned ttl_s);

/* ---- listings (listing.c) -------------------------------------------------------------------- */

typedef struct shared_list_entry {
    char *name;       /* malloc'd, entities decoded */
    int64_t mtime_ms; /* LastModified */
    uint64_t size;
} shared_list_entry_t;

typedef struct shared_list {
    shared_list_entry_t *v;
    size_t n, cap;
    bool truncated;   /* of the last page parsed */
    char *next_token; /* malloc'd; NULL when none */
} shared_list_t;

/* Adds the entries of one ListObjectsV2 answer to list and sets its truncated and next_token.
 * -EBADMSG (with err) for anything that is not such an answer. */
int shared_list_parse(const uint8_t *xml, size_t len, shared_list_t *list, cache_err_t *err);
void shared_list_dispose(shared_list_t *list);
/* "2026-11-29T17:51:15.146Z" (fraction optional) as ms since the epoch. 0 or -EINVAL. */
int shared_time_parse_iso(const char *s, size_t len, int64_t *ms);

/* ---- requests (s3.c) ------------------------------------------------------------------------- */

typedef struct s3_req {
    const char *method;  /* "GET", "PUT", "HEAD", "DELETE" */
    const char *name;    /* object name in the bucket, prefix included; NULL: the bucket */
    const char *query;   /* canonical query (sorted, encoded), no '?'; NULL: none */
    const uint8_t *body; /* PUT */
    size_t body_len;
    const uint8_t *body_sha256;    /* the body's SHA-256 when the caller knows it; NULL: computed */
    bool create_only;              /* If-None-Match: * */
    uint64_t range_off, range_len; /* a GET of bytes [off, off+len) when range_len > 0 */
    buf_t *out;                    /* the body of a 2xx answer; NULL: discarded */
    size_t out_max;                /* more than this is -EFBIG */
    bool after_cancel;             /* sent even after shared_cancel (a lease's release at shutdown) */
} s3_req_t;

typedef struct s3_resp {
    long status;
    int64_t date_ms;          /* the server's Date (ms, second resolution); 0 when absent */
    int64_t last_modified_ms; /* Last-Modified; 0 when absent */
    char code[64];            /* <Code> of an error answer */
} s3_resp_t;

/*
 * Sends one request and waits for the answer. 0 when the object store answered with a status
 * below 500 other than 403 (the caller reads rs->status); 5xx answers are tried again twice.
 * A tier failure (no answer, a stall longer than the timeout, 5xx after the retries, 403) is
 * -errno with err and starts the back-off (shared.h). -ECANCELED after shared_cancel; -EFBIG
 * when the body passes out_max.
 */
int shared_s3(shared_t *s, const s3_req_t *rq, s3_resp_t *rs, cache_err_t *err);

/* Every object whose name starts with prefix (all pages), appended to list. */
int shared_s3_list(shared_t *s, const char *prefix, shared_list_t *list, int64_t *date_ms, cache_err_t *err);

/* The milliseconds of CLOCK_MONOTONIC. */
int64_t shared_now_ms(void);
/* Sleeps ms unless shared_cancel comes first: 0, or -ECANCELED. */
int shared_sleep(shared_t *s, int64_t ms);

/* ---- the tier ---------------------------------------------------------------------------------- */

#define SHARED_IDLE_HANDLES 16

struct shared {
    shared_url_t url;
    char *shown; /* the URL for messages */
    char *access, *secret;
    char sigv4[96]; /* "aws:amz:REGION:s3" */
    char *ca_file;
    long timeout_ms;
    unsigned lease_s, gc_grace_s;
    char holder[SHARED_HOLDER_MAX]; /* "host pid nonce": whose leases these are */

    pthread_mutex_t pool_lock;       /* idle, nidle */
    void *idle[SHARED_IDLE_HANDLES]; /* CURL easy handles with their open connections */
    size_t nidle;

    atomic_bool cancelled;
    atomic_bool bucket_ready; /* the bucket was found or made (tried again until it is) */
    bool curl_inited;
    pthread_mutex_t wake_lock; /* wake_cv: shared_cancel and shared_close wake sleepers */
    pthread_cond_t wake_cv;

    pthread_mutex_t down_lock; /* the fields below */
    bool down;
    int64_t down_until_ms; /* monotonic; a call after it probes the store */
    char down_why[sizeof((cache_err_t *)0)->msg];

    /* figures: relaxed atomics, bumped by any thread */
    atomic_uint_fast64_t requests, errors, bytes_read, bytes_written, objects_read, objects_written, damaged,
        lease_waits, lease_takeovers, gc_runs, gc_deleted, gc_deleted_bytes;

    /* leases held, renewed by the keeper thread (lease.c) */
    pthread_mutex_t lease_lock; /* held, keeper_stop; keeper_cv signals keeper_stop */
    pthread_cond_t keeper_cv;
    struct shared_lease *held;
    bool keeper_stop, keeper_started;
    pthread_t keeper;
};

/* shared.c: makes sure the bucket exists, once: 0, or -errno with err. Called before the first
 * request of every operation (cheap once it succeeded). */
int shared_bucket_ready(shared_t *s, cache_err_t *err);

/* lease.c: the renewal thread, started by shared_open and stopped by shared_close. */
int shared_lease_keeper_start(shared_t *s);
void shared_lease_keeper_stop(shared_t *s);

#endif
