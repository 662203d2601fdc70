"""The indexing pipeline: scan → diff against the store → decode (threads, overlapped) → embed → commit.

Progress and cancel are plain callbacks, so the CLI and the GUI's worker thread drive the same code.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Generator
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


@dataclass(frozen=True)
class EmbeddedBatch:
    """One batch of files turned into vectors: the files that decoded (with their identity as read) and their
    vectors, in order, and the files that could not be used, with their reasons."""

    items: list[CatalogFile]
    vectors: np.ndarray  # (len(items), dim) float32
    skipped: list[Skipped]


def embedded_batches(embedder: Embedder, root: Path, files: list[CatalogFile], batch_size: int = DEFAULT_BATCH_SIZE,
                     decode: Decode | None = None,
                     workers: int = DEFAULT_WORKERS) -> Generator[EmbeddedBatch, None, None]:
    """The files under `root` decoded ahead by the decode pool (decoding.decoded_in_order; the model's own
    decoder unless `decode` is given) and embedded `batch_size` at a time: every batch holds `batch_size`
    decoded files (the last may hold fewer) plus those skipped on the way. Indexing commits each batch to a
    store; `match` searches with it and stores nothing. Closing the generator stops the decoder threads."""
    items: list[CatalogFile] = []
    pixels: list[np.ndarray] = []
    skipped: list[Skipped] = []

    def batch() -> EmbeddedBatch:
        vectors = embedder.embed(np.stack(pixels)) if pixels else np.empty((0, embedder.dim), np.float32)
        done = EmbeddedBatch(list(items), vectors, list(skipped))
        items.clear()
        pixels.clear()
        skipped.clear()
        return done

    decoded = decoded_in_order(decode or decoder_for(embedder), root, files, workers,
                               max(DEFAULT_LOOKAHEAD, 3 * batch_size))
    with contextlib.closing(decoded):
        for item, result in decoded:
            if isinstance(result, str):
                log.info("skipped %s: %s", item.relpath, result)
                skipped.append(Skipped(item.relpath, item.size, item.mtime_ns, result))
            else:
                items.append(item)
                pixels.append(result)
            if len(pixels) >= batch_size:
                yield batch()
    if pixels or skipped:
        yield batch()


def handle_batches(batches: Generator[EmbeddedBatch, None, None], total: int, started: float,
                   handle: Callable[[EmbeddedBatch], None], progress: ProgressCallback | None = None,
                   should_cancel: Callable[[], bool] | None = None) -> bool:
    """`handle(batch)` for each batch, a Progress report before the first and after each (`started`: the
    perf_counter the elapsed time counts from), `should_cancel()` asked between batches. Returns whether it
    stopped early; the generator is closed either way (its decoder threads stop)."""
    state = Progress(0, total, 0, 0.0)
    if progress:
        progress(state)
    with contextlib.closing(batches):
        for batch in batches:
            handle(batch)
            newly_skipped = tuple((s.relpath, s.reason) for s in batch.skipped)
            state = Progress(state.done + len(batch.items) + len(batch.skipped), state.total,
                             state.skipped_count + len(batch.skipped), time.perf_counter() - started, newly_skipped)
            if progress:
                progress(state)
            if should_cancel and should_cancel() and state.done < state.total:
                return True
    return False


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

    decode_calls: list[None] = []  # list.append is atomic: the decoder threads count here

    def counted_decode(path: Path) -> np.ndarray:
        decode_calls.append(None)
        return decode(path)

    def commit(batch: EmbeddedBatch) -> None:
        store.commit_batch([Embedded(f.relpath, f.size, f.mtime_ns, v)
                            for f, v in zip(batch.items, batch.vectors, strict=True)], batch.skipped)
        report.embedded += len(batch.items)
        report.newly_skipped += [(s.relpath, s.reason) for s in batch.skipped]

    batches = embedded_batches(embedder, store.root, todo, batch_size, counted_decode, workers)
    report.cancelled = handle_batches(batches, len(todo), started, commit, progress, should_cancel)
    report.decoded = len(decode_calls)
    report.all_skipped = store.skipped_files()
    report.indexed = store.count()
    report.elapsed = time.perf_counter() - started
    return report
