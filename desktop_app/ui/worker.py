"""The background side of the window: a QObject living in its own QThread that owns the CatalogSession.

Every request arrives as a queued slot call carrying a token, and every reply names the token of the
request it answers, so the window never has to guess which request an answer or an error belongs to.
The core — and TensorFlow, which the embedder imports on its first use — only ever runs on this thread.
Two kinds of request: opening/indexing a catalog (progress, file_skipped, finished, error signals) and
one-shot operations (`run_op`: any function of the open catalog, answered by op_succeeded or op_failed;
see operations.py). Cancelling is a threading.Event the core polls between batches; it is set directly
from the UI thread because this thread is busy inside `index` while it matters.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.embedders import Embedder, WeightsNeeded, create_embedder
from ..core.errors import UserError
from ..core.indexer import DEFAULT_BATCH_SIZE, Progress
from ..core.weights import Weights
from .model_choice import parse_choice

log = logging.getLogger(__name__)

BUG_MESSAGE = "Something went wrong in the background task; details are in the log file."
NO_CATALOG_MESSAGE = "Open a catalog folder first (File ▸ Open catalog…, Ctrl+O)."


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
    """What an operation works with, on the worker thread: the session and the catalog's labels."""

    session: object  # core.session.CatalogSession (imported lazily: sklearn comes with it)
    labels: dict[str, str] = field(default_factory=dict)

    def read_labels(self) -> None:
        """Label texts of the stored images, from a labels.csv in or beside the catalog (if any)."""
        from ..core.labels import label_texts

        self.labels = label_texts(self.session.root, list(self.session.store.identities()))

    def result_items(self, results) -> list[ResultItem]:
        """core.search.Result rows as the window shows them (full path, label)."""
        return [ResultItem(r.rank, r.relpath, str(self.session.path_of(r.relpath)), r.distance,
                           self.labels.get(r.relpath)) for r in results]


class CatalogWorker(QObject):
    opened = Signal(int, object)  # token, CatalogInfo
    loading_model = Signal(int, str)  # token, description of the model being loaded (TensorFlow import, seconds)
    progress = Signal(int, object)  # token, core.indexer.Progress
    file_skipped = Signal(int, str, str)  # token, relpath, reason; once the batch holding the file is committed
    finished = Signal(int, object)  # token, core.indexer.IndexReport
    error = Signal(int, str)  # token, a UserError's message (or a one-line note that a bug was logged)
    weights_needed = Signal(int, str, str)  # token, message, catalog folder to open once weights are chosen
    op_succeeded = Signal(int, object)  # token, what the operation returned
    op_failed = Signal(int, str)  # token, why it failed (one line)

    def __init__(self, embedders: dict[str, Embedder] | None = None, batch_size: int = DEFAULT_BATCH_SIZE):
        super().__init__()
        self._given = dict(embedders or {})  # injected, already built embedders (tests, self-test)
        self._built: dict[tuple[str, Weights | None], Embedder] = {}
        self.batch_size = batch_size
        self.catalog: OpenCatalog | None = None
        self._cancel = threading.Event()
        self._closing = threading.Event()

    @property
    def session(self):
        return self.catalog.session if self.catalog is not None else None

    # -- called from the UI thread ------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    def shut_down(self) -> None:
        """Stop the running index after its current batch and refuse queued work; the thread then quits."""
        self._closing.set()
        self._cancel.set()

    def close_session(self) -> None:
        """Only once the thread has finished (nothing else can be using the session then)."""
        if self.catalog is not None:
            self.catalog.session.close()
            self.catalog = None

    # -- slots, run on the worker thread ------------------------------------------------------------
    @Slot(int, str, str, object)
    def open_catalog(self, token: int, folder: str, model: str, weights: Weights | None) -> None:
        if self._closing.is_set():
            return
        try:
            embedder = self._embedder_for(model, weights, folder)
        except WeightsNeeded as missing:
            self.weights_needed.emit(token, str(missing), folder)
            return
        _, problem = _attempt(self._open_session, token, folder, embedder)
        if problem is not None:
            self.error.emit(token, problem)
            return
        self.index(token)

    @Slot(int)
    def index(self, token: int) -> None:
        if self._closing.is_set() or self.catalog is None:
            return
        self._cancel.clear()
        _, problem = _attempt(self._index, token)
        if problem is not None:
            self.error.emit(token, problem)

    @Slot(int, object)
    def run_op(self, token: int, work) -> None:
        """work(OpenCatalog) → op_succeeded(token, value), or op_failed(token, message)."""
        if self._closing.is_set():
            return
        if self.catalog is None:
            self.op_failed.emit(token, NO_CATALOG_MESSAGE)
            return
        value, problem = _attempt(work, self.catalog)
        if problem is None:
            self.op_succeeded.emit(token, value)
        else:
            self.op_failed.emit(token, problem)

    # -- internals ----------------------------------------------------------------------------------
    def _embedder_for(self, choice: str, weights: Weights | None, folder: str) -> Embedder:
        """The embedder of a model box choice (model_choice.py); int8 calibrates on, so belongs to, the catalog."""
        if choice in self._given:
            return self._given[choice]
        model, precision = parse_choice(choice)
        catalog = Path(folder) if precision else None
        key = (choice, weights, catalog)
        if key not in self._built:  # resolving weights may try a download: this is why it runs here
            self._built[key] = create_embedder(model, weights, precision=precision, catalog=catalog)
        return self._built[key]

    def _open_session(self, token: int, folder: str, embedder: Embedder) -> None:
        from ..core.session import CatalogSession  # sklearn comes with it: keep it off the startup path

        session = CatalogSession(folder, embedder)
        self.close_session()
        self.catalog = OpenCatalog(session)
        self.catalog.read_labels()
        weights = embedder.weights
        self.opened.emit(token, CatalogInfo(str(session.root), session.store.count(), embedder.name,
                                            embedder.describe(), bool(weights is not None and weights.is_random),
                                            session.store.rebuilt_reason, embedder.precision))

    def _load_model(self, token: int) -> None:
        """Build the network before the first batch, so the window can say why nothing moves yet."""
        embedder = self.catalog.session.embedder
        self.loading_model.emit(token, embedder.describe())
        embedder.load()

    def _index(self, token: int) -> None:
        self._load_model(token)

        def on_progress(p: Progress) -> None:
            for relpath, reason in p.newly_skipped:
                self.file_skipped.emit(token, relpath, reason)
            self.progress.emit(token, p)

        report = self.catalog.session.index(batch_size=self.batch_size, progress=on_progress,
                                            should_cancel=self._cancel.is_set)
        self.catalog.read_labels()  # the items indexed now have theirs too
        self.finished.emit(token, report)


def _attempt(work, *args) -> tuple[object, str | None]:
    """(work(*args), None), or (None, the one line to show): a UserError's message, or — for a bug, whose
    traceback goes to the log — a note that keeps the window alive."""
    try:
        return work(*args), None
    except UserError as err:
        return None, str(err)
    except Exception:  # noqa: BLE001 - a bug: keep the window alive, put the traceback in the log
        log.exception("background task failed")
        return None, BUG_MESSAGE


class WorkerThread:
    """The worker and the QThread it lives on: started with the window, joined by `shut_down`."""

    def __init__(self, worker: CatalogWorker, parent: QObject):
        self.worker = worker
        self._thread = QThread(parent)
        self._thread.setObjectName("catalog-worker")
        worker.moveToThread(self._thread)
        self._thread.start()

    @property
    def running(self) -> bool:
        return not self._thread.isFinished()

    def shut_down(self) -> None:
        """Cancel indexing, let the current batch finish, join the thread, then release the catalog's files."""
        self.worker.shut_down()
        self._thread.quit()
        self._thread.wait()
        self.worker.close_session()
