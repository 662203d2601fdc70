"""k nearest catalog items to a query vector, with an index fitted once per loaded catalog."""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass

import numpy as np

DEFAULT_K = 5
RERANK_MARGIN = 16  # candidates re-ranked exactly beyond the k asked for


@dataclass(frozen=True)
class Result:
    rank: int  # 1-based
    relpath: str
    distance: float


@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:  # threadpoolctl comes with scikit-learn
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController().select(user_api="blas")


def _single_blas_thread():
    """The matrix-vector product is memory-bound: one thread reads nearly as fast as two, and does not
    wait for the other core (milliseconds when it is busy, e.g. indexing in the background)."""
    controller = _blas_controller()
    return controller.limit(limits=1) if controller else contextlib.nullcontext()


class Searcher:
    """Exact brute-force Euclidean k-NN, as the original recipe's NearestNeighbors(brute, euclidean).

    One matrix-vector product per query (|v|² − 2 v·q + |q|², the same expansion scikit-learn uses),
    then the exact distances of the few best candidates, recomputed and sorted. Same results as
    scikit-learn's brute force (tested), without its per-query overhead and ~1 s import.
    """

    def __init__(self, relpaths: list[str], vectors: np.ndarray):
        self.relpaths = list(relpaths)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._position = {relpath: i for i, relpath in enumerate(self.relpaths)}
        self._squared_norms = np.einsum("ij,ij->i", self.vectors, self.vectors)

    def __len__(self) -> int:
        return len(self.relpaths)

    def vector_of(self, relpath: str) -> np.ndarray | None:
        i = self._position.get(relpath)
        return None if i is None else self.vectors[i]

    def search(self, vector: np.ndarray, k: int = DEFAULT_K, exclude: str | None = None,
               allowed: np.ndarray | None = None, max_distance: float | None = None) -> list[Result]:
        """The k nearest items to `vector`; `exclude` (a relpath, e.g. the query itself) is left out.

        `allowed` (bool per item, e.g. a label filter) keeps the search to those items: still exact, the k
        nearest among them. `max_distance` then drops results farther than it (possibly all of them).
        """
        query = np.asarray(vector, np.float32).reshape(-1)
        with _single_blas_thread():
            products = self.vectors @ query
        approximate = self._squared_norms - 2.0 * products  # + |q|², the same for all rows
        if allowed is not None:
            approximate[~np.asarray(allowed, bool)] = np.inf
        if exclude in self._position:
            approximate[self._position[exclude]] = np.inf
        eligible = int(np.isfinite(approximate).sum())
        n = min(k, eligible)
        if n <= 0:
            return []
        margin = min(n + RERANK_MARGIN, eligible)  # float32 rounding may swap near-ties: re-rank a few more
        candidates = np.argpartition(approximate, margin - 1)[:margin] if margin < len(approximate) \
            else np.arange(len(approximate))
        candidates = candidates[np.isfinite(approximate[candidates])]
        indices, distances = rerank(self.vectors, query[np.newaxis], candidates[np.newaxis], n)
        results = [Result(rank, self.relpaths[i], float(d))
                   for rank, (i, d) in enumerate(zip(indices[0], distances[0], strict=True), start=1)]
        if max_distance is not None:
            results = [r for r in results if r.distance <= max_distance]
        return results


def rerank(vectors: np.ndarray, queries: np.ndarray, candidates: np.ndarray, n: int,
           rows_per_step: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the n nearest of its candidate rows (b, m) of `vectors`, by exact float64 Euclidean
    distance, nearest first, equal distances in position order: (indices (b, n), distances (b, n)).

    The one exact step of every search (single query or all items at once), so both give the same answers.
    """
    indices = np.empty((len(queries), n), np.int64)
    distances = np.empty((len(queries), n), np.float64)
    for start in range(0, len(queries), rows_per_step):  # bounded memory: (rows, m, dim) float64 at a time
        rows = slice(start, start + rows_per_step)
        chosen = candidates[rows]
        exact = np.linalg.norm(vectors[chosen].astype(np.float64) - queries[rows, np.newaxis].astype(np.float64),
                               axis=-1)
        order = np.lexsort((chosen, exact), axis=-1)[:, :n]
        indices[rows] = np.take_along_axis(chosen, order, axis=-1)
        distances[rows] = np.take_along_axis(exact, order, axis=-1)
    return indices, distances
