"""A small HTTP/1.1 load generator, run as its own process by `bench.run`.

    python -m bench.loadgen --url http://127.0.0.1:8001/api/v1/skus/?size=100 \
        --header "Authorization: Token ..." --concurrency 8 --duration 10

It keeps `--concurrency` requests in flight on one asyncio loop, one connection per
request (`Connection: close`: gunicorn's sync workers close after every response
anyway), and prints one JSON object: requests, requests/s, latency percentiles, the
count of each status and the client's own CPU use. A client near 100% CPU is the
bottleneck, not the server: `--serve PORT` starts a trivial server to measure that
ceiling.

`--body-template` is a `string.Template`: `$seq` is a number unique within the run
and `$rand` a random integer in `--rand-min..--rand-max`, so that each POST can name
a different order or SKU.
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

    @classmethod
    def from_url(cls, url: str, *, method: str = "GET", headers=(), body_template: str | None = None,
                 rand_min: int = 1, rand_max: int = 1) -> "Target":
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return cls(
            host=parts.hostname or "127.0.0.1", port=parts.port or 80, method=method.upper(), path=path,
            headers=list(headers), body_template=string.Template(body_template) if body_template else None,
            rand_min=rand_min, rand_max=rand_max,
        )

    def request_bytes(self, seq: int, rng: random.Random) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: close",
                 "Accept: application/json", *self.headers]
        body = b""
        if self.body_template is not None:
            body = self.body_template.substitute(seq=seq, rand=rng.randint(self.rand_min, self.rand_max)).encode()
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


def summarize(tally: Tally, elapsed: float, cpu_seconds: float, *, raw: bool = False) -> dict:
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
    return summarize(tally, elapsed, cpu)


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


async def drive(target: Target, *, concurrency: int, duration: float | None, requests: int | None,
                warmup: float, timeout: float, seed: int, raw: bool = False) -> dict:
    """Run the load and return the summary (the warm-up is not counted)."""
    rng = random.Random(seed)
    seq = iter(range(1, 1 << 62))
    tally = Tally()
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration if duration else None
    remaining = [requests] if requests else None

    async def worker() -> None:
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
            try:
                status = await fetch(target, payload, timeout)
            except (OSError, ConnectionError) as exc:
                if time.perf_counter() >= measure_from:
                    tally.add_error(exc)
                continue
            t1 = time.perf_counter()
            # Counted when it completes inside the window, as wrk does.
            if t1 >= measure_from and (stop_at is None or t1 <= stop_at):
                tally.add(status, t1 - t0)

    await asyncio.sleep(0)
    cpu0 = sum(os.times()[:2])
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    end = time.perf_counter()
    cpu = sum(os.times()[:2]) - cpu0
    elapsed = (min(end, stop_at) if stop_at else end) - measure_from
    return summarize(tally, elapsed, cpu * (elapsed / max(end - start, 1e-9)), raw=raw)


async def serve_constant(port: int) -> None:
    """A do-nothing HTTP server: the ceiling of this client on this machine."""
    body = json.dumps({"status": "success", "data": [{"id": i} for i in range(100)]}).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    response = head.encode() + body

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(response)
            await writer.drain()
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
    target = Target.from_url(args.url, method=args.method, headers=args.header, body_template=args.body_template,
                             rand_min=args.rand_min, rand_max=args.rand_max)
    report = asyncio.run(drive(target, concurrency=args.concurrency, duration=args.duration, requests=args.requests,
                               warmup=args.warmup, timeout=args.timeout, seed=args.seed, raw=args.raw))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
