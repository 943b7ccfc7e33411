"""`make bench`: run every benchmark in turn and print its figures."""
from __future__ import annotations

import runpy
import sys

for module in ("bench.bench_sandbox", "bench.bench_engine", "bench.bench_uploads"):
    print(f"\n=== {module}", flush=True)
    sys.argv = [module]
    runpy.run_module(module, run_name="__main__")
