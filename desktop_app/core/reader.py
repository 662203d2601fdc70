"""A catalog searched while it is being indexed: the window's reader lane searches, browses and finds
near-duplicates with a CatalogReader while its writer lane indexes the same catalog with a CatalogSession.

A CatalogReader is a read-only CatalogSession on its own SQLite connection (Store.reader). Its vectors are
one consistent read of the store (WAL: whole committed batches only), taken on first use and again by each
`refresh()` that finds the store changed; between refreshes it keeps answering from what it read. A big
catalog (compact_index.is_big) is searched with the compact index the writer builds after each index run;
while that index is older than the store, the reader searches the first COMPACT_THRESHOLD_BYTES of vectors
(by path) only, so its memory stays bounded: `len(reader.searcher)` is always the number of items searched.
"""

from __future__ import annotations

import itertools

import numpy as np

from .compact_index import COMPACT_THRESHOLD_BYTES, CompactSearcher, is_big, load_index
from .search import Searcher
from .session import CatalogSession
from .store import Store


class CatalogReader(CatalogSession):
    def __init__(self, session: CatalogSession):
        # Not CatalogSession.__init__: the writer has created and checked the store; this one only reads it.
        self.catalog = session.catalog
        self.root = session.root
        self.embedder = session.embedder
        self.store = session.store.reader()
        self._searcher: Searcher | CompactSearcher | None = None
        self._labels = None
        self._tunings = {}
        self._generation: str | None = None  # of the store when the vectors were read

    def index(self, *args, **kwargs):
        raise TypeError("a CatalogReader only reads; index with the CatalogSession it was made from")

    @property
    def searcher(self) -> Searcher | CompactSearcher:
        if self._searcher is None:
            self.refresh()
        assert self._searcher is not None
        return self._searcher

    def stored(self) -> int:
        """Items in the store now (the searcher may hold fewer: read earlier, or capped)."""
        return self.store.count()

    def refresh(self) -> bool:
        """Read the vectors again if the store changed since they were read; True when it had."""
        with self.store.consistent_read():
            generation = self.store.generation()
            if self._searcher is not None and generation == self._generation:
                return False
            self._searcher = _searcher_of(self.store)
        self._generation = generation
        self._labels = None  # label rows follow the items searched
        self._tunings.clear()
        return True


def _searcher_of(store: Store) -> Searcher | CompactSearcher:
    if not is_big(store.count(), store.dim):
        return Searcher(*store.load_vectors())
    compact = load_index(store)  # as new as the store: the writer built it after its last index run
    if compact is not None:
        return compact
    limit = COMPACT_THRESHOLD_BYTES // (store.dim * 4)
    relpaths: list[str] = []
    chunks: list[np.ndarray] = []
    for names, vectors in itertools.islice(store.iter_vectors(), -(-limit // 8192)):
        relpaths += names
        chunks.append(vectors)
    return Searcher(relpaths[:limit], np.concatenate(chunks)[:limit])
