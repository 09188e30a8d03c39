"""A webhook receiver on 127.0.0.1 for the tests: records what arrives, answers as told."""

import http.server
import threading
import time
from dataclasses import dataclass


@dataclass
class Received:
    headers: dict
    body: bytes
    at: float


@dataclass
class Behaviour:
    status: int = 200
    delay: float = 0.0


class Receiver:
    """`with Receiver() as r: ... r.url, r.received, r.behaviour.status = 500, r.down()`."""

    def __init__(self):
        self.behaviour = Behaviour()
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.requests = 0
        self._server = None
        self.port = None

    def _handler(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.in_flight += 1
                    receiver.requests += 1
                time.sleep(receiver.behaviour.delay)
                with receiver.lock:
                    receiver.in_flight -= 1
                status = receiver.behaviour.status
                if 200 <= status < 300:
                    with receiver.lock:
                        receiver.received.append(
                            Received({k.lower(): v for k, v in self.headers.items()}, body, time.time())
                        )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def up(self) -> "Receiver":
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port or 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def down(self) -> None:
        """Stop listening: connections are refused until `up()`."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def bodies(self) -> list[bytes]:
        with self.lock:
            return [r.body for r in self.received]

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc):
        self.down()


def wait_for(predicate, timeout: float = 30, interval: float = 0.1):
    """Poll until `predicate()` is truthy; return its value or raise after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(interval)
