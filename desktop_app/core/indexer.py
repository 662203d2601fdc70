"""Indexing, the plan: scan the folder → diff it against the store → hand the new and changed files to an engine
(engines.py: this process, or a Ray cluster; it turns files into vectors) → commit each batch it hands back →
report. Progress and cancel are plain callbacks, so the CLI and the window's writer lane drive the same code.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .catalog import UNREAD_MTIME, CatalogFile, no_images_message, scan
from .decoding import DEFAULT_WORKERS, Decode
from .embedders import Embedder
from .engines import Batches, EmbeddedBatch, Engine, LocalEngine
from .errors import UserError
from .moves import find_moves, hash_as_scanned, hash_unhashed
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
    first_batch: tuple[int, float] | None = None  # (done, elapsed) when the first batch came back

    @property
    def rate(self) -> float:
        """Files per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left, at the rate since the first batch came back: its time holds the start-up (loading the
        model, starting Ray), which the rest of the run does not repeat. None until a second batch is in."""
        if not self.first_batch or self.done <= self.first_batch[0] or self.elapsed <= self.first_batch[1]:
            return None
        steady = (self.done - self.first_batch[0]) / (self.elapsed - self.first_batch[1])
        return (self.total - self.done) / steady


@dataclass
class IndexReport:
    files: int = 0  # image files found in the folder
    embedded: int = 0
    moved: int = 0  # stored items found under another path (moved or renamed): re-pointed, not embedded
    unchanged: int = 0
    removed: int = 0
    newly_skipped: list[tuple[str, str]] = field(default_factory=list)  # skipped this run (relpath, reason)
    all_skipped: list[tuple[str, str]] = field(default_factory=list)  # every skipped file in the store
    indexed: int = 0  # items searchable after this run
    cancelled: bool = False
    elapsed: float = 0.0
    decoded: int = 0  # image files decoded this run (0 when nothing changed)
    hashed: int = 0  # items stored without a content hash (an older store's) that were given one


ProgressCallback = Callable[[Progress], None]
Scan = Callable[..., list[CatalogFile]]  # catalog.scan's shape: (root, unreadable_folders) -> files


@dataclass(frozen=True)
class _Changes:
    gone: list[str]  # stored files that are really gone
    todo: list[CatalogFile]  # new or changed files
    unreadable_folders: list[Skipped]
    new: list[CatalogFile]  # the files of `todo` at a path the store does not know (moved ones among them)

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
    return _Changes(gone, todo, [Skipped(folder, 0, UNREAD_MTIME, reason) for folder, reason in unreadable],
                    [f for f in todo if f.relpath not in known])


def pending_changes(store: Store, scan: Scan = scan) -> tuple[int, int]:
    """(new or changed files, stored files gone) that an index run would handle now, found without writing:
    (0, 0) means the store is up to date with its folder. A folder that cannot be read counts once, as a new
    skipped entry, until the store lists it."""
    files, unreadable = _scan_folder(store, scan)
    changes = _changes(store, files, unreadable)
    known = store.identities()
    unlisted = [s for s in changes.unreadable_folders if s.relpath not in known]
    return len(changes.todo) + len(unlisted), len(changes.gone)


def index_catalog(
    store: Store,
    embedder: Embedder,
    *,
    engine: Engine | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
    scan: Scan = scan,
    decode: Decode | None = None,
    decode_workers: int | None = None,
    writer_lock: Callable[[], contextlib.AbstractContextManager] | None = None,
) -> IndexReport:
    """Bring `store` up to date with its catalog folder. Every finished batch is committed at once.

    `engine` turns the files into vectors (default: a LocalEngine with `decode` and `decode_workers`, which
    replace how an image is read and how many threads read ahead: tests, the bench).
    `writer_lock`, when given, is entered only if the folder has changed (so a reader of an up-to-date
    catalog never waits for, or is refused by, another indexer); without it the caller holds the lock.
    `scan` replaces how the folder is listed (tests).
    """
    started = time.perf_counter()
    files, unreadable = _scan_folder(store, scan)
    changes = _changes(store, files, unreadable)
    engine = engine or LocalEngine(decode, decode_workers or DEFAULT_WORKERS)
    update = functools.partial(_update, store, embedder, engine, files, started=started, batch_size=batch_size,
                               progress=progress, should_cancel=should_cancel)
    if writer_lock is None or not changes:
        return update(changes)
    with writer_lock():  # the store may have moved on while this process waited: diff again
        return update(_changes(store, files, unreadable))


def _update(store: Store, embedder: Embedder, engine: Engine, files: list[CatalogFile], changes: _Changes, *,
            started: float, batch_size: int, progress: ProgressCallback | None,
            should_cancel: Callable[[], bool] | None) -> IndexReport:
    report = IndexReport()
    moves = find_moves(store, store.root, changes.gone, changes.new)
    if moves:
        store.move(moves)
    moved_from, moved_to = {m.old_relpath for m in moves}, {m.relpath for m in moves}
    gone = [relpath for relpath in changes.gone if relpath not in moved_from]
    if gone:
        store.remove(gone)
    if changes.unreadable_folders:
        store.commit_batch([], changes.unreadable_folders)
        report.newly_skipped += [(s.relpath, s.reason) for s in changes.unreadable_folders]
    todo = [f for f in changes.todo if f.relpath not in moved_to]
    report.files, report.moved, report.removed = len(files), len(moves), len(gone)
    report.unchanged = len(files) - len(todo) - len(moves)
    log.info("index %s: %d files, %d to embed, %d moved, %d gone", store.root, len(files), len(todo), len(moves),
             len(gone))
    unread = {f.relpath for f in todo if f.problem}  # found unreadable by the scan: never decoded

    def commit(batch: EmbeddedBatch) -> None:
        store.commit_batch([Embedded(f.relpath, f.size, f.mtime_ns, v, hash_as_scanned(store.root, f))
                            for f, v in zip(batch.items, batch.vectors, strict=True)], batch.skipped)
        report.embedded += len(batch.items)
        report.newly_skipped += [(s.relpath, s.reason) for s in batch.skipped]
        report.decoded += len(batch.items) + sum(s.relpath not in unread for s in batch.skipped)

    batches = engine.batches(embedder, store.root, todo, batch_size)
    report.cancelled = handle_batches(batches, len(todo), started, commit, progress, should_cancel)
    if not report.cancelled:
        report.hashed = hash_unhashed(store, store.root, files, should_cancel)
    report.all_skipped = store.skipped_files()
    report.indexed = store.count()
    report.elapsed = time.perf_counter() - started
    return report


def handle_batches(batches: Batches, total: int, started: float, handle: Callable[[EmbeddedBatch], None],
                   progress: ProgressCallback | None = None,
                   should_cancel: Callable[[], bool] | None = None) -> bool:
    """`handle(batch)` for each batch, a Progress report before the first and after each (`started`: the
    perf_counter the elapsed time counts from), `should_cancel()` asked between batches. Returns whether it
    stopped early; the generator is closed either way (the engine's work under way stops)."""
    state = Progress(0, total, 0, 0.0)
    if progress:
        progress(state)
    with contextlib.closing(batches):
        for batch in batches:
            handle(batch)
            newly_skipped = tuple((s.relpath, s.reason) for s in batch.skipped)
            done, elapsed = state.done + len(batch.items) + len(batch.skipped), time.perf_counter() - started
            state = Progress(done, state.total, state.skipped_count + len(batch.skipped), elapsed, newly_skipped,
                             state.first_batch or (done, elapsed))
            if progress:
                progress(state)
            if should_cancel and should_cancel() and state.done < state.total:
                return True
    return False
