"""Similarity tuned to a catalog's labels: a linear projection learnt from the labelled items, then exact search.

The projection is linear discriminant analysis with shrinkage (numpy only): principal components of the
labelled vectors (at most PCA_DIMS, enough for any model's vectors to be fitted in seconds), then the
directions that spread the labels' means apart relative to the spread inside each label, the within-label
covariance shrunk towards a multiple of the identity (SHRINKAGE) so a label with few items cannot
dominate. Every item, labelled or not, is projected and searched (exact Euclidean k-NN); only the fit
uses labels. Items whose label no other item shares still help: their mean counts between labels.

The fit is cached per store and labels file as an .npz beside the store (no pickle), keyed on the store's
content (its files' sizes and times) and the labels file's SHA-256: it is refitted when either changes.

`cross_fitted_neighbours` is what `eval --tuned` scores: k folds, each fold's items queried with a
projection fitted on the other folds only, so no query's own label ever shaped the space it is scored in.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import weakref
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import UserError
from .evaluate import Evaluation
from .files import save_arrays_atomically
from .labels import LabelTable
from .search import Searcher

SHRINKAGE = 0.3  # share of the identity in the within-label covariance; chosen on fashion-2k (docs/models.md)
PCA_DIMS = 256  # the fit works on at most this many principal components of the labelled vectors
FOLDS = 5  # cross-fitting folds of eval --tuned
VERSION = 1  # bump when the fit changes: cached projections are then refitted

FitProgress = Callable[[int, int], None]  # (steps done, steps in all)


@dataclass(frozen=True)
class Projection:
    mean: np.ndarray  # (dim,) float32, subtracted first
    matrix: np.ndarray  # (dim, out) float32

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """(n, dim) → (n, out) float32 projected vectors."""
        return ((np.asarray(vectors, np.float32) - self.mean) @ self.matrix).astype(np.float32)


def fit_projection(vectors: np.ndarray, labels: list[str] | np.ndarray, shrinkage: float = SHRINKAGE) -> Projection:
    """The shrinkage-LDA projection of labelled `vectors` (one label per row) onto at most labels − 1 axes."""
    labels = np.asarray(labels, dtype=object)
    classes, class_of = np.unique(labels, return_inverse=True)
    if len(classes) < 2:
        raise UserError(f"Tuning needs at least 2 different labels among the indexed items; found {len(classes)}.")
    mean = np.asarray(vectors, np.float64).mean(axis=0)
    centred = np.asarray(vectors, np.float64) - mean
    singular, axes = _principal_axes(centred, PCA_DIMS)
    keep = int((singular > singular[0] * 1e-6).sum()) if len(singular) and singular[0] > 0 else 0
    if keep == 0:
        raise UserError("Tuning needs vectors that differ; all the labelled items have the same vector.")
    components = axes[:, :keep]  # (dim, keep)
    reduced = centred @ components
    counts = np.bincount(class_of)
    class_means = np.zeros((len(classes), keep))
    np.add.at(class_means, class_of, reduced)
    class_means /= counts[:, None]
    within = reduced - class_means[class_of]
    within_cov = within.T @ within / len(reduced)
    within_cov = (1 - shrinkage) * within_cov + shrinkage * np.trace(within_cov) / keep * np.eye(keep)
    between_cov = (class_means * counts[:, None]).T @ class_means / len(reduced)  # reduced has mean 0
    values, vectors_ = np.linalg.eigh(within_cov)
    whiten = vectors_ / np.sqrt(np.maximum(values, values.max() * 1e-12))
    spread, directions = np.linalg.eigh(whiten.T @ between_cov @ whiten)
    order = np.argsort(spread)[::-1][:min(len(classes) - 1, keep)]
    matrix = components @ whiten @ directions[:, order]
    return Projection(mean.astype(np.float32), matrix.astype(np.float32))


def _principal_axes(centred: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(singular values, (dim, ≤count) axes) of the top principal components: a seeded randomized range
    finder with two power iterations, then an SVD of the small projected matrix (seconds, not minutes,
    for thousands of 2048-d vectors)."""
    n, dim = centred.shape
    width = min(count + 16, n, dim)
    basis = centred @ np.random.default_rng(0).standard_normal((dim, width))
    for _ in range(2):
        basis, _ = np.linalg.qr(basis)
        basis, _ = np.linalg.qr(centred @ (centred.T @ basis))
    _, singular, axes = np.linalg.svd(basis.T @ centred, full_matrices=False)
    return singular[:count], axes[:count].T


def cross_fitted_neighbours(vectors: np.ndarray, labels: list[str], k: int, folds: int = FOLDS, seed: int = 0,
                            progress: FitProgress | None = None) -> np.ndarray:
    """(n, min(k, n−1)) nearest other items of each item in a tuned space fitted WITHOUT its fold.

    The items are dealt into `folds` random folds (seeded); for each fold a projection is fitted on the
    other folds' items and labels, every item is projected, and the fold's items query all the others.
    """
    n = len(vectors)
    folds = max(2, min(folds, n))
    fold_of = np.random.default_rng(seed).permutation(n) % folds
    label_of = np.asarray(labels, dtype=object)
    k = min(k, n - 1)
    neighbours = np.empty((n, max(k, 0)), dtype=np.int64)
    for fold in range(folds):
        queries = np.flatnonzero(fold_of == fold)
        train = fold_of != fold
        projected = fit_projection(vectors[train], label_of[train]).apply(vectors)
        neighbours[queries] = _neighbours_of(projected, queries, k)
        if progress:
            progress(fold + 1, folds)
    return neighbours


def _neighbours_of(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Nearest other rows (Euclidean) of the `queries` rows among all rows, nearest first."""
    squared = np.einsum("ij,ij->i", vectors, vectors)
    distance = squared[None, :] - 2.0 * vectors[queries] @ vectors.T  # + |q|²: the same along a row
    distance[np.arange(len(queries)), queries] = np.inf
    top = np.argpartition(distance, k - 1, axis=1)[:, :k]
    order = np.argsort(np.take_along_axis(distance, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


# -- the cached projection of one store --------------------------------------------------------------
def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as err:
        raise UserError(f"Cannot read the labels file {path} ({err.strerror or err}).") from None
    return digest.hexdigest()


def cache_key(store, labels_path: Path, field_name: str) -> str:
    """Changes when the store's files (added, removed, changed), the labels file or the field change."""
    content = hashlib.sha256(json.dumps(sorted(store.identities().items())).encode("utf-8")).hexdigest()
    return json.dumps({"version": VERSION, "shrinkage": SHRINKAGE, "pca": PCA_DIMS, "store": content,
                       "fingerprint": store.fingerprint, "labels": _file_sha256(labels_path),
                       "field": field_name}, sort_keys=True)


def cache_path(store, field_name: str) -> Path:
    return store.catalog.tuned_path(store.path, field_name)


def _read_cached(path: Path, key: str) -> Projection | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key:
                return None
            return Projection(data["mean"].astype(np.float32), data["matrix"].astype(np.float32))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):  # missing or damaged: fit again
        return None


def _write_cached(path: Path, key: str, projection: Projection) -> None:
    with contextlib.suppress(OSError):  # a cache that cannot be written costs a refit next time, nothing else
        save_arrays_atomically(path, key=np.array(key), mean=projection.mean, matrix=projection.matrix)


@dataclass(frozen=True)
class Tuning:
    projection: Projection
    field_name: str
    labelled: int  # items whose label took part in the fit
    fitted_now: bool  # False: read from the cache
    # [the searcher whose vectors were projected (weakly), its projected twin]: queries in a row project once
    _projected: list = field(default_factory=list, compare=False, repr=False)

    def projected(self, searcher) -> Searcher:
        """`searcher`'s items in the tuned space, projected the first time this searcher is asked for."""
        if self._projected and self._projected[0]() is searcher:
            return self._projected[1]
        projected = Searcher(searcher.relpaths, self.projection.apply(searcher.vectors))
        self._projected[:] = [weakref.ref(searcher), projected]
        return projected


def tuned_projection(store, table: LabelTable, field_name: str, progress: FitProgress | None = None) -> Tuning:
    """The projection of `store`'s vectors tuned to `field_name` of the label table: read from the cache when
    the store and the labels file are unchanged since it was fitted, else fitted now (and cached)."""
    labels_path = table.path
    relpaths, vectors = store.load_vectors()
    match = table.column(field_name, relpaths)
    key = cache_key(store, labels_path, field_name)
    path = cache_path(store, field_name)
    labelled = [i for i, relpath in enumerate(relpaths) if relpath in match.labels]
    cached = _read_cached(path, key)
    if cached is not None:
        return Tuning(cached, field_name, len(labelled), fitted_now=False)
    if len(labelled) < 2:
        raise UserError(f"Only {len(labelled)} indexed image(s) have a '{field_name}' label in {labels_path}: "
                        "nothing to tune to.")
    if progress:
        progress(0, 1)
    projection = fit_projection(vectors[labelled], [match.labels[relpaths[i]] for i in labelled])
    _write_cached(path, key, projection)
    if progress:
        progress(1, 1)
    return Tuning(projection, field_name, len(labelled), fitted_now=True)


def format_comparison(untuned: Evaluation, tuned: Evaluation) -> str:
    """The untuned and the cross-fitted tuned scores side by side: overall, then per label."""
    k = untuned.k
    width = max([len("label")] + [len(c.label) for c in untuned.classes])
    tuned_by_label = {c.label: c for c in tuned.classes}
    lines = [f"tuned to '{tuned.field_name}', cross-fitted ({FOLDS} folds: each query's own fold left out of the fit)",
             f"{'':<{width}}  {'':>5}  {'untuned':^15}  {'tuned':^15}",
             f"{'label':<{width}}  {'items':>5}  {f'P@{k}':>7} {f'mAP@{k}':>7}  {f'P@{k}':>7} {f'mAP@{k}':>7}",
             f"{'(all)':<{width}}  {len(untuned.relpaths):>5}  {untuned.precision:>7.3f} {untuned.mean_ap:>7.3f}  "
             f"{tuned.precision:>7.3f} {tuned.mean_ap:>7.3f}"]
    for c in untuned.classes:
        if c.queries:
            t = tuned_by_label[c.label]
            lines.append(f"{c.label:<{width}}  {c.items:>5}  {c.precision:>7.3f} {c.mean_ap:>7.3f}  "
                         f"{t.precision:>7.3f} {t.mean_ap:>7.3f}")
    return "\n".join(lines)
