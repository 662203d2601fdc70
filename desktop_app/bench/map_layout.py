"""`bench --map`: the catalog map's layout at 44,000 items (issue 25: < 3 min on 2 cores, cached re-open < 1 s).

The photos are embedded with the model asked for; ITEMS vectors are made from them as bench --scale makes its
catalog (bench/scale.synthetic_vectors: each a mix of two real vectors plus noise shaped like theirs), then laid out
by core.catalog_map.layout (PCA to 50, openTSNE), timed by the clock and in CPU-seconds (every thread of the
process), in all and per phase (loading openTSNE, when this process has not yet; the neighbour search, which
shows no progress in the window; the iterations). Quality: of each of 2,000 items' 10 nearest neighbours among
the vectors, the share still among its 10 nearest on the map. Then the map is cached and read back
(core.catalog_map.save_map / read_map).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from ..core.catalog import scan
from ..core.catalog_map import CatalogMap, layout, read_map, save_map
from ..core.images import load_readable
from .inputs import DEFAULT_IMAGES
from .machine import load_average
from .report import Bench
from .scale import synthetic_vectors

ITEMS, LAYOUT_GOAL_S, REOPEN_GOAL_S = 44_000, 180.0, 1.0
QUALITY_SAMPLE, NEIGHBOURS = 2000, 10


def kept_neighbours(vectors: np.ndarray, points: np.ndarray, seed: int = 1) -> float:
    """Mean share of a sample's NEIGHBOURS nearest items (by the vectors) that are among their nearest on the map."""
    rows = np.random.default_rng(seed).choice(len(vectors), min(QUALITY_SAMPLE, len(vectors)), replace=False)

    def nearest(space: np.ndarray) -> np.ndarray:
        space = np.asarray(space, np.float64)
        distances = (space ** 2).sum(1)[np.newaxis] - 2 * space[rows] @ space.T
        distances[np.arange(len(rows)), rows] = np.inf
        return np.argpartition(distances, NEIGHBOURS, axis=1)[:, :NEIGHBOURS]

    before, after = nearest(vectors), nearest(points)
    return float(np.mean([len(set(a) & set(b)) / NEIGHBOURS for a, b in zip(before, after, strict=True)]))


class PhaseClock:
    """Clock and CPU time of each phase `layout` says as it starts (`start` is its phase callback)."""

    def __init__(self):
        self.marks: list[tuple[str, float, float]] = []

    def start(self, name: str) -> None:
        self.marks.append((name, time.perf_counter(), time.process_time()))

    def times(self) -> list[tuple[str, float, float]]:
        """(phase, seconds, CPU-seconds) of each phase, the last one up to now."""
        ends = [(t, cpu) for _, t, cpu in self.marks[1:]] + [(time.perf_counter(), time.process_time())]
        return [(name.split(" (")[0].rstrip("…"), end - t, end_cpu - cpu)
                for (name, t, cpu), (end, end_cpu) in zip(self.marks, ends, strict=True)]


def run_map_bench(embedder, images: Path | None = None, items: int = ITEMS, out=None, log=None) -> Bench:
    images = images or DEFAULT_IMAGES
    bench = Bench(out, log)
    bench.heading(embedder)
    bench.say(f"embedding the photos of {images} …")
    _, pixels = load_readable([images / f.relpath for f in scan(images.resolve())], embedder.input_size)
    real = np.concatenate([embedder.embed(np.stack(pixels[i:i + 32])) for i in range(0, len(pixels), 32)])
    vectors = synthetic_vectors(real, items, seed=0)
    bench.section(f"Catalog map of {items:,} items ({len(real):,} real vectors of {embedder.name}, mixed)")
    phases = PhaseClock()
    started, cpu = time.perf_counter(), time.process_time()
    points = layout(vectors, phase=phases.start)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    assert points is not None  # not cancelled
    bench.add("layout (PCA to 50, openTSNE)", f"{seconds:.1f} s ({cpu_seconds:.1f} CPU-s)",
              f"< {LAYOUT_GOAL_S:.0f} s", seconds < LAYOUT_GOAL_S)
    for name, phase_seconds, phase_cpu in phases.times():
        bench.add(f"  {name}", f"{phase_seconds:.1f} s ({phase_cpu:.1f} CPU-s, {phase_seconds / seconds:.0%})")
    bench.add(f"{NEIGHBOURS} nearest neighbours kept on the map", f"{kept_neighbours(vectors, points):.3f}")
    with tempfile.TemporaryDirectory(prefix="fashionrec-bench-map-") as tmp:
        path = Path(tmp) / "store.sqlite.map.npz"
        save_map(path, CatalogMap([f"item{i:06d}.jpg" for i in range(items)], points, "g"))
        started = time.perf_counter()
        again = read_map(path, "g")
        reopen = time.perf_counter() - started
    assert again is not None and len(again) == items
    bench.add("cached map read back", f"{reopen * 1000:.0f} ms", f"< {REOPEN_GOAL_S:.0f} s", reopen < REOPEN_GOAL_S)
    print(f"load average at the end {load_average()}", file=bench.out)
    return bench
