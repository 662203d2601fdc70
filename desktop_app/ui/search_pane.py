"""The searching half of the window: the query photo, how many results, the filter row, the results title and
grid, and the queries behind them (operations/search.py, on the reader lane).

Each query is of the newest-only group "query": the answer to an older query never reaches the screen, nor
does its error. The title, the tiles and the notice always tell the same story: after a failed query the
tiles of the last good one stay, and the title says so in its own words. While the catalog indexes, a query
answers from what is indexed so far and says so; the shown query runs again as batches land, at most every
RERUN_SECONDS, and once more when the index run ends. The filter's label values follow the items indexed the
same way, at most every LABELS_SECONDS (not while the person has one of its lists open).
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout, QWidget

from ..core.indexer import IndexReport, Progress
from ..core.query import Query
from ..core.search import DEFAULT_K
from .catalog_events import CatalogEvents
from .filter_box import FilterBox
from .lanes import CatalogInfo, ResultItem
from .operations import search as ops
from .queries import QueryPhoto, results_title
from .query_panel import QueryPanel
from .result_grid import ResultGrid
from .thumbnails import ThumbnailLoader

WELCOME = "Open a catalog folder, then drop a photo to see the most similar items."
READY = "Drop a photo to see the most similar items of this catalog."
RERUN_SECONDS = 3.0  # while indexing, the shown query runs again at most this often
LABELS_SECONDS = 5.0  # while indexing, the filter's label values follow the items indexed at most this often


def feedback_note(settings: Query) -> str:
    """', more like 2, less like 1' for a query moved by feedback; '' without."""
    parts = [f"{word} like {len(marks)}" for word, marks in (("more", settings.liked), ("less", settings.disliked))
             if marks]
    return f", {', '.join(parts)}" if parts else ""


class SearchPane(QWidget):
    grid_ready = Signal(float)  # seconds from the query request to a complete grid (thumbnails included)

    def __init__(self, host, events: CatalogEvents, thumbnails: ThumbnailLoader, report_timing: bool = False):
        """`host` runs the operations and shows messages (the MainWindow); `events` tell what the catalog does."""
        super().__init__()
        self._host = host
        self.report_timing = report_timing
        self._root: str | None = None  # of the open catalog
        self._query: QueryPhoto | None = None  # re-run when k, the region or a filter changes, or the index grew
        self._caption = ""  # of the query asked for last
        self._results_caption = ""  # of the query whose results are shown
        self._started = 0.0
        self.pending = False
        self.indexing: Progress | None = None  # the running index run's latest progress (None: not indexing)
        self.index_version = 0  # grows with every new catalog and every index run that changed it
        self._results_version = 0  # the index version the shown results were computed on
        self._narrowing: tuple[str, float | None] = ("", None)  # of the query asked for last: for its title
        self._tunings: dict[tuple[str, int], object] = {}  # (field, index version) → its fitted core Tuning
        self.liked: list[str] = []  # "More like this" items (relpaths) of the shown query: Rocchio feedback
        self.disliked: list[str] = []  # "Less like this"
        self._rerun_timer = QTimer(self, singleShot=True)
        self._rerun_timer.timeout.connect(self.rerun)
        self._labels_read_at = 0.0  # when the label values were last asked for
        self._labels_timer = QTimer(self, singleShot=True)
        self._labels_timer.timeout.connect(self._labels_grew)
        self.k_box = QSpinBox()
        self.k_box.setRange(1, 50)
        self.k_box.setValue(DEFAULT_K)
        self.k_box.setToolTip("How many similar items to show")
        line_edit = self.k_box.findChild(QLineEdit)
        if line_edit is not None:
            line_edit.setAcceptDrops(False)  # a dropped photo is a query, not text
        self.k_box.valueChanged.connect(lambda _k: self.rerun())
        self.query_panel = QueryPanel(thumbnails)
        self.query_panel.region_changed.connect(lambda _crop: self.rerun())
        self.query_panel.photo_removed.connect(self.remove_photo)
        self.filters = FilterBox()
        self.filters.changed.connect(self.rerun)
        self.title = QLabel(WELCOME)
        self.title.setObjectName("panelTitle")
        self.title.setWordWrap(True)  # long captions and narrowing wrap instead of being cut off
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.grid = ResultGrid(thumbnails)
        self.grid.find_similar.connect(self.query_item)
        self.grid.more_like.connect(lambda relpath: self.give_feedback(relpath, liked=True))
        self.grid.less_like.connect(lambda relpath: self.give_feedback(relpath, liked=False))
        self.grid.reset_feedback.connect(self.reset_feedback)
        self.grid.complete.connect(self._grid_complete)
        results = QVBoxLayout()
        results.addWidget(self.filters)
        results.addWidget(self.title)
        results.addWidget(self.grid, 1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
        row.addWidget(self.query_panel)
        row.addLayout(results, 1)
        events.opened.connect(self._opened)
        events.grew.connect(self._grew)
        events.changed.connect(self._changed)

    # -- queries -------------------------------------------------------------------------------------------
    def query_image(self, path: str) -> None:
        """A new query photo (its region cleared); the filters and the distance limit stay."""
        self.query_images([path])

    def query_images(self, paths: list[str], keep_feedback: bool = False) -> None:
        """One search with several photos (the mean of their vectors), shown side by side in the query panel."""
        if not paths:
            return
        caption = Path(paths[0]).name if len(paths) == 1 else f"{len(paths)} photos"
        self._query = QueryPhoto(paths[0], caption, more=tuple(paths[1:]))
        if not keep_feedback:
            self.liked, self.disliked = [], []
        self._start(new_photo=True)

    def remove_photo(self, path: str) -> None:
        """One of several query photos taken out (the person's feedback stays)."""
        if self._query is not None and path in self._query.paths and len(self._query.paths) > 1:
            self.query_images([p for p in self._query.paths if p != path], keep_feedback=True)

    def give_feedback(self, relpath: str, liked: bool) -> None:
        """More (liked) or less like this result: the shown query runs again, moved by every mark so far."""
        for marks in (self.liked, self.disliked):
            if relpath in marks:
                marks.remove(relpath)
        (self.liked if liked else self.disliked).append(relpath)
        self.rerun()

    def reset_feedback(self) -> None:
        """Back to the query without feedback."""
        if self.liked or self.disliked:
            self.liked, self.disliked = [], []
            self.rerun()

    def query_item(self, relpath: str, keep_filter: bool = True) -> None:
        """Search from an item of the open catalog; without `keep_filter` the label filter is cleared first
        (a search from the near-duplicates window: its item may not pass the filter)."""
        if self._root is None:
            return
        self._query = QueryPhoto(str(Path(self._root) / relpath), relpath, relpath)
        self.liked, self.disliked = [], []
        if not keep_filter:
            self.filters.blockSignals(True)
            self.filters.clear_where()
            self.filters.blockSignals(False)
        self._start(new_photo=True)

    def rerun(self) -> None:
        """The shown query again with the current k, region, filter, tuning and distance limit."""
        if self._query is not None:
            self._start(new_photo=False)

    def results(self) -> list[ResultItem]:
        return self.grid.results()

    def current_query(self) -> QueryPhoto | None:
        """The photo (or catalog item) searched with last."""
        return self._query

    def settings(self) -> Query:
        """What the shown photo is searched with (a core Query without a photo)."""
        return Query(k=self.k_box.value(), crop=self.query_panel.region(), where=self.filters.where(),
                     max_distance=self.filters.max_distance(), tuned=self.filters.tuned_field(),
                     liked=tuple(self.liked), disliked=tuple(self.disliked))

    # -- what the catalog did ------------------------------------------------------------------------------
    def _opened(self, info: CatalogInfo) -> None:
        """Another catalog: the shown photo is searched in it (an item of the old one is a photo like any
        other now); the same catalog with another model: the results are refreshed as it indexes."""
        self.index_version += 1
        self.indexing = Progress(0, 0, 0, 0.0)  # the window indexes every catalog it opens, at once
        if info.root != self._root and self._query is not None:
            self._query = QueryPhoto(self._query.path, self._query.caption)
        self._root = info.root
        if self._query is not None:
            self.rerun()
        elif not self.grid.count():
            self.title.setText(READY)
        self._read_labels()

    def _grew(self, progress: Progress) -> None:
        self.indexing = progress
        if progress.done and not self._labels_timer.isActive():
            wait = LABELS_SECONDS - (time.perf_counter() - self._labels_read_at)
            self._labels_timer.start(max(0, int(wait * 1000)))
        if self._query is None or self.pending or self._rerun_timer.isActive() or not progress.done:
            return
        wait = RERUN_SECONDS - (time.perf_counter() - self._started)
        self._rerun_timer.start(max(0, int(wait * 1000)))

    def _changed(self, report: IndexReport) -> None:
        """Re-runs the shown query when it was answered from a smaller or older index."""
        self.indexing = None
        self._rerun_timer.stop()
        if report.embedded or report.removed or report.moved:  # the shown results may name other paths now
            self.index_version += 1
            self._read_labels()
        if self._query is not None and not self.pending and self._results_version != self.index_version:
            self.rerun()

    # -- internals ---------------------------------------------------------------------------------------
    def _labels_grew(self) -> None:
        if self.indexing is None:  # the run ended meanwhile: _changed has read them
            return
        if self.filters.choosing():
            self._labels_timer.start(int(LABELS_SECONDS * 1000))
        else:
            self._read_labels()

    def _read_labels(self) -> None:
        """The filter box gets the open catalog's label fields and values (hidden without labels)."""
        self._labels_timer.stop()
        self._labels_read_at = time.perf_counter()

        def failed(message: str) -> None:
            self.filters.set_labels(None)
            self._host.show_message(message)

        ops.labels(self._host).success(self.filters.set_labels).failure(failed).run()

    def _start(self, new_photo: bool) -> None:
        self._rerun_timer.stop()
        query = self._query
        if query is None:
            return
        self._started = time.perf_counter()
        self.pending = True
        self._host.show_message("")
        if new_photo:
            self.query_panel.show_photo(query.caption, query.path, query.more)  # and clears the region
        settings = self.settings()
        self._caption = query.caption + (" (region)" if settings.crop else "") + feedback_note(settings)
        self._narrowing = (self.filters.describe(), settings.max_distance)
        version = self.index_version
        field = settings.tuned
        tuned = self._tunings.get((field, version)) if field else None
        if field and tuned is None:
            after = " once indexing finishes" if self.indexing else ""
            self.title.setText(f"Tuning the similarity to the catalog's {field} labels{after} (fitted once, "
                               "then cached), then searching…")

            def fitted(tuning) -> None:
                self._tunings = {(field, version): tuning}
                self._ask(query, settings, tuning)

            ops.tuning(self._host, field).success(fitted).failure(self._on_failed).run()
            return
        if not self.grid.count() or new_photo:
            self.title.setText("Searching…")
        self._ask(query, settings, tuned)

    def _ask(self, query: QueryPhoto, settings: Query, tuned) -> None:
        version = self.index_version
        ops.find_similar(self._host, query, settings, tuned, indexing=self.indexing is not None) \
            .success(lambda answer: self._on_answer(answer, version)).failure(self._on_failed).run()

    def _on_answer(self, answer: ops.Answer, version: int) -> None:
        self.pending = False
        self._results_version = version
        if answer.searched == 0:  # indexing, nothing committed yet: asked again as batches land
            self.grid.clear_results()
            self.title.setText(f"Nothing is indexed yet: {self._caption} is searched as soon as the first photos are.")
            return
        self._results_caption = self._caption
        title = results_title(len(answer.items), self._caption, *self._narrowing)
        if self.indexing is not None:
            expected = answer.stored + max(0, self.indexing.total - self.indexing.done)
            title += f" — searched {answer.searched:,} of {max(expected, answer.searched):,} items; indexing goes on"
        self.title.setText(title)
        self.grid.show_results(answer.items, set(self.liked), set(self.disliked))

    def _on_failed(self, message: str) -> None:
        self.pending = False
        if self.grid.count():
            self.title.setText(f"Still showing the {self.grid.count()} most similar to {self._results_caption}: "
                               f"{self._caption} could not be searched.")
        else:
            self.title.setText(f"No results for {self._caption}.")
        self._host.show_message(message)  # last: whoever listens to message_shown sees the whole state

    def _grid_complete(self) -> None:
        seconds = time.perf_counter() - self._started
        if self.report_timing:
            print(f"timing: query to complete grid {seconds:.3f} s", flush=True)
        self.grid_ready.emit(seconds)
