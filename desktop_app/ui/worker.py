"""The background side of the window: a QObject living in its own QThread that owns the CatalogSession.

Every request (open, index, query) arrives as a queued slot call, so the core — and TensorFlow, which
the embedder imports on its first use — only ever runs on this thread. The core's plain callbacks are
turned into signals. Cancelling is a threading.Event the core polls between batches; it is set directly
from the UI thread because this thread is busy inside `index` while it matters.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from ..core.embedders import Embedder, WeightsNeeded, create_embedder
from ..core.errors import UserError
from ..core.indexer import DEFAULT_BATCH_SIZE, Progress
from ..core.weights import Weights

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogInfo:
    root: str
    items: int
    model_name: str
    model: str  # embedder.describe()
    random_weights: bool
    rebuilt_reason: str | None


@dataclass(frozen=True)
class ResultItem:
    rank: int
    relpath: str
    path: str
    distance: float
    label: str | None = None  # from a labels.csv in or beside the catalog, when there is one


class CatalogWorker(QObject):
    opened = Signal(object)  # CatalogInfo
    loading_model = Signal(str)  # description of the model being loaded (TensorFlow import, seconds)
    progress = Signal(object)  # core.indexer.Progress
    skipped = Signal(str, str)  # relpath, reason; as soon as the batch holding the file is committed
    finished = Signal(object)  # core.indexer.IndexReport
    results = Signal(int, object)  # query token, list[ResultItem]
    error = Signal(str)  # a UserError's message (or a one-line note that a bug was logged)
    weights_needed = Signal(str, str)  # message, catalog folder to open once weights are chosen

    def __init__(self, embedders: dict[str, Embedder] | None = None, batch_size: int = DEFAULT_BATCH_SIZE):
        super().__init__()
        self._given = dict(embedders or {})  # injected, already built embedders (tests, self-test)
        self._built: dict[tuple[str, Weights | None], Embedder] = {}
        self.batch_size = batch_size
        self.session = None
        self.labels: dict[str, str] = {}
        self._cancel = threading.Event()
        self._closing = threading.Event()

    # -- called from the UI thread ------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    def shut_down(self) -> None:
        """Stop the running index after its current batch and refuse queued work; the thread then quits."""
        self._closing.set()
        self._cancel.set()

    def close_session(self) -> None:
        """Only once the thread has finished (nothing else can be using the session then)."""
        if self.session is not None:
            self.session.close()
            self.session = None

    # -- slots, run on the worker thread ------------------------------------------------------------
    @Slot(str, str, object)
    def open_catalog(self, folder: str, model: str, weights: Weights | None) -> None:
        if self._closing.is_set():
            return
        try:
            embedder = self._embedder_for(model, weights)
        except WeightsNeeded as missing:
            self.weights_needed.emit(str(missing), folder)
            return
        if not self._guarded(self._open_session, folder, embedder):
            return
        self.index()

    @Slot()
    def index(self) -> None:
        if self._closing.is_set() or self.session is None:
            return
        self._cancel.clear()
        self._guarded(self._index)

    @Slot(int, str, int)
    def query_image(self, token: int, path: str, k: int) -> None:
        self._query(token, lambda session: session.query(path, k))

    @Slot(int, str, int)
    def query_item(self, token: int, relpath: str, k: int) -> None:
        self._query(token, lambda session: session.query_item(relpath, k))

    # -- internals ----------------------------------------------------------------------------------
    def _guarded(self, work, *args) -> bool:
        """Run work(*args); a UserError or a bug becomes the error signal. True when it succeeded."""
        try:
            work(*args)
            return True
        except UserError as err:
            self.error.emit(str(err))
        except Exception:  # noqa: BLE001 - a bug: keep the window alive, put the traceback in the log
            log.exception("background task failed")
            self.error.emit("Something went wrong in the background task; details are in the log file.")
        return False

    def _embedder_for(self, model: str, weights: Weights | None) -> Embedder:
        if model in self._given:
            return self._given[model]
        key = (model, weights)
        if key not in self._built:  # resolving weights may try a download: this is why it runs here
            self._built[key] = create_embedder(model, weights)
        return self._built[key]

    def _open_session(self, folder: str, embedder: Embedder) -> None:
        from ..core.session import CatalogSession  # sklearn comes with it: keep it off the startup path

        session = CatalogSession(folder, embedder)
        self.close_session()
        self.session = session
        self._read_labels()
        weights = getattr(embedder, "weights", None)
        self.opened.emit(CatalogInfo(str(session.root), session.store.count(), embedder.name, embedder.describe(),
                                     bool(weights is not None and weights.is_random),
                                     session.store.rebuilt_reason))

    def _load_model(self) -> None:
        """Build the network before the first batch, so the window can say why nothing moves yet."""
        load = getattr(self.session.embedder, "load", None)
        if load is not None:
            self.loading_model.emit(self.session.embedder.describe())
            load()

    def _index(self) -> None:
        self._load_model()

        def on_progress(p: Progress) -> None:
            for relpath, reason in p.newly_skipped:
                self.skipped.emit(relpath, reason)
            self.progress.emit(p)

        report = self.session.index(batch_size=self.batch_size, progress=on_progress,
                                    should_cancel=self._cancel.is_set)
        self._read_labels()
        self.finished.emit(report)

    def _read_labels(self) -> None:
        """Label texts of the stored images, from a labels.csv in or beside the catalog (if any)."""
        from ..core.labels import label_texts

        self.labels = label_texts(self.session.root, list(self.session.store.identities()))

    def _query(self, token: int, search) -> None:
        if self._closing.is_set():
            return
        if self.session is None:
            self.error.emit("Open a catalog folder first (File ▸ Open catalog…, Ctrl+O).")
            return

        def run():
            session = self.session
            items = [ResultItem(r.rank, r.relpath, str(session.path_of(r.relpath)), r.distance,
                                self.labels.get(r.relpath)) for r in search(session)]
            self.results.emit(token, items)

        self._guarded(run)
