"""`neighbours`: every item's similar items, written as CSV or JSON Lines, atomically.

One row per (item, rank): item, rank, neighbour, distance, then for every label column F of labels.csv
(when there is one) item_F and neighbour_F. The file appears complete or not at all: it is written to a
temporary file beside it and renamed over it at the end (with the permissions the umask gives a new file, or
those of the file it replaces). Cancelling, in the search or while writing, leaves no file and no temporary.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .files import check_output_file, new_file_mode
from .filters import Conditions
from .neighbours import CancelCallback, NeighbourTable, ProgressCallback, nearest_neighbours_all
from .search import DEFAULT_K

FORMATS = (".csv", ".jsonl")
BASE_COLUMNS = ("item", "rank", "neighbour", "distance")
ITEMS_PER_STEP = 256  # the write phase reports progress and looks for a cancel every this many items


class _Cancelled(Exception):
    """Raised inside the write phase to drop the temporary file."""


@dataclass(frozen=True)
class ExportReport:
    path: Path
    items: int
    rows: int
    k: int
    search_seconds: float
    write_seconds: float
    cancelled: bool = False


def check_output(path: str | os.PathLike) -> Path:
    """The output path if it can be written: a .csv or .jsonl file in a folder where files can be created."""
    return check_output_file(path, FORMATS, "output")


@contextlib.contextmanager
def atomic_text_file(path: Path):
    """A text file that replaces `path` only when the block finishes; on any error nothing is left behind."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as err:
        raise UserError(f"Cannot write in {path.parent} ({err.strerror or err}).") from None
    try:
        with open(handle, "w", encoding="utf-8", newline="") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, new_file_mode(replacing=path))
        os.replace(temporary, path)
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        raise UserError(f"Cannot write {path} ({err.strerror or err}); no file was written.") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def neighbour_rows(relpaths: list[str], table: NeighbourTable, labels=None):
    """The rows as dicts, item by item and rank by rank; `labels` is a filters.LabelTable or None."""
    fields = labels.fields if labels else ()
    for i, relpath in enumerate(relpaths):
        item_labels = labels.of(relpath) if labels else {}
        for rank, (j, distance) in enumerate(zip(table.indices[i], table.distances[i], strict=True), start=1):
            row = {"item": relpath, "rank": rank, "neighbour": relpaths[j], "distance": round(float(distance), 6)}
            if fields:
                neighbour_labels = labels.of(relpaths[j])
                for field in fields:
                    row[f"item_{field}"] = item_labels.get(field, "")
                    row[f"neighbour_{field}"] = neighbour_labels.get(field, "")
            yield row


def write_neighbours(path: Path, relpaths: list[str], table: NeighbourTable, labels=None,
                     progress: ProgressCallback | None = None,
                     should_cancel: CancelCallback | None = None) -> int | None:
    """Write the rows to `path` (format by its extension), atomically; returns how many rows, or None when
    `should_cancel()` said so (then nothing is written). progress(items written, items)."""
    columns = list(BASE_COLUMNS) + [f"{side}_{f}" for f in (labels.fields if labels else ()) for side in
                                    ("item", "neighbour")]
    return write_rows(path, columns, neighbour_rows(relpaths, table, labels), progress, should_cancel,
                      items=len(relpaths), rows_per_item=max(table.k, 1))


def write_rows(path: str | os.PathLike, columns: list[str], rows: Iterable[dict],
               progress: ProgressCallback | None = None, should_cancel: CancelCallback | None = None,
               items: int = 0, rows_per_item: int = 1) -> int | None:
    """Rows (dicts with these columns) to a .csv (a header, then one line per row) or .jsonl (one JSON object
    per line) file, by the extension of `path`, atomically; returns how many rows were written, or None when
    `should_cancel()` said so (nothing is written). progress(items written, `items`) every ITEMS_PER_STEP items
    of `rows_per_item` rows."""
    path = check_output(path)
    count = 0
    try:
        with atomic_text_file(path) as f:
            if path.suffix.lower() == ".csv":
                writer = csv.DictWriter(f, fieldnames=columns)
                writer.writeheader()
                write_row = writer.writerow
            else:
                def write_row(row):
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
            for row in rows:
                if count % (ITEMS_PER_STEP * rows_per_item) == 0:
                    _step(count // rows_per_item, items, progress, should_cancel)
                write_row(row)
                count += 1
            _step(items, items, progress, should_cancel)
    except _Cancelled:
        return None
    return count


def _step(done: int, total: int, progress: ProgressCallback | None, should_cancel: CancelCallback | None) -> None:
    if should_cancel and should_cancel():
        raise _Cancelled
    if progress:
        progress(done, total)


def export_neighbours(session, out: str | os.PathLike, k: int = DEFAULT_K, where: Conditions | None = None,
                      progress: ProgressCallback | None = None,
                      should_cancel: CancelCallback | None = None,
                      write_progress: ProgressCallback | None = None, tuning=None) -> ExportReport:
    """The k nearest other items of every indexed item of a CatalogSession (of those passing `where`: items
    and neighbours both), written to `out`. progress(tiles searched, tiles), then write_progress(items
    written, items). `should_cancel()` is asked in both phases: when it says so, no file is written and
    report.cancelled is set. With a `tuning` (core.tuning.Tuning), distances are measured in its tuned space,
    as the window's tuned queries."""
    out = check_output(out)
    if k < 1:
        raise UserError("k must be at least 1.")
    searcher = session.searcher if tuning is None else tuning.projected(session.searcher)
    if len(searcher) < 2:
        raise UserError(f"The catalog {session.root} has {len(searcher)} indexed image(s); similar items need "
                        "at least 2. Index it first.")
    relpaths, vectors = searcher.relpaths, searcher.vectors
    allowed = session.allowed(where)
    if allowed is not None:
        relpaths = [r for r, keep in zip(relpaths, allowed, strict=True) if keep]
        vectors = vectors[allowed]
        if len(relpaths) < 2:
            raise UserError(f"Only {len(relpaths)} item(s) pass the filter; similar items need at least 2.")
    started = time.perf_counter()
    table = nearest_neighbours_all(vectors, k, progress=progress, should_cancel=should_cancel)
    searched = time.perf_counter()
    if table is None:
        return ExportReport(out, len(relpaths), 0, k, searched - started, 0.0, cancelled=True)
    rows = write_neighbours(out, relpaths, table, session.labels, write_progress, should_cancel)
    written = time.perf_counter() - searched
    if rows is None:
        return ExportReport(out, len(relpaths), 0, table.k, searched - started, written, cancelled=True)
    return ExportReport(out, len(relpaths), rows, table.k, searched - started, written)
