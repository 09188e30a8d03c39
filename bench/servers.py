"""Server set-ups side by side: the same requests against each, rounds taking turns.

    python -m bench.servers [--seconds 4] [--rounds 3] [--setups sync,gthread,granian]

On the database `bench.run` made (BENCH_DB, inventory_bench: run `python -m bench.run
--quick --only B2` once first), each set-up is served at once on its own free port, 4
workers (2 per core), and driven in turn by `bench.loadgen` with 32 kept connections:
the list (`page=random`), reserve 1 unit of the hot SKU, of random SKUs. Prints req/s,
p50/p99 and server CPU ms per request (from /proc) per set-up and endpoint, and writes
them to bench/.work/servers.json. A set-up is a server plus environment (`SETUPS`).
"""

import argparse
import json
import os
import sys
from contextlib import ExitStack

from bench import run as bench
from bench.datagen import HOT_SKU_ID, OVERSELL_SKU_ID

# name: (server, environment of the server); the rest is the product's defaults.
SETUPS = {
    "sync": ("gunicorn", {"GUNICORN_THREADS": "1"}),
    "sync-binding": ("gunicorn", {"GUNICORN_THREADS": "1", "DB_SERVER_SIDE_BINDING": "false"}),
    "sync+pool": ("gunicorn", {"GUNICORN_THREADS": "1", "DB_POOL_SIZE": "1"}),
    "gthread": ("gunicorn", {"GUNICORN_THREADS": "4"}),
    "gthread8": ("gunicorn", {"GUNICORN_THREADS": "8"}),
    "granian": ("granian", {"GUNICORN_THREADS": "4"}),
    "gthread+pool": ("gunicorn", {"GUNICORN_THREADS": "4", "DB_POOL_SIZE": "4"}),
    "gthread-binding": ("gunicorn", {"GUNICORN_THREADS": "4", "DB_SERVER_SIDE_BINDING": "false"}),
    "gthread+nocheck": ("gunicorn", {"GUNICORN_THREADS": "4", "CONN_HEALTH_CHECKS": "false"}),
}
RESERVE = "/api/v1/stock/reservations/"


def loads(skus: int) -> dict[str, dict]:
    """The three hot requests, as bench.run drives them against the peer."""
    return {
        "list": {"path": "/api/v1/skus/?size=100&page=$rand", "rand": bench.LIST_PAGES},
        "hot": {
            "path": RESERVE,
            "method": "POST",
            "rand": (HOT_SKU_ID, HOT_SKU_ID),
            "body_template": bench.RESERVE_BODY % ("SRV-HOT", f"SKU-{HOT_SKU_ID}"),
        },
        "random": {
            "path": RESERVE,
            "method": "POST",
            "rand": (OVERSELL_SKU_ID + 1, skus),
            "body_template": bench.RESERVE_BODY % ("SRV-RND", "SKU-$rand"),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--setups", default="sync,gthread,granian")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.setups.split(",")]
    bench.WORK.mkdir(parents=True, exist_ok=True)
    env = bench.server_environment(bench.DB_NAME, redis=bench.redis_reachable())
    bench.setup_django(env)
    from django.contrib.auth import get_user_model
    from django.db import connections
    from rest_framework.authtoken.models import Token

    from catalog.models import SKU

    user = get_user_model().objects.filter(is_superuser=True).first()
    if user is None:
        sys.exit(f"no superuser in {bench.DB_NAME}: run `python -m bench.run --quick --only B2` first")
    token, skus = Token.objects.get_or_create(user=user)[0].key, SKU.objects.count()
    connections.close_all()
    workers = 2 * (os.cpu_count() or 1)
    reports: dict[str, dict[str, list[dict]]] = {name: {load: [] for load in loads(skus)} for name in names}
    with ExitStack() as stack:
        servers = {}
        for name in names:
            server, extra = SETUPS[name]
            base, pgid = stack.enter_context(
                bench.gunicorn(
                    {**env, **extra}, workers=workers, server=server, log_path=bench.WORK / f"servers_{name}.log"
                )
            )
            servers[name] = bench.Server(name, base, token, pgid)
        for round_ in range(args.rounds):
            for load, spec in loads(skus).items():
                options = {key: value for key, value in spec.items() if key != "path"}
                for name in names:
                    reports[name][load].append(
                        bench.measured(
                            servers[name], spec["path"], concurrency=32, seconds=args.seconds, warmup=0.5, **options
                        )
                    )
            bench.log(f"round {round_ + 1} of {args.rounds} done, load {os.getloadavg()}")
    table = {
        name: {load: _summary(bench.merged_measured(runs)) for load, runs in by_load.items()}
        for name, by_load in reports.items()
    }
    (bench.WORK / "servers.json").write_text(json.dumps({"loadavg_end": os.getloadavg(), "setups": table}, indent=2))
    print(f"{'set-up':22} {'endpoint':7} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms':>7} statuses")
    for name, by_load in table.items():
        for load, row in by_load.items():
            print(
                f"{name:22} {load:7} {row['rps']:7.1f} {row['p50_ms']:7.1f} {row['p99_ms']:7.1f} "
                f"{row['cpu_ms']:7.2f} {row['statuses']}"
            )
    return 0


def _summary(report: dict) -> dict:
    return {
        "rps": report["rps"],
        "p50_ms": report["p50_ms"],
        "p99_ms": report["p99_ms"],
        "cpu_ms": report["server_cpu_ms_per_request"],
        "statuses": report["statuses"],
    }


if __name__ == "__main__":
    sys.exit(main())
