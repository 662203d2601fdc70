"""The bench's standard sections. Each is `section(bench, ctx)`: it measures, adds its rows to `bench` and
keeps figures later sections compare against in `ctx.rates`."""

from __future__ import annotations

import functools
import importlib.util
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np

from ..core.embedders import available_backends, create_embedder
from ..core.embedders.base import NetworkEmbedder
from ..core.formatting import rough_duration
from ..core.images import load_rgb
from ..core.search import Searcher
from ..core.session import CatalogSession
from ..core.weights import random_weights
from .inputs import random_unit_vectors, synthesise_indexed_catalog
from .machine import current_rss, mib, peak_rss, reset_peak_rss
from .measure import Rate, forward_rate, knn_latencies, percentile, reopen, seed_loop_rate
from .photo_sizes import describe_photos
from .report import Bench

QUERIES = 20
KNN_SIZES = (2_000, 10_000, 44_000, 100_000)
REOPEN_SIZE = 10_000
RAW_FORWARD_MAX = 320  # images for a raw forward figure (enough for a stable rate)
SEED_GOAL, SEED_GOAL_INT8 = 4.0, 5.0  # times the seed loop's img/s (issues #2, #15)
SEED_LOOP_RATE = 5.0  # img/s, roughly, of the seed loop on a laptop CPU: only for the "how long" note


@dataclass
class BenchContext:
    """What every section may use: the model, the prepared photos, and a temporary data dir for stores."""

    embedder: NetworkEmbedder
    folder: Path  # the catalog of `photos`
    photos: list[Path]
    workdir: Path  # temporary; deleted after the run
    data_dir: Path  # the stores of this run (not the person's)
    batch_size: int
    knn_sizes: tuple[int, ...] = KNN_SIZES
    reopen_size: int = REOPEN_SIZE
    compare_backends: bool = False
    rates: dict[str, Rate] = field(default_factory=dict)  # e.g. "ours", "raw", "seed"
    source: Path | None = None  # the folder `photos` are the first of (None: generated photos)

    @functools.cached_property
    def photo_size(self) -> str:
        """The photos' pixel size, e.g. "224×224": every speed figure depends on it."""
        return describe_photos(self.photos)


def indexing(bench: Bench, ctx: BenchContext) -> None:
    """Our whole pipeline on an empty store, between two raw forward runs on ready tensors (their sum is
    the raw figure, so a change in the machine's load affects both sides alike)."""
    embedder = ctx.embedder
    bench.section(f"Indexing throughput ({len(ctx.photos)} photos, {ctx.photo_size})")
    bench.say("raw forward of our backend …")
    pixels = np.stack([load_rgb(p, embedder.input_size) for p in ctx.photos[:RAW_FORWARD_MAX // 2]])
    raw = forward_rate(embedder, pixels, ctx.batch_size)

    bench.say(f"indexing {len(ctx.photos)} photos with the index pipeline (cold, empty store) …")
    rss_samples: list[int] = []
    peak_resettable = reset_peak_rss()
    cpu_started = time.process_time()
    with CatalogSession(ctx.folder, embedder, ctx.data_dir) as session:
        report = session.index(batch_size=ctx.batch_size, progress=lambda p: rss_samples.append(current_rss() or 0))
    ours = Rate(report.embedded, report.elapsed, time.process_time() - cpu_started)
    peak = peak_rss()
    bench.say("raw forward of our backend, again …")
    raw += forward_rate(embedder, pixels, ctx.batch_size)
    bench.add(f"raw forward, {embedder.backend} backend, ready tensors", str(raw))
    bench.add(f"our index pipeline (scan+decode+embed+store, {report.embedded} new)", str(ours))
    if len(rss_samples) > 2:
        bench.add("RSS after the first batch → at the end", f"{mib(rss_samples[1])} → {mib(rss_samples[-1])}")
    label = "peak RSS while indexing" if peak_resettable else "peak RSS of the process so far"
    bench.add(label, mib(peak), "< 2.5 GiB", None if peak is None else peak < 2.5 * 2**30)
    ctx.rates.update(ours=ours, raw=raw)


def queries(bench: Bench, ctx: BenchContext) -> None:
    bench.section(f"Query: drop a photo → 5 results ({QUERIES} warm queries, {ctx.photo_size} photos)")
    bench.say("queries …")
    with CatalogSession(ctx.folder, ctx.embedder, ctx.data_dir) as session:
        session.query(ctx.photos[0], k=5)  # warm-up: the batch-1 path and the k-NN index
        latencies = []
        for path in ctx.photos[1 : QUERIES + 1]:
            started = time.perf_counter()
            session.query(path, k=5)
            latencies.append(time.perf_counter() - started)
    median = statistics.median(latencies)
    bench.add("query latency median (decode + embed 1 + k-NN)", f"{1000 * median:.0f} ms", "< 150 ms",
              median < 0.150)
    bench.add("query latency p95", f"{1000 * percentile(latencies, 95):.0f} ms")


def reopening(bench: Bench, ctx: BenchContext) -> None:
    bench.section("Re-open of an unchanged indexed catalog (open store, scan + diff, load vectors, fit k-NN)")
    seconds, decodes, items = reopen(ctx.folder, ctx.embedder, ctx.data_dir)
    bench.add(f"re-open, {items} items, {decodes} decodes", f"{1000 * seconds:.0f} ms")
    bench.say(f"building a synthetic indexed catalog of {ctx.reopen_size} files …")
    big = ctx.workdir / f"catalog-{ctx.reopen_size}"
    synthesise_indexed_catalog(ctx.photos, ctx.reopen_size, big, ctx.embedder, ctx.data_dir)
    seconds, decodes, items = reopen(big, ctx.embedder, ctx.data_dir)
    bench.add(f"re-open, {items} items, {decodes} decodes", f"{1000 * seconds:.0f} ms", "< 1 s",
              seconds < 1.0 and decodes == 0 and items == ctx.reopen_size)


def knn(bench: Bench, ctx: BenchContext) -> None:
    dim, sizes = ctx.embedder.dim, ctx.knn_sizes
    bench.section(f"k-NN search, top 5 of synthetic L2-normalised {dim}-d vectors (median of {QUERIES})")
    bench.say("k-NN on synthetic vectors …")
    vectors = random_unit_vectors(max(sizes), dim, seed=1)
    query_vectors = random_unit_vectors(QUERIES + 1, dim, seed=2)
    for size in sizes:
        times = knn_latencies(Searcher([f"item{i}" for i in range(size)], vectors[:size]), query_vectors)[1:]
        median = statistics.median(times)
        target = "< 20 ms" if size == 44_000 else ""
        bench.add(f"k-NN, {size:,} items", f"{1000 * median:.1f} ms", target, median < 0.020 if target else None)


def seed_and_other_backends(bench: Bench, ctx: BenchContext) -> None:
    embedder, photos = ctx.embedder, ctx.photos
    bench.section(f"The seed project's loop on the same photos ({ctx.photo_size}; and other backends)")
    if importlib.util.find_spec("keras") is None:  # the packaged app
        bench.add("seed loop: skipped, it needs Keras (not in this build)", "—")
    else:
        from ..core.embedders.keras_forward import build_keras_model

        bench.say(f"seed loop on {len(photos)} photos ({rough_duration(len(photos) / SEED_LOOP_RATE)} at "
                  f"~{SEED_LOOP_RATE:.0f} img/s) …")
        weights = embedder.weights if embedder.name == "resnet50" and embedder.weights else random_weights(0)
        seed = seed_loop_rate(build_keras_model(weights), photos)
        random = " (ResNet50, random weights: speed only)" if weights.is_random else ""
        bench.add(f"seed loop: load_img + predict per image{random}", str(seed))
        ctx.rates["seed"] = seed
    if ctx.compare_backends and embedder.name == "resnet50":
        pixels = np.stack([load_rgb(p, embedder.input_size) for p in photos[:RAW_FORWARD_MAX]])
        for backend in available_backends():
            if backend != embedder.backend:
                bench.say(f"raw forward of the {backend} backend …")
                other = cast(NetworkEmbedder, create_embedder("resnet50", embedder.weights, backend))
                bench.add(f"raw forward, {backend} backend (not used)",
                          str(forward_rate(other, pixels, ctx.batch_size)))


def ratios(bench: Bench, ctx: BenchContext) -> None:
    ours, raw, seed = ctx.rates["ours"], ctx.rates["raw"], ctx.rates.get("seed")
    if seed is not None:
        versus_seed = ours.per_second / seed.per_second
        goal = SEED_GOAL_INT8 if ctx.embedder.precision == "int8" else SEED_GOAL
        bench.add("ratio ours / seed loop", f"{versus_seed:.1f}×", f"≥ {goal:.0f}×", versus_seed >= goal)
        bench.add("ratio ours / seed loop, per CPU-second", f"{ours.per_cpu_second / seed.per_cpu_second:.1f}×")
    versus_raw = ours.per_second / raw.per_second
    bench.add("ratio ours / raw forward", f"{100 * versus_raw:.0f} %", "≥ 90 %", versus_raw >= 0.9)
    bench.add("ratio ours / raw forward, per CPU-second", f"{100 * ours.per_cpu_second / raw.per_cpu_second:.0f} %")
