"""The hot endpoints against the peer, both stacks up at once, driven back to back in rounds.

Each round drives every endpoint on this service, then on the peer (and, for the
reservations, pgbench: B2's baseline), one after the other: `list` (`GET
/api/v1/skus/?size=100&page=random`), `hot` (reserve 1 unit of one SKU) and `random` (1 unit
of a random SKU). A ratio is taken per round (this service's rate / the peer's, measured
seconds apart), and reported as the median with [min-max] over the rounds: a burst of load
from elsewhere on a shared machine moves one round's ratio, not the figure.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.config import (
    DB_NAME,
    LIST_PAGES,
    PEER_HOT_SKU,
    PEER_SKUS,
    RESERVE_BODY,
    Plan,
    log,
)
from bench.pgbench import pgbench
from bench.processes import Server, measured, merged_measured

RESERVE_PATH = "/api/v1/stock/reservations/"
P99_TARGET_MS = 300.0
# This service's rate / the peer's, at least (the median of the rounds).
TARGETS = {"list": 2.5, "hot": 2.0, "random": 1.5}


@dataclass(frozen=True)
class Load:
    """One endpoint as both stacks are driven: the request, and what the peer is sent instead."""

    name: str
    title: str
    path: str
    method: str = "GET"
    body: str | None = None
    rand: tuple[int, int] = (1, 1)
    peer_body: str | None = None
    peer_rand: tuple[int, int] = (1, 1)
    peer_rand_width: int = 0
    success: str = "200"

    def options(self, *, peer: bool) -> dict:
        options = {"method": self.method, "rand": self.peer_rand if peer else self.rand}
        body = self.peer_body if peer else self.body
        if body is not None:
            options["body_template"] = body
        if peer and self.peer_rand_width:
            options["rand_width"] = self.peer_rand_width
        return options


def loads(*, skus: int, hot: int, oversell: int, names: set[str]) -> list[Load]:
    """The endpoints compared, among `names` (list, hot, random)."""
    every = [
        Load("list", "list, page=random", "/api/v1/skus/?size=100&page=$rand", rand=LIST_PAGES, peer_rand=LIST_PAGES),
        Load(
            "hot",
            "reserve 1 unit, hot SKU",
            RESERVE_PATH,
            "POST",
            RESERVE_BODY % ("HOT", f"SKU-{hot}"),
            (hot, hot),
            RESERVE_BODY % ("HOT", PEER_HOT_SKU),
            (1, 1),
            success="201",
        ),
        Load(
            "random",
            "reserve 1 unit, random SKUs",
            RESERVE_PATH,
            "POST",
            RESERVE_BODY % ("RANDOM", "SKU-$rand"),
            (oversell + 1, skus),
            RESERVE_BODY % ("RANDOM", "SKU-$rand"),
            (1, PEER_SKUS),
            peer_rand_width=6,
            success="201",
        ),
    ]
    return [load for load in every if load.name in names]


def run_rounds(
    service: Server, peer: Server | None, plan: Plan, endpoints: list[Load], *, warehouse_id: int
) -> dict[str, dict[str, list[dict]]]:
    """`plan.rounds` rounds; in each, every endpoint on this service, on the peer, then (reservations)
    pgbench. Returns the reports of each endpoint, per stack, one per round."""
    runs: dict[str, dict[str, list[dict]]] = {
        load.name: {"service": [], "peer": [], "pgbench": []} for load in endpoints
    }
    for number in range(plan.rounds):
        for load in endpoints:
            kept = runs[load.name]
            kept["service"].append(
                measured(
                    service,
                    load.path,
                    concurrency=32,
                    seconds=plan.seconds,
                    warmup=plan.warmup,
                    **load.options(peer=False),
                )
            )
            if peer is not None:
                kept["peer"].append(
                    measured(
                        peer,
                        load.path,
                        concurrency=32,
                        seconds=plan.seconds,
                        warmup=plan.warmup,
                        **load.options(peer=True),
                    )
                )
            if load.method == "POST":
                kept["pgbench"].append(
                    pgbench(
                        DB_NAME,
                        clients=32,
                        seconds=plan.seconds,
                        sku_range=load.rand,
                        warehouse_id=warehouse_id,
                        label=f"{load.name}{number}",
                    )
                )
        log(
            f"round {number + 1} of {plan.rounds}: "
            + ", ".join(f"{load.name} {_round_text(runs[load.name], load, number)}" for load in endpoints)
        )
    return runs


def _round_text(kept: dict[str, list[dict]], load: Load, number: int) -> str:
    ours = kept["service"][number]
    theirs = kept["peer"][number] if kept["peer"] else None
    ratio = rate_ratio(ours, theirs, load.success)
    return f"{success_rate(ours, load.success)}/s (p99 {ours['p99_ms']} ms)" + (
        f" vs {success_rate(theirs, load.success)}/s = {ratio}x" if theirs else ""
    )


def success_rate(report: dict, success: str) -> float:
    """Answers with the expected status per measured second (errors and refusals are not throughput)."""
    return round(report["statuses"].get(success, 0) / report["seconds"], 1) if report["seconds"] else 0.0


def rate_ratio(ours: dict, theirs: dict | None, success: str) -> float | None:
    if theirs is None:
        return None
    other = success_rate(theirs, success)
    return round(success_rate(ours, success) / other, 3) if other else None


def spread(values: list[float | None]) -> dict | None:
    """Median with min and max of the rounds' values (None when a round has none)."""
    if not values or any(value is None for value in values):
        return None
    return {"median": round(statistics.median(values), 3), "min": min(values), "max": max(values), "rounds": values}


def server_errors(reports: list[dict]) -> int:
    return sum(report["server_errors"] + sum(report["errors"].values()) for report in reports)


def versus_entry(load: Load, kept: dict[str, list[dict]], *, oversold: int | None) -> dict:
    """One row of the side-by-side table: the ratio per round, p99 and 5xx of both, the targets."""
    ours = merged_measured(kept["service"])
    theirs = merged_measured(kept["peer"]) if kept["peer"] else None
    ratio = spread([rate_ratio(o, t, load.success) for o, t in zip(kept["service"], kept["peer"], strict=False)])
    errors, peer_errors = server_errors(kept["service"]), server_errors(kept["peer"]) if kept["peer"] else None
    statuses_ok = set(ours["statuses"]) == {load.success}
    p99_met = ours["p99_ms"] is not None and ours["p99_ms"] <= P99_TARGET_MS
    met = None
    if ratio is not None:
        met = (
            ratio["median"] >= TARGETS[load.name]
            and p99_met
            and errors == 0
            and statuses_ok
            and (oversold in (None, 0))
        )
    return {
        "bench": "PEER",
        "name": load.title,
        "endpoint": load.name,
        "path": load.path,
        "figure": success_rate(ours, load.success),
        "unit": f"{load.success}/s",
        "baseline": success_rate(theirs, load.success) if theirs else None,
        "baseline_name": "the seed's stack (FastAPI, ../shared/peer), same load, rounds taking turns",
        "ratio": ratio["median"] if ratio else None,
        "ratio_rounds": ratio,
        "target": f">= {TARGETS[load.name]}x, p99 <= {P99_TARGET_MS:.0f} ms, no 5xx"
        + (", no oversell" if load.method == "POST" else ""),
        "met": met,
        "ok": errors == 0 and statuses_ok and oversold in (None, 0),
        "p50_ms": ours["p50_ms"],
        "p99_ms": ours["p99_ms"],
        "peer_p50_ms": theirs["p50_ms"] if theirs else None,
        "peer_p99_ms": theirs["p99_ms"] if theirs else None,
        "server_errors": errors,
        "peer_server_errors": peer_errors,
        "statuses": ours["statuses"],
        "peer_statuses": theirs["statuses"] if theirs else None,
        "oversell": oversold,
        "cpu_ms_per_request": ours.get("server_cpu_ms_per_request"),
        "peer_cpu_ms_per_request": theirs.get("server_cpu_ms_per_request") if theirs else None,
        "db_cpu_ms_per_request": ours.get("db_cpu_ms_per_request"),
        "peer_db_cpu_ms_per_request": theirs.get("db_cpu_ms_per_request") if theirs else None,
        "p99_target_ms": P99_TARGET_MS,
        "p99_met": p99_met,
    }
