"""The shape of one benchmark result and the table `make bench` prints."""

from __future__ import annotations


def make_entry(
    bench: str,
    name: str,
    figure: float | None,
    unit: str,
    baseline: float | None,
    baseline_name: str,
    *,
    target: float | None,
    ok: bool,
    lower_is_better: bool = False,
    target_text: str | None = None,
    **extra,
) -> dict:
    """One row of results.json.

    `ratio` is always "how close to the baseline": figure / baseline for throughputs,
    baseline / figure for times (`lower_is_better`). `met` compares it with `target`
    (a minimal ratio) when there is one; `ok` says the run was correct (no 5xx, no
    oversell, the expected statuses).
    """
    ratio = None
    if figure and baseline:
        ratio = round((baseline / figure) if lower_is_better else (figure / baseline), 3)
    met = None
    if target is not None:
        met = bool(ok and ratio is not None and ratio >= target)
    elif target_text is not None:
        met = ok
    return {
        "bench": bench,
        "name": name,
        "figure": figure,
        "unit": unit,
        "baseline": baseline,
        "baseline_name": baseline_name,
        "ratio": ratio,
        "target": target_text or (f">= {target:.0%} of baseline" if target is not None else None),
        "met": met,
        "ok": ok,
        **extra,
    }


def _num(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value >= 100:
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _queries(entry: dict) -> str:
    q = entry.get("queries") or {}
    parts = [f"{q[k]['queries']}" for k in ("size_10", "size_100", "request") if k in q]
    return "/".join(parts) if parts else "-"


def _app_cpu(entry: dict) -> str:
    q = (entry.get("queries") or {}).get("size_100") or (entry.get("queries") or {}).get("request") or {}
    return _num(q.get("app_cpu_ms"))


def format_table(results: dict) -> str:
    """A fixed-width table of the benchmarks, then the machine line.

    `queries` is per request at page size 10/100; `cpu ms` is the application's CPU per
    request at size 100, measured in-process.
    """
    header = [
        "bench",
        "what",
        "figure",
        "unit",
        "baseline",
        "ratio",
        "p50 ms",
        "p99 ms",
        "queries",
        "cpu ms",
        "target",
        "met",
    ]
    rows = [header]
    for e in results.get("benchmarks", []):
        if e["bench"] == "PEER":
            continue  # in the side-by-side table below
        met = {True: "yes", False: "NO", None: "-"}[e.get("met")]
        if not e.get("ok", True):
            met += " (errors)"
        rows.append(
            [
                e["bench"],
                e["name"],
                _num(e.get("figure")),
                e.get("unit", ""),
                _num(e.get("baseline")),
                f"{e['ratio']:.0%}" if e.get("ratio") is not None else "-",
                _num(e.get("p50_ms")),
                _num(e.get("p99_ms")),
                _queries(e),
                _app_cpu(e),
                e.get("target") or "-",
                met,
            ]
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    peer = format_peer_table(results)
    if peer:
        lines += ["", peer]
    machine = results.get("machine") or {}
    if machine:
        lines.append("")
        lines.append(
            f"{machine.get('nproc')} cores, {machine.get('memory_gb')} GB, Python {machine.get('python')}, "
            f"PostgreSQL {machine.get('postgres')}, commit {str(machine.get('git_commit'))[:10]}"
            f"{' (dirty)' if machine.get('git_dirty') else ''}, load at start {machine.get('loadavg_at_start')}"
        )
    ceiling = results.get("client_ceiling")
    if ceiling:
        lines.append(f"load generator ceiling (do-nothing server): {_num(ceiling.get('rps'))} req/s")
    cpu_ratios = [
        f"{e['name']} {e['app_cpu_ratio']:.0%}"
        for e in results.get("benchmarks", [])
        if e.get("app_cpu_ratio") is not None
    ]
    if cpu_ratios:
        lines.append("B1 ratio of application CPU per request (floor / endpoint, in-process): " + ", ".join(cpu_ratios))
    floor = ((results.get("details") or {}).get("queries") or {}).get("floor", {}).get("size_100")
    if floor:
        lines.append(
            f"floor endpoint: {floor['queries']} query, {_num(floor.get('app_cpu_ms'))} ms app CPU per request"
        )
    return "\n".join(lines)


def ratio_text(entry: dict) -> str:
    """`2.41x [2.36-2.51]`: the median of the rounds' ratios, their min and max."""
    rounds = entry.get("ratio_rounds")
    if rounds:
        return f"{rounds['median']:.2f}x [{rounds['min']:.2f}-{rounds['max']:.2f}]"
    return f"{entry['ratio']:.2f}x" if entry.get("ratio") is not None else "-"


def _peer_rows(results: dict) -> list[list[str]]:
    rows = []
    for e in results.get("benchmarks", []):
        if e["bench"] != "PEER":
            continue
        met = {True: "yes", False: "NO", None: "-"}[e.get("met")]
        if not e.get("ok", True):
            met += " (errors)"
        rows.append(
            [
                e.get("endpoint") or e["name"],
                ratio_text(e),
                _num(e.get("figure")),
                _num(e.get("baseline")),
                f"{_num(e.get('p99_ms'))} / {_num(e.get('peer_p99_ms'))}",
                f"{_num(e.get('server_errors'))} / {_num(e.get('peer_server_errors'))}",
                _num(e.get("oversell")),
                f"{_num(e.get('cpu_ms_per_request'))} / {_num(e.get('peer_cpu_ms_per_request'))}",
                e.get("target") or "-",
                met,
            ]
        )
    return rows


PEER_HEADER = [
    "vs the peer",
    "ratio, median [min-max] of rounds",
    "service/s",
    "peer/s",
    "p99 ms (service / peer)",
    "5xx (service / peer)",
    "oversold",
    "server CPU ms/req (service / peer)",
    "target",
    "met",
]


def format_peer_table(results: dict) -> str:
    """The side-by-side table with the seed's stack (../shared/peer), or the line saying it was skipped."""
    peer = results.get("peer")
    if peer is None:
        return ""
    if not peer.get("served"):
        return f"peer: not run ({peer.get('dir')} not served); no side-by-side figures"
    rows = [PEER_HEADER, *_peer_rows(results)]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(PEER_HEADER))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def format_markdown(results: dict) -> str:
    """The same figures as a Markdown table (for docs/performance.md)."""
    rows = [
        "| bench | what | figure | baseline | ratio | target | met | p50 / p99 ms"
        " | queries (size 10/100) | app CPU ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for e in results.get("benchmarks", []):
        if e["bench"] == "PEER":
            continue
        met = {True: "yes", False: "no", None: "-"}[e.get("met")]
        if not e.get("ok", True):
            met += " (errors)"
        ratio = f"{e['ratio']:.0%}" if e.get("ratio") is not None else "-"
        rows.append(
            f"| {e['bench']} | `{e['name']}` | {_num(e.get('figure'))} {e.get('unit', '')} | "
            f"{_num(e.get('baseline'))} ({e.get('baseline_name', '')}) | {ratio} | {e.get('target') or '-'} | {met} | "
            f"{_num(e.get('p50_ms'))} / {_num(e.get('p99_ms'))} | {_queries(e)} | {_app_cpu(e)} |"
        )
    peer_rows = _peer_rows(results)
    if peer_rows:
        rows += ["", "| " + " | ".join(PEER_HEADER) + " |", "|" + " --- |" * len(PEER_HEADER)]
        rows += ["| " + " | ".join(row) + " |" for row in peer_rows]
    machine = results.get("machine") or {}
    rows.append("")
    rows.append(
        f"{machine.get('nproc')} cores, {machine.get('memory_gb')} GB, Python {machine.get('python')}, "
        f"Django {machine.get('django')}, PostgreSQL {machine.get('postgres')}, commit "
        f"`{str(machine.get('git_commit'))[:10]}`, load average at start {machine.get('loadavg_at_start')}."
    )
    return "\n".join(rows)
