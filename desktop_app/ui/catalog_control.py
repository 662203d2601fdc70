"""Opening and indexing the window's catalog: the writer lane's work, told to the window through CatalogEvents.

`open(folder, choice, weights)` opens the folder with a model box choice (a running index is cancelled first),
gives the reader lane its CatalogReader, then indexes; `reindex()` indexes again (F5, the folder watcher). The
choice a catalog is open with stays `choice` until another one opened, so a failed switch can be undone.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..core.indexer import IndexReport, Progress
from ..core.weights import Weights
from .catalog_events import CatalogEvents
from .lanes import CatalogInfo
from .operations import OpTask
from .operations.catalog import (
    LoadingModel,
    NeedsWeights,
    Opened,
    index_catalog,
    install_reader,
    open_catalog,
    read_again,
)


def index_outcome(report: IndexReport) -> str:
    """The status bar's line for a finished index run (short: it shares the bar with the catalog's name)."""
    if report.cancelled:
        return f"Indexing cancelled: {report.indexed:,} of {report.files:,} photos searchable; F5 continues."
    moved = f"{report.moved:,} moved, " if report.moved else ""
    return (f"Index up to date ({report.elapsed:.1f} s): {report.embedded:,} new, {report.unchanged:,} unchanged, "
            f"{moved}{report.removed:,} removed, {len(report.newly_skipped):,} newly skipped")


class CatalogControl(QObject):
    loading_model = Signal(str)  # the model being loaded before the first batch
    weights_needed = Signal(str, str)  # why, and the folder to open once weights are chosen
    failed = Signal(str)  # the catalog could not be opened or indexed: one line to show

    def __init__(self, host, events: CatalogEvents, batch_size: int):
        super().__init__(host)
        self._host, self.events, self._batch_size = host, events, batch_size
        self.info: CatalogInfo | None = None
        self.choice: str | None = None  # the model box choice the open catalog was opened with
        self.indexing = False
        self.progress: Progress | None = None  # of the running index run
        self.skipped: dict[str, str] = {}  # relpath → reason
        self._task: OpTask | None = None

    def open(self, folder: str, choice: str, weights: Weights | None) -> None:
        self.cancel()
        self._task, self.indexing = None, False  # the cancelled run's reply is dropped: this request is newer
        open_catalog(self._host, folder, choice, weights).success(lambda answer: self._opened(answer, folder, choice)) \
            .failure(self.failed.emit).run()

    def reindex(self) -> bool:
        """Index the open catalog again, unless it is indexing now; whether a run started."""
        if self.info is None or self.indexing:
            return False
        self.indexing, self.progress = True, None
        request = index_catalog(self._host, self._batch_size, self._progressed)
        self._task = request.task
        request.success(self._indexed).failure(self._index_failed).run()
        return True

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def close(self) -> None:
        """The window is closing: stop indexing (after its batch); listeners let go of the catalog."""
        self.cancel()
        if self.info is not None:
            self.info = None
            self.events.closed.emit()

    def _opened(self, answer: Opened | NeedsWeights, folder: str, choice: str) -> None:
        if isinstance(answer, NeedsWeights):
            self.weights_needed.emit(answer.message, folder)
            return
        install_reader(self._host, answer.reader).run()  # queued before any search that follows `opened`
        if self.info is not None and self.info.root != answer.info.root:
            self.events.closed.emit()
        self.info, self.choice, self.skipped = answer.info, choice, {}
        self.events.opened.emit(answer.info)
        self.reindex()

    def _progressed(self, update: LoadingModel | Progress) -> None:
        if isinstance(update, LoadingModel):
            self.loading_model.emit(update.description)
            return
        self.progress = update
        self.skipped.update(update.newly_skipped)
        self.events.grew.emit(update)

    def _indexed(self, report: IndexReport) -> None:
        self.indexing, self._task = False, None
        self.skipped = dict(report.all_skipped)
        read_again(self._host).run()  # queued on the reader lane before any search `changed` leads to
        self.events.changed.emit(report)

    def _index_failed(self, message: str) -> None:
        self.indexing, self._task = False, None
        self.failed.emit(message)
