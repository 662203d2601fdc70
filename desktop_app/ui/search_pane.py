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

from .operations import op
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
        self._query = None  # (query method, its argument): re-run when k changes or the index grew
        self._caption = ""  # of the query asked for last
        self._results_caption = ""  # of the query whose results are shown
        self._started = 0.0
        self.pending = False
        self.index_version = 0  # grows with every new session and every index run that changed it
        self._results_version = 0  # the index version the shown results were computed on
        self.query_panel = QueryPanel(thumbnails)
        self.title = QLabel(WELCOME)
        self.title.setObjectName("panelTitle")
        self.grid = ResultGrid(thumbnails)
        self.grid.find_similar.connect(window.query_item)
        self.grid.complete.connect(self._grid_complete)
        results = QVBoxLayout()
        results.addWidget(self.title)
        results.addWidget(self.grid, 1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
        row.addWidget(self.query_panel)
        row.addLayout(results, 1)

    # -- queries -------------------------------------------------------------------------------------------
    def query_image(self, path: str, k: int) -> None:
        self._query = (self._window.query_image, path)
        self._start(Path(path).name, path, lambda catalog: catalog.result_items(catalog.session.query(path, k)))

    def query_item(self, root: str, relpath: str, k: int) -> None:
        self._query = (self._window.query_item, relpath)
        self._start(relpath, str(Path(root) / relpath),
                    lambda catalog: catalog.result_items(catalog.session.query_item(relpath, k)))

    def rerun(self) -> None:
        if self._query is not None:
            method, argument = self._query
            method(argument)

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

    def index_finished(self, changed: bool) -> None:
        """Re-runs the shown query when the results were computed on a smaller or older index."""
        if changed:
            self.index_version += 1
        if self.grid.count() and not self.pending and self._results_version != self.index_version:
            self.rerun()

    # -- internals ---------------------------------------------------------------------------------------
    def _start(self, caption: str, path: str, work) -> None:
        self._started = time.perf_counter()
        self.pending = True
        self._caption = caption
        self._window.show_message("")
        self.query_panel.show_photo(caption, path)
        if self._window.indexing:  # the worker answers after the index run; cancelling ends that run sooner
            self.title.setText("Searching once indexing finishes… (Esc: stop indexing and search what is "
                               "indexed so far)")
        else:
            self.title.setText("Searching…")
        op(self._window, work).newest_only("query").success(self._on_results).failure(self._on_failed).run()

    def _on_results(self, items: list[ResultItem]) -> None:
        self.pending = False
        self._results_version = self.index_version  # replies arrive in order: the index as of now
        self._results_caption = self._caption
        self.title.setText(f"The {len(items)} most similar to {self._caption}" if items
                           else f"No similar items for {self._caption}.")
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
