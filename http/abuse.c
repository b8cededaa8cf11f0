/* SPDX-License-Identifier: MIT */
/*
 * abuse.c — a per-connection limit on abandoned responses (HTTP/2 "rapid reset").
 *
 * libh2o 2.2.5 predates CVE-2023-44487 and has no hook or limit for RST_STREAM: a client can open
 * a stream and reset it at once, over and over, staying under the concurrent-stream limit while
 * the server does the work of every request. Cache hits here are answered inside the HEADERS
 * frame's processing, so a reset costs no more than a completed request; what a reset can waste
 * is a streamed body or an upstream fetch. So every response the client abandons (a stopped
 * body generator, a fetch whose request died first) is counted per connection, and a connection
 * that abandons more than HTTP_ABUSE_LIMIT within HTTP_ABUSE_WINDOW_MS is cut: shutdown(2) on its
 * socket makes h2o see end-of-stream and close it through its normal path. The table is a small
 * direct-mapped array per thread, so its memory is fixed; a collision only restarts a count.
 * Operators exposing modfs beyond a trusted network should still put a current proxy in front.
 */
#include "http_i.h"

#include <sys/socket.h>

#define HTTP_ABUSE_WINDOW_MS 10000
#define HTTP_ABUSE_LIMIT 200

void http_abuse_note_abort(http_thread_t *t, h2o_req_t *req)
{
    /* HTTP/1.x cannot abandon a response without closing its connection. */
    if (req->version < 0x200 || req->conn == NULL)
        return;
    uint64_t now = h2o_now(t->loop);
    http_abuse_slot_t *slot = &t->abuse[req->conn->id % HTTP_ABUSE_SLOTS];
    if (slot->conn_id != req->conn->id || now - slot->window_start_ms > HTTP_ABUSE_WINDOW_MS) {
        slot->conn_id = req->conn->id;
        slot->window_start_ms = now;
        slot->count = 0;
    }
    if (++slot->count != HTTP_ABUSE_LIMIT + 1)
        return;
    h2o_socket_t *sock = req->conn->callbacks->get_socket != NULL ? req->conn->callbacks->get_socket(req->conn) : NULL;
    if (sock == NULL)
        return;
    LOG_W("closing connection %llu: %u abandoned streams in %d s", (unsigned long long)req->conn->id,
          (unsigned)slot->count, HTTP_ABUSE_WINDOW_MS / 1000);
    HTTP_COUNT(t->metrics.conns_cut, 1);
    shutdown(h2o_socket_get_fd(sock), SHUT_RDWR);
}
