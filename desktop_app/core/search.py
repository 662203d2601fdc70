"""k nearest catalog items to a query vector, with an index fitted once per loaded catalog."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_K = 5


@dataclass(frozen=True)
class Result:
    rank: int  # 1-based
    relpath: str
    distance: float


class Searcher:
    """scikit-learn brute-force Euclidean k-NN, as in the original recipe, but fitted only once."""

    def __init__(self, relpaths: list[str], vectors: np.ndarray):
        self.relpaths = list(relpaths)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self._position = {relpath: i for i, relpath in enumerate(self.relpaths)}
        from sklearn.neighbors import NearestNeighbors  # ~1 s to import: only when a search is needed

        self._knn = NearestNeighbors(algorithm="brute", metric="euclidean")
        if self.relpaths:
            self._knn.fit(self.vectors)

    def __len__(self) -> int:
        return len(self.relpaths)

    def vector_of(self, relpath: str) -> np.ndarray | None:
        i = self._position.get(relpath)
        return None if i is None else self.vectors[i]

    def search(self, vector: np.ndarray, k: int = DEFAULT_K, exclude: str | None = None) -> list[Result]:
        """The k nearest items to `vector`; `exclude` (a relpath, e.g. the query itself) is left out."""
        extra = 1 if exclude in self._position else 0
        n = min(k + extra, len(self.relpaths))
        if n == 0:
            return []
        distances, indices = self._knn.kneighbors(np.asarray(vector, np.float32).reshape(1, -1), n_neighbors=n)
        hits = [(self.relpaths[i], float(d)) for i, d in zip(indices[0], distances[0]) if self.relpaths[i] != exclude]
        return [Result(rank, relpath, distance) for rank, (relpath, distance) in enumerate(hits[:k], start=1)]
