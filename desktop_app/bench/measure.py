"""The bench's measurements: throughput (by the clock and by CPU time), latencies, and re-opening a catalog."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.embedders import recipe
from ..core.search import Searcher
from ..core.session import CatalogSession


@dataclass
class Rate:
    """Throughput by the clock, and by the process's CPU time (all threads): the second barely moves
    when other programs share the cores, so it shows overheads even on a busy machine."""

    images: int
    seconds: float
    cpu_seconds: float

    @classmethod
    def measure(cls, images: int, work: Callable[[], object]) -> Rate:
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        return cls(images, time.perf_counter() - wall, time.process_time() - cpu)

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.images + other.images, self.seconds + other.seconds, self.cpu_seconds + other.cpu_seconds)

    @property
    def per_second(self) -> float:
        return self.images / self.seconds

    @property
    def per_cpu_second(self) -> float:
        return self.images / self.cpu_seconds

    def __str__(self) -> str:
        return f"{self.per_second:.1f} img/s ({self.per_cpu_second:.1f}/CPU-s)"


def seed_loop_rate(model, paths: list[Path]) -> Rate:
    """The seed project's loop: per image load_img + img_to_array + preprocess_input + predict + L2."""
    from keras.applications.resnet50 import preprocess_input
    from keras.utils import img_to_array, load_img

    def one(path):
        x = preprocess_input(np.expand_dims(img_to_array(load_img(path, target_size=(224, 224))), axis=0))
        features = model.predict(x, verbose=0).flatten()
        return features / np.linalg.norm(features)

    one(paths[0])  # warm-up (graph tracing) is not counted
    return Rate.measure(len(paths), lambda: [one(path) for path in paths])


def forward_rate(embedder, pixels: np.ndarray, batch_size: int) -> Rate:
    """Throughput of the embedder's network (`forward`) on ready, preprocessed batches (one warm-up batch not
    counted). A network written as ONNX here names its own preprocessing; the others are the ResNet50 recipe."""
    network = getattr(embedder, "network", None)
    preprocess = network.preprocess if network is not None else recipe.preprocess
    batches = [preprocess(pixels[i : i + batch_size]) for i in range(0, len(pixels), batch_size)]
    embedder.forward(batches[0])
    return Rate.measure(len(pixels), lambda: [embedder.forward(batch) for batch in batches])


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def knn_latencies(searcher: Searcher, queries: np.ndarray) -> list[float]:
    times = []
    for q in queries:
        started = time.perf_counter()
        searcher.search(q, 5)
        times.append(time.perf_counter() - started)
    return times


def reopen(folder: Path, embedder, data_dir: Path) -> tuple[float, int, int]:
    """Time until an unchanged, indexed catalog answers queries: open the store, check the folder for
    changes (scan + diff), load the vectors and fit the k-NN index. Returns (seconds, decodes, items):
    the indexer counts its decodes, the proof that a re-open decodes nothing."""
    started = time.perf_counter()
    with CatalogSession(folder, embedder, data_dir) as session:
        report = session.index()
        items = len(session.searcher)
    return time.perf_counter() - started, report.decoded, items
