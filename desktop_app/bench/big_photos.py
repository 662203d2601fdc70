"""`fashionrec-cli bench --photo-size 1500x2000`: every model's index pipeline and queries on the bench's photos
as they are and on copies of them enlarged to that size (photo_sizes.py), in the same run (issue 22).

For each model, the two sizes are indexed in the order small, big, big, small (each into a fresh store), and each
size's rate is the sum of its two runs: a change in the machine's load meanwhile weighs on both sizes alike.
Beside the rates: the share of the pipeline's CPU time spent decoding (CPU time of the decoding threads inside
the model's decoder, over the process's), warm query latency, and the peak memory while indexing big photos.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..core.decoding import decoder_for
from ..core.embedders import BUILT_IN_MODEL, create_embedder
from ..core.session import CatalogSession
from .machine import mib, peak_rss, reset_peak_rss
from .measure import Rate
from .photo_sizes import QUALITY, describe_photos, describe_size, enlarged_copies
from .precision import query_median
from .report import Bench, model_label
from .sections import BenchContext

WEIGHT_FREE = ("colour-texture", "shape-colour")
# big-photo rate / small-photo rate (issue 22), by model label
GOALS = {"colour-texture": 0.5, "shape-colour": 0.5, f"{BUILT_IN_MODEL} int8": 0.8}
MEMORY_GOAL = 2.5 * 2**30


class TimedDecode:
    """A decoder that adds up the CPU time its calls take, on whichever thread they run."""

    def __init__(self, decode: Callable[[Path], np.ndarray]):
        self.decode = decode
        self.calls: list[float] = []  # list.append is atomic: the decoding threads add here

    def __call__(self, path: Path) -> np.ndarray:
        started = time.thread_time()
        try:
            return self.decode(path)
        finally:
            self.calls.append(time.thread_time() - started)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.calls)


class SizeRun:
    """What indexing one folder measured (added up over the runs of that size)."""

    def __init__(self):
        self.rate: Rate | None = None
        self.decode_cpu = 0.0
        self.peak = 0
        self.query = 0.0

    def add(self, rate: Rate, decode_cpu: float, peak: int | None, query: float) -> None:
        self.rate = rate if self.rate is None else self.rate + rate
        self.decode_cpu += decode_cpu
        self.peak = max(self.peak, peak or 0)
        self.query = max(self.query, query)  # the slower of the two medians

    @property
    def decode_share(self) -> float:
        assert self.rate is not None
        return self.decode_cpu / self.rate.cpu_seconds


def index_once(ctx: BenchContext, embedder, folder: Path, run: SizeRun, store: str) -> None:
    timed = TimedDecode(decoder_for(embedder))
    reset_peak_rss()
    with CatalogSession(folder, embedder, ctx.data_dir / store) as session:
        cpu = time.process_time()
        report = session.index(batch_size=ctx.batch_size, decode=timed)
        rate = Rate(report.embedded, report.elapsed, time.process_time() - cpu)
        peak = peak_rss()
        run.add(rate, timed.cpu_seconds, peak, query_median(session, sorted(folder.iterdir())))


def models(ctx: BenchContext) -> list:
    """The weight-free models, the built-in network in int8 (the goals of issue 22 are stated for it) and the
    bench's own model."""
    others = [create_embedder(name) for name in WEIGHT_FREE if name != ctx.embedder.name]
    if (ctx.embedder.name, ctx.embedder.precision) != (BUILT_IN_MODEL, "int8"):
        others.append(create_embedder(BUILT_IN_MODEL, precision="int8"))
    return [*others, ctx.embedder]


def section(bench: Bench, ctx: BenchContext, size: tuple[int, int], quality: int = QUALITY) -> None:
    small_size, big_size = describe_photos(ctx.photos), describe_size(size)
    bench.say(f"making {len(ctx.photos)} {big_size} copies (JPEG q{quality}) …")
    big_folder = ctx.workdir / f"photos-{big_size}"
    enlarged_copies(ctx.photos, big_folder, size, quality=quality)
    for embedder in models(ctx):
        label = model_label(embedder)
        bench.section(f"{label}: the {len(ctx.photos)} photos at {small_size} and enlarged to {big_size} (padded, "
                      f"mild noise, JPEG q{quality}), indexed in the order small, big, big, small")
        bench.say(f"{label}: loading the model, then indexing at both sizes …")
        embedder.load()  # not timed: a model built once per machine (the int8 quantization) is no index cost
        small, big = SizeRun(), SizeRun()
        for number, (folder, run) in enumerate([(ctx.folder, small), (big_folder, big), (big_folder, big),
                                                (ctx.folder, small)]):
            index_once(ctx, embedder, folder, run, f"{embedder.name}-{number}")
        assert small.rate is not None and big.rate is not None
        for run, name in ((small, small_size), (big, big_size)):
            bench.add(f"index pipeline, {name}", str(run.rate))
            bench.add(f"  decoding's share of its CPU time, {name}", f"{100 * run.decode_share:.0f} %")
            bench.add(f"  query latency median (decode + embed + k-NN), {name}", f"{1000 * run.query:.0f} ms")
        ratio = big.rate.per_second / small.rate.per_second
        goal = GOALS.get(label)
        bench.add(f"ratio {big_size} / {small_size} index rate", f"{ratio:.2f}×", f"≥ {goal}×" if goal else "",
                  ratio >= goal if goal else None)
        bench.add("ratio per CPU-second", f"{big.rate.per_cpu_second / small.rate.per_cpu_second:.2f}×")
        bench.add(f"peak RSS while indexing {big_size}", mib(big.peak), "< 2.5 GiB", big.peak < MEMORY_GOAL)
