#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A GOPROXY-shaped HTTP server for tests/unit/upstream/upstream.c.

Usage: upstream_server.py ROOT [--tls CERT KEY]
Binds 127.0.0.1 on a free port, prints the port on stdout, and exits when stdin reaches EOF
(so it never outlives the test that started it). The first path element selects a behaviour;
behaviours that wrap another take the rest of the path as the inner request, so they compose:
/flaky/2/t1/gzip/files/golang.org/x/text/@v/list.

  /files/<key>                 the file ROOT/<key> (percent-decoded), or 404 text/plain
  /echo/...                    200 with the request path exactly as received
  /big/<n>                     n bytes with Content-Length
  /status/<code>/...           <code> with a two-line text/plain body
  /stats/<path>                how many requests /<path> has had so far (text)
  /flaky/<n>/<tag>/<inner>     503 for the first n requests of this exact path, then <inner>
  /slow/<ms>/<inner>           sleeps, then <inner>
  /gzip/<inner>                <inner> gzip-encoded (406 when the client did not offer gzip)
  /chunked/<inner>             <inner> with chunked transfer encoding, no Content-Length
  /truncate/<inner>            Content-Length of <inner> but half of its body, then close
  /badchunk/...                a chunked body with an invalid chunk size
  /redirect/<inner>            302 to /<inner>
  /redirloop/...               302 to itself
  /redirto/<scheme>/<port>/<inner>  302 to <scheme>://127.0.0.1:<port>/<inner>
  /hang/...                    reads the request and never answers (until the client hangs up)
  /stall/<n>/<inner>           the head and the first n bytes of <inner>'s body, then silence
  /retryafter/<n>/<s>/<tag>/<inner>  503 with Retry-After: <s> for the first n requests of this
                               exact path, then <inner>
"""
import gzip
import http.server
import os
import ssl
import sys
import threading
import time
import urllib.parse

counts = {}
counts_lock = threading.Lock()


class Answer:
    def __init__(self, code, body, ctype="application/octet-stream", headers=None):
        self.code = code
        self.body = body
        self.ctype = ctype
        self.headers = headers or {}


def split(path):
    """'/a/b/c' -> ('a', '/b/c')"""
    rest = path[1:]
    head, _, tail = rest.partition("/")
    return head, "/" + tail


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."

    def log_message(self, fmt, *args):
        pass

    def answer(self, path):
        kind, rest = split(path)
        if kind == "files":
            name = urllib.parse.unquote(rest[1:])
            full = os.path.join(self.root, name)
            if ".." in name.split("/") or not os.path.isfile(full):
                return Answer(404, ("not found: %s\n" % name).encode(), "text/plain; charset=utf-8")
            with open(full, "rb") as f:
                return Answer(200, f.read())
        if kind == "echo":
            return Answer(200, self.path.encode(), "text/plain")
        if kind == "big":
            n = int(rest[1:])
            pattern = bytes(range(256))
            return Answer(200, (pattern * (n // 256 + 1))[:n])
        if kind == "status":
            code = int(split(rest)[0])
            body = "upstream test status %d for %s\nsecond line\n" % (code, path)
            return Answer(code, body.encode(), "text/plain; charset=utf-8")
        if kind == "stats":
            with counts_lock:
                n = counts.get(rest, 0)
            return Answer(200, str(n).encode(), "text/plain")
        if kind == "flaky":
            n, rest2 = split(rest)
            _, inner = split(rest2)
            with counts_lock:
                seen = counts.get(path, 0)
            if seen <= int(n):
                return Answer(503, b"flaky: try again\n", "text/plain")
            return self.answer(inner)
        if kind == "retryafter":
            n, rest2 = split(rest)
            secs, rest3 = split(rest2)
            _, inner = split(rest3)
            with counts_lock:
                seen = counts.get(path, 0)
            if seen <= int(n):
                return Answer(503, b"busy: come back later\n", "text/plain", {"Retry-After": secs})
            return self.answer(inner)
        if kind == "slow":
            ms, inner = split(rest)
            time.sleep(int(ms) / 1000.0)
            return self.answer(inner)
        if kind == "gzip":
            if "gzip" not in self.headers.get("Accept-Encoding", ""):
                return Answer(406, b"client did not offer gzip\n", "text/plain")
            a = self.answer(rest)
            a.body = gzip.compress(a.body)
            a.headers["Content-Encoding"] = "gzip"
            return a
        if kind == "redirect":
            return Answer(302, b"", headers={"Location": rest})
        if kind == "redirloop":
            return Answer(302, b"", headers={"Location": path})
        if kind == "redirto":
            scheme, rest2 = split(rest)
            port, inner = split(rest2)
            return Answer(302, b"", headers={"Location": "%s://127.0.0.1:%s%s" % (scheme, port, inner)})
        return Answer(404, b"unknown behaviour\n", "text/plain")

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        with counts_lock:
            counts[path] = counts.get(path, 0) + 1
        kind, rest = split(path)
        if kind == "hang":
            self.wait_for_hangup()
            return
        if kind == "badchunk":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"zz\r\nhello\r\n0\r\n\r\n")
            self.close_connection = True
            return
        mode = None
        if kind in ("chunked", "truncate"):
            mode = kind
            path = rest
        stall_after = None
        if kind == "stall":
            n, path = split(rest)
            stall_after = int(n)
        a = self.answer(path)
        self.send_response(a.code)
        self.send_header("Content-Type", a.ctype)
        for k, v in a.headers.items():
            self.send_header(k, v)
        if mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(a.body), 65536):
                part = a.body[i:i + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(a.body)))
        self.end_headers()
        if mode == "truncate":
            self.wfile.write(a.body[:len(a.body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if stall_after is not None:
            self.wfile.write(a.body[:stall_after])
            self.wfile.flush()
            self.wait_for_hangup()
            return
        self.wfile.write(a.body)

    def wait_for_hangup(self):
        self.close_connection = True
        try:
            while self.connection.recv(4096):
                pass
        except OSError:
            pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # A client that stops reading (a body over its limit, a timeout) is part of the tests.
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            super().handle_error(request, client_address)


def watch_stdin():
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    Handler.root = sys.argv[1]
    srv = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) == 5 and sys.argv[2] == "--tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=watch_stdin, daemon=True).start()
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
