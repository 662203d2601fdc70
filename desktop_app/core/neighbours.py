"""Every item's nearest neighbours at once: blocked matrix–matrix search in bounded memory.

The catalog is cut into blocks of rows; each pair of blocks (i ≤ j) is one matrix product (its tile of
squared distances), used for the rows of both blocks, so each distance is computed once. Every row keeps
its best `k + RERANK_MARGIN` candidates by these float32 distances; a tile only touches the rows it can
improve (a comparison with the row's current worst candidate), so after the diagonal tiles warm the
candidates up, nearly all the time is the matrix products. The candidates are then re-ranked exactly by
search.rerank, the same step as a single query: the same neighbours and distances as Searcher.search.
Memory beyond the vectors: a few tiles of block² floats plus the (items, k + margin) candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .search import RERANK_MARGIN, rerank

BLOCK = 1024  # rows per block: a 1024×1024 tile (4 MiB) per product keeps the BLAS efficient
ProgressCallback = Callable[[int, int], None]  # (tiles done, tiles in all)
CancelCallback = Callable[[], bool]


@dataclass(frozen=True)
class NeighbourTable:
    indices: np.ndarray  # (items, k) positions of each item's nearest other items, nearest first
    distances: np.ndarray  # (items, k) their exact Euclidean distances (float64)

    @property
    def k(self) -> int:
        return self.indices.shape[1]


def squared_norms(vectors: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", vectors, vectors)


def distance_tiles(vectors: np.ndarray, block: int = BLOCK, progress: ProgressCallback | None = None,
                   should_cancel: CancelCallback | None = None) -> Iterator[tuple[int, int, np.ndarray]]:
    """(row start, column start, tile) for every pair of blocks i ≤ j, the diagonal tiles first: float32
    squared distances (|a|² + |b|² − 2 a·b, so rounding errors of a few 1e-6 × |a||b|); an item's distance
    to itself is +inf. Stops early (yielding nothing more) when `should_cancel()` says so."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = squared_norms(vectors)
    starts = range(0, len(vectors), block)
    pairs = [(a, a) for a in starts] + [(a, b) for a in starts for b in starts if b > a]
    for done, (a, b) in enumerate(pairs):
        if should_cancel and should_cancel():
            return
        rows, columns = vectors[a:a + block], vectors[b:b + block]
        tile = rows @ columns.T
        tile *= -2.0
        tile += norms[a:a + block, np.newaxis]
        tile += norms[np.newaxis, b:b + block]
        if a == b:
            np.fill_diagonal(tile, np.inf)
        yield a, b, tile
        if progress:
            progress(done + 1, len(pairs))


class _Candidates:
    """Each row's best `width` (column, float32 squared distance) so far, unordered."""

    def __init__(self, rows: int, width: int):
        self.distances = np.full((rows, width), np.inf, np.float32)
        self.columns = np.full((rows, width), -1, np.int64)

    def worst(self, start: int, stop: int) -> np.ndarray:
        return self.distances[start:stop].max(axis=1)

    def offer_tile(self, a: int, b: int, tile: np.ndarray) -> None:
        """Offer a tile's distances to its rows (block a) and, off the diagonal, to its columns (block b):
        only the entries that beat a row's current worst candidate move (few, once the rows are warm)."""
        width = self.distances.shape[1]
        if a == b and width < tile.shape[1]:  # a diagonal tile comes first: its rows' best are their candidates
            best = np.argpartition(tile, width - 1, axis=1)[:, :width]
            self.distances[a:a + len(tile)] = np.take_along_axis(tile, best, axis=1)
            self.columns[a:a + len(tile)] = best + b
            return
        rows, columns = np.nonzero(tile < self.worst(a, a + tile.shape[0])[:, np.newaxis])
        self._merge(a + rows, b + columns, tile[rows, columns])
        if a != b:
            rows, columns = np.nonzero(tile < self.worst(b, b + tile.shape[1])[np.newaxis, :])
            self._merge(b + columns, a + rows, tile[rows, columns])

    def _merge(self, rows: np.ndarray, columns: np.ndarray, distances: np.ndarray) -> None:
        if len(rows) == 0:
            return
        order = np.argsort(rows, kind="stable")
        rows, columns, distances = rows[order], columns[order], distances[order]
        targets, starts, counts = np.unique(rows, return_index=True, return_counts=True)
        which = np.repeat(np.arange(len(targets)), counts)
        position = np.arange(len(rows)) - np.repeat(starts, counts)
        offered = np.full((len(targets), counts.max()), np.inf, np.float32)
        offered_columns = np.full(offered.shape, -1, np.int64)
        offered[which, position] = distances
        offered_columns[which, position] = columns
        merged = np.concatenate([self.distances[targets], offered], axis=1)
        merged_columns = np.concatenate([self.columns[targets], offered_columns], axis=1)
        width = self.distances.shape[1]
        keep = np.argpartition(merged, width - 1, axis=1)[:, :width]
        self.distances[targets] = np.take_along_axis(merged, keep, axis=1)
        self.columns[targets] = np.take_along_axis(merged_columns, keep, axis=1)

    def exact(self, vectors: np.ndarray, k: int, tolerance: float, rows_per_step: int = 256) -> NeighbourTable:
        """Re-rank exactly (search.rerank) each row's candidates that can still be among its k nearest: those
        within `tolerance` (the float32 error bound) of its k-th best squared distance."""
        order = np.argsort(self.distances, axis=1)
        ranked = np.take_along_axis(self.distances, order, axis=1)
        columns = np.take_along_axis(self.columns, order, axis=1)
        needed = (ranked <= ranked[:, k - 1:k] + tolerance).sum(axis=1)
        indices = np.empty((len(vectors), k), np.int64)
        distances = np.empty((len(vectors), k), np.float64)
        for start in range(0, len(vectors), rows_per_step):
            rows = slice(start, start + rows_per_step)
            width = int(needed[rows].max())
            indices[rows], distances[rows] = rerank(vectors, vectors[rows], columns[rows, :width], k)
        return NeighbourTable(indices, distances)


def float32_error_bound(vectors: np.ndarray) -> float:
    """A bound on the rounding error of float32 squared distances |a|² + |b|² − 2 a·b (twice it, in fact:
    what separates a true neighbour's estimate from the k-th best estimate)."""
    if len(vectors) == 0:
        return 0.0
    return float(4 * vectors.shape[1] * np.finfo(np.float32).eps * squared_norms(vectors).max())


def nearest_neighbours_all(vectors: np.ndarray, k: int, block: int = BLOCK,
                           progress: ProgressCallback | None = None,
                           should_cancel: CancelCallback | None = None) -> NeighbourTable | None:
    """The k nearest other items of every item (k shrinks to items − 1); None when cancelled."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(vectors)
    k = max(0, min(k, n - 1))
    if k == 0:
        return NeighbourTable(np.empty((n, 0), np.int64), np.empty((n, 0), np.float64))
    candidates = _Candidates(n, min(k + RERANK_MARGIN, n - 1))
    for a, b, tile in distance_tiles(vectors, block, progress, should_cancel):
        candidates.offer_tile(a, b, tile)
    if should_cancel and should_cancel():
        return None
    return candidates.exact(vectors, k, float32_error_bound(vectors))

