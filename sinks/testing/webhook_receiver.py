#!/usr/bin/env python3
"""A real HTTP/1.1 webhook receiver for faultline's sink tests (Python's http.server).

It records every request and answers as scripted, so tests can play a receiver that is slow,
failing, rate limiting or healthy:

  webhook_receiver.py [--port N] [--log FILE] [--script JSON]
    prints "PORT <n>" on stdout once it listens on 127.0.0.1; --log appends each recorded
    request as a JSON line (it outlives the process); --script is the answer script from the
    first request on (see POST /_script).

  POST /_script    {"responses": [{"status": 429, "retry_after": "2", "times": 3},
                                  {"status": 503, "seconds": 10},
                                  {"status": 200, "delay": 0.5}],
                    "default": {"status": 200}}
                   Responses are used in order: one `times` requests, or for `seconds` after
                   the first request it answered; then `default`. `delay` waits before answering.
  GET  /_requests  the recorded requests, a JSON array of
                   {"path", "headers" (lower-case names), "body", "client_port", "status", "time"}
  anything else    recorded and answered from the script.

Connections are kept alive (HTTP/1.1), so tests can see whether a client reuses them.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
requests = []
script = {"responses": [], "default": {"status": 200}}
current = {"index": 0, "used": 0, "started": None}
log_file = None


def next_response():
    with lock:
        responses = script["responses"]
        while current["index"] < len(responses):
            r = responses[current["index"]]
            if "times" in r and current["used"] < r["times"]:
                current["used"] += 1
                return r
            if "seconds" in r:
                if current["started"] is None:
                    current["started"] = time.monotonic()
                if time.monotonic() - current["started"] < r["seconds"]:
                    return r
            current["index"] += 1
            current["used"] = 0
            current["started"] = None
        return script["default"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_requests":
            with lock:
                body = json.dumps(requests).encode()
            self.reply(200, body, {"Content-Type": "application/json"})
        else:
            self.reply(404)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path == "/_script":
            global script
            with lock:
                script = json.loads(body)
                script.setdefault("responses", [])
                script.setdefault("default", {"status": 200})
                current.update(index=0, used=0, started=None)
            self.reply(204)
            return
        r = next_response()
        if r.get("delay"):
            time.sleep(r["delay"])
        record = {
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "client_port": self.client_address[1],
            "status": r["status"],
            "time": time.time(),
        }
        with lock:
            requests.append(record)
            if log_file:
                log_file.write(json.dumps(record) + "\n")
                log_file.flush()
        headers = {}
        if "retry_after" in r:
            headers["Retry-After"] = str(r["retry_after"])
        self.reply(r["status"], r.get("body", "").encode(), headers)


def main():
    global log_file
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log")
    parser.add_argument("--script")
    args = parser.parse_args()
    if args.script:
        script.update(json.loads(args.script))
    if args.log:
        log_file = open(args.log, "a")
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
