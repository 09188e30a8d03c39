"""The benchmark's settings (paths, databases, the server set-up, the peer), its phase lengths and its log."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).absolute().parent.parent
WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "results.json"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB", "inventory_bench")
IMPORT_DB_NAME = f"{DB_NAME}_import"
SETTINGS = "bench.settings"
REDIS_BENCH_URL = "redis://127.0.0.1:6379/15"
# The application server: gunicorn with the project's gunicorn.conf.py (production), or granian.
SERVER = os.environ.get("BENCH_SERVER", "gunicorn")
# Threads per worker: gunicorn.conf.py's (GUNICORN_THREADS, as shipped) unless BENCH_THREADS says otherwise.
THREADS = os.environ.get("BENCH_THREADS")
RESERVE_BODY = '{"reference": "B2-%s-$seq", "lines": [{"sku_code": "%s", "quantity": 1}]}'
# The seed's stack (FastAPI + SQLAlchemy async + asyncpg + uvicorn), served beside the project
# when the shared folder is there (../shared/peer from the repository's root).
PEER_DIR = Path(os.environ.get("BENCH_PEER_DIR", ROOT.parent / "shared" / "peer"))
PEER_DB = os.environ.get("BENCH_PEER_DB", "perf_peer")
PEER_HOT_SKU = "HOT-1"
PEER_SKUS = 100_000  # SKU-000001 .. SKU-100000 (serve.sh's default PEER_SKUS)
LIST_PAGES = (1, 100)  # `page=random`: uniformly one of the first 100 pages of 100 rows


@dataclass(frozen=True)
class Plan:
    """How long each phase runs: `rounds` x `seconds`, the figure and its baseline taking turns,
    so that a change of load on a shared machine hits both alike."""

    quick: bool
    seconds: float
    rounds: int
    warmup: float
    tree_requests: int
    oversell_requests: int
    ceiling_seconds: float
    import_rows: int | None

    @classmethod
    def for_mode(cls, quick: bool) -> Plan:
        if quick:
            return cls(
                quick=True,
                seconds=2,
                rounds=3,
                warmup=0.5,
                tree_requests=8,
                oversell_requests=200,
                ceiling_seconds=1,
                import_rows=20_000,
            )
        return cls(
            quick=False,
            seconds=5,
            rounds=3,
            warmup=1,
            tree_requests=40,
            oversell_requests=400,
            ceiling_seconds=4,
            import_rows=None,
        )


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
