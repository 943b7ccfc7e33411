"""`make bench`: the engine benchmark of issue 10 (bench/bench_engine.py), which rewrites bench/RESULTS.md; its
last step, `progress`, is bench/bench_progress.py (the invoice import's progress panel read in Chromium).

`python -m bench.bench_sandbox` measures the sandbox on its own (page times, request rates);
`python -m bench.bench_uploads` a 50,000-row CSV upload on SQLite and PostgreSQL.
"""
from __future__ import annotations

import runpy
import sys

sys.argv = ["bench.bench_engine", *sys.argv[1:]]
runpy.run_module("bench.bench_engine", run_name="__main__")
