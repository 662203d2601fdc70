"""File ▸ Match a folder…: every photo of a folder against the open catalog (core.matching, on the reader lane with
progress and Cancel): one row per photo with its best match and distance, sortable, so a photo with no close match
(a new product) stands out; double-click shows that photo's results in the main window; Save… writes every row."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ..core.search import DEFAULT_K
from .layouts import STRETCH, controls_row
from .operations.batch import match_folder, write_matches
from .task_row import TaskRow

COLUMNS = ("Photo", "Best match", "Distance", "Label")
PATH_ROLE = Qt.ItemDataRole.UserRole


class SortedBy(QTableWidgetItem):
    """A cell shown as text and sorted by a number (a distance; a photo with no match sorts last)."""

    def __init__(self, text: str, key: float):
        super().__init__(text)
        self.key = key

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return self.key < getattr(other, "key", math.inf)


class MatchView(QDialog):
    """A window of its own beside the main window. `matched(matches or None)` once a run ended."""

    matched = Signal(object)

    def __init__(self, host, settings, show_photo):
        """`host` runs operations (the MainWindow, also the parent); `settings()` the main window's core Query
        (its label filter and distance limit apply); `show_photo(path)` searches with a photo in the main window."""
        super().__init__(host, Qt.WindowType.Window)
        self._host, self._settings, self._show_photo = host, settings, show_photo
        self.matches = None
        self.folder = ""
        self.setWindowTitle("Match a folder — fashionrec")
        self.resize(760, 560)
        self.k_box = QSpinBox()
        self.k_box.setRange(1, 50)
        self.k_box.setValue(DEFAULT_K)
        self.k_box.setToolTip("Catalog items kept per photo (saved to the file; the list shows the best)")
        choose = QPushButton("Choose folder…")
        choose.clicked.connect(self.choose_folder)
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Write every photo's items to a .csv or .jsonl file")
        self.save_button.clicked.connect(self.choose_output)
        self.save_button.setEnabled(False)
        self.row = TaskRow()
        self.summary = QLabel("Choose a folder of photos to match against the catalog.")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(self._show_row)
        layout = QVBoxLayout(self)
        layout.addLayout(controls_row(choose, "Items per photo:", self.k_box, STRETCH, self.save_button))
        layout.addWidget(self.row)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Match the photos of a folder against the catalog",
                                                  self.folder)
        if folder:
            self.start(folder)

    def start(self, folder: str) -> None:
        if self.row.running:
            return
        self.folder = folder
        settings = self._settings()
        self.table.setRowCount(0)
        self.save_button.setEnabled(False)
        self.summary.setText(f"Matching the photos of {folder} …")
        request = match_folder(self._host, folder, self.k_box.value(), settings.where, settings.max_distance,
                               self.row.progress)
        self.row.start(f"Matching {Path(folder).name}…", request, self._show, self._failed)
        self.show()
        self.raise_()

    def choose_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the matches", str(Path(self.folder).with_suffix(".csv")),
                                              "CSV (*.csv);;JSON Lines (*.jsonl)")
        if path and self.matches is not None:
            write_matches(self._host, self.matches, path).success(
                lambda rows: self.summary.setText(f"Wrote {rows:,} rows to {path}.")).failure(self._failed).run()

    def _show(self, answer) -> None:
        matches, labels = answer
        self.matches = matches
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(matches.queries))
        for row, (query, best) in enumerate(matches.best()):
            photo = QTableWidgetItem(query)
            photo.setData(PATH_ROLE, str(matches.folder / query))
            photo.setToolTip(str(matches.folder / query))
            cells = [photo, QTableWidgetItem(best.relpath if best else "(no close match)"),
                     SortedBy(f"{best.distance:.3f}" if best else "—", best.distance if best else math.inf),
                     QTableWidgetItem(labels.text(best.relpath) if best and labels else "")]
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, cell)
        self.table.setSortingEnabled(True)
        self.table.sortItems(2, Qt.SortOrder.DescendingOrder)  # farthest first: the likely new products on top
        unmatched = sum(best is None for _, best in matches.best())
        parts = [f"{len(matches.queries):,} photos matched in {matches.elapsed:.1f} s"]
        if unmatched:
            parts.append(f"{unmatched} with no item close enough")
        if matches.skipped:
            parts.append(f"{len(matches.skipped)} skipped ({'; '.join(f'{p}: {r}' for p, r in matches.skipped[:3])}"
                         f"{' …' if len(matches.skipped) > 3 else ''})")
        if matches.cancelled:
            parts.append("cancelled: the rest were not matched")
        self.summary.setText("; ".join(parts) + ". Double-click a photo to see its results in the main window.")
        self.save_button.setEnabled(bool(matches.queries))
        self.matched.emit(matches)

    def _failed(self, message: str) -> None:
        self.summary.setText(message)
        self.matched.emit(None)

    def _show_row(self, row: int, _column: int) -> None:
        cell = self.table.item(row, 0)
        if cell is not None:
            self._show_photo(cell.data(PATH_ROLE))
