"""Soak of the two-way sync model: N random steps on each backend, every invariant checked, figures printed.

    python -m tests.engine.soak --steps 2000 [--seed 7] [--backend sqlite|postgresql|both] [--world-steps 200]

The steps are the model's (tests/engine/model/steps.py): operations on both sides and syncs, some disturbed
(a write's answer lost after Intacct committed it, a stop signal mid-run), each sync followed by its checks
and a quiet sync. Unlike the stateful test it does not stop at the first violation: it counts them, prints
each distinct one with the steps that led to it, and exits 1 when there was any. A world (one ledger and
one sandbox company) lives for `--world-steps` steps, then a fresh one starts, so a long soak also covers
many first syncs. `make soak SOAK_STEPS=N` runs it on both backends.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from storage.db import make_engine
from tests.engine.model.databases import fresh_database
from tests.engine.model.invariants import Violation
from tests.engine.model.steps import random_step
from tests.engine.model.world import World
from tests.fixtures.sandbox import start_sandbox


@dataclass
class Figures:
    backend: str
    steps: int = 0
    syncs: int = 0
    worlds: int = 0
    records: int = 0  # ledger customers, invoices and payments at the end of each world, added up
    operations: Counter = field(default_factory=Counter)
    violations: list[tuple[Violation, list[str]]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def distinct(self) -> Counter:
        return Counter(v.invariant for v, _ in self.violations)


def _one_world(backend: str, folder: Path, steps: int, rng: random.Random, figures: Figures) -> None:
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database(backend, folder))
        engine = make_engine(url)
        stack.callback(engine.dispose)
        sandbox = start_sandbox(folder / f"sandbox-{figures.worlds}", seed="minimal")
        stack.callback(sandbox.stop)
        world = World.connect(engine, sandbox)
        history: list[str] = []
        for _ in range(steps):
            name, violations = random_step(world, rng)
            history.append(name)
            figures.steps += 1
            for violation in violations:
                figures.violations.append((violation, history[-12:]))
        figures.syncs += len(world.syncs)
        figures.records += world.ledger_record_count()
        figures.operations.update(world.operations)
        figures.worlds += 1


def soak(backend: str, steps: int, seed: int, world_steps: int) -> Figures:
    figures = Figures(backend)
    rng = random.Random(f"{seed}-{backend}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"soak-{backend}-") as tmp:
        left = steps
        while left > 0:
            chunk = min(world_steps, left)
            _one_world(backend, Path(tmp), chunk, rng, figures)
            left -= chunk
    figures.seconds = time.monotonic() - started
    return figures


def _print(all_figures: list[Figures], seed: int) -> None:
    print(f"\nSync model soak (seed {seed})\n")
    print("| backend | steps | worlds | syncs | records | violations | distinct invariants | seconds |")
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for f in all_figures:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(f.distinct.items())) or "-"
        print(f"| {f.backend} | {f.steps} | {f.worlds} | {f.syncs} | {f.records} | {len(f.violations)} | {kinds} "
              f"| {f.seconds:.0f} |")
    operations = sum((f.operations for f in all_figures), Counter())
    print("\nOperations: " + ", ".join(f"{k} {v}" for k, v in sorted(operations.items())))
    for f in all_figures:
        groups: dict[str, list[tuple[Violation, list[str]]]] = {}
        for violation, history in f.violations:
            groups.setdefault(_kind(violation), []).append((violation, history))
        for kind, members in groups.items():
            violation, history = members[0]
            print(f"\n{f.backend}: {len(members)}x {kind}\n  first: {violation}\n  after steps: {' → '.join(history)}")


def _kind(violation: Violation) -> str:
    """A violation with its record names and amounts taken out: what groups the same fault seen many times."""
    text = re.sub(r"\b[A-Z]{1,2}[0-9A-F]{4}-\d+\b", "<record>", violation.detail)
    text = re.sub(r"\{.*\}", "{…}", text)
    return f"[{violation.invariant}] " + re.sub(r"-?\d+(\.\d+)?", "N", text)[:160]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000, help="steps per backend")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--world-steps", type=int, default=200, help="steps before a fresh ledger and sandbox")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    all_figures = [soak(backend, args.steps, args.seed, args.world_steps) for backend in backends]
    _print(all_figures, args.seed)
    return 1 if any(f.violations for f in all_figures) else 0


if __name__ == "__main__":
    sys.exit(main())
