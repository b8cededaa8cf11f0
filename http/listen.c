/* SPDX-License-Identifier: MIT */
/*
 * listen.c — listening sockets and the accept path.
 *
 * One listening socket per address, bound before any thread starts so that "address in use"
 * comes back from http_server_start as an error. Each loop thread accepts on its own dup() of
 * it, registered with its own evloop: the kernel wakes the loops and whichever gets there first
 * takes the connection. On 2 cores this beat SO_REUSEPORT (whose hashing can pile connections
 * onto one busy loop) and is what h2o's own server does. Accepts are bounded per wake-up so a
 * burst of connections cannot starve the requests already on this loop.
 */
#include "http_i.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_ACCEPTS_PER_WAKEUP 16

/* Splits "host:port", "[v6]:port" or ":port" into host (maybe "") and port. */
static int split_addr(const char *addr, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    const char *h = addr;
    size_t hlen;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (close == NULL || close[1] != ':')
            return -EINVAL;
        h = addr + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL)
            return -EINVAL;
        hlen = (size_t)(colon - addr);
        if (memchr(addr, ':', hlen) != NULL)
            return -EINVAL; /* a bare IPv6 address needs brackets */
    }
    size_t plen = strlen(colon + 1);
    if (hlen >= hcap || plen == 0 || plen >= pcap)
        return -EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, colon + 1, plen + 1);
    return 0;
}

static int open_one(const struct addrinfo *ai, int *fd)
{
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0)
        return -errno;
    int on = 1, off = 0;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    /* accepted sockets inherit TCP_NODELAY: small responses must not wait for Nagle */
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (ai->ai_family == AF_INET6)
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    if (bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, H2O_SOMAXCONN) != 0) {
        int rc = -errno;
        close(s);
        return rc;
    }
    *fd = s;
    return 0;
}

/* Binds the first address host:port resolves to. Returns 0, or -errno, or -EINVAL with *gai set. */
static int open_host(const char *host, const char *port, int *fd, int *gai)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    *gai = getaddrinfo(host, port, &hints, &res);
    if (*gai != 0)
        return -EINVAL;
    int rc = -EADDRNOTAVAIL;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        rc = open_one(ai, fd);
        if (rc == 0)
            break;
    }
    freeaddrinfo(res);
    return rc;
}

int http_listen_open(const char *addr, int *fd, cache_err_t *err)
{
    char host[256], port[16];
    if (split_addr(addr, host, sizeof host, port, sizeof port) != 0)
        return cache_err_set(err, -EINVAL, "listen address %s: expected host:port, [v6]:port or :port", addr);

    int gai = 0, rc;
    if (host[0] == '\0') {
        /* every interface: "::" with V6ONLY off takes IPv4 too; IPv4 alone where IPv6 is off */
        rc = open_host("::", port, fd, &gai);
        if (rc != 0 && rc != -EADDRINUSE && rc != -EACCES)
            rc = open_host("0.0.0.0", port, fd, &gai);
    } else {
        rc = open_host(host, port, fd, &gai);
    }
    if (rc == -EINVAL && gai != 0)
        return cache_err_set(err, rc, "listen address %s: %s", addr, gai_strerror(gai));
    if (rc != 0)
        return cache_err_set(err, rc, "listen %s: %s", addr, strerror(-rc));
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    h2o_accept_ctx_t *actx = listener->data;
    for (int i = 0; i < HTTP_ACCEPTS_PER_WAKEUP; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            break;
        h2o_accept(actx, sock);
    }
}

int http_listen_attach(http_thread_t *t, int fd, h2o_accept_ctx_t *actx, h2o_socket_t **out)
{
    int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dupfd < 0)
        return -errno;
    h2o_socket_t *sock = h2o_evloop_socket_create(t->loop, dupfd, H2O_SOCKET_FLAG_DONT_READ);
    sock->data = actx;
    h2o_socket_read_start(sock, on_accept);
    *out = sock;
    return 0;
}
