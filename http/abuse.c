/* SPDX-License-Identifier: MIT */
/*
 * abuse.c — a per-client limit on abandoned responses (HTTP/2 "rapid reset").
 *
 * libh2o 2.2.5 predates CVE-2023-44487 and has no hook or limit for RST_STREAM: a client can open
 * a stream and reset it at once, over and over, staying under the concurrent-stream limit while
 * the server does the work of every request. Cache hits here are answered inside the HEADERS
 * frame's processing, so a reset costs no more than a completed request; what a reset can waste
 * is a streamed body or an upstream fetch. So every response the client abandons (a stopped
 * body generator, a fetch whose request died first) is counted per client (clients.c: its
 * address), and once a client abandons more than HTTP_ABUSE_LIMIT within HTTP_ABUSE_WINDOW_MS,
 * each connection on which it abandons another is cut: shutdown(2) on its socket makes h2o see
 * end-of-stream and close it through its normal path. Counting per connection, as before, let a
 * client reconnect before each limit. What a reset cannot waste any more (an upstream request
 * per distinct missing key) the miss budget bounds as well. Operators exposing modfs beyond a
 * trusted network should still put a current proxy in front.
 */
#include "http_i.h"

#include <sys/socket.h>

void http_abuse_note_abort(http_thread_t *t, h2o_req_t *req)
{
    /* HTTP/1.x cannot abandon a response without closing its connection. */
    if (req->version < 0x200 || req->conn == NULL)
        return;
    http_clients_t *cs = t->server->clients;
    http_client_id_t id;
    http_client_id_of(req, &id);
    uint64_t now = http_now_us() / 1000;
    http_client_t *c = http_clients_acquire(cs, &id, now);
    bool cut = http_clients_note_abort(cs, c, req->conn->id, now);
    http_clients_release(cs, c);
    if (!cut)
        return;
    h2o_socket_t *sock = req->conn->callbacks->get_socket != NULL ? req->conn->callbacks->get_socket(req->conn) : NULL;
    if (sock == NULL)
        return;
    LOG_W("closing connection %llu: its client abandoned over %d streams in %d s", (unsigned long long)req->conn->id,
          HTTP_ABUSE_LIMIT, HTTP_ABUSE_WINDOW_MS / 1000);
    HTTP_COUNT(t->metrics.conns_cut, 1);
    shutdown(h2o_socket_get_fd(sock), SHUT_RDWR);
}
