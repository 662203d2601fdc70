"""`match`: every photo of a folder against a catalog — "which of these do we already sell?".

The query photos go through the indexer's own pipeline (engines.embedded_batches, the local engine: the decode pool, the
embedder's batches), are searched a batch at a time (one matrix product per batch: Searcher.search_many) and
are never added to the catalog's store. Unreadable files are skipped with the same reasons as `index` gives.
Rows: query, rank, item, distance, then every label column of the catalog's item; a query with no item within
`max_distance` gets one row with an empty rank, item and distance ("no close match: a new product").
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import catalog_root, no_images_message, scan
from .engines import EmbeddedBatch, embedded_batches
from .errors import UserError
from .export import check_output, write_rows
from .filters import Conditions
from .indexer import DEFAULT_BATCH_SIZE, Progress, handle_batches
from .search import DEFAULT_K, Result

BASE_COLUMNS = ("query", "rank", "item", "distance")


@dataclass
class Matches:
    """Each readable query photo (path relative to the query folder) with its results, nearest first."""

    folder: Path
    queries: list[str] = field(default_factory=list)
    results: list[list[Result]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (relpath, reason)
    cancelled: bool = False
    elapsed: float = 0.0

    def best(self) -> Iterator[tuple[str, Result | None]]:
        """(query, its nearest item or None) for every query: the window's results list."""
        for query, results in zip(self.queries, self.results, strict=True):
            yield query, (results[0] if results else None)


def query_files(folder: str | os.PathLike) -> tuple[Path, list]:
    """The query folder's root and its image files, recursively (as `index` scans a catalog); UserError when
    it is missing or has no image."""
    root = catalog_root(folder)
    unreadable: list[tuple[str, str]] = []
    files = scan(root, unreadable)
    if not files:
        raise UserError(no_images_message(root))
    return root, files


def match_folder(session, folder: str | os.PathLike, k: int = DEFAULT_K, where: Conditions | None = None,
                 max_distance: float | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                 progress: Callable[[Progress], None] | None = None,
                 should_cancel: Callable[[], bool] | None = None) -> Matches:
    """The k nearest catalog items (of a core.session.CatalogSession) of every photo in `folder`.
    progress(Progress) after each batch; should_cancel() -> bool is asked between batches (the matches so far
    are kept, `cancelled` set)."""
    if k < 1:
        raise UserError("k must be at least 1.")
    searcher = session.searcher
    if len(searcher) == 0:
        raise UserError(f"The catalog {session.root} has no indexed images yet; index it first.")
    allowed = session.allowed(where)  # unknown fields or values are refused before any photo is decoded
    root, files = query_files(folder)
    started = time.perf_counter()
    matches = Matches(root)

    def search(batch: EmbeddedBatch) -> None:
        if batch.items:
            matches.queries += [f.relpath for f in batch.items]
            matches.results += searcher.search_many(batch.vectors, k, allowed=allowed, max_distance=max_distance)
        matches.skipped += [(s.relpath, s.reason) for s in batch.skipped]

    batches = embedded_batches(session.embedder, root, files, batch_size)
    matches.cancelled = handle_batches(batches, len(files), started, search, progress, should_cancel)
    matches.elapsed = time.perf_counter() - started
    return matches


def match_rows(matches: Matches, labels=None) -> Iterator[dict]:
    """The rows of `matches` as dicts; `labels` (a filters.LabelTable or None) adds the item's label columns."""
    fields = labels.fields if labels else ()
    for query, results in zip(matches.queries, matches.results, strict=True):
        if not results:
            yield {"query": query, "rank": "", "item": "", "distance": "", **dict.fromkeys(fields, "")}
        for r in results:
            item_labels = labels.of(r.relpath) if labels else {}
            yield {"query": query, "rank": r.rank, "item": r.relpath, "distance": round(r.distance, 6),
                   **{f: item_labels.get(f, "") for f in fields}}


def columns(labels=None) -> list[str]:
    return list(BASE_COLUMNS) + list(labels.fields if labels else ())


def write_matches(path: str | os.PathLike, matches: Matches, labels=None, progress=None,
                  should_cancel: Callable[[], bool] | None = None) -> int | None:
    """Write the rows to a .csv or .jsonl file, atomically (export.write_rows); returns how many rows (None when
    cancelled: no file). progress(queries written, queries)."""
    return write_rows(check_output(path), columns(labels), match_rows(matches, labels), progress, should_cancel,
                      items=len(matches.queries), rows_per_item=max(1, max(map(len, matches.results), default=1)))
