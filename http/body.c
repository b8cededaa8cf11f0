/* SPDX-License-Identifier: MIT */
/*
 * body.c — streaming a large object (a zip on disk) as a response body.
 *
 * One buffer per response, refilled with cache_object_read each time h2o asks for more
 * (proceed), so memory stays flat however large the object is: h2o keeps a pointer into the
 * buffer until the next proceed, and never asks again before the bytes are gone. The state lives
 * in a shared block tied to the request's pool: whichever way the response ends (last chunk sent,
 * client reset, connection dropped), disposing the pool frees the buffer and drops the object
 * reference, exactly once.
 *
 * The reads run on the loop thread. A read is a page-cache hit once an object has been served,
 * and handing each chunk to another thread costs more than it saves here (measured in the
 * design notes); a cold multi-MiB read stalls the loop for a few milliseconds at most.
 *
 * A whole-object response of an object served before takes the object's bytes in memory instead
 * (cache_object_load_begin: read and checked once per open object, not per response): h2o is then
 * handed pointers into them, a large piece per proceed, with no buffer, no read and no checksum
 * per response. The object reference held by the body keeps those bytes alive until h2o is done.
 * The load itself (up to 32 MiB read and checked) never runs here: the loop only claims it, the
 * loader thread (loader.c) runs it, and this request waits for it, parked, while the loop serves
 * everyone else; requests of the same object meanwhile stream. Waiting keeps the rule that a
 * whole response from memory is checked before its status line: a damaged copy found by the load
 * is fetched again (http_respond_refetch), not sent as a 200 cut short.
 */
#include "http_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Most bytes of one read and one send. Each read asks the store for a span that ends on one of
 * its chunk boundaries (cache_object_span), so no chunk is read and checked twice; with room for
 * the largest chunk (256 KiB) that holds for every chunk. 256 KiB per response keeps syscalls
 * and TLS records amortised and a hundred concurrent downloads within 25 MiB. */
#define HTTP_BODY_CHUNK (256 * 1024)
/* Most bytes handed to h2o per proceed from an object in memory. Nothing is copied for it, but
 * h2o encrypts a whole piece at once on HTTP/1.1 over TLS: 1 MiB bounds that buffer per
 * connection and keeps proceed calls few. */
#define HTTP_BODY_MEM_PIECE (1024 * 1024)

struct http_body {
    h2o_generator_t super;
    cache_object_t *obj;   /* NULL until the first read succeeded */
    uint64_t off; /* next byte to read */
    uint64_t end; /* one past the last byte to send */
    const uint8_t *mem; /* the whole object in memory (cache_object_load), or NULL: read into buf */
    uint8_t *buf;
    size_t cap;
    size_t first_len; /* bytes of the first piece, read by http_body_prepare */
    bool finished; /* FINAL or ERROR was sent */
    /* while parked for a load (loader.c): what answering again needs if the load fails */
    modkey_t *key; /* a copy, owned */
    bool retried;
};

static void body_dispose(void *p)
{
    http_body_t *b = p;
    free(b->buf);
    free(b->key);
    if (b->obj != NULL)
        cache_object_unref(b->obj);
}

/* Hands h2o the next piece of an object in memory. */
static void body_send_mem(http_body_t *b, h2o_req_t *req)
{
    uint64_t left = b->end - b->off;
    size_t n = left < HTTP_BODY_MEM_PIECE ? (size_t)left : HTTP_BODY_MEM_PIECE;
    h2o_iovec_t iov = h2o_iovec_init(b->mem + b->off, n);
    b->off += n;
    h2o_send_state_t state = b->off == b->end ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS;
    if (state == H2O_SEND_STATE_FINAL)
        b->finished = true;
    h2o_send(req, &iov, 1, state);
}

/* Reads the next chunk and hands it to h2o (or the next piece in memory). */
static void body_send_next(http_body_t *b, h2o_req_t *req)
{
    if (b->mem != NULL) {
        body_send_mem(b, req);
        return;
    }
    uint64_t left = b->end - b->off;
    size_t max = left < b->cap ? (size_t)left : b->cap;
    size_t want = cache_object_span(b->obj, b->off, max);
    if (want == 0 || want > max)
        want = max;
    ssize_t n = cache_object_read(b->obj, b->buf, want, b->off);
    if (n != (ssize_t)want) {
        /* A short read here means the object changed size under us or a chunk failed its check;
         * either way the bytes promised by Content-Length cannot be delivered: abort the stream
         * so the client sees a broken transfer, not a silently truncated one. */
        http_thread_t *t = http_thread_of(req);
        HTTP_COUNT(t->metrics.read_errors, 1);
        char path[HTTP_LOG_PATH_MAX];
        http_log_path(req, path, sizeof path);
        LOG_W("reading %s at %llu: %s", path, (unsigned long long)b->off, n < 0 ? strerror((int)-n) : "short read");
        b->finished = true;
        h2o_send(req, NULL, 0, H2O_SEND_STATE_ERROR);
        return;
    }
    b->off += (uint64_t)n;
    h2o_iovec_t iov = h2o_iovec_init(b->buf, (size_t)n);
    h2o_send_state_t state = b->off == b->end ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS;
    if (state == H2O_SEND_STATE_FINAL)
        b->finished = true;
    h2o_send(req, &iov, 1, state);
}

static void body_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    http_body_t *b = H2O_STRUCT_FROM_MEMBER(http_body_t, super, g);
    body_send_next(b, req);
}

static void body_stop(h2o_generator_t *g, h2o_req_t *req)
{
    http_body_t *b = H2O_STRUCT_FROM_MEMBER(http_body_t, super, g);
    /* The client went away mid-body (stream reset, connection closed). Memory goes with the
     * pool; here we only count it and watch for connections that do this on purpose. */
    if (!b->finished) {
        http_thread_t *t = http_thread_of(req);
        HTTP_COUNT(t->metrics.aborted, 1);
        http_abuse_note_abort(t, req);
    }
}

/* Reads (and checks) the first piece of obj from b->off into a fresh buffer of the body. */
static int body_read_first(http_body_t *b, cache_object_t *obj)
{
    uint64_t len = b->end - b->off;
    b->cap = len < HTTP_BODY_CHUNK ? (size_t)len : HTTP_BODY_CHUNK;
    b->buf = malloc(b->cap);
    if (b->buf == NULL)
        return -ENOMEM;
    /* The first piece is read, and its chunks checked, before a status line goes out: a lost or
     * damaged object is then a retry (or an honest error status), never a 200 cut short. */
    size_t want = cache_object_span(obj, b->off, b->cap);
    if (want == 0 || want > b->cap)
        want = b->cap;
    ssize_t n = cache_object_read(obj, b->buf, want, b->off);
    if (n != (ssize_t)want)
        return n < 0 ? (int)n : -EIO;
    b->first_len = (size_t)n;
    return 0;
}

/* The load of a parked body is over (loader.c): answer from memory, fetch it again when the
 * load found it damaged, or stream it when the load could not be done (memory, shutdown). */
static void body_loaded(h2o_req_t *req, void *arg, int rc, slice_t whole)
{
    http_body_t *b = arg;
    if (rc == 0) {
        b->mem = whole.base;
        http_body_start(req, b);
        return;
    }
    if (rc != -EIO)
        rc = body_read_first(b, b->obj);
    if (rc == 0) {
        http_body_start(req, b);
        return;
    }
    cache_object_unref(b->obj);
    b->obj = NULL;
    http_respond_refetch(req, b->key, b->retried, rc);
}

int http_body_prepare(h2o_req_t *req, const modkey_t *key, cache_object_t *obj, uint64_t off, uint64_t len,
                      bool retried, http_body_t **out)
{
    http_body_t *b = h2o_mem_alloc_shared(&req->pool, sizeof *b, body_dispose);
    memset(b, 0, sizeof *b);
    b->super.proceed = body_proceed;
    b->super.stop = body_stop;
    b->off = off;
    b->end = off + len;
    cache_stat_t st;
    cache_object_stat(obj, &st);
    if (off == 0 && len == st.size) {
        slice_t whole;
        int rc = cache_object_load_begin(obj, &whole);
        if (rc == 0) {
            /* every byte was checked as it was loaded: nothing is read before the status line */
            b->mem = whole.base;
            b->obj = obj;
            *out = b;
            return 0;
        }
        if (rc == -EINPROGRESS) {
            /* worth loading, and this request claimed the load: it waits for the loader */
            b->key = modkey_dup(key);
            b->retried = retried;
            if (b->key != NULL &&
                http_loader_submit(http_thread_of(req), req, obj, body_loaded, b) == 0) {
                b->obj = obj;
                return -EINPROGRESS;
            }
            cache_object_load_cancel(obj); /* no room for it now: a later hit claims it again */
        }
        /* first whole read of this handle, too large, loading already, or no memory to spare:
         * stream it */
    }
    int rc = body_read_first(b, obj);
    if (rc != 0)
        return rc;
    b->obj = obj; /* from here on the body holds the reference: released with the pool */
    *out = b;
    return 0;
}

void http_body_start(h2o_req_t *req, http_body_t *b)
{
    h2o_start_response(req, &b->super);
    if (b->mem != NULL) {
        body_send_mem(b, req);
        return;
    }
    b->off += b->first_len;
    h2o_iovec_t iov = h2o_iovec_init(b->buf, b->first_len);
    h2o_send_state_t state = b->off == b->end ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS;
    if (state == H2O_SEND_STATE_FINAL)
        b->finished = true;
    h2o_send(req, &iov, 1, state);
}
