"""`fashionrec-cli bench`: every speed figure of the app, measured in one run on this machine.

Indexing: the seed project's per-image loop, the raw forward pass of our backend on ready tensors,
and our whole `index` pipeline (scan, threaded decode, batched embed, SQLite writes) on the same
photos. Then query latency, k-NN latency on synthetic catalogs, re-open time of unchanged catalogs
(the indexer counts its decodes: a re-open must do none) and peak memory while indexing.
Stores go to a temporary data dir passed to each session; the converted model stays in the user
cache dir, as in normal use.

Adding figures: a module `desktop_app/bench/<feature>.py` with a `section(bench, ctx)` function (see
sections.py for the shape: `bench.section(title)`, `bench.add(label, value, target, met)`, `ctx` has the
embedder, the photos and a temporary data dir), and a flag on `fashionrec-cli bench` that passes it in
`extra_sections`.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..core.errors import UserError
from ..core.indexer import DEFAULT_BATCH_SIZE
from ..core.versions import library_version
from . import sections
from .inputs import prepare_catalog, source_folder
from .machine import load_average, machine_description
from .photo_sizes import describe_photos
from .report import Bench, Row
from .sections import KNN_SIZES, REOPEN_SIZE, BenchContext

DEFAULT_N = 400
Section = Callable[[Bench, BenchContext], None]


def run_bench(
    embedder,
    images: Path | None = None,
    n: int = DEFAULT_N,
    batch_size: int = DEFAULT_BATCH_SIZE,
    compare_backends: bool = False,
    knn_sizes: tuple[int, ...] = KNN_SIZES,
    reopen_size: int = REOPEN_SIZE,
    extra_sections: Sequence[Section] = (),
    out=None,
    log=None,
) -> list[Row]:
    """Every figure, printed to `out` as measured (progress notes go to `log`); returns the rows.
    Our pipeline, queries and k-NN run first, so their memory and latency are not affected by the seed
    loop's Keras model (nor by TensorFlow itself, which the tflite backend with a cached model never
    imports). `extra_sections` run after those, before the seed loop."""
    if n < 2:
        raise UserError("The bench needs at least 2 images (-n 2).")
    out = out or sys.stdout
    bench = Bench(out, log)
    started = time.perf_counter()
    print(f"fashionrec bench, {time.strftime('%Y-%m-%d %H:%M %Z')}", file=out)
    print(f"machine  {machine_description()}", file=out)
    print(f"software Python {platform.python_version()}, TensorFlow {library_version('tensorflow', 'tensorflow-cpu')}"
          f", Keras {library_version('keras')}, ai-edge-litert {library_version('ai-edge-litert')}", file=out)
    print(f"model    {embedder.describe()}, batch {batch_size}", file=out)
    with tempfile.TemporaryDirectory(prefix="fashionrec-bench-") as tmp:
        workdir = Path(tmp)
        folder, source = prepare_catalog(images, n, workdir)
        print(f"images   {source}; {describe_photos(sorted(folder.iterdir()))}", file=out)
        bench.say("preparing the model …")
        t = time.perf_counter()
        embedder.load()
        print(f"model ready in {time.perf_counter() - t:.1f} s: {embedder.load_report}", file=out)

        ctx = BenchContext(embedder, folder, sorted(folder.iterdir()), workdir, workdir / "data", batch_size,
                           knn_sizes, reopen_size, compare_backends, source=source_folder(images))
        # k-NN before anything loads TensorFlow: its idle worker threads spin for a while after each use and
        # would slow the k-NN's BLAS threads, which the app (tflite, no TensorFlow) never sees.
        for section in (sections.indexing, sections.queries, sections.reopening, sections.knn, *extra_sections,
                        sections.seed_and_other_backends, sections.ratios):
            section(bench, ctx)
    print(f"\nbench finished in {time.perf_counter() - started:.0f} s (load average {load_average()})", file=out)
    return bench.rows
