#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A GOPROXY upstream that misbehaves on purpose, for the tests of what a store
must refuse. It serves the files of a GOPROXY tree like a static server, except
for the paths named in a rules file (JSON, keyed by the decoded request path):

  {"status": 500, "body": "text"}  answer with that status and a text/plain body
                    ("retry_after": N adds a Retry-After header)
  {"truncate": N}   announce the full Content-Length, send N bytes, hang up
  {"extra_length": N}  announce N bytes more than the file has, send it, hang up
  {"rate": B}       send the file at about B bytes per second (a trickle)
  {"hang": true}    read the request and never answer; the connection stays open
                    until the client closes it
  {"delay": S}      wait S seconds before answering, then answer as usual

A rule key ending in "*" applies to every path that starts with what precedes
it (the longest such prefix wins; an exact key wins over any prefix).

Each request is logged as "<method> <decoded path> <status> <bytes sent>", the
format the nginx upstream of tests/integration/lib.sh writes, so request
counting works the same on both. A hung request is logged when it arrives, with
the status "hang", and again with "gone" when its client closes.

usage: broken_upstream.py --root DIR --port N --log FILE [--rules FILE]
"""

import argparse
import http.server
import json
import os
import socket
import threading
import time
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "broken-upstream"

    def log_message(self, fmt, *args):
        pass

    def record(self, status, sent):
        with self.server.log_lock:
            self.server.log.write(f"{self.command} {self.decoded} {status} {sent}\n")
            self.server.log.flush()

    def rule(self):
        rules = self.server.rules
        if self.decoded in rules:
            return rules[self.decoded]
        best = None
        for key in rules:
            if key.endswith("*") and self.decoded.startswith(key[:-1]):
                if best is None or len(key) > len(best):
                    best = key
        return rules[best] if best is not None else {}

    def hang(self):
        self.record("hang", 0)
        self.close_connection = True
        try:
            while self.connection.recv(4096):
                pass
        except OSError:
            pass
        self.record("gone", 0)

    def do_GET(self):
        self.decoded = urllib.parse.unquote(self.path.split("?", 1)[0])
        rule = self.rule()
        if rule.get("hang"):
            self.hang()
            return
        if "delay" in rule:
            time.sleep(rule["delay"])
        if "status" in rule:
            body = rule.get("body", "error\n").encode()
            self.send_response(rule["status"])
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            if "retry_after" in rule:
                self.send_header("Retry-After", str(rule["retry_after"]))
            self.end_headers()
            self.wfile.write(body)
            self.record(rule["status"], len(body))
            return
        root = self.server.root
        # normpath, not realpath: the tests serve trees of symlinks (cp -rs)
        path = os.path.normpath(os.path.join(root, self.decoded.lstrip("/")))
        if not path.startswith(root + os.sep) or not os.path.isfile(path):
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.record(404, len(body))
            return
        with open(path, "rb") as f:
            data = f.read()
        length = len(data) + rule.get("extra_length", 0)
        send = data[: rule["truncate"]] if "truncate" in rule else data
        broken = "truncate" in rule or "extra_length" in rule
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        if broken:
            self.send_header("Connection", "close")
        self.end_headers()
        sent = 0
        rate = rule.get("rate")
        step = 64 * 1024
        try:
            while sent < len(send):
                piece = send[sent : sent + step]
                self.wfile.write(piece)
                sent += len(piece)
                if rate:
                    time.sleep(len(piece) / rate)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.record(200, sent)
        if broken:
            # Hang up without sending what Content-Length promised.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--rules")
    args = ap.parse_args()
    # a deep accept queue: the flood tests open many connections at once
    http.server.ThreadingHTTPServer.request_queue_size = 256
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.root = os.path.abspath(args.root)
    server.rules = {}
    if args.rules:
        with open(args.rules) as f:
            server.rules = json.load(f)
    server.log = open(args.log, "a")
    server.log_lock = threading.Lock()
    server.serve_forever()


if __name__ == "__main__":
    main()
