"""A small HTTP/1.1 load generator, run as its own process by `bench.run`.

    python -m bench.loadgen --url http://127.0.0.1:8001/api/v1/skus/?size=100 \
        --header "Authorization: Token ..." --concurrency 8 --duration 10

It keeps `--concurrency` requests in flight on one asyncio loop, and prints one JSON
object: requests, requests/s, latency percentiles, the count of each status and the
client's own CPU use. By default each request has its own connection (`Connection:
close`); with `--keepalive` each of the `--concurrency` clients keeps one connection
open and sends its requests on it one after another (it reconnects when the server
closes it). A client near 100% CPU is the bottleneck, not the server: `--serve PORT`
starts a trivial server to measure that ceiling.

`--body-template` (and the URL's path and query) is a `string.Template`: `$seq` is a
number unique within the run and `$rand` a random integer in `--rand-min..--rand-max`
(zero-padded to `--rand-width` digits), so that each request can name a different
page, order or SKU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import string
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Target:
    """What one request looks like."""

    host: str
    port: int
    method: str
    path: str
    headers: list[str]
    body_template: string.Template | None = None
    rand_min: int = 1
    rand_max: int = 1
    rand_width: int = 0
    keepalive: bool = False

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        method: str = "GET",
        headers=(),
        body_template: str | None = None,
        rand_min: int = 1,
        rand_max: int = 1,
        rand_width: int = 0,
        keepalive: bool = False,
    ) -> Target:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 80,
            method=method.upper(),
            path=path,
            headers=list(headers),
            body_template=string.Template(body_template) if body_template else None,
            rand_min=rand_min,
            rand_max=rand_max,
            rand_width=rand_width,
            keepalive=keepalive,
        )

    def request_bytes(self, seq: int, rng: random.Random) -> bytes:
        rand = str(rng.randint(self.rand_min, self.rand_max)).zfill(self.rand_width)
        path = string.Template(self.path).substitute(seq=seq, rand=rand) if "$" in self.path else self.path
        lines = [
            f"{self.method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Connection: keep-alive" if self.keepalive else "Connection: close",
            "Accept: application/json",
            *self.headers,
        ]
        body = b""
        if self.body_template is not None:
            body = self.body_template.substitute(seq=seq, rand=rand).encode()
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Tally:
    """Latencies and status counts of the requests that finished inside the window."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, status: str, latency: float) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.latencies.append(latency)

    def add_error(self, exc: BaseException) -> None:
        name = type(exc).__name__
        self.errors[name] = self.errors.get(name, 0) + 1


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an already sorted list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), math.ceil(fraction * len(sorted_values) - 1e-9)))
    return sorted_values[rank - 1]


def summarize(tally: Tally, elapsed: float, cpu_seconds: float, *, raw: bool = False, sent: int | None = None) -> dict:
    """The JSON report of one run (`raw`: with every latency, to merge runs)."""
    lat = sorted(tally.latencies)
    ms = lambda v: None if v is None else round(v * 1000, 2)  # noqa: E731
    done = len(lat)
    return {
        "requests": done,
        "seconds": round(elapsed, 3),
        "rps": round(done / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": ms(percentile(lat, 0.50)),
        "p90_ms": ms(percentile(lat, 0.90)),
        "p99_ms": ms(percentile(lat, 0.99)),
        "max_ms": ms(lat[-1] if lat else None),
        "statuses": dict(sorted(tally.statuses.items())),
        "errors": tally.errors,
        "server_errors": sum(n for s, n in tally.statuses.items() if s.startswith("5")),
        "client_cpu_pct": round(100 * cpu_seconds / elapsed, 1) if elapsed > 0 else 0.0,
        **({"sent": sent} if sent is not None else {}),
        **({"latencies_ms": [round(v * 1000, 3) for v in lat]} if raw else {}),
    }


def merge(reports: list[dict]) -> dict:
    """One report out of several runs made with `raw`: totals, and percentiles over all latencies."""
    lat = sorted(v / 1000 for r in reports for v in r["latencies_ms"])
    tally = Tally(latencies=lat)
    for r in reports:
        for status, n in r["statuses"].items():
            tally.statuses[status] = tally.statuses.get(status, 0) + n
        for name, n in r["errors"].items():
            tally.errors[name] = tally.errors.get(name, 0) + n
    elapsed = sum(r["seconds"] for r in reports)
    cpu = sum(r["client_cpu_pct"] * r["seconds"] / 100 for r in reports)
    sent = sum(r["sent"] for r in reports) if all("sent" in r for r in reports) else None
    return summarize(tally, elapsed, cpu, sent=sent)


class _Exchange(asyncio.Protocol):
    """One request on its own connection: write it, collect the response until the server closes."""

    __slots__ = ("payload", "done", "chunks")

    def __init__(self, payload: bytes, done: asyncio.Future):
        self.payload = payload
        self.done = done
        self.chunks: list[bytes] = []

    def connection_made(self, transport) -> None:
        transport.write(self.payload)

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)

    def connection_lost(self, exc) -> None:
        if self.done.done():
            return
        head = self.chunks[0] if self.chunks else b""
        if exc is not None:
            self.done.set_exception(exc)
        elif not head.startswith(b"HTTP/1.") or len(head) < 12:
            self.done.set_exception(ConnectionError("no HTTP response"))
        else:
            self.done.set_result(head[9:12].decode())


class _KeptConnection(asyncio.Protocol):
    """One connection that carries requests one after another (HTTP/1.1 keep-alive).

    A response ends after `Content-Length` bytes of body, after its last chunk
    (`Transfer-Encoding: chunked`), or when the server closes the connection.
    """

    def __init__(self):
        self.transport = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False
        self.must_close = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._complete()

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            if self._complete(at_eof=True):
                return
            self.waiter.set_exception(exc or ConnectionError("connection closed before the response ended"))

    def exchange(self, payload: bytes) -> asyncio.Future:
        self.buffer.clear()
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return self.waiter

    def _complete(self, *, at_eof: bool = False) -> bool:
        waiter = self.waiter
        if waiter is None or waiter.done():
            return False
        buf = self.buffer
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(buf[:end]).decode("latin-1")
        if not head.startswith("HTTP/1.") or len(head) < 12:
            waiter.set_exception(ConnectionError("no HTTP response"))
            return True
        length, chunked = None, False
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.strip().lower() == "close":
                self.must_close = True
        body = end + 4
        if chunked:
            if not buf.endswith(b"0\r\n\r\n"):
                return False
        elif length is not None:
            if len(buf) - body < length:
                return False
        elif not at_eof:
            return False
        else:
            self.must_close = True
        waiter.set_result(head[9:12])
        return True


async def fetch_kept(target: Target, connection: list, payload: bytes, timeout: float) -> str:
    """Send one request on the client's kept connection (`connection[0]`, opened when missing)."""
    loop = asyncio.get_running_loop()
    conn = connection[0]
    if conn is None or conn.closed or conn.must_close:
        if conn is not None and conn.transport is not None:
            conn.transport.close()
        _, conn = await loop.create_connection(_KeptConnection, target.host, target.port)
        connection[0] = conn
    timer = loop.call_later(timeout, conn.transport.abort)
    try:
        return await conn.exchange(payload)
    except BaseException:
        conn.transport.abort()
        connection[0] = None
        raise
    finally:
        timer.cancel()


async def fetch(target: Target, payload: bytes, timeout: float) -> str:
    """Send one request and read the response to EOF; return its status code.

    A bare Protocol costs this client about a third less CPU per request than streams.
    """
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    transport, _ = await loop.create_connection(lambda: _Exchange(payload, done), target.host, target.port)
    # A timer rather than asyncio.wait_for, which costs a task per request.
    timer = loop.call_later(timeout, transport.abort)
    try:
        return await done
    finally:
        timer.cancel()
        transport.close()


async def drive(
    target: Target,
    *,
    concurrency: int,
    duration: float | None,
    requests: int | None,
    warmup: float,
    timeout: float,
    seed: int,
    raw: bool = False,
) -> dict:
    """Run the load and return the summary (the warm-up is not counted)."""
    rng = random.Random(seed)
    seq = iter(range(1, 1 << 62))
    tally = Tally()
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration if duration else None
    remaining = [requests] if requests else None
    sent = [0]

    async def worker() -> None:
        connection = [None]
        while True:
            now = time.perf_counter()
            if stop_at is not None and now >= stop_at:
                return
            if remaining is not None:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            payload = target.request_bytes(next(seq), rng)
            t0 = time.perf_counter()
            sent[0] += 1
            try:
                if target.keepalive:
                    status = await fetch_kept(target, connection, payload, timeout)
                else:
                    status = await fetch(target, payload, timeout)
            except (OSError, ConnectionError) as exc:
                if time.perf_counter() >= measure_from:
                    tally.add_error(exc)
                continue
            t1 = time.perf_counter()
            # Counted when it completes inside the window, as wrk does.
            if t1 >= measure_from and (stop_at is None or t1 <= stop_at):
                tally.add(status, t1 - t0)
        if connection[0] is not None and connection[0].transport is not None:
            connection[0].transport.close()

    await asyncio.sleep(0)
    cpu0 = sum(os.times()[:2])
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    end = time.perf_counter()
    cpu = sum(os.times()[:2]) - cpu0
    elapsed = (min(end, stop_at) if stop_at else end) - measure_from
    return summarize(tally, elapsed, cpu * (elapsed / max(end - start, 1e-9)), raw=raw, sent=sent[0])


async def serve_constant(port: int) -> None:
    """A do-nothing HTTP server: the ceiling of this client on this machine."""
    body = json.dumps({"status": "success", "data": [{"id": i} for i in range(100)]}).encode()
    head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n"
    close = head.format(len(body), "close").encode() + body
    keep = head.format(len(body), "keep-alive").encode() + body

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                kept = b"connection: keep-alive" in request.lower()
                writer.write(keep if kept else close)
                await writer.drain()
                if not kept:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="HTTP load generator for the benchmarks.")
    parser.add_argument("--url")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--body-template", help="string.Template with $seq and $rand")
    parser.add_argument("--rand-min", type=int, default=1)
    parser.add_argument("--rand-max", type=int, default=1)
    parser.add_argument("--rand-width", type=int, default=0, help="zero-pad $rand to this many digits")
    parser.add_argument("--keepalive", action="store_true", help="one kept connection per client")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, help="seconds to measure")
    parser.add_argument("--requests", type=int, help="stop after this many requests")
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds of load before measuring")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--raw", action="store_true", help="include every latency (to merge runs)")
    parser.add_argument("--serve", type=int, metavar="PORT", help="run the trivial server instead")
    args = parser.parse_args(argv)
    if args.serve is None and not args.url:
        parser.error("--url is required")
    if args.serve is None and not (args.duration or args.requests):
        parser.error("give --duration or --requests")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.serve is not None:
        try:
            asyncio.run(serve_constant(args.serve))
        except KeyboardInterrupt:
            pass
        return 0
    target = Target.from_url(
        args.url,
        method=args.method,
        headers=args.header,
        body_template=args.body_template,
        rand_min=args.rand_min,
        rand_max=args.rand_max,
        rand_width=args.rand_width,
        keepalive=args.keepalive,
    )
    report = asyncio.run(
        drive(
            target,
            concurrency=args.concurrency,
            duration=args.duration,
            requests=args.requests,
            warmup=args.warmup,
            timeout=args.timeout,
            seed=args.seed,
            raw=args.raw,
        )
    )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
