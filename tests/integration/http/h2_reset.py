#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A minimal HTTP/2 (h2c prior knowledge) client that abandons streams on purpose, for the
tests of what a server must survive. No HTTP/2 library is needed: frames and HPACK literals
are written by hand (requests use only literal header fields, which every decoder accepts).

  h2_reset.py [--from ADDR] PORT MODE ...   connect from ADDR (another loopback address is
                                  another client to the server)

  h2_reset.py PORT abort PATH     GET PATH, reset the stream (RST_STREAM CANCEL) after the first
                                  DATA frame, then GET /healthz on the same connection; prints
                                  "ok" when that answers 200 "ok\\n"
  h2_reset.py PORT rapid PATH N   open and at once reset N streams for PATH (the "rapid reset"
                                  pattern), then wait; prints "closed" when the server closes
                                  the connection (EOF or GOAWAY), "open" otherwise. "{n}" in
                                  PATH is replaced by a number unique to each stream, so that
                                  every stream asks for another key (distinct misses)
"""

import socket
import struct
import sys
import time

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
CANCEL = 0x8


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def literal(name, value):
    # literal header field without indexing, new name, no Huffman (RFC 7541 6.2.2)
    n, v = name.encode(), value.encode()
    assert len(n) < 127 and len(v) < 127
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


def get(stream, path, port):
    block = (literal(":method", "GET") + literal(":scheme", "http") + literal(":path", path) +
             literal(":authority", "127.0.0.1:%d" % port))
    return frame(HEADERS, END_STREAM | END_HEADERS, stream, block)


SOURCE = None


class Conn:
    def __init__(self, port):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                             source_address=(SOURCE, 0) if SOURCE else None)
        self.buf = b""
        # Streams keep the default 64 KiB window; the connection gets 16 MiB more, so bytes
        # parked in an abandoned stream never starve the next one.
        self.sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0) +
                          frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 24)))

    def read_frame(self):
        """Returns (type, flags, stream, payload), or None at EOF."""
        while True:
            if len(self.buf) >= 9:
                length = struct.unpack(">I", b"\0" + self.buf[:3])[0]
                if len(self.buf) >= 9 + length:
                    ftype, flags = self.buf[3], self.buf[4]
                    stream = struct.unpack(">I", self.buf[5:9])[0] & 0x7FFFFFFF
                    payload = self.buf[9:9 + length]
                    self.buf = self.buf[9 + length:]
                    if ftype == SETTINGS and not flags & ACK:
                        self.sock.sendall(frame(SETTINGS, ACK, 0))
                    if ftype == PING and not flags & ACK:
                        self.sock.sendall(frame(PING, ACK, 0, payload))
                    return ftype, flags, stream, payload
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk


def abort(port, path):
    c = Conn(port)
    c.sock.sendall(get(1, path, port))
    while True:
        f = c.read_frame()
        if f is None:
            sys.exit("connection closed before any data")
        if f[0] == DATA and f[2] == 1 and f[3]:
            break
    c.sock.sendall(frame(RST_STREAM, 0, 1, struct.pack(">I", CANCEL)) + get(3, "/healthz", port))
    status, body = None, b""
    while True:
        f = c.read_frame()
        if f is None:
            sys.exit("connection closed after the reset")
        ftype, flags, stream, payload = f
        if ftype == GOAWAY:
            sys.exit("GOAWAY after the reset")
        if stream != 3:
            continue
        if ftype == HEADERS:
            status = 200 if payload[:1] == b"\x88" else payload[:1].hex()
        elif ftype == DATA:
            body += payload
        elif ftype == RST_STREAM:
            sys.exit("/healthz was reset")
        if flags & END_STREAM:
            break
    if status != 200 or body != b"ok\n":
        sys.exit("healthz answered %r %r" % (status, body))
    print("ok")


def rapid(port, path, n):
    c = Conn(port)
    stream = 1
    base = int(time.time() * 1000) % 10**9 * 1000
    try:
        for i in range(n):
            p = path.replace("{n}", str(base + i))
            c.sock.sendall(get(stream, p, port) + frame(RST_STREAM, 0, stream, struct.pack(">I", CANCEL)))
            stream += 2
    except ConnectionError:
        # the server may cut the connection while the burst is still being sent
        print("closed")
        return
    c.sock.settimeout(0.5)
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            f = c.read_frame()
        except socket.timeout:
            continue
        except ConnectionError:
            print("closed")
            return
        if f is None or f[0] == GOAWAY:
            print("closed")
            return
    print("open")


def main():
    global SOURCE
    args = sys.argv[1:]
    if len(args) > 1 and args[0] == "--from":
        SOURCE = args[1]
        args = args[2:]
    port, mode = int(args[0]), args[1]
    if mode == "abort":
        abort(port, args[2])
    elif mode == "rapid":
        rapid(port, args[2], int(args[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
