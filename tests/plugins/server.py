"""A Docker plugin server for weft's tests: HTTP/1.1 on a unix socket, one handler per call.

Failures are injected per call from the command line: --fail CALL answers {"Err"/"Error": ...},
--garbage CALL answers bytes that are not JSON, --hang CALL never answers (for 60 s at most).
Every call is appended to --log as one JSON line, so tests can see what weft asked for.
"""

import argparse
import json
import os
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

HANG_LIMIT_SECONDS = 60


def parse_args(description, *extra):
    """The common flags, and `extra` ones (names of string flags)."""
    p = argparse.ArgumentParser(description=description)
    for flag in extra:
        p.add_argument(flag)
    p.add_argument("--socket", required=True)
    p.add_argument("--log")
    p.add_argument("--fail", action="append", default=[], metavar="CALL")
    p.add_argument("--garbage", action="append", default=[], metavar="CALL")
    p.add_argument("--hang", action="append", default=[], metavar="CALL")
    return p.parse_args()


class PluginError(Exception):
    """A refusal: answered as the protocol's error field."""


def serve(args, handlers, err_field):
    """Serve `handlers` ({"NetworkDriver.Join": fn(request) -> answer}) until killed."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def address_string(self):
            return "unix"

        def answer(self, status, body):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.docker.plugins.v1+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            call = self.path.lstrip("/")
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                request = json.loads(raw) if raw.strip() else {}
            except ValueError:
                request = {}
            if args.log:
                with lock, open(args.log, "a") as f:
                    f.write(json.dumps({"call": call, "request": request, "accept": self.headers.get("Accept")}) + "\n")
            if call in args.hang:
                time.sleep(HANG_LIMIT_SECONDS)
                return
            if call in args.garbage:
                self.answer(200, b"<html>this is not JSON</html>")
                return
            if call in args.fail:
                self.answer(200, {err_field: "test plugin refuses %s" % call})
                return
            fn = handlers.get(call)
            if fn is None:
                self.answer(404, {err_field: "no such call: %s" % call})
                return
            try:
                with lock:
                    body = fn(request)
            except PluginError as e:
                self.answer(200, {err_field: str(e)})
                return
            self.answer(200, body)

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

    if os.path.exists(args.socket):
        os.unlink(args.socket)
    os.makedirs(os.path.dirname(args.socket), exist_ok=True)
    server = Server(args.socket, Handler)
    sys.stdout.write("listening on %s\n" % args.socket)
    sys.stdout.flush()
    server.serve_forever()
