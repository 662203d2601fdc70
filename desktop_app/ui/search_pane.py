"""The searching half of the window: the query photo, the results title and grid, and the queries behind them.

Each query is one operation (operations.py) of the newest-only group "query": the answer to an older query
never reaches the screen, nor does its error. The title, the tiles and the notice always tell the same
story: after a failed query the tiles of the last good one stay, and the title says so in its own words.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .filter_box import FilterBox, label_choices
from .operations import op
from .queries import Query, QuerySettings, results_title, search
from .query_panel import QueryPanel
from .result_grid import ResultGrid
from .thumbnails import ThumbnailLoader
from .worker import ResultItem

WELCOME = "Open a catalog folder, then drop a photo to see the most similar items."
READY = "Drop a photo to see the most similar items of this catalog."


class SearchPane(QWidget):
    grid_ready = Signal(float)  # seconds from the query request to a complete grid (thumbnails included)

    def __init__(self, window, thumbnails: ThumbnailLoader, report_timing: bool = False):
        """`window`: the MainWindow, which runs the operations, shows messages and knows k and indexing."""
        super().__init__()
        self._window = window
        self.report_timing = report_timing
        self._query: Query | None = None  # re-run when k, the region or a filter changes, or the index grew
        self._caption = ""  # of the query asked for last
        self._results_caption = ""  # of the query whose results are shown
        self._started = 0.0
        self.pending = False
        self.index_version = 0  # grows with every new session and every index run that changed it
        self._results_version = 0  # the index version the shown results were computed on
        self._narrowing: tuple[str, float | None] = ("", None)  # of the query asked for last: for its title
        self._tuned: set[tuple[str, int]] = set()  # (field, index version) whose tuning is fitted and cached
        self.query_panel = QueryPanel(thumbnails)
        self.query_panel.region_changed.connect(lambda _crop: self.rerun())
        self.filters = FilterBox()
        self.filters.changed.connect(self.rerun)
        self.title = QLabel(WELCOME)
        self.title.setObjectName("panelTitle")
        self.grid = ResultGrid(thumbnails)
        self.grid.find_similar.connect(window.query_item)
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

    # -- queries -------------------------------------------------------------------------------------------
    def query_image(self, path: str, k: int) -> None:
        """A new query photo (its region cleared); the filters and the distance limit stay."""
        self._query = Query(path, Path(path).name)
        self._start(k, new_photo=True)

    def query_item(self, root: str, relpath: str, k: int) -> None:
        self._query = Query(str(Path(root) / relpath), relpath, relpath)
        self._start(k, new_photo=True)

    def rerun(self) -> None:
        """The shown query again with the current k, region, filter, tuning and distance limit."""
        if self._query is not None:
            self._start(self._window.k_box.value(), new_photo=False)

    def results(self) -> list[ResultItem]:
        return self.grid.results()

    # -- what the index did ------------------------------------------------------------------------------
    def catalog_opened(self, same_catalog: bool) -> None:
        """A new session: results stay for the same catalog (refreshed after indexing), else they go."""
        self.index_version += 1
        if not same_catalog:
            self.grid.clear_results()
            self._query = None
        if not self.grid.count() and not self.pending:
            self.title.setText(READY)
        self._read_labels()

    def index_finished(self, changed: bool) -> None:
        """Re-runs the shown query when the results were computed on a smaller or older index."""
        if changed:
            self.index_version += 1
            self._read_labels()
        if self.grid.count() and not self.pending and self._results_version != self.index_version:
            self.rerun()

    # -- internals ---------------------------------------------------------------------------------------
    def _read_labels(self) -> None:
        """The filter box gets the open catalog's label fields and values (hidden without labels)."""
        def failed(message: str) -> None:
            self.filters.set_labels(None)
            self._window.show_message(message)

        op(self._window, lambda catalog: label_choices(catalog.session)).success(self.filters.set_labels) \
            .failure(failed).run()

    # -- internals (queries) ---------------------------------------------------------------------------------------
    def _start(self, k: int, new_photo: bool) -> None:
        self._started = time.perf_counter()
        self.pending = True
        query = self._query
        self._window.show_message("")
        if new_photo:
            self.query_panel.show_photo(query.caption, query.path)  # and clears the region
        settings = QuerySettings(k, self.query_panel.region(), self.filters.where(), self.filters.max_distance(),
                                 self.filters.tuned_field())
        self._caption = query.caption + (" (region)" if settings.crop else "")
        self._narrowing = (self.filters.describe(), settings.max_distance)
        if self._window.indexing:  # the worker answers after the index run; cancelling ends that run sooner
            self.title.setText("Searching once indexing finishes… (Esc: stop indexing and search what is "
                               "indexed so far)")
        elif settings.tuned and (settings.tuned, self.index_version) not in self._tuned:
            self.title.setText(f"Tuning the similarity to the catalog's {settings.tuned} labels (fitted once, then "
                               "cached), then searching…")
        else:
            self.title.setText("Searching…")

        def shown(items: list[ResultItem]) -> None:
            if settings.tuned:
                self._tuned.add((settings.tuned, self.index_version))
            self._on_results(items)

        op(self._window, lambda catalog: catalog.result_items(search(catalog.session, query, settings))) \
            .newest_only("query").success(shown).failure(self._on_failed).run()

    def _on_results(self, items: list[ResultItem]) -> None:
        self.pending = False
        self._results_version = self.index_version  # replies arrive in order: the index as of now
        self._results_caption = self._caption
        self.title.setText(results_title(len(items), self._caption, *self._narrowing))
        self.grid.show_results(items)

    def _on_failed(self, message: str) -> None:
        self.pending = False
        if self.grid.count():
            self.title.setText(f"Still showing the {self.grid.count()} most similar to {self._results_caption}: "
                               f"{self._caption} could not be searched.")
        else:
            self.title.setText(f"No results for {self._caption}.")
        self._window.show_message(message)  # last: whoever listens to message_shown sees the whole state

    def _grid_complete(self) -> None:
        seconds = time.perf_counter() - self._started
        if self.report_timing:
            print(f"timing: query to complete grid {seconds:.3f} s", flush=True)
        self.grid_ready.emit(seconds)
