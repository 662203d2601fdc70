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

    def position(self, relpath: str) -> int | None:
        """The item's row (in relpaths, vectors, an `allowed` mask), None when it is not indexed."""
        return self._position.get(relpath)

    def vector_of(self, relpath: str) -> np.ndarray | None:
        i = self._position.get(relpath)
        return None if i is None else self.vectors[i]

    def search(self, vector: np.ndarray, k: int = DEFAULT_K, exclude: str | None = None,
               allowed: np.ndarray | None = None, max_distance: float | None = None) -> list[Result]:
        """The k nearest items to `vector`; `exclude` (a relpath, e.g. the query itself) is left out.

        `allowed` (bool per item, e.g. a label filter) keeps the search to those items: still exact, the k
        nearest among them. `max_distance` then drops results farther than it (possibly all of them).
        """
        return self.search_many(np.asarray(vector, np.float32).reshape(1, -1), k, exclude, allowed, max_distance)[0]

    def search_many(self, queries: np.ndarray, k: int = DEFAULT_K, exclude: str | None = None,
                    allowed: np.ndarray | None = None, max_distance: float | None = None) -> list[list[Result]]:
        """`search` for each row of `queries` (b, dim) at once: one matrix product for the whole batch (a folder
        of photos matched against the catalog), the same results as one `search` per row."""
        queries = np.atleast_2d(np.asarray(queries, np.float32))
        with _single_blas_thread():
            products = queries @ self.vectors.T
        approximate = self._squared_norms[np.newaxis, :] - 2.0 * products  # + |q|², the same along each row
        if allowed is not None:
            approximate[:, ~np.asarray(allowed, bool)] = np.inf
        if exclude in self._position:
            approximate[:, self._position[exclude]] = np.inf
        eligible = int(np.isfinite(approximate[0]).sum()) if len(queries) else 0
        n = min(k, eligible)
        if n <= 0:
            return [[] for _ in queries]
        margin = min(n + RERANK_MARGIN, eligible)  # float32 rounding may swap near-ties: re-rank a few more
        if margin < approximate.shape[1]:
            candidates = np.argpartition(approximate, margin - 1, axis=1)[:, :margin]
        else:
            candidates = np.broadcast_to(np.arange(approximate.shape[1]), approximate.shape)
        # the eligible items are the same for every row: put ineligible candidates (when margin ≥ eligible) last
        finite = np.isfinite(np.take_along_axis(approximate, candidates, axis=1))
        candidates = np.take_along_axis(candidates, np.argsort(~finite, axis=1, kind="stable"), axis=1)[:, :margin]
        indices, distances = rerank(self.vectors, queries, candidates, n)
        return [limit([Result(rank, self.relpaths[i], float(d))
                       for rank, (i, d) in enumerate(zip(row_indices, row_distances, strict=True), start=1)],
                      max_distance)
                for row_indices, row_distances in zip(indices, distances, strict=True)]


def limit(results: list[Result], max_distance: float | None) -> list[Result]:
    """The results within `max_distance` (all of them when it is None)."""
    return results if max_distance is None else [r for r in results if r.distance <= max_distance]


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
