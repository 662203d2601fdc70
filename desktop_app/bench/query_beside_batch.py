"""A one-photo query beside index batches on another thread, with a real embedder (issue 23: in the window the
reader lane's query must never wait for the writer lane's forward pass). Measured outside the tests:

    python -m desktop_app.bench.query_beside_batch [--model resnet50] [--random-weights 0] [--precision fp32]
        [--backend tflite] [--batch-size 16] [--queries 8] [--photos /work/shared/data/fashion-2k/images]

The photos are the first batch-size + 1 of the folder, decoded as indexing decodes them (the sample's are
224×224 JPEGs). Printed, each in the same run (the machine may be shared: its load average is printed at the
start and end; wall times, and the process's CPU-seconds where they say more):
  alone       a query; an index batch
  concurrent  queries while index batches run back to back on another thread, as embedders run now
              (shared_runtime.py): how many ran wholly inside one batch, and the batches' time meanwhile
  serialised  the same with every embed call under one lock, as network embedders ran before
and the resident memory after each part (a second TFLite interpreter shows there).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .inputs import DEFAULT_IMAGES
from .machine import current_rss, load_average, run_heading

QUERY_PAUSE = 0.05  # between two queries, as a person's queries are apart


def _seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _summary(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:,.0f} ms, max {max(times) * 1000:,.0f} ms"


def _rss() -> str:
    rss = current_rss()
    return f"RSS {rss / 2**20:,.0f} MiB" if rss else "RSS n/a"


def beside_batches(embed: Callable[[np.ndarray], np.ndarray], batch: np.ndarray, photo: np.ndarray,
                   queries: int) -> tuple[list[float], int, list[float]]:
    """(query times, how many queries ran wholly inside one index batch, index batch times) with index batches
    running back to back on another thread meanwhile."""
    stop, first_batch = threading.Event(), threading.Event()
    batch_times: list[float] = []
    state = {"busy": False, "done": 0}

    def index_batches():
        while not stop.is_set():
            state["busy"] = True
            first_batch.set()
            batch_times.append(_seconds(lambda: embed(batch)))
            state["busy"], state["done"] = False, state["done"] + 1

    indexer = threading.Thread(target=index_batches, name="index-batches")
    indexer.start()
    first_batch.wait()
    query_times, inside = [], 0
    try:
        for _ in range(queries):
            time.sleep(QUERY_PAUSE)
            busy_before, done_before = state["busy"], state["done"]
            query_times.append(_seconds(lambda: embed(photo)))
            inside += busy_before and state["busy"] and state["done"] == done_before
    finally:
        stop.set()
        indexer.join()
    return query_times, inside, batch_times


def measure(embedder, photo: np.ndarray, batch: np.ndarray, queries: int) -> None:
    embedder.load()
    embedder.embed(batch), embedder.embed(photo)  # first runs allocate
    print(f"   loaded: {embedder.load_report}; {_rss()}")
    alone = [_seconds(lambda: embedder.embed(photo)) for _ in range(queries)]
    cpu = time.process_time()
    batches = [_seconds(lambda: embedder.embed(batch)) for _ in range(3)]
    cpu = (time.process_time() - cpu) / 3
    print(f"   alone: query {_summary(alone)}; batch of {len(batch)} median {statistics.median(batches):.2f} s "
          f"({cpu:.2f} CPU-s); {_rss()}")
    lock = threading.Lock()

    def serialised(images: np.ndarray) -> np.ndarray:
        with lock:
            return embedder.embed(images)

    for name, embed in (("concurrent", embedder.embed), ("serialised", serialised)):
        times, inside, batch_times = beside_batches(embed, batch, photo, queries)
        print(f"   {name}: query {_summary(times)}, {inside} of {queries} wholly inside one index batch; "
              f"batches meanwhile median {statistics.median(batch_times):.2f} s ({len(batch_times)}); {_rss()}",
              flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop_app.bench.query_beside_batch")
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--random-weights", type=int, default=0, help="seed of ResNet50's random init (say so)")
    parser.add_argument("--precision", choices=("fp32", "int8"), default="fp32")
    parser.add_argument("--backend", default=None, help="resnet50: tflite | keras | keras-xla")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--queries", type=int, default=8)
    parser.add_argument("--photos", type=Path, default=DEFAULT_IMAGES)
    args = parser.parse_args(argv)

    from PIL import Image

    from ..core.catalog import scan
    from ..core.embedders import create_embedder, needs_weights
    from ..core.images import load_readable
    from ..core.weights import random_weights

    weights = random_weights(args.random_weights) if needs_weights(args.model) else None
    with tempfile.TemporaryDirectory(prefix="fashionrec-beside-") as data_dir:  # ResNet50 int8's calibration
        embedder = create_embedder(args.model, weights, args.backend, args.precision, args.photos, Path(data_dir))
        files = [f for f in scan(args.photos.resolve()) if not f.problem][: args.batch_size + 1]
        paths, images = load_readable([args.photos / f.relpath for f in files], embedder.input_size)
        sizes = set()
        for path in paths:
            with Image.open(path) as image:
                sizes.add(image.size)
        print(run_heading("query beside index batches"))
        print(f"{embedder.describe()} ({embedder.precision}, {getattr(embedder, 'backend', '')}); photos "
              f"{args.photos} ({', '.join(f'{w}×{h}' for w, h in sorted(sizes))}), batch {len(images) - 1}, "
              f"{args.queries} queries")
        measure(embedder, images[0][None], np.stack(images[1:]), args.queries)  # the query is not in the batch
    print(f"load at the end {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
