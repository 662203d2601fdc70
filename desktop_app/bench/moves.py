"""`bench --moved`: issue 23's goal for moved photos, in one run: a catalog of N photos (hard links to the first N of
the sample, or of --images), 1,000 of them renamed into another subfolder, then `index`: 0 embedded, 1,000 moved,
in < 5 s.

The catalog's store is filled as if indexed (random unit vectors of the model's size: a move never reads them,
and embedding is not what this measures), so the first `index` gives every item its content hash, as the first
run after a migration from store format 1 does; that one-time cost is shown too.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from ..core.session import CatalogSession
from .inputs import prepare_catalog, store_random_vectors
from .machine import load_average
from .report import Bench

MOVED, GOAL_S = 1000, 5.0


def run_moves_bench(embedder, images: Path | None = None, n: int = 2000, out=None, log=None) -> Bench:
    bench = Bench(out, log)
    bench.heading(embedder, " (its vectors' size only: nothing is embedded)")
    with tempfile.TemporaryDirectory(prefix="fashionrec-bench-moved-") as tmp:
        work = Path(tmp)
        folder, source = prepare_catalog(images, n, work)
        bench.section(f"{n:,} photos ({source}), {min(MOVED, n):,} of them renamed into another subfolder")
        store_random_vectors(folder, embedder, work / "data")
        with CatalogSession(folder, embedder, work / "data") as session:
            seconds, cpu, first = _timed(session.index)
            bench.add(f"content hashes of {first.hashed:,} items stored without one (once)",
                      f"{seconds:.2f} s ({cpu:.2f} CPU-s)")
            for path in sorted(folder.iterdir())[:MOVED]:
                os.renames(path, folder / "moved" / f"renamed-{path.name}")
            seconds, cpu, report = _timed(session.index)
        bench.add("index after the move: embedded, moved", f"{report.embedded:,}, {report.moved:,}",
                  f"0, {min(MOVED, n):,}", report.embedded == 0 and report.moved == min(MOVED, n))
        bench.add("its time", f"{seconds:.2f} s ({cpu:.2f} CPU-s)", f"< {GOAL_S:g} s", seconds < GOAL_S)
        bench.add("ratio to the goal", f"{seconds / GOAL_S:.3f}", "< 1")
    print(f"load average at the end {load_average()}", file=bench.out)
    return bench


def _timed(run):
    started, cpu = time.perf_counter(), time.process_time()
    result = run()
    return time.perf_counter() - started, time.process_time() - cpu, result
