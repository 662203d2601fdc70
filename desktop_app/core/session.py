"""One open catalog for one embedder: its store, indexing, and queries. What the CLI and the GUI call."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .catalog import has_images, no_images_message
from .catalog_data import Catalog
from .compact_index import CompactSearcher, is_big, open_searcher
from .decoding import decoder_for
from .duplicates import DuplicateGroup, default_threshold, find_duplicates
from .embedders import Embedder
from .errors import UserError
from .filters import CatalogItem, Conditions, allowed_mask, catalog_items
from .images import Crop, ImageError
from .indexer import IndexReport, index_catalog, pending_changes
from .labels import LabelTable, file_stamp, read_label_table
from .query import Query, search
from .search import DEFAULT_K, Result, Searcher

if TYPE_CHECKING:
    from .tuning import FitProgress, Tuning


class CatalogSession:
    def __init__(self, folder: str | os.PathLike | Catalog, embedder: Embedder, data_dir: Path | None = None,
                 read_only: bool = False, labels_file: Path | None = None):
        """Opens (or creates) the catalog's store for this embedder, under `data_dir` (default: paths.data_dir);
        `folder` may be a Catalog already. Labels come from `labels_file`, else a labels.csv in or beside the
        folder. A folder with no image and no cache yet is a UserError, and nothing is created for it.
        `read_only` opens an existing store only, to search it (store.NotIndexed when there is none), and works
        on a read-only data folder; such a session cannot index."""
        self.catalog = folder if isinstance(folder, Catalog) else Catalog.open(folder, data_dir, labels_file)
        self.root = self.catalog.root
        self.embedder = embedder
        if not read_only and not self.catalog.has_store(embedder) and not has_images(self.root):
            raise UserError(no_images_message(self.root))
        self.store = self.catalog.open_store(embedder, read_only)
        self._searcher: Searcher | CompactSearcher | None = None
        self._labels: tuple[object, LabelTable | None] | None = None  # (the file's stamp, its table) once read
        self._tunings: dict[tuple[str, object], Tuning] = {}  # (field, labels stamp) → its projection

    def close(self) -> None:
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def index(self, wait_for_lock: bool = False, on_wait=None, lock_only_for_changes: bool = False,
              **options) -> IndexReport:
        """Embed new and changed files, drop deleted ones; options go to `index_catalog` (among them `engine`:
        where files become vectors, e.g. ray_engine.RayEngine; default this process).

        The store's writer lock is held throughout, or with `lock_only_for_changes` only when the folder has
        changed (a reader such as eval then runs beside another process indexing nothing new).
        `on_wait()` is called once if `wait_for_lock` has to wait for another process."""
        def lock():
            return self.store.writer_lock(wait_for_lock, on_wait)

        if lock_only_for_changes:
            report = index_catalog(self.store, self.embedder, writer_lock=lock, **options)
        else:
            with lock():
                report = index_catalog(self.store, self.embedder, **options)
        self._searcher = None
        self._labels = None
        self._tunings.clear()
        if is_big(report.indexed, self.store.dim):  # (re)build the compact index now, not on the first query
            self._searcher = open_searcher(self.store)
        return report

    @property
    def read_only(self) -> bool:
        """Opened to read only (an existing store; it cannot index)."""
        return self.store.read_only

    def pending_changes(self) -> tuple[int, int]:
        """(new or changed photos, indexed photos gone) since the last index run, found without writing."""
        return pending_changes(self.store)

    @property
    def searcher(self) -> Searcher | CompactSearcher:
        """The k-NN index over the stored vectors, loaded once until the next indexing: exact brute force,
        or for a big catalog the two-stage compact index (core/compact_index.py)."""
        if self._searcher is None:
            self._searcher = open_searcher(self.store)
        return self._searcher

    @property
    def labels(self) -> LabelTable | None:
        """Every label column of the indexed items, from the catalog's labels file (None: it has none); the one
        table filters, tuning, eval, export and the window's captions read. Read again when the items or the
        file have changed since."""
        path = self.catalog.labels_path
        stamp = file_stamp(path) if path else None
        if self._labels is None or self._labels[0] != stamp:
            self._labels = (stamp, read_label_table(path, self.searcher.relpaths) if path else None)
        return self._labels[1]

    def items(self, where: Conditions | None = None) -> list[CatalogItem]:
        """The indexed items in path order with their labels, those passing `where` only (the catalog browser)."""
        return catalog_items(self.searcher.relpaths, self.labels, where)

    def path_of(self, relpath: str) -> Path:
        return self.root / relpath

    def relpath_in_catalog(self, image: str | os.PathLike) -> str | None:
        try:
            return Path(image).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None

    def embed_file(self, image: str | os.PathLike, crop: Crop | None = None) -> np.ndarray:
        """The query vector of any image file (or of its `crop` region); UserError with the reason when it
        cannot be read."""
        return self.embed_files([image], crop)[0]

    def embed_files(self, images: Sequence[str | os.PathLike], crop: Crop | None = None) -> np.ndarray:
        """The vectors of a few image files (each cropped to `crop`), decoded as the catalog's photos were and
        embedded as one batch; UserError naming the first that cannot be read (a whole folder goes through
        matching.match_folder instead)."""
        decode = decoder_for(self.embedder)
        pixels = []
        for image in images:
            try:
                pixels.append(decode(image, crop))
            except ImageError as err:
                raise UserError(f"Cannot use {Path(image).name} as a query: {err}.") from None
        return self.embedder.embed(np.stack(pixels))

    def item_vectors(self, relpaths: Iterable[str]) -> np.ndarray:
        """The stored vectors of catalog items (relpaths); UserError for one that is not indexed."""
        vectors = []
        for relpath in relpaths:
            vector = self.searcher.vector_of(relpath)
            if vector is None:
                raise UserError(f"{relpath} is not an indexed item of the catalog {self.root}.")
            vectors.append(vector)
        return np.array(vectors, np.float32).reshape(len(vectors), self.store.dim)

    def search(self, query: Query, tuning: Tuning | None = None) -> list[Result]:
        """The answer to a query (core/query.py: the one place a query is dispatched)."""
        return search(self, query, tuning)

    def query(self, image: str | os.PathLike, k: int = DEFAULT_K, exclude_self: bool = True,
              crop: Crop | None = None, where: Conditions | None = None,
              max_distance: float | None = None) -> list[Result]:
        """The k catalog items most similar to the image file (or its `crop` region); the file itself is left
        out if indexed. `where` keeps to items with those labels, `max_distance` drops farther results."""
        return self.search(Query(image, None, k, crop, where, max_distance, exclude_self=exclude_self))

    def query_item(self, relpath: str, k: int = DEFAULT_K, where: Conditions | None = None,
                   max_distance: float | None = None) -> list[Result]:
        """Neighbours of an item already in the catalog, from its stored vector (no decode, no model)."""
        return self.search(Query(item=relpath, k=k, where=where, max_distance=max_distance))

    def tuning(self, field_name: str, progress: FitProgress | None = None) -> Tuning:
        """The projection tuned to a label field (tuning.py): kept until the next index run or a change of the
        labels file, read from its cache file or fitted (and cached) the first time."""
        table = self.labels
        if table is None:
            raise UserError("Tuning needs labels: put a labels.csv (with a filename column) in or beside the "
                            "catalog folder.")
        assert self._labels is not None  # read by self.labels
        key = (field_name, self._labels[0])
        if key not in self._tunings:
            from .tuning import tuned_projection  # numpy only, but not needed until a person asks for it

            self._tunings[key] = tuned_projection(self.store, table, field_name, progress)
        return self._tunings[key]

    def duplicates(self, threshold: float | None = None, progress=None,
                   should_cancel=None) -> list[DuplicateGroup] | None:
        """Groups of near-identical items, largest first (None when cancelled); `threshold` defaults to the
        model's measured one (UserError when it has none). progress(done, total); should_cancel() -> bool."""
        if threshold is None:
            threshold = default_threshold(self.embedder.name)
        searcher = self.searcher
        return find_duplicates(searcher.relpaths, searcher.vectors, threshold, progress, should_cancel)

    def allowed(self, where: Conditions | None) -> np.ndarray | None:
        """Per indexed item, whether it passes `where` (None: no filter); UserError for unknown fields/values."""
        return allowed_mask(self.searcher.relpaths, self.labels, where) if where else None
