"""The window's two background lanes, after Anki's TaskManager (one serial executor for the collection, another
for the rest). Each lane is a QObject on its own QThread that runs work items one after another:

WRITER  owns the open catalog's CatalogSession: opening it, indexing, export, tuning fits (later the map layout).
READER  owns a CatalogReader of the same catalog (core/reader.py): search, browse, near-duplicates (later match).
        It answers from one consistent read of the store while the writer commits batches, and reads the store
        again before a work item when it changed, at most as often as keeps the re-reads to REFRESH_COST_SHARE
        of its time (a read of 10,000 ResNet50 vectors costs ~0.3 s: at most one every 1.5 s).

Work items arrive as queued slot calls (operations/__init__.py sends them) with a token; each reply names it.
Every exception of a work item reaches the window: a UserError's message, or for a bug a one-line note (the
traceback goes to the log). The core — and TensorFlow, which an embedder imports on first use — runs on these
threads only. Both lanes embed with the one embedder, at the same time: its forward passes take no lock
(core/embedders/shared_runtime.py), so the reader's query never waits for the writer's index batch.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.embedders import Embedder
from ..core.errors import UserError
from ..core.indexer import DEFAULT_BATCH_SIZE

log = logging.getLogger(__name__)

BUG_MESSAGE = "Something went wrong in the background task; details are in the log file."
NO_CATALOG_MESSAGE = "Open a catalog folder first (File ▸ Open catalog…, Ctrl+O)."
WRITER, READER = "writer", "reader"
REFRESH_COST_SHARE = 0.2  # the reader spends at most about this share of its time re-reading a changing store


@dataclass(frozen=True)
class CatalogInfo:
    root: str
    items: int
    model_name: str
    model: str  # embedder.describe()
    random_weights: bool
    rebuilt_reason: str | None
    precision: str = "fp32"  # what the model computes in (Embedder.precision)


@dataclass(frozen=True)
class ResultItem:
    rank: int
    relpath: str
    path: str
    distance: float
    label: str | None = None  # from a labels.csv in or beside the catalog, when there is one


@dataclass
class OpenCatalog:
    """What a work item works with, on its lane's thread: the lane's session (a CatalogSession on the writer, a
    CatalogReader on the reader)."""

    session: Any  # core.session.CatalogSession or core.reader.CatalogReader (imported lazily: numpy, SQLite)
    _read_at: float = 0.0  # when the reader last read the store (perf_counter)
    _read_cost: float = 0.0  # seconds that read took

    def result_items(self, results) -> list[ResultItem]:
        """core.search.Result rows as the window shows them (full path, the text of its labels)."""
        try:
            table = self.session.labels
        except UserError:  # a labels file that cannot be read: results without captions
            table = None
        return [ResultItem(r.rank, r.relpath, str(self.session.path_of(r.relpath)), r.distance,
                           (table.text(r.relpath) or None) if table else None) for r in results]

    def refresh_interval(self) -> float:
        return self._read_cost / REFRESH_COST_SHARE

    def keep_fresh(self, now: bool = False) -> None:
        """A reader's session reads the store again if it changed, when due (or `now`); a writer's needs not."""
        refresh = getattr(self.session, "refresh", None)
        if refresh is None or (not now and time.perf_counter() - self._read_at < self.refresh_interval()):
            return
        started = time.perf_counter()
        if refresh():  # its label table follows the items it read
            self._read_cost = time.perf_counter() - started
        self._read_at = time.perf_counter()


class Lane(QObject):
    """One background lane: `run(token, work, with_catalog)` calls work(the open catalog) — or work(lane) for
    the lane-level items (opening, closing) — and answers succeeded(token, value) or failed(token, message)."""

    succeeded = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, name: str, embedders: dict[str, Embedder] | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE):
        super().__init__()
        self.name = name
        self.catalog: OpenCatalog | None = None
        self.given = dict(embedders or {})  # injected, already built embedders (tests, self-test)
        self.built: dict[tuple, Embedder] = {}  # embedders built for model box choices (the writer's)
        self.batch_size = batch_size
        self.closing = threading.Event()

    @property
    def session(self):
        return self.catalog.session if self.catalog is not None else None

    @Slot(int, object, bool)
    def run(self, token: int, work, with_catalog: bool) -> None:
        if self.closing.is_set():
            return
        catalog = self.catalog
        if with_catalog and catalog is None:
            self.failed.emit(token, NO_CATALOG_MESSAGE)
            return

        def run_work():
            if catalog is None:
                return work(self)
            catalog.keep_fresh()
            return work(catalog)

        value, problem = attempt(run_work if with_catalog else lambda: work(self))
        if problem is None:
            self.succeeded.emit(token, value)
        else:
            self.failed.emit(token, problem)

    def install(self, catalog: OpenCatalog | None) -> None:
        """This lane's catalog from now on (on its thread, between work items); the previous one is closed."""
        self.close_catalog()
        self.catalog = catalog

    def close_catalog(self) -> None:
        if self.catalog is not None:
            self.catalog.session.close()
            self.catalog = None


def attempt(work) -> tuple[object, str | None]:
    """(work(), None), or (None, the one line to show): a UserError's message, or — for a bug, whose traceback
    goes to the log — a note that keeps the window alive."""
    try:
        return work(), None
    except UserError as err:
        return None, str(err)
    except Exception:  # noqa: BLE001 - a bug: keep the window alive, put the traceback in the log
        log.exception("background task failed")
        return None, BUG_MESSAGE


class Lanes:
    """The writer and reader lanes and their threads: started with the window, joined by `shut_down`."""

    def __init__(self, parent: QObject, embedders: dict[str, Embedder] | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE):
        self.writer = Lane(WRITER, embedders, batch_size)
        self.reader = Lane(READER)
        self._threads = []
        for lane in (self.writer, self.reader):
            thread = QThread(parent)
            thread.setObjectName(f"catalog-{lane.name}")
            lane.moveToThread(thread)
            thread.start()
            self._threads.append(thread)

    def __iter__(self):
        return iter((self.writer, self.reader))

    @property
    def running(self) -> bool:
        return any(not thread.isFinished() for thread in self._threads)

    def shut_down(self) -> None:
        """Refuse queued work, let the running items end (indexing is cancelled by its task first), join the
        threads, then release the catalog's files."""
        for lane in self:
            lane.closing.set()
        for thread in self._threads:
            thread.quit()
            thread.wait()
        for lane in self:
            lane.close_catalog()
