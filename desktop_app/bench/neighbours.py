"""`fashionrec-cli bench --neighbours`: time and memory of `neighbours` (every item's k nearest, exported).

On a synthetic store of 44,000 random unit vectors of ResNet50's size (2048), written to a real SQLite store,
and on the fashion-2k sample indexed with colour-texture. Memory beyond the vectors is measured two ways:
the peak of Python/numpy allocations during the search and export (tracemalloc; the BLAS library's own
buffers are not in it), and the growth of the process's peak resident memory (Linux VmHWM).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from ..core.catalog_data import Catalog
from ..core.embedders import create_embedder
from ..core.export import export_neighbours
from ..core.session import CatalogSession
from ..core.store import Embedded
from .inputs import DEFAULT_IMAGES, random_unit_vectors
from .machine import current_rss, machine_description, peak_rss, reset_peak_rss
from .report import Bench

SYNTHETIC_ITEMS = 44_000
SYNTHETIC_DIM = 2048
K = 5
TARGET_SECONDS = 60.0
TARGET_BYTES = 2**30
_WRITE_BATCH = 2_000


class SyntheticEmbedder:
    """Names a store of synthetic vectors (nothing is ever embedded with it)."""

    name = "synthetic"
    input_size = (8, 8)
    load_report = "nothing to load"
    backend = "none"
    weights = None
    precision = "fp32"

    def __init__(self, dim: int):
        self.dim = dim
        self.fingerprint = f"synthetic-unit-vectors-{dim}"

    def describe(self) -> str:
        return f"{self.dim}-d random unit vectors"

    def load(self) -> None:
        """Nothing to load: it never embeds."""

    def embed(self, batch):
        raise NotImplementedError("a synthetic store is filled directly")


def synthetic_store(folder: Path, embedder: SyntheticEmbedder, count: int, data_dir: Path) -> None:
    """A store for `folder` holding `count` random unit vectors (for items that are not on disk)."""
    store = Catalog(folder.resolve(), data_dir).open_store(embedder)
    try:
        for start in range(0, count, _WRITE_BATCH):
            vectors = random_unit_vectors(min(_WRITE_BATCH, count - start), embedder.dim, seed=start)
            store.commit_batch([Embedded(f"synthetic/{start + i:06d}.jpg", 1, 1, v) for i, v in enumerate(vectors)],
                               [])
    finally:
        store.close()


def time_export(bench: Bench, session: CatalogSession, out: Path, what: str, k: int = K) -> None:
    """Load the vectors, then time and measure the search and the export on their own."""
    started = time.perf_counter()
    searcher = session.searcher
    bench.add(f"{what}: load {len(searcher):,} vectors", f"{time.perf_counter() - started:.1f} s")
    rss_before = current_rss()
    peak_reset = reset_peak_rss()
    tracemalloc.start()
    cpu = time.process_time()
    try:
        report = export_neighbours(session, out, k, progress=_progress_every(bench, 10.0))
        traced_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    cpu = time.process_time() - cpu
    total = report.search_seconds + report.write_seconds
    size = out.stat().st_size
    bench.add(f"{what}: k={report.k} search", f"{report.search_seconds:.1f} s",
              f"< {TARGET_SECONDS:.0f} s incl. writing" if len(searcher) >= SYNTHETIC_ITEMS else "")
    bench.add(f"{what}: write {report.rows:,} rows ({size / 2**20:.1f} MiB {out.suffix})",
              f"{report.write_seconds:.1f} s")
    bench.add(f"{what}: search + write (clock; CPU time of this process)", f"{total:.1f} s ({cpu:.1f} CPU s)",
              f"< {TARGET_SECONDS:.0f} s" if len(searcher) >= SYNTHETIC_ITEMS else "",
              total < TARGET_SECONDS if len(searcher) >= SYNTHETIC_ITEMS else None)
    vectors_bytes = searcher.vectors.nbytes
    bench.add(f"{what}: memory beyond the vectors ({vectors_bytes / 2**20:.0f} MiB), numpy peak",
              f"{traced_peak / 2**20:.0f} MiB", "< 1 GiB", traced_peak < TARGET_BYTES)
    peak = peak_rss()
    if peak_reset and peak and rss_before:
        bench.add(f"{what}: growth of peak resident memory", f"{(peak - rss_before) / 2**20:.0f} MiB",
                  "< 1 GiB", peak - rss_before < TARGET_BYTES)


def _progress_every(bench: Bench, seconds: float):
    last = [time.monotonic()]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - last[0] >= seconds:
            last[0] = time.monotonic()
            bench.say(f"  … {done}/{total} tiles")
    return progress


def run_neighbours_bench(images: Path | None = None, items: int = SYNTHETIC_ITEMS, out=None, log=None) -> Bench:
    out = out or sys.stdout
    bench = Bench(out, log)
    print(f"machine: {machine_description()}", file=out)
    print(f"BLAS threads: {os.environ.get('OPENBLAS_NUM_THREADS', 'all cores')}", file=out)
    with tempfile.TemporaryDirectory(prefix="fashionrec-bench-neighbours-") as temporary:
        tmp = Path(temporary)
        data = tmp / "data"
        bench.section(f"neighbours on a synthetic store ({items:,} × {SYNTHETIC_DIM}-d random unit vectors)")
        (tmp / "synthetic").mkdir()
        embedder = SyntheticEmbedder(SYNTHETIC_DIM)
        started = time.perf_counter()
        synthetic_store(tmp / "synthetic", embedder, items, data)
        bench.say(f"synthetic store written in {time.perf_counter() - started:.1f} s")
        with CatalogSession(tmp / "synthetic", embedder, data_dir=data) as session:
            time_export(bench, session, tmp / "synthetic.csv", "synthetic")
        images = Path(images or DEFAULT_IMAGES)
        if not images.is_dir():
            bench.say(f"no sample at {images}: pass --images DIR for the colour-texture figure")
            return bench
        bench.section(f"neighbours on {images} (colour-texture)")
        with CatalogSession(images, create_embedder("colour-texture"), data_dir=data) as session:
            started = time.perf_counter()
            session.index()
            bench.add("sample: index with colour-texture", f"{time.perf_counter() - started:.1f} s")
            time_export(bench, session, tmp / "sample.csv", "sample")
    return bench
