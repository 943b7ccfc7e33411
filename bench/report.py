"""The benchmark's figures against issue 10's targets: the printed table and bench/RESULTS.md (before/after).

`results.json` holds the latest run's raw figures; `baseline.json` the "before" run (saved with
`--save-baseline`), shown beside them.
"""
from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results.json"
BASELINE_JSON = HERE / "baseline.json"
RESULTS_MD = HERE / "RESULTS.md"


def git_label(root: Path) -> str:
    try:
        branch = subprocess.run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=root, capture_output=True,
                                text=True).stdout.strip()
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True).stdout.strip()
        return f"{branch} @ {commit}"
    except OSError:
        return ""


def import_line(r: dict) -> str:
    sandbox = f", sandbox CPU {r['sandbox_cpu_seconds']:.1f} s" if "sandbox_cpu_seconds" in r else ""
    if "cpu_seconds" in r:
        sandbox = f", importer CPU {r['cpu_seconds']:.1f} s" + sandbox
    return (f"{r['records']:,} records ({r['lines']:,} lines) in {r['seconds']:.1f} s = "
            f"{r['records'] / r['seconds']:,.0f} records/s, {r['requests']} requests, peak RSS {r['rss_mib']:.0f} MiB"
            f"{sandbox}")


def _get(results: dict, *path: str) -> Any:
    node: Any = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _rate(r: dict | None) -> float | None:
    return r["records"] / r["seconds"] if r else None


def _peer_ratio(res: dict) -> float | None:
    ours, peer = _get(res, "import_sqlite"), _get(res, "peer")
    return ours["seconds"] / peer["seconds"] if ours and peer else None


def _rss(res: dict) -> float | None:
    values = [_get(res, k, "rss_mib") for k in ("import_sqlite", "import_pg", "import_latency")]
    values = [v for v in values if v is not None]
    return max(values) if values else None


# (figure, target text, value getter, formatter, met test)
Row = tuple[str, str, Callable[[dict], Any], Callable[[Any, dict], str], Callable[[Any], bool] | None]


def _import_fmt(key: str) -> Callable[[Any, dict], str]:
    def fmt(value: Any, res: dict) -> str:
        r = res[key]
        sandbox = f"; sandbox CPU {r['sandbox_cpu_seconds']:.1f} s" if "sandbox_cpu_seconds" in r else ""
        if "cpu_seconds" in r:
            sandbox = f"; importer CPU {r['cpu_seconds']:.1f} s" + sandbox
        return f"{value:,.0f} records/s ({r['seconds']:.1f} s; {r['requests']} requests{sandbox})"
    return fmt


def _ratio_fmt(value: Any, res: dict) -> str:
    return f"{1 / value:.2f} × faster" if value < 1 else f"{value:.2f} × slower"


def _writes_fmt(value: Any, res: dict) -> str:
    w = res["writes"]
    return (f"{value:.1f} records per request ({w['requests']} requests for {w['records']:,}); "
            f"wall/floor {w['wall_over_floor']:.2f} at 250 ms ({w['seconds']:.1f} s)")


def _latency_fmt(value: Any, res: dict) -> str:
    r = res["import_latency"]
    return f"{value:.2f} ({r['seconds']:.1f} s for {r['requests']} requests)"


def progress_line(p: dict) -> str:
    """The progress panel's readings in Chromium (bench/bench_progress.py), shortened to a few of them."""
    seen = [r for r in p["readings"] if r["done"] is not None]
    picks = seen if len(seen) <= 6 else [seen[i * (len(seen) - 1) // 5] for i in range(6)]
    shown = " → ".join(f"{r['done']:,}" + (f" ({r['left']} left)" if r["left"] else "") for r in picks)
    checks = ", ".join(f"{name} {'yes' if p[key] else 'NO'}" for key, name in (
        ("rising", "N rises"), ("total_right", "M = total"), ("time_left_seen", "time left shown")))
    half = p.get("half_way")
    half_text = (f"; at {half['done']:,} it said {half['said_left']} s left, {half['was_left']:.0f} s were"
                 if half else "")
    return (f"{len(p['readings'])} readings, {p['distinct_done']} different N, over {p['run']['seconds']:.0f} s: "
            f"{shown} of {p['expected_total']:,} records; {checks}{half_text} (measured {p['date'][11:16]} UTC, "
            f"load {p['load']:.1f})")


def _incremental(changes: str) -> Row:
    return (f"incremental sync, {changes} customer changes", "–",
            lambda res: _get(res, "incremental", changes, "seconds"),
            lambda v, res: f"{v:.2f} s ({res['incremental'][changes]['requests']} requests)", None)


def _page(label: str) -> Row:
    return (f"page {label}, warm", "≤ 1 s", lambda res: _get(res, "pages", label, "warm"),
            lambda v, res: f"{v:.2f} s (cold {res['pages'][label]['cold']:.2f} s)", lambda v: v <= 1.0)


ROWS: list[Row] = [
    ("full import into SQLite at 0 ms latency", "≥ 20,000 records/s", lambda r: _rate(_get(r, "import_sqlite")),
     _import_fmt("import_sqlite"), lambda v: v >= 20000),
    ("full import into PostgreSQL at 0 ms", "≥ 20,000 records/s", lambda r: _rate(_get(r, "import_pg")),
     _import_fmt("import_pg"), lambda v: v >= 20000),
    ("full import at 250 ms per request: wall / (requests × 0.25 s)", "≤ 1.10",
     lambda r: _get(r, "import_latency", "wall_over_floor"), _latency_fmt, lambda v: v <= 1.10),
    ("our full import (SQLite, 0 ms) vs sageintacctsdk get_all() of the same customers and invoices", "faster",
     _peer_ratio, _ratio_fmt, lambda v: v < 1),
    ("writes of 2,000 invoices + 2,000 payments", "≥ 50 records per request",
     lambda r: _get(r, "writes", "records_per_request"), _writes_fmt, lambda v: v >= 50),
    ("peak RSS of the importer", "≤ 300 MB", _rss, lambda v, r: f"{v:.0f} MiB", lambda v: v * 1.048576 <= 300),
    ("first accounting sync after the imports (reads the whole invoice window)", "–",
     lambda r: _get(r, "incremental", "first", "seconds"),
     lambda v, r: f"{v:.1f} s ({r['incremental']['first']['requests']} requests)", None),
    _incremental("0"), _incremental("10"), _incremental("1000"),
    _page("Invoices"), _page("Customers"), _page("Run detail (invoice import)"),
    ("progress panel of the 100,000-invoice import, read in Chromium: N of M records, time left",
     "N rises, M = total, time left shown", lambda r: _get(r, "progress", "ok"),
     lambda v, r: progress_line(r["progress"]), lambda v: bool(v)),
]


def _cells(res: dict | None) -> list[tuple[str, str]]:
    """(text, met mark) per row."""
    out = []
    for _, _, get, fmt, met in ROWS:
        value = get(res) if res else None
        if value is None:
            out.append(("–", ""))
            continue
        try:
            shown = fmt(value, res)
        except (KeyError, TypeError, ZeroDivisionError):
            shown = str(value)
        out.append((shown, "" if met is None else ("met" if met(value) else "**missed**")))
    return out


def table(res: dict) -> str:
    lines = []
    for (figure, target, *_), (shown, met) in zip(ROWS, _cells(res), strict=False):
        lines.append(f"{figure[:70]:<70} {target:<26} {shown} {met.replace('*', '')}")
    return "\n".join(lines)


def _machine_text(res: dict) -> str:
    m = res.get("machine", {})
    size = res.get("size", {})
    return (f"{m.get('host', '?')}: {m.get('cpus', '?')} CPUs ({m.get('cpu', '?')}), Python {m.get('python', '?')}, "
            f"{m.get('system', '')}; load average {m.get('load', 0):.1f} at the start; {res.get('date', '')}; "
            f"{res.get('label', '')}; {size.get('customers', 0):,} customers, {size.get('invoices', 0):,} invoices; "
            f"whole bench {res.get('total_seconds', 0) / 60:.1f} min")


def markdown(res: dict, before: dict | None) -> str:
    out = ["# Benchmark results (`make bench`)", "",
           "Written by `bench/bench_engine.py`; do not edit the tables by hand (notes: `bench/NOTES.md`, appended "
           "below). Request counts are exact; times are from one run on a shared "
           "machine, so read the ratios.", "",
           f"- **after**: {_machine_text(res)}"]
    if before:
        out.append(f"- **before**: {_machine_text(before)}")
    out += ["", "| figure | target | before | after | |", "|---|---|---|---|---|"]
    before_cells = _cells(before) if before else [("–", "")] * len(ROWS)
    for (figure, target, *_), (b, _bm), (a, am) in zip(ROWS, before_cells, _cells(res), strict=False):
        out.append(f"| {figure} | {target} | {b} | {a} | {am} |")
    out += ["", "Raw figures: `bench/results.json` (after) and `bench/baseline.json` (before).", ""]
    notes = HERE / "NOTES.md"
    if notes.exists():
        out += [notes.read_text().strip(), ""]
    return "\n".join(out)


def write(res: dict, *, save_baseline: bool) -> None:
    RESULTS_JSON.write_text(json.dumps(res, indent=1, sort_keys=True) + "\n")
    if save_baseline:
        BASELINE_JSON.write_text(json.dumps(res, indent=1, sort_keys=True) + "\n")
    before = json.loads(BASELINE_JSON.read_text()) if BASELINE_JSON.exists() and not save_baseline else None
    RESULTS_MD.write_text(markdown(res, before))
