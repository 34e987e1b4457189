#!/usr/bin/env python3
"""A webhook receiver that checks every request with the Standard Webhooks
reference library (`pip install standardwebhooks`), for trying mannequin's
webhooks and for its tests.

    scripts/webhook-receiver.py --secret-file secret.txt --log received.jsonl

It listens on 127.0.0.1 (port 0 unless --port), prints `listening on PORT`,
and appends one JSON line per request to --log: the webhook id, the event type,
whether the signature verified, the status it answered and the body. The
secret is read from --secret-file at each request, so it can be written after
the endpoint is created. Each line also has `at`, the time it came. With --fail-first N it answers the first N requests
with 500, as a receiver that is down would; with --delay-ms N it takes N
milliseconds over each answer (after logging it), as a slow receiver would.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secret-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--delay-ms", type=int, default=0)
    args = parser.parse_args()

    lock = threading.Lock()
    seen = {"requests": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            with open(args.secret_file) as f:
                secret = f.read().strip()
            try:
                Webhook(secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
            with lock:
                seen["requests"] += 1
                failing = seen["requests"] <= args.fail_first
                status = 500 if failing else (204 if verified else 400)
                try:
                    event = json.loads(body)
                except ValueError:
                    event = None
                record = {
                    "at": time.time(),
                    "id": headers.get("webhook-id"),
                    "type": event.get("type") if isinstance(event, dict) else None,
                    "verified": verified,
                    "status": status,
                    "body": event,
                }
                with open(args.log, "a") as log:
                    log.write(json.dumps(record) + "\n")
            if args.delay_ms:
                time.sleep(args.delay_ms / 1000)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    class Server(ThreadingHTTPServer):
        # Senders open many connections at once; the default backlog of 5
        # would drop some and make them wait for a retransmission.
        request_queue_size = 256
        daemon_threads = True

    server = Server(("127.0.0.1", args.port), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
