"""Catalog ▸ Map…: the catalog laid out in 2-D by similarity (core.catalog_map, on the writer lane with progress and
Cancel; cached beside the store), coloured by a label field, with the shown query and its results; a lasso picks
items to list, search with or export (paths to .txt, or .csv with their labels); File-like Export PNG of the view."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
)

from .layouts import STRETCH, controls_row
from .map_canvas import MapCanvas
from .operations.batch import catalog_map, write_selection
from .task_row import TaskRow

SEARCHED_TOGETHER = 20  # "Search with these": at most this many photos of the selection


class MapView(QDialog):
    def __init__(self, host, thumbnails, search):
        """`host` runs operations (the MainWindow, also the parent); `search` is the SearchPane (its query and
        results are shown on the map; the selection is searched there)."""
        super().__init__(host, Qt.WindowType.Window)
        self._host, self._search = host, search
        self.map = None
        self.labels = None
        self.selection: list[str] = []
        self.setWindowTitle("Catalog map — fashionrec")
        self.resize(1000, 720)
        self.canvas = MapCanvas(thumbnails)
        self.canvas.lasso_done.connect(self._selected)
        self.canvas.item_chosen.connect(lambda relpath: search.query_item(relpath))
        self.colour_box = QComboBox()
        self.colour_box.setToolTip("The label field the dots are coloured by")
        self.colour_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.colour_box.currentTextChanged.connect(self._colour)
        self.lasso_button = QPushButton("Lasso")
        self.lasso_button.setCheckable(True)
        self.lasso_button.setToolTip("Draw around items to pick them (or drag with Shift held)")
        self.lasso_button.toggled.connect(lambda on: setattr(self.canvas, "lasso_mode", on))
        fit = QPushButton("Whole map")
        fit.clicked.connect(self.canvas.fit)
        png = QPushButton("Export PNG…")
        png.clicked.connect(self.export_png)
        self.row = TaskRow()
        self.summary = QLabel("Wheel: zoom · drag: pan · Shift+drag or Lasso: pick items · double-click: search")
        self.summary.setWordWrap(True)
        self.selected_list = QListWidget()
        self.selected_list.setFixedWidth(220)
        self.selected_list.setToolTip("Double-click an item to search from it")
        self.selected_list.itemDoubleClicked.connect(lambda item: search.query_item(item.text()))
        self.search_button = QPushButton("Search with these")
        self.search_button.clicked.connect(self.search_selection)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self.export_selection)
        side = QVBoxLayout()
        side.addWidget(QLabel("Picked items"))
        side.addWidget(self.selected_list, 1)
        side.addWidget(self.search_button)
        side.addWidget(self.export_button)
        body = QHBoxLayout()
        body.addWidget(self.canvas, 1)
        body.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(controls_row("Colour by:", self.colour_box, self.lasso_button, fit, STRETCH, png))
        layout.addWidget(self.row)
        layout.addWidget(self.summary)
        layout.addLayout(body, 1)
        self._selected([])
        search.grid.complete.connect(self.show_query)

    def start(self) -> None:
        """Lay the catalog out (or read its cached layout) and show it."""
        self.show()
        self.raise_()
        if not self.row.running:
            self.row.start("Laying the catalog out…", catalog_map(self._host, self._progress), self._show,
                           self._failed)

    def _progress(self, *report) -> None:
        """A phase of the layout starting (its name: the bar goes busy), or (done, total) of its iterations."""
        if len(report) == 1:
            self.row.phase(report[0])
        else:
            self.row.progress(*report)

    def _show(self, answer) -> None:
        root, laid_out, labels = answer
        if laid_out is None:
            self.summary.setText("Cancelled: the map was not laid out.")
            return
        self.map, self.labels = laid_out, labels
        self.canvas.set_map(root, laid_out.relpaths, laid_out.points, [None] * len(laid_out))
        fields = list(labels.fields) if labels else []
        self.colour_box.blockSignals(True)
        self.colour_box.clear()
        self.colour_box.addItems(fields or ["(no labels)"])
        if "articleType" in fields:
            self.colour_box.setCurrentText("articleType")
        self.colour_box.blockSignals(False)
        self._colour(self.colour_box.currentText())
        how = f"laid out in {laid_out.seconds:.1f} s" if laid_out.seconds else "read from its cache"
        self.summary.setText(f"{len(laid_out):,} items, {how}. Wheel: zoom · drag: pan · Shift+drag or Lasso: "
                             "pick items · double-click: search from an item")
        self.show_query()

    def _colour(self, field: str) -> None:
        if self.map is not None:
            table = self.labels
            self.canvas.colour_by([table.of(r).get(field) if table else None for r in self.map.relpaths])

    def show_query(self) -> None:
        """The main window's query and results, on the map."""
        if self.map is not None:
            query = self._search.current_query()
            self.canvas.show_query([r.relpath for r in self._search.results()], query.relpath if query else None)

    def _selected(self, positions) -> None:
        self.selection = [self.canvas.relpaths[i] for i in positions]
        self.canvas.highlighted = {i: self.canvas.palette().highlight().color() for i in positions} \
            if len(positions) else self.canvas.highlighted
        self.canvas.update()
        self.selected_list.clear()
        self.selected_list.addItems(self.selection)
        self.search_button.setEnabled(bool(self.selection))
        self.export_button.setEnabled(bool(self.selection))

    def search_selection(self) -> None:
        if self.selection:
            root = Path(self.canvas.root)
            self._search.query_images([str(root / r) for r in self.selection[:SEARCHED_TOGETHER]])

    def export_selection(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the picked items", "picked.txt",
                                              "Paths (*.txt);;CSV with labels (*.csv)")
        if path:
            self.save_selection(path)

    def save_selection(self, path: str) -> None:
        write_selection(self._host, self.selection, path).success(
            lambda rows: self.summary.setText(f"Wrote {rows:,} items to {path}.")).failure(self._failed).run()

    def export_png(self, path: str | None = None) -> bool:
        path = path or QFileDialog.getSaveFileName(self, "Export the view as PNG", "catalog-map.png", "PNG (*.png)")[0]
        return bool(path) and self.canvas.grab().save(path, "PNG")

    def _failed(self, message: str) -> None:
        self.summary.setText(message)
