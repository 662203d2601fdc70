"""The indexing pipeline: scan → diff against the store → decode (threads, overlapped) → embed → commit.

Progress and cancel are plain callbacks, so the CLI and the GUI's worker thread drive the same code.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .catalog import UNREAD_MTIME, CatalogFile, no_images_message, scan
from .decoding import DEFAULT_LOOKAHEAD, DEFAULT_WORKERS, Decode, decoded_in_order, decoder_for
from .embedders import Embedder
from .errors import UserError
from .store import Embedded, Skipped, Store

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 16
MAX_BATCH_SIZE = 256  # a batch's photos are held decoded at once; 100,000 took 6 GB (issue 24)


@dataclass(frozen=True)
class Progress:
    """One progress report: immutable, so a receiver on another thread may keep it."""

    done: int  # files handled this run (embedded or skipped)
    total: int  # files that need handling this run
    skipped_count: int  # files skipped so far this run
    elapsed: float
    newly_skipped: tuple[tuple[str, str], ...] = ()  # (relpath, reason) skipped since the previous report

    @property
    def rate(self) -> float:
        """Files per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left, once there is a rate to go by."""
        return (self.total - self.done) / self.rate if self.rate > 0 else None


@dataclass
class IndexReport:
    files: int = 0  # image files found in the folder
    embedded: int = 0
    unchanged: int = 0
    removed: int = 0
    newly_skipped: list[tuple[str, str]] = field(default_factory=list)  # skipped this run (relpath, reason)
    all_skipped: list[tuple[str, str]] = field(default_factory=list)  # every skipped file in the store
    indexed: int = 0  # items searchable after this run
    cancelled: bool = False
    elapsed: float = 0.0
    decoded: int = 0  # image files decoded this run (0 when nothing changed)


ProgressCallback = Callable[[Progress], None]
Scan = Callable[..., list[CatalogFile]]  # catalog.scan's shape: (root, unreadable_folders) -> files


@dataclass(frozen=True)
class _Changes:
    gone: list[str]  # stored files that are really gone
    todo: list[CatalogFile]  # new or changed files
    unreadable_folders: list[Skipped]

    def __bool__(self) -> bool:
        return bool(self.gone or self.todo or self.unreadable_folders)


def _scan_folder(store: Store, scan: Scan) -> tuple[list[CatalogFile], list[tuple[str, str]]]:
    """The folder's image files and the folders that could not be read.

    The cache never drops files on the word of a folder that could not be read: a missing or empty
    catalog (an unplugged drive) is an error, and what was cached under an unreadable folder is kept.
    """
    if not store.root.is_dir():
        raise UserError(f"The catalog folder {store.root} is not available (moved, deleted, or on a drive that "
                        "is not connected). Its cache was kept.")
    unreadable: list[tuple[str, str]] = []
    files = scan(store.root, unreadable)
    if not files and not unreadable:
        if store.count():
            raise UserError(f"The catalog folder {store.root} has no images now (a drive not connected?). The "
                            f"cache of its {store.count()} items was kept; to drop it, use forget.")
        raise UserError(no_images_message(store.root))
    return files, unreadable


def _changes(store: Store, files: list[CatalogFile], unreadable: list[tuple[str, str]]) -> _Changes:
    """What this run must do, against what the store holds now."""
    known = store.identities()
    present = {f.relpath for f in files} | {folder for folder, _ in unreadable}
    gone = [relpath for relpath in known if relpath not in present
            and not any(folder == "." or relpath.startswith(folder + "/") for folder, _ in unreadable)]
    todo = [f for f in files if known.get(f.relpath) != (f.size, f.mtime_ns)]
    return _Changes(gone, todo, [Skipped(folder, 0, UNREAD_MTIME, reason) for folder, reason in unreadable])


def index_catalog(
    store: Store,
    embedder: Embedder,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
    decode_workers: int | None = None,
    scan: Scan = scan,
    decode: Decode | None = None,
    writer_lock: Callable[[], contextlib.AbstractContextManager] | None = None,
) -> IndexReport:
    """Bring `store` up to date with its catalog folder. Every finished batch is committed at once.

    `writer_lock`, when given, is entered only if the folder has changed (so a reader of an up-to-date
    catalog never waits for, or is refused by, another indexer); without it the caller holds the lock.
    `scan` and `decode` replace how the folder is listed and an image read (tests, the bench); the default
    decode is the model's own (decoding.decoder_for). `decode_workers` threads decode ahead (decoding.py).
    """
    started = time.perf_counter()
    files, unreadable = _scan_folder(store, scan)
    changes = _changes(store, files, unreadable)
    update = functools.partial(_update, store, embedder, files, started=started, batch_size=batch_size,
                               progress=progress, should_cancel=should_cancel,
                               decode=decode or decoder_for(embedder), workers=decode_workers or DEFAULT_WORKERS)
    if writer_lock is None or not changes:
        return update(changes)
    with writer_lock():  # the store may have moved on while this process waited: diff again
        return update(_changes(store, files, unreadable))


def _update(store: Store, embedder: Embedder, files: list[CatalogFile], changes: _Changes, *, started: float,
            batch_size: int, progress: ProgressCallback | None, should_cancel: Callable[[], bool] | None,
            decode: Decode, workers: int) -> IndexReport:
    report = IndexReport()
    if changes.gone:
        store.remove(changes.gone)
    if changes.unreadable_folders:
        store.commit_batch([], changes.unreadable_folders)
        report.newly_skipped += [(s.relpath, s.reason) for s in changes.unreadable_folders]
    todo = changes.todo
    report.files, report.removed, report.unchanged = len(files), len(changes.gone), len(files) - len(todo)
    log.info("index %s: %d files, %d to embed, %d gone", store.root, len(files), len(todo), len(changes.gone))

    state = Progress(0, len(todo), 0, 0.0)
    batch_items: list[CatalogFile] = []
    batch_pixels: list[np.ndarray] = []
    batch_skipped: list[Skipped] = []

    def flush() -> None:
        embedded = []
        if batch_pixels:
            vectors = embedder.embed(np.stack(batch_pixels))
            embedded = [Embedded(f.relpath, f.size, f.mtime_ns, v) for f, v in zip(batch_items, vectors, strict=True)]
        nonlocal state
        store.commit_batch(embedded, batch_skipped)
        report.embedded += len(embedded)
        newly_skipped = tuple((s.relpath, s.reason) for s in batch_skipped)
        report.newly_skipped += newly_skipped
        state = Progress(state.done + len(embedded) + len(batch_skipped), state.total,
                         state.skipped_count + len(batch_skipped), time.perf_counter() - started, newly_skipped)
        batch_items.clear()
        batch_pixels.clear()
        batch_skipped.clear()
        if progress:
            progress(state)

    if progress:
        progress(state)
    decode_calls: list[None] = []  # list.append is atomic: the decoder threads count here

    def counted_decode(path: Path) -> np.ndarray:
        decode_calls.append(None)
        return decode(path)

    decoded = decoded_in_order(counted_decode, store.root, todo, workers, max(DEFAULT_LOOKAHEAD, 3 * batch_size))
    with contextlib.closing(decoded):  # on cancel, stop the decoder threads before returning
        for item, pixels in decoded:
            if isinstance(pixels, str):
                log.info("skipped %s: %s", item.relpath, pixels)
                batch_skipped.append(Skipped(item.relpath, item.size, item.mtime_ns, pixels))
            else:
                batch_items.append(item)
                batch_pixels.append(pixels)
            if len(batch_pixels) >= batch_size:
                flush()
                if should_cancel and should_cancel():
                    report.cancelled = True
                    break
    if not report.cancelled and (batch_pixels or batch_skipped):
        flush()

    report.decoded = len(decode_calls)
    report.all_skipped = store.skipped_files()
    report.indexed = store.count()
    report.elapsed = time.perf_counter() - started
    return report
