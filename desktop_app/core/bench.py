"""`fashionrec-cli bench`: every speed figure of the app, measured in one run on this machine.

Indexing: the seed project's per-image loop, the raw forward pass of our backend on ready tensors,
and our whole `index` pipeline (scan, threaded decode, batched embed, SQLite writes) on the same
photos. Then query latency, k-NN latency on synthetic catalogs, re-open time of unchanged catalogs
(counting decodes to prove there are none) and peak memory while indexing.
Stores go to a temporary data dir; the converted model stays in the user cache dir, as in normal use.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import indexer
from .catalog import scan
from .embedders import l2_normalise
from .embedders.resnet50 import BACKENDS, ResNet50Embedder, build_keras_model, library_version, preprocess
from .errors import UserError
from .images import load_rgb
from .search import Searcher
from .session import CatalogSession
from .store import Embedded, Store

DEFAULT_IMAGES = Path(__file__).resolve().parents[3] / "shared" / "data" / "fashion-2k" / "images"
DEFAULT_N = 400
QUERIES = 20
KNN_SIZES = (2_000, 10_000, 44_000, 100_000)
REOPEN_SIZE = 10_000
RAW_FORWARD_MAX = 320  # images for a raw forward figure (enough for a stable rate)


@dataclass
class Row:
    label: str
    value: str
    target: str = ""
    met: bool | None = None

    def line(self) -> str:
        verdict = "" if self.met is None else ("  ok" if self.met else "  MISSED")
        target = f"(target {self.target})" if self.target else ""
        return f"  {self.label:<58} {self.value:>24}  {target}{verdict}"


class Bench:
    """Runs the measurements in order, printing each figure as soon as it is known."""

    def __init__(self, out=sys.stdout, log=sys.stderr):
        self.out, self.log = out, log
        self.rows: list[Row] = []

    def say(self, message: str) -> None:
        print(message, file=self.log, flush=True)

    def add(self, label: str, value: str, target: str = "", met: bool | None = None) -> None:
        row = Row(label, value, target, met)
        self.rows.append(row)
        print(row.line(), file=self.out, flush=True)

    def section(self, title: str) -> None:
        print(f"\n{title}", file=self.out, flush=True)


# -- machine and memory --------------------------------------------------------------------------------
def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        total_kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f", {total_kib / 2**20:.0f} GiB RAM"
    load = ""
    if hasattr(os, "getloadavg"):
        load = "; load average %.2f %.2f %.2f" % os.getloadavg()
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs{memory}{load}"


def _proc_status_bytes(field: str) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return None


def current_rss() -> int | None:
    return _proc_status_bytes("VmRSS")


def reset_peak_rss() -> bool:
    """Start a new peak-RSS window (Linux: clear_refs 5 resets VmHWM); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss() -> int | None:
    peak = _proc_status_bytes("VmHWM")
    if peak is None:
        with contextlib.suppress(ImportError):
            import resource

            scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB elsewhere
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    return peak


def _mib(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 2**20:.0f} MiB"


# -- inputs ----------------------------------------------------------------------------------------------
def generate_images(folder: Path, n: int, seed: int = 0) -> None:
    """n small product-like JPEGs (a coloured garment shape on white), each different."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        img = Image.new("RGB", (60, 80), "white")
        draw = ImageDraw.Draw(img)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        left, top = rng.integers(2, 20), rng.integers(2, 25)
        box = (int(left), int(top), int(60 - rng.integers(2, 20)), int(80 - rng.integers(2, 25)))
        (draw.ellipse if i % 2 else draw.rectangle)(box, fill=colour)
        img.save(folder / f"generated{i:05d}.jpg", quality=90)


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard link (same bytes, no space), else symlink, else copy."""
    try:
        os.link(src, dst)
    except OSError:
        try:
            os.symlink(src, dst)
        except OSError:
            dst.write_bytes(src.read_bytes())


def prepare_catalog(images: Path | None, n: int, workdir: Path) -> tuple[Path, str]:
    """A folder with exactly n photos (links to the first n of `images`, or generated ones)."""
    source = images or (DEFAULT_IMAGES if DEFAULT_IMAGES.is_dir() else None)
    folder = workdir / "catalog"
    if source is None:
        generate_images(folder, n)
        return folder, f"{n} generated 60×80 JPEGs (no sample catalog at {DEFAULT_IMAGES})"
    if not Path(source).is_dir():
        raise UserError(f"Images folder not found: {source}")
    files = scan(Path(source).resolve())[:n]
    if len(files) < n:
        raise UserError(f"{source} has only {len(files)} images; use -n {len(files)} or fewer.")
    folder.mkdir(parents=True)
    for i, f in enumerate(files):
        link_or_copy(Path(source).resolve() / f.relpath, folder / f"{i:05d}{Path(f.relpath).suffix.lower()}")
    return folder, f"first {n} of {source}"


@contextlib.contextmanager
def data_dir_at(folder: Path):
    """Stores (and logs) of the bench go to `folder`, not the person's data dir."""
    previous = os.environ.get("FASHIONREC_DATA_DIR")
    os.environ["FASHIONREC_DATA_DIR"] = str(folder)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["FASHIONREC_DATA_DIR"]
        else:
            os.environ["FASHIONREC_DATA_DIR"] = previous


@contextlib.contextmanager
def counted_decodes():
    """Counts the image decodes the indexer does while active: proof that a re-open decodes nothing."""
    calls = [0]
    original = indexer.load_rgb

    def counting(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    indexer.load_rgb = counting
    try:
        yield calls
    finally:
        indexer.load_rgb = original


# -- measurements ------------------------------------------------------------------------------------------
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


@dataclass
class Rate:
    """Throughput by the clock, and by the process's CPU time (all threads): the second barely moves
    when other programs share the cores, so it shows overheads even on a busy machine."""

    images: int
    seconds: float
    cpu_seconds: float

    @classmethod
    def measure(cls, images: int, work: Callable[[], object]) -> "Rate":
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        return cls(images, time.perf_counter() - wall, time.process_time() - cpu)

    def __add__(self, other: "Rate") -> "Rate":
        return Rate(self.images + other.images, self.seconds + other.seconds, self.cpu_seconds + other.cpu_seconds)

    @property
    def per_second(self) -> float:
        return self.images / self.seconds

    @property
    def per_cpu_second(self) -> float:
        return self.images / self.cpu_seconds

    def __str__(self) -> str:
        return f"{self.per_second:.1f} img/s ({self.per_cpu_second:.1f}/CPU-s)"


def forward_rate(forward: Callable[[np.ndarray], np.ndarray], pixels: np.ndarray, batch_size: int) -> Rate:
    """Throughput of `forward` on ready, preprocessed batches (one warm-up batch not counted)."""
    batches = [preprocess(pixels[i : i + batch_size]) for i in range(0, len(pixels), batch_size)]
    forward(batches[0])
    return Rate.measure(len(pixels), lambda: [forward(batch) for batch in batches])


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def knn_latencies(searcher: Searcher, queries: np.ndarray) -> list[float]:
    times = []
    for q in queries:
        started = time.perf_counter()
        searcher.search(q, 5)
        times.append(time.perf_counter() - started)
    return times


def random_unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return l2_normalise(rng.standard_normal((n, dim), dtype=np.float32))


def synthesise_indexed_catalog(photos: list[Path], count: int, folder: Path, embedder) -> None:
    """A `count`-file catalog (links to `photos`, cycled) whose store already holds a vector per
    file, as if indexed: random unit vectors, since re-opening never looks at their values."""
    folder.mkdir(parents=True)
    for i in range(count):
        link_or_copy(photos[i % len(photos)], folder / f"item{i:06d}{photos[i % len(photos)].suffix}")
    files = scan(folder.resolve())
    store = Store(folder.resolve(), embedder.fingerprint, embedder.dim, embedder.name)
    try:
        for start in range(0, len(files), 1000):
            chunk = files[start : start + 1000]
            vectors = random_unit_vectors(len(chunk), embedder.dim, seed=start)
            store.commit_batch([Embedded(f.relpath, f.size, f.mtime_ns, v) for f, v in zip(chunk, vectors)], [])
    finally:
        store.close()


def reopen(folder: Path, embedder) -> tuple[float, int, int]:
    """Time until an unchanged, indexed catalog answers queries: open the store, check the folder for
    changes (scan + diff), load the vectors and fit the k-NN index. Returns (seconds, decodes, items)."""
    with counted_decodes() as decodes:
        started = time.perf_counter()
        with CatalogSession(folder, embedder) as session:
            session.index()
            items = len(session.searcher)
        elapsed = time.perf_counter() - started
    return elapsed, decodes[0], items


# -- the run ------------------------------------------------------------------------------------------------
def _indexing(bench: Bench, embedder, folder: Path, photos: list[Path], batch_size: int) -> tuple[Rate, Rate]:
    """Our whole pipeline on an empty store, between two raw forward runs on ready tensors (their sum is
    the raw figure, so a change in the machine's load affects both sides alike): (ours, raw)."""
    bench.section(f"Indexing throughput ({len(photos)} photos)")
    bench.say("raw forward of our backend …")
    pixels = np.stack([load_rgb(p, embedder.input_size) for p in photos[:RAW_FORWARD_MAX // 2]])
    raw = forward_rate(embedder.forward, pixels, batch_size)

    bench.say(f"indexing {len(photos)} photos with the index pipeline (cold, empty store) …")
    rss_samples: list[int] = []
    peak_resettable = reset_peak_rss()
    cpu_started = time.process_time()
    with CatalogSession(folder, embedder) as session:
        report = session.index(batch_size=batch_size, progress=lambda p: rss_samples.append(current_rss() or 0))
    ours = Rate(report.embedded, report.elapsed, time.process_time() - cpu_started)
    peak = peak_rss()
    bench.say("raw forward of our backend, again …")
    raw += forward_rate(embedder.forward, pixels, batch_size)
    bench.add(f"raw forward, {embedder.backend} backend, ready tensors", str(raw))
    bench.add(f"our index pipeline (scan+decode+embed+store, {report.embedded} new)", str(ours))
    if len(rss_samples) > 2:
        bench.add("RSS after the first batch → at the end", f"{_mib(rss_samples[1])} → {_mib(rss_samples[-1])}")
    label = "peak RSS while indexing" if peak_resettable else "peak RSS of the process so far"
    bench.add(label, _mib(peak), "< 2.5 GiB", None if peak is None else peak < 2.5 * 2**30)
    return ours, raw


def _queries(bench: Bench, embedder, folder: Path, photos: list[Path]) -> None:
    bench.section(f"Query: drop a photo → 5 results ({QUERIES} warm queries)")
    bench.say("queries …")
    with CatalogSession(folder, embedder) as session:
        session.query(photos[0], k=5)  # warm-up: the batch-1 path and the k-NN index
        latencies = []
        for path in photos[1 : QUERIES + 1]:
            started = time.perf_counter()
            session.query(path, k=5)
            latencies.append(time.perf_counter() - started)
    median = statistics.median(latencies)
    bench.add("query latency median (decode + embed 1 + k-NN)", f"{1000 * median:.0f} ms", "< 150 ms",
              median < 0.150)
    bench.add("query latency p95", f"{1000 * percentile(latencies, 95):.0f} ms")


def _reopening(bench: Bench, embedder, folder: Path, photos: list[Path], workdir: Path, reopen_size: int) -> None:
    bench.section("Re-open of an unchanged indexed catalog (open store, scan + diff, load vectors, fit k-NN)")
    seconds, decodes, items = reopen(folder, embedder)
    bench.add(f"re-open, {items} items, {decodes} decodes", f"{1000 * seconds:.0f} ms")
    bench.say(f"building a synthetic indexed catalog of {reopen_size} files …")
    big = workdir / f"catalog-{reopen_size}"
    synthesise_indexed_catalog(photos, reopen_size, big, embedder)
    seconds, decodes, items = reopen(big, embedder)
    bench.add(f"re-open, {items} items, {decodes} decodes", f"{1000 * seconds:.0f} ms", "< 1 s",
              seconds < 1.0 and decodes == 0 and items == reopen_size)


def _seed_and_other_backends(bench: Bench, embedder, photos: list[Path], batch_size: int,
                             compare_backends: bool) -> Rate:
    bench.section("The seed project's loop on the same photos (and other backends)")
    bench.say(f"seed loop on {len(photos)} photos (about {len(photos) / 5 / 60:.0f} min) …")
    seed = seed_loop_rate(build_keras_model(embedder.weights), photos)
    bench.add("seed loop: load_img + predict per image", str(seed))
    if compare_backends:
        pixels = np.stack([load_rgb(p, embedder.input_size) for p in photos[:RAW_FORWARD_MAX]])
        for backend in BACKENDS:
            if backend != embedder.backend:
                bench.say(f"raw forward of the {backend} backend …")
                rate = forward_rate(ResNet50Embedder(embedder.weights, backend).forward, pixels, batch_size)
                bench.add(f"raw forward, {backend} backend (not used)", str(rate))
    return seed


def _knn(bench: Bench, dim: int, sizes: tuple[int, ...]) -> None:
    bench.section(f"k-NN search, top 5 of synthetic L2-normalised {dim}-d vectors (median of {QUERIES})")
    bench.say("k-NN on synthetic vectors …")
    vectors = random_unit_vectors(max(sizes), dim, seed=1)
    queries = random_unit_vectors(QUERIES + 1, dim, seed=2)
    for size in sizes:
        times = knn_latencies(Searcher([f"item{i}" for i in range(size)], vectors[:size]), queries)[1:]
        median = statistics.median(times)
        target = "< 20 ms" if size == 44_000 else ""
        bench.add(f"k-NN, {size:,} items", f"{1000 * median:.1f} ms", target, median < 0.020 if target else None)


def run_bench(
    embedder: ResNet50Embedder,
    images: Path | None = None,
    n: int = DEFAULT_N,
    batch_size: int = indexer.DEFAULT_BATCH_SIZE,
    compare_backends: bool = False,
    knn_sizes: tuple[int, ...] = KNN_SIZES,
    reopen_size: int = REOPEN_SIZE,
    out=sys.stdout,
    log=sys.stderr,
) -> list[Row]:
    """Every figure, printed to `out` as measured (progress notes go to `log`); returns the rows.
    Our pipeline, queries and k-NN run first, so their memory and latency are not affected by the seed
    loop's Keras model (nor by TensorFlow itself, which the tflite backend with a cached model never
    imports)."""
    if n < 2:
        raise UserError("The bench needs at least 2 images (-n 2).")
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
        photos = sorted(folder.iterdir())
        print(f"images   {source}", file=out)
        bench.say("preparing the model …")
        t = time.perf_counter()
        embedder.load()
        print(f"model ready in {time.perf_counter() - t:.1f} s: {embedder.load_report}", file=out)

        with data_dir_at(workdir / "data"):
            ours, raw = _indexing(bench, embedder, folder, photos, batch_size)
            _queries(bench, embedder, folder, photos)
            _reopening(bench, embedder, folder, photos, workdir, reopen_size)
        # Before anything loads TensorFlow: its idle worker threads spin for a while after each use and
        # would slow the k-NN's BLAS threads, which the app (tflite, no TensorFlow) never sees.
        _knn(bench, embedder.dim, knn_sizes)
        seed = _seed_and_other_backends(bench, embedder, photos, batch_size, compare_backends)
        versus_seed = ours.per_second / seed.per_second
        bench.add("ratio ours / seed loop", f"{versus_seed:.1f}×", "≥ 4×", versus_seed >= 4)
        bench.add("ratio ours / seed loop, per CPU-second", f"{ours.per_cpu_second / seed.per_cpu_second:.1f}×")
        versus_raw = ours.per_second / raw.per_second
        bench.add("ratio ours / raw forward", f"{100 * versus_raw:.0f} %", "≥ 90 %", versus_raw >= 0.9)
        bench.add("ratio ours / raw forward, per CPU-second",
                  f"{100 * ours.per_cpu_second / raw.per_cpu_second:.0f} %")
    load = " (load average %.2f %.2f %.2f)" % os.getloadavg() if hasattr(os, "getloadavg") else ""
    print(f"\nbench finished in {time.perf_counter() - started:.0f} s{load}", file=out)
    return bench.rows
