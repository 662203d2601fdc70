"""One open catalog for one embedder: its store, indexing, and queries. What the CLI and the GUI call."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .catalog import catalog_root
from .embedders import Embedder
from .errors import UserError
from .images import ImageError, load_rgb
from .indexer import IndexReport, index_catalog
from .search import DEFAULT_K, Result, Searcher
from .store import Store


class CatalogSession:
    def __init__(self, folder: str | os.PathLike, embedder: Embedder):
        self.root = catalog_root(folder)
        self.embedder = embedder
        self.store = Store(self.root, embedder.fingerprint, embedder.dim, embedder.name)
        self._searcher: Searcher | None = None

    def close(self) -> None:
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def index(self, wait_for_lock: bool = False, **options) -> IndexReport:
        """Embed new and changed files, drop deleted ones; options go to `index_catalog`."""
        with self.store.writer_lock(wait=wait_for_lock):
            report = index_catalog(self.store, self.embedder, **options)
        self._searcher = None
        return report

    @property
    def searcher(self) -> Searcher:
        """The k-NN index over the stored vectors, loaded and fitted once until the next indexing."""
        if self._searcher is None:
            self._searcher = Searcher(*self.store.load_vectors())
        return self._searcher

    def path_of(self, relpath: str) -> Path:
        return self.root / relpath

    def relpath_in_catalog(self, image: Path) -> str | None:
        try:
            return Path(image).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None

    def embed_file(self, image: str | os.PathLike) -> np.ndarray:
        """The query vector of any image file; UserError with the reason when it cannot be read."""
        try:
            pixels = load_rgb(image, self.embedder.input_size)
        except ImageError as err:
            raise UserError(f"Cannot use {Path(image).name} as a query: {err}.") from None
        return self.embedder.embed(pixels[np.newaxis])[0]

    def query(self, image: str | os.PathLike, k: int = DEFAULT_K, exclude_self: bool = True) -> list[Result]:
        """The k catalog items most similar to the image file; the file itself is left out if indexed."""
        if len(self.searcher) == 0:
            raise UserError(f"The catalog {self.root} has no indexed images yet; index it first.")
        exclude = self.relpath_in_catalog(image) if exclude_self else None
        return self.searcher.search(self.embed_file(image), k, exclude=exclude)

    def query_item(self, relpath: str, k: int = DEFAULT_K) -> list[Result]:
        """Neighbours of an item already in the catalog, from its stored vector (no decode, no model)."""
        vector = self.searcher.vector_of(relpath)
        if vector is None:
            return self.query(self.root / relpath, k)
        return self.searcher.search(vector, k, exclude=relpath)
