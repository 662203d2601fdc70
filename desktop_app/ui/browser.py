"""Catalog ▸ Browse catalog…: every item of the open catalog as a thumbnail grid (catalog_grid.py), with a
label filter; "Find similar" on an item searches from it in the main window, so a search can start without
a photo at hand."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QVBoxLayout

from .catalog_grid import CatalogGrid
from .layouts import STRETCH, controls_row
from .operations import tools as ops

ALL_ITEMS = "All items"


class CatalogBrowser(QDialog):
    """A window of its own beside the main window. `items_shown(count)` once a list of items is in."""

    items_shown = Signal(int)

    def __init__(self, host, find_similar):
        """`host` runs operations (the MainWindow, also this window's parent); `find_similar(relpath)` searches
        from an item in the main window."""
        super().__init__(host, Qt.WindowType.Window)
        self._host, self._find_similar = host, find_similar
        self._values: dict[str, list[str]] = {}
        self.setWindowTitle("Catalog — fashionrec")
        self.resize(900, 680)
        self.field_box = QComboBox()
        self.field_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.field_box.setToolTip("Show only the items with this label (from the catalog's labels.csv)")
        self.value_box = QComboBox()
        self.value_box.setMinimumContentsLength(16)
        self.count = QLabel()
        self.grid = CatalogGrid(host.thumbnails)
        self.grid.find_similar.connect(self.find_similar)
        controls = controls_row("Show:", self.field_box, self.value_box, STRETCH, self.count)
        hint = QLabel("Double-click an item (or right-click ▸ Find similar to this) to search from it.")
        hint.setObjectName("hint")
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.grid, 1)
        layout.addWidget(hint)
        self.field_box.currentTextChanged.connect(self._field_chosen)
        self.value_box.currentTextChanged.connect(lambda _value: self.refresh())

    def start(self) -> None:
        """Shown from the menu: the open catalog's items and label fields."""
        self.show()
        self.raise_()
        self.reload()

    def reload(self) -> None:
        """The catalog changed (opened, indexed): fields, values and items again; the filter is kept if it
        still applies."""
        ops.labels_and_items(self._host).success(self._show_labels).failure(self._failed).run()

    def refresh(self) -> None:
        """The items passing the chosen filter."""
        field, value = self.field_box.currentText(), self.value_box.currentText()
        where = {field: frozenset([value])} if field != ALL_ITEMS and value else None
        self.count.setText("Loading…")
        ops.items(self._host, where).success(lambda answer: self._show_items(*answer)).failure(self._failed).run()

    def find_similar(self, relpath: str) -> None:
        self._find_similar(relpath)
        self._host.raise_()
        self._host.activateWindow()

    def _show_labels(self, answer) -> None:
        root, values, items = answer
        field = self.field_box.currentText()
        self._values = values
        self.field_box.blockSignals(True)
        self.field_box.clear()
        self.field_box.addItems([ALL_ITEMS, *values])
        self.field_box.setEnabled(bool(values))
        self.field_box.blockSignals(False)
        if field in values:
            self.field_box.setCurrentText(field)  # refreshes the values and the items
        else:
            self._field_chosen(ALL_ITEMS, refresh=False)
            self._show_items(root, items)

    def _field_chosen(self, field: str, refresh: bool = True) -> None:
        value = self.value_box.currentText()
        self.value_box.blockSignals(True)
        self.value_box.clear()
        self.value_box.addItems(self._values.get(field, []))
        self.value_box.setVisible(field in self._values)
        if value in self._values.get(field, []):
            self.value_box.setCurrentText(value)
        self.value_box.blockSignals(False)
        if refresh:
            self.refresh()

    def _show_items(self, root: str, items: list) -> None:
        self.grid.set_items(root, items)
        self.count.setText(f"{len(items):,} items")
        self.items_shown.emit(len(items))

    def _failed(self, message: str) -> None:
        self.count.setText(message)
        self.items_shown.emit(0)
