"""A map of the catalog: every item laid out in 2-D by similarity, cached beside the store.

The layout: PCA of the vectors to MAP_DIMS numbers (compact_index.fit_pca, numpy), then openTSNE (FFT-accelerated
t-SNE, its own approximate neighbours). Chosen by measurement against UMAP on 44,000 items on 2 cores
(docs/batch.md "Catalog map"): openTSNE kept more of each item's 10 nearest neighbours (0.66 against 0.46) in
fewer CPU-seconds (113 against 196). openTSNE brings SciPy and scikit-learn, so it is the optional `map` extra:
without it, `MapUnavailable` says how to install it (the packaged app leaves it out to stay small).

The cache (`<store>.map.npz`, no pickle) holds the points, the relpaths in the store's order and the store
generation it was computed at: it is used as long as the store has not changed since, and a changed catalog
gets a new layout (started from the old points of the items that are still there, so the map keeps its shape).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .compact_index import fit_pca
from .errors import UserError
from .export import write_rows
from .files import save_arrays_atomically, write_atomically

log = logging.getLogger(__name__)

MAP_DIMS = 50  # PCA numbers the layout starts from
ITERATIONS = (250, 500)  # openTSNE's defaults: early exaggeration, then the normal phase
PROGRESS_EVERY = 10  # iterations between progress reports (and chances to cancel)
BARNES_HUT_BELOW = 10_000  # items: below it Barnes-Hut is faster than the FFT grid (openTSNE's own advice)
FORMAT_VERSION = 1
MapProgress = Callable[[int, int], None]  # (iterations done, iterations in all) while the items are laid out
MapPhase = Callable[[str], None]  # one of the phases below, as it starts
# The phases of a layout, said as they start (the window's label): the first two report no progress of their own.
LOADING_LIBRARY = "Loading the layout library (openTSNE)…"  # its import pulls in scikit-learn and SciPy: 2–4 s
FINDING_NEIGHBOURS = "Finding each item's nearest neighbours (step 1 of 2)…"  # PCA, then openTSNE's affinities
LAYING_OUT = "Laying the items out (step 2 of 2)…"  # openTSNE's iterations: progress and cancel every 10


class MapUnavailable(UserError):
    """openTSNE is not installed (the optional `map` extra)."""


class _Cancelled(Exception):
    pass


@dataclass(frozen=True)
class CatalogMap:
    relpaths: list[str]
    points: np.ndarray  # (items, 2) float32, centred, roughly unit spread
    generation: str  # the store generation the layout was computed at
    seconds: float = 0.0  # how long the layout took (0 when read from the cache)

    def __len__(self) -> int:
        return len(self.relpaths)


def _tsne(phase: MapPhase | None = None):
    """openTSNE, imported now (LOADING_LIBRARY is said first when it was not yet: that takes seconds)."""
    if phase and "openTSNE" not in sys.modules:
        phase(LOADING_LIBRARY)
    try:
        import openTSNE
    except ImportError:
        raise MapUnavailable(unavailable_message()) from None
    return openTSNE


def unavailable_message() -> str:
    """Why there is no map here, and where there is one. The packaged app leaves openTSNE out: with SciPy and
    scikit-learn a layout loads ~100 MiB more (measured, docs/batch.md), and the app is kept under 400 MB."""
    if getattr(sys, "frozen", False):
        return ("The catalog map is not part of the packaged app: its layout library (openTSNE, with SciPy and "
                "scikit-learn, about 100 MB) would take the app past its size limit. The map works in fashionrec run "
                "from source with its `map` extra (docs/batch.md, \"Catalog map\"); every other feature works here.")
    return ("The catalog map needs openTSNE, which this installation leaves out: install it with "
            "pip install 'fashionrec[map]'.")


def layout(vectors: np.ndarray, progress: MapProgress | None = None, should_cancel: Callable[[], bool] | None = None,
           start: np.ndarray | None = None, seed: int = 0, workers: int | None = None,
           phase: MapPhase | None = None) -> np.ndarray | None:
    """2-D points for the vectors (None when cancelled): PCA to MAP_DIMS, then openTSNE from `start` (points of
    a previous layout, e.g. a catalog that grew) or from the PCA's first two axes. `phase(text)` is told each
    phase as it starts (LOADING_LIBRARY, FINDING_NEIGHBOURS, LAYING_OUT); `progress` counts the last one's
    iterations, where `should_cancel` is asked (and once between the first two)."""
    openTSNE = _tsne(phase)
    n = len(vectors)
    if n < 4:  # t-SNE needs a few neighbours: too few items to lay out, put them on a line
        return np.column_stack([np.linspace(-1, 1, n), np.zeros(n)]).astype(np.float32)
    if phase:
        phase(FINDING_NEIGHBOURS)
    mean, components = fit_pca(vectors)
    reduced = np.asarray((np.asarray(vectors, np.float32) - mean) @ components[:MAP_DIMS].T, np.float32)
    total = sum(ITERATIONS)
    done = [0]

    def report(iteration, error, embedding) -> bool:
        done[0] += PROGRESS_EVERY
        if progress:
            progress(min(done[0], total - 1), total)
        return bool(should_cancel and should_cancel())  # True stops openTSNE's optimisation

    initial = start if start is not None else reduced[:, :2] / max(float(np.std(reduced[:, 0])), 1e-12) * 1e-4
    threads = workers or (min(2, os.cpu_count() or 1) if n > BARNES_HUT_BELOW else 1)  # small: threads only wait
    tsne = openTSNE.TSNE(n_jobs=threads, random_state=seed,
                         perplexity=min(30.0, (n - 1) / 3), early_exaggeration_iter=ITERATIONS[0],
                         n_iter=ITERATIONS[1], callbacks=report, callbacks_every_iters=PROGRESS_EVERY,
                         initialization=np.asarray(initial, np.float64),
                         negative_gradient_method="fft" if n > BARNES_HUT_BELOW else "bh")
    # The neighbour search, made here as TSNE.fit would make it, so that it is a phase of its own (it gives no
    # progress; at 44,000 items 18 % of the layout's clock, 45 s under load: docs/batch.md) and the iterations
    # after it report theirs.
    from openTSNE.affinity import MultiscaleMixture

    affinities = MultiscaleMixture(
        reduced, tsne.perplexity, method=tsne.neighbors, metric=tsne.metric, metric_params=tsne.metric_params,
        n_jobs=tsne.n_jobs, random_state=tsne.random_state, verbose=tsne.verbose, knn_kwargs=tsne.knn_kwargs)
    if should_cancel and should_cancel():
        return None
    if phase:
        phase(LAYING_OUT)
    if progress:
        progress(0, total)
    embedding = np.asarray(tsne.fit(reduced, affinities=affinities), np.float32)
    if should_cancel and should_cancel():
        return None
    if progress:
        progress(total, total)
    return embedding - embedding.mean(axis=0)


def load_map(catalog, store) -> CatalogMap | None:
    """The cached map when it was computed at the store's current generation; else None."""
    return read_map(catalog.map_path(store.path), store.generation())


def read_map(path: Path, generation: str) -> CatalogMap | None:
    """The map cached in `path` if it was computed at `generation` and is whole; else None (lay it out again)."""
    try:
        with np.load(path, allow_pickle=False) as cached:
            if int(cached["format"]) != FORMAT_VERSION or str(cached["generation"]) != generation:
                return None
            points, relpaths = cached["points"], cached["relpaths"].tolist()
    except (OSError, KeyError, ValueError) as err:
        if not isinstance(err, FileNotFoundError):
            log.info("catalog map %s not usable (%s): laying it out again", path, err)
        return None
    if points.shape != (len(relpaths), 2):
        return None
    return CatalogMap(relpaths, points.astype(np.float32), generation)


def save_map(path: Path, laid_out: CatalogMap) -> None:
    """Cache a map (no pickle: a unicode array of relpaths), atomically."""
    save_arrays_atomically(path, format=np.array(FORMAT_VERSION), generation=np.array(laid_out.generation),
                           points=laid_out.points, relpaths=np.array(laid_out.relpaths, dtype=str))


def previous_points(catalog, store, relpaths: list[str]) -> np.ndarray | None:
    """A start for a new layout from the last one (any generation): old items keep their place, new items start
    beside a random old one; None when there is no usable old layout."""
    try:
        with np.load(catalog.map_path(store.path), allow_pickle=False) as cached:
            old = dict(zip((str(r) for r in cached["relpaths"]), cached["points"], strict=True))
    except (OSError, KeyError, ValueError):
        return None
    if not old:
        return None
    rng = np.random.default_rng(0)
    anchors = np.array(list(old.values()), np.float64)
    start = np.array([old[r] if r in old else anchors[rng.integers(len(anchors))] for r in relpaths], np.float64)
    start += rng.normal(scale=1e-3 * float(np.std(anchors)) + 1e-9, size=start.shape)  # no two items on one spot
    return start / max(float(np.std(start[:, 0])), 1e-12) * 1e-4  # openTSNE's scale for an initialisation


def catalog_map(session, progress: MapProgress | None = None, should_cancel: Callable[[], bool] | None = None,
                phase: MapPhase | None = None) -> CatalogMap | None:
    """The map of a CatalogSession's indexed items: cached, or laid out now (`layout`'s phases and progress) and
    cached (None when cancelled)."""
    store = session.store
    cached = load_map(session.catalog, store)
    if cached is not None:
        return cached
    generation = store.generation()
    relpaths, vectors = store.load_vectors()
    if not relpaths:
        raise UserError(f"The catalog {session.root} has no indexed images yet; index it first.")
    started = time.perf_counter()
    points = layout(vectors, progress, should_cancel, previous_points(session.catalog, store, relpaths), phase=phase)
    if points is None:
        return None
    laid_out = CatalogMap(relpaths, points, generation, time.perf_counter() - started)
    try:
        save_map(session.catalog.map_path(store.path), laid_out)
    except OSError as err:  # the map is still shown; it is computed again next time
        log.warning("could not cache the catalog map of %s: %s", store.path, err)
    log.info("catalog map of %d items laid out in %.1f s", len(relpaths), laid_out.seconds)
    return laid_out


def write_selection(path: str | os.PathLike, root: Path, relpaths: list[str], labels=None) -> int:
    """Picked items to a file, atomically: .txt one full path a line, .csv their path, item (relative) and label
    columns (`labels`: a labels.LabelTable or None). Returns how many items were written."""
    path = Path(path)
    if path.suffix.lower() == ".txt":
        try:
            write_atomically(path, "".join(f"{root / r}\n" for r in relpaths).encode("utf-8"))
        except OSError as err:
            raise UserError(f"Cannot write {path} ({err.strerror or err}).") from None
        return len(relpaths)
    if path.suffix.lower() != ".csv":
        raise UserError(f"Cannot tell the format of {path.name}: name it .txt (paths) or .csv (with labels).")
    fields = list(labels.fields) if labels else []
    rows = ({"path": str(root / r), "item": r, **{f: labels.of(r).get(f, "") for f in fields}} for r in relpaths)
    return write_rows(path, ["path", "item", *fields], rows) or 0


def inside(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Per point (n, 2), whether it lies inside the closed polygon (m, 2) (even-odd rule): a lasso's items."""
    points, polygon = np.asarray(points, np.float64), np.asarray(polygon, np.float64)
    result = np.zeros(len(points), bool)
    if len(polygon) < 3:
        return result
    x, y = points[:, 0], points[:, 1]
    for (x1, y1), (x2, y2) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            edge_x = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        result ^= crosses & (x < edge_x)
    return result
