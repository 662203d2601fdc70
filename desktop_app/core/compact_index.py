"""Two-stage k-NN for big catalogs: a compact in-memory stage picks candidates, their exact vectors re-rank them.

Below COMPACT_THRESHOLD_BYTES of vectors the exact brute-force `Searcher` is instant (~20 ms) and is used as
it is. Above it:
- PCA (fitted on a sample of the catalog's own vectors) turns each vector into up to CODE_DIMS
  float32 numbers, the first HEAD_DIMS of them (the directions of most variance) in one array, the rest in
  another, plus the length of what PCA leaves out (the residual norm). (float16 would halve the memory, but
  numpy converts it slowly: the conversion of the candidates' codes alone took longer than the scan.)
- A query scans the heads only (the one pass over every item reads HEAD_DIMS floats each), keeps the
  FIRST_STAGE best, orders them by a lower bound of their true distance (whole code + residual norms), and
  re-ranks them in that order with their exact float32 vectors, read from a memory-mapped file, until the k-th
  exact distance is below the next candidate's bound (the result is then exact) or MAX_RERANK were read.
Everything lives in `<store file>.compact/` as .npy files (read with allow_pickle=False) and meta.json; an index
that is damaged, foreign or older than the store (Store.generation) is rebuilt.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .errors import UserError
from .search import DEFAULT_K, Result, Searcher, _single_blas_thread, limit
from .store import Store

log = logging.getLogger(__name__)

# Brute force reads every vector per query: ~20 ms at 50,000 2048-d vectors (400 MB; docs/performance.md),
# ~42 ms at 100,000. Above this size the compact index answers instead (50,000 resnet50 items, 160,000
# colour-texture items).
COMPACT_THRESHOLD_BYTES = 50_000 * 2048 * 4
CODE_DIMS, HEAD_DIMS = 256, 32  # 1 GB at 1M items; the scan reads only the HEAD_DIMS: 128 MB
FIRST_STAGE = 2048  # candidates kept by the head scan
# Exact vectors read per step, and at most per query. On a million 2048-d mixtures of 400 real vectors (the
# hardest synthetic set tried: ~2,500 near-copies around each) the top-5 equalled brute force's for 200 of 200
# queries with 256 code dims and 512 re-ranks; with 128 dims 197, with 256 re-ranks 193 (docs/big-catalogs.md).
RERANK_STEP, MAX_RERANK = 64, 512
PCA_SAMPLE = 20_000  # vectors the PCA is fitted on
REFIT_CHANGE = 0.2  # refit the PCA when the catalog grew or shrank by more than this share since the fit
FORMAT_VERSION = 1
_ARRAYS = ("mean", "components", "head", "tail", "residual_norms", "relpath_bytes", "relpath_offsets")


class _Relpaths:
    """The sorted relpaths as one UTF-8 blob + offsets (a few bytes per item instead of a Python string each)."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray):
        self._blob, self._offsets = blob, offsets

    @classmethod
    def from_list(cls, relpaths: list[str]) -> _Relpaths:
        encoded = [r.encode("utf-8") for r in relpaths]
        offsets = np.zeros(len(encoded) + 1, np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return cls(np.frombuffer(b"".join(encoded), np.uint8), offsets)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> str:
        return self._blob[self._offsets[i]:self._offsets[i + 1]].tobytes().decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def index(self, relpath: str) -> int | None:
        """Position of relpath (sorted as SQLite sorts text: by UTF-8 bytes, the same as Python's str order)."""
        i = bisect.bisect_left(self, relpath)
        return i if i < len(self) and self[i] == relpath else None


class CompactSearcher:
    """Same interface as Searcher (len, relpaths, vector_of, search), two stages inside."""

    def __init__(self, arrays: dict[str, np.ndarray], vectors: np.ndarray):
        self.mean, self.components = arrays["mean"], arrays["components"]
        self.head, self.tail, self.residual_norms = arrays["head"], arrays["tail"], arrays["residual_norms"]
        self.names = _Relpaths(arrays["relpath_bytes"], arrays["relpath_offsets"])
        self.vectors = vectors  # (n, dim) float32, memory-mapped
        self._head_norms = np.einsum("ij,ij->i", self.head, self.head)
        self._tail_norms = np.einsum("ij,ij->i", self.tail, self.tail)
        self.last_exact = True  # whether the latest search could prove its result exact

    def __len__(self) -> int:
        return len(self.names)

    @functools.cached_property
    def relpaths(self) -> list[str]:
        """Every relpath as a list, as Searcher.relpaths (made on first use: labels, filters, duplicates)."""
        return list(self.names)

    def position(self, relpath: str) -> int | None:
        return self.names.index(relpath)

    def vector_of(self, relpath: str) -> np.ndarray | None:
        i = self.names.index(relpath)
        return None if i is None else np.array(self.vectors[i])

    def search(self, vector: np.ndarray, k: int = DEFAULT_K, exclude: str | None = None,
               allowed: np.ndarray | None = None, max_distance: float | None = None) -> list[Result]:
        """As Searcher.search: the k nearest, `exclude` left out, only `allowed` items (bool per item) when
        given, results farther than `max_distance` dropped."""
        query = np.asarray(vector, np.float32).reshape(-1)
        indices, distances = self._nearest(query, k, allowed, self.names.index(exclude) if exclude else None)
        return limit([Result(rank, self.names[i], float(d))
                      for rank, (i, d) in enumerate(zip(indices, distances, strict=True), start=1)], max_distance)

    def search_many(self, queries: np.ndarray, k: int = DEFAULT_K, exclude: str | None = None,
                    allowed: np.ndarray | None = None, max_distance: float | None = None) -> list[list[Result]]:
        """`search` for each row of `queries` (the two stages are per query already)."""
        return [self.search(query, k, exclude, allowed, max_distance) for query in np.atleast_2d(queries)]

    def _nearest(self, query: np.ndarray, k: int, allowed: np.ndarray | None,
                 excluded: int | None) -> tuple[np.ndarray, np.ndarray]:
        code = (query - self.mean) @ self.components.T
        residual = np.sqrt(max(float(np.dot(query - self.mean, query - self.mean) - np.dot(code, code)), 0.0))
        head_query = code[:self.head.shape[1]]
        with _single_blas_thread():
            head_distances = self._head_norms - 2.0 * (self.head @ head_query) + np.dot(head_query, head_query)
        if allowed is not None:
            head_distances[~np.asarray(allowed, bool)] = np.inf
        if excluded is not None:
            head_distances[excluded] = np.inf
        eligible = len(self) if allowed is None and excluded is None else int(np.isfinite(head_distances).sum())
        n = min(k, eligible)
        if n <= 0:
            self.last_exact = True
            return np.empty(0, np.int64), np.empty(0)
        candidates, outside = _smallest(head_distances, FIRST_STAGE)
        candidates = candidates[np.isfinite(head_distances[candidates])]
        tail_query = code[self.head.shape[1]:]
        tail_distances = (self._tail_norms[candidates] - 2.0 * (self.tail[candidates] @ tail_query)
                          + np.dot(tail_query, tail_query))
        bounds = (head_distances[candidates] + tail_distances + (self.residual_norms[candidates] - residual) ** 2)
        order = np.argsort(bounds)
        candidates, bounds = candidates[order], bounds[order]
        read, exact = 0, np.empty(0)
        while read < min(len(candidates), MAX_RERANK):
            step = candidates[read:read + max(RERANK_STEP, n)]
            exact = np.concatenate([exact, self._exact_distances(step, query)])
            read += len(step)
            kth = np.partition(exact, n - 1)[n - 1] ** 2 if len(exact) >= n else np.inf
            if kth <= (bounds[read] if read < len(bounds) else outside):
                break
        self.last_exact = bool(len(exact) >= n and kth <= outside and (read == len(candidates) or kth <= bounds[read]))
        order = np.lexsort((candidates[:read], exact))[:n]
        return candidates[order], exact[order]

    def _exact_distances(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        by_position = np.argsort(rows)  # read the memory-mapped file in order
        distances = np.empty(len(rows))
        distances[by_position] = np.linalg.norm(
            self.vectors[rows[by_position]].astype(np.float64) - query, axis=1)
        return distances


def _smallest(values: np.ndarray, count: int) -> tuple[np.ndarray, float]:
    """Indices of about `count` (at least count/2) of the smallest values, and a bound: every value left out is
    above it (the value of an item the head scan leaves out is a lower bound of its distance).

    A threshold guessed from a sample and one comparison pass: several times faster than argpartition at 1M."""
    if count >= len(values):
        return np.arange(len(values)), np.inf
    sample = values[np.random.default_rng(len(values)).integers(0, len(values), 16_384)]
    rank = int(min(len(sample) - 1, 1.5 * count / len(values) * len(sample)))
    threshold = np.partition(sample, rank)[rank]
    chosen = np.flatnonzero(values <= threshold)
    if not count // 2 <= len(chosen) <= 2 * count:  # an unlucky sample: the slow exact way
        chosen = np.argpartition(values, count - 1)[:count]
        return chosen, float(values[chosen].max())
    return chosen, float(threshold)


def index_dir(store: Store) -> Path:
    return store.catalog.compact_dir(store.path)


def is_big(items: int, dim: int) -> bool:
    """Whether a catalog's vectors are past the size where brute force stops being instant."""
    return items * dim * 4 >= COMPACT_THRESHOLD_BYTES


def open_searcher(store: Store) -> Searcher | CompactSearcher:
    """The exact Searcher below COMPACT_THRESHOLD_BYTES; above it the compact index, built if missing or stale."""
    if not is_big(store.count(), store.dim):
        return Searcher(*store.load_vectors())
    try:
        return load_index(store) or build_index(store)
    except OSError as err:
        raise UserError(f"Cannot write the search index of {store.root} in {index_dir(store).parent} "
                        f"({err.strerror or err}); it needs about {store.count() * store.dim * 4 // 2**20 + 1} MiB. "
                        "Free some space or point FASHIONREC_DATA_DIR at another drive.") from None


def load_index(store: Store) -> CompactSearcher | None:
    """The stored index when it is whole, in this format and as new as the store; otherwise None (rebuild it)."""
    return load_folder(index_dir(store), store.dim, store.generation())


def load_folder(folder: Path, dim: int, generation: str | None = None) -> CompactSearcher | None:
    try:
        meta = json.loads((folder / "meta.json").read_text("utf-8"))
        if meta.get("format") != FORMAT_VERSION or meta.get("generation") != generation:
            return None
        arrays = {name: np.load(folder / f"{name}.npy", allow_pickle=False) for name in _ARRAYS}
        vectors = np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False)
        _check_shapes(arrays, vectors, dim)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
        log.info("compact index %s not usable (%s): rebuilding it", folder, err)
        return None
    return CompactSearcher(arrays, vectors)


def save_folder(folder: Path, arrays: dict[str, np.ndarray], relpaths: list[str], meta: dict) -> None:
    """Write the arrays (vectors.npy is already there) and, last, meta.json: without it nothing is loaded."""
    listed = _Relpaths.from_list(relpaths)
    arrays = {**arrays, "relpath_bytes": listed._blob, "relpath_offsets": listed._offsets}
    for name in _ARRAYS:
        np.save(folder / f"{name}.npy", arrays[name], allow_pickle=False)
    (folder / "meta.json").write_text(json.dumps({"format": FORMAT_VERSION, **meta}), "utf-8")


def _check_shapes(arrays: dict[str, np.ndarray], vectors: np.ndarray, dim: int) -> None:
    n, (codes, dim_seen) = len(vectors), arrays["components"].shape
    expected = {"mean": ((dim,), "<f4"), "components": ((codes, dim), "<f4"),
                "head": ((n, arrays["head"].shape[1]), "<f4"), "tail": ((n, codes - arrays["head"].shape[1]), "<f4"),
                "residual_norms": ((n,), "<f4"), "relpath_bytes": (arrays["relpath_bytes"].shape, "|u1"),
                "relpath_offsets": ((n + 1,), "<i8")}
    for name, (shape, dtype) in expected.items():
        if arrays[name].shape != shape or arrays[name].dtype.str != dtype:
            raise ValueError(f"{name}.npy has shape {arrays[name].shape} {arrays[name].dtype.str}")
    offsets = arrays["relpath_offsets"]
    if (vectors.shape != (n, dim) or vectors.dtype.str != "<f4" or dim_seen != dim or offsets[0] != 0
            or offsets[-1] != len(arrays["relpath_bytes"]) or np.any(np.diff(offsets) < 0)):
        raise ValueError("the files do not agree with each other")


def build_index(store: Store, attempts: int = 3) -> CompactSearcher:
    """Build (or rebuild) the compact index from the store's vectors; retried if the store changes meanwhile."""
    folder = index_dir(store)
    for _ in range(attempts):
        started, generation = time.perf_counter(), store.generation()
        building = folder.with_name(folder.name + f".building-{os.getpid()}")
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir()
        try:
            count = _build_in(building, store, folder, generation)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        if count is None:  # the store changed meanwhile
            shutil.rmtree(building, ignore_errors=True)
            continue
        _replace_folder(building, folder)
        log.info("compact index of %d items built in %.1f s", count, time.perf_counter() - started)
        searcher = load_index(store)
        if searcher is not None:
            return searcher
    raise UserError(f"The catalog {store.root} kept changing while its search index was built; "
                    "try again when indexing has finished.")


def _build_in(building: Path, store: Store, folder: Path, generation: str) -> int | None:
    """Write a whole index into `building`; its item count, or None when the store changed meanwhile."""
    try:
        relpaths = _write_vectors(store, building / "vectors.npy")
    except _StoreChanged:
        return None
    vectors = np.load(building / "vectors.npy", mmap_mode="r", allow_pickle=False)
    previous = _previous_fit(folder, len(relpaths))
    arrays = compact_arrays(vectors, previous and previous[:2])
    fitted_on = previous[2] if previous else len(relpaths)
    save_folder(building, arrays, relpaths, {"generation": generation, "fitted_on": fitted_on})
    del vectors  # the memory map must be closed before the folder moves (Windows)
    return len(relpaths) if store.generation() == generation else None


class _StoreChanged(Exception):
    pass


def _write_vectors(store: Store, path: Path) -> list[str]:
    """Copy the store's vectors into a .npy file to be memory-mapped; their relpaths, in the same order."""
    count = store.count()
    vectors = np.lib.format.open_memmap(path, mode="w+", dtype="<f4", shape=(count, store.dim))
    relpaths: list[str] = []
    for names, chunk in store.iter_vectors():
        if len(relpaths) + len(chunk) > count:
            raise _StoreChanged
        vectors[len(relpaths):len(relpaths) + len(chunk)] = chunk
        relpaths += names
    vectors.flush()
    if len(relpaths) != count:
        raise _StoreChanged
    return relpaths


def _previous_fit(folder: Path, count: int) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The PCA of the previous index (mean, components, items fitted on) while the catalog has not changed
    much since it was fitted."""
    try:
        fitted_on = json.loads((folder / "meta.json").read_text("utf-8"))["fitted_on"]
        if abs(count - fitted_on) > REFIT_CHANGE * fitted_on:
            return None
        return (np.load(folder / "mean.npy", allow_pickle=False),
                np.load(folder / "components.npy", allow_pickle=False), int(fitted_on))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def compact_arrays(vectors: np.ndarray, fit: tuple[np.ndarray, np.ndarray] | None = None,
                   chunk: int = 65536) -> dict[str, np.ndarray]:
    """PCA codes (head, tail) and residual norms of `vectors`, read chunk by chunk."""
    n, dim = vectors.shape
    if fit is None or fit[0].shape != (dim,):
        fit = fit_pca(vectors)
    mean, components = fit
    head_dims = min(HEAD_DIMS, len(components))
    head = np.empty((n, head_dims), np.float32)
    tail = np.empty((n, len(components) - head_dims), np.float32)
    residual_norms = np.empty(n, np.float32)
    for start in range(0, n, chunk):
        centred = np.asarray(vectors[start:start + chunk], np.float32) - mean
        codes = centred @ components.T
        head[start:start + chunk], tail[start:start + chunk] = codes[:, :head_dims], codes[:, head_dims:]
        leftover = np.einsum("ij,ij->i", centred, centred) - np.einsum("ij,ij->i", codes, codes)
        residual_norms[start:start + chunk] = np.sqrt(np.maximum(leftover, 0.0))
    return {"mean": mean, "components": components, "head": head, "tail": tail, "residual_norms": residual_norms}


def fit_pca(vectors: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and orthonormal components (rows, most variance first) of a PCA of a random sample of the vectors:
    the eigenvectors of the sample's covariance (numpy only; scikit-learn is not a dependency of the app)."""
    n, dim = vectors.shape
    rows = np.sort(np.random.default_rng(seed).choice(n, min(n, PCA_SAMPLE), replace=False))
    sample = np.asarray(vectors[rows], np.float64)
    mean = sample.mean(axis=0)
    centred = sample - mean
    _, eigenvectors = np.linalg.eigh(centred.T @ centred)  # ascending eigenvalues
    count = min(CODE_DIMS, dim, len(sample))
    return mean.astype(np.float32), np.ascontiguousarray(eigenvectors[:, ::-1][:, :count].T, np.float32)


def _replace_folder(new: Path, old: Path) -> None:
    """Put the new index in place; a reader sees the old one or the new one (the old is removed after)."""
    retired = old.with_name(old.name + f".old-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        old.replace(retired)
    try:
        new.replace(old)
    except OSError:  # another process has just put its own index there: that one is used (or found stale)
        shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(retired, ignore_errors=True)
