"""Catalog ▸ Find near-duplicates…: groups of near-identical items (core.duplicates, on the worker thread with
progress and Cancel, on the reader lane), largest first, each item with its thumbnail and the usual item actions."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from ..core.duplicates import DEFAULT_THRESHOLDS
from .item_actions import open_file, show_item_menu
from .layouts import STRETCH, controls_row
from .operations.tools import near_duplicates
from .result_grid import device_pixels, screen_pixmap
from .task_row import TaskRow

PATH_ROLE = Qt.ItemDataRole.UserRole
RELPATH_ROLE = Qt.ItemDataRole.UserRole + 1
REQUESTED_ROLE = Qt.ItemDataRole.UserRole + 2  # of a group: its thumbnails were asked for
EXPANDED_GROUPS = 30  # shown open (thumbnails loaded) at once; the others load theirs when opened
THUMBNAIL = QSize(48, 64)


def group_title(number: int, group) -> str:
    return f"Group {number}: {len(group)} items, widest link {group.widest_link:.3f}"


class DuplicatesView(QDialog):
    """A window of its own beside the main window (not modal). `groups_shown(groups or None)` once a search
    ended (None: cancelled or failed; the summary line says which)."""

    groups_shown = Signal(object)

    def __init__(self, host, find_similar):
        """`host` runs operations (the MainWindow, also this window's parent); `find_similar(relpath)` searches
        from an item in the main window."""
        super().__init__(host, Qt.WindowType.Window)
        self._host, self._find_similar = host, find_similar
        self._generation = 0  # of the groups shown; thumbnails of older ones are ignored
        self._root = ""
        self.setWindowTitle("Near-duplicates — fashionrec")
        self.resize(640, 640)
        self.threshold_box = QDoubleSpinBox()
        self.threshold_box.setRange(0.0, 2.0)  # L2-normalised vectors are at most 2 apart
        self.threshold_box.setDecimals(3)
        self.threshold_box.setSingleStep(0.01)
        self.threshold_box.setToolTip("Items at most this distance apart are grouped (smaller: stricter)")
        self.find_button = QPushButton("Find")
        self.find_button.clicked.connect(self.find)
        controls = controls_row("Distance at most:", self.threshold_box, self.find_button, STRETCH)
        self.row = TaskRow()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Item", "Folder"])
        self.tree.setIconSize(THUMBNAIL)
        self.tree.setColumnWidth(0, 360)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.itemActivated.connect(lambda item, _column: item.data(0, PATH_ROLE) and open_file(
            self, item.data(0, PATH_ROLE)))
        self.tree.itemExpanded.connect(self._load_thumbnails)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.row)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        host.thumbnails.loaded.connect(self._on_thumbnail)

    def start(self, model: str) -> None:
        """Shown from the menu: the model's measured threshold, and a search with it; without one, ask."""
        self.show()
        self.raise_()
        if model in DEFAULT_THRESHOLDS:
            self.threshold_box.setValue(DEFAULT_THRESHOLDS[model])
            self.find()
        else:
            self.summary.setText(f"{model} has no measured default threshold yet: choose a distance, then Find "
                                 f"(fashionrec-cli bench --duplicates --model {model} measures one).")

    def find(self) -> None:  # type: ignore[override]  # Find groups; QWidget.find (a window by id) is not used
        if self.row.running:
            return
        threshold = self.threshold_box.value()
        self._clear()
        self.summary.setText("")
        self.find_button.setEnabled(False)
        self.row.start(f"Comparing every pair of items (distance ≤ {threshold:g})…",
                       near_duplicates(self._host, threshold, self.row.progress),
                       lambda answer: self._show(threshold, *answer), self._failed)

    def _show(self, threshold: float, root: str, groups) -> None:
        self.find_button.setEnabled(True)
        self._root = root
        if groups is None:
            self.summary.setText("Cancelled.")
        elif not groups:
            self.summary.setText(f"No near-duplicates at distance ≤ {threshold:g}.")
        else:
            items = sum(len(g) for g in groups)
            self.summary.setText(f"{len(groups)} groups of near-duplicates ({items} items) at distance ≤ "
                                 f"{threshold:g}, largest first. Right-click an item to open it, show it in its "
                                 "folder or copy its path.")
            self._fill(groups)
        self.groups_shown.emit(groups)

    def _failed(self, message: str) -> None:
        self.find_button.setEnabled(True)
        self.summary.setText(message)
        self.groups_shown.emit(None)

    def _clear(self) -> None:
        self._generation += 1
        self.tree.clear()

    def _fill(self, groups) -> None:
        for number, group in enumerate(groups, start=1):
            parent = QTreeWidgetItem(self.tree, [group_title(number, group)])
            for relpath in group.relpaths:
                folder = str(Path(relpath).parent)
                child = QTreeWidgetItem(parent, [Path(relpath).name, "" if folder == "." else folder])
                path = str(Path(self._root) / relpath)
                child.setData(0, PATH_ROLE, path)
                child.setData(0, RELPATH_ROLE, relpath)
                child.setToolTip(0, path)
            if number <= EXPANDED_GROUPS:
                parent.setExpanded(True)  # itemExpanded is not emitted for this: load here
                self._load_thumbnails(parent)

    def _load_thumbnails(self, parent: QTreeWidgetItem) -> None:
        if parent.data(0, REQUESTED_ROLE):
            return
        parent.setData(0, REQUESTED_ROLE, True)
        group = self.tree.indexOfTopLevelItem(parent)
        for i in range(parent.childCount()):
            child = parent.child(i)
            if child is not None:
                self._host.thumbnails.request(("duplicate", self._generation, group, i), child.data(0, PATH_ROLE),
                                              device_pixels(self, THUMBNAIL))

    def _on_thumbnail(self, key: tuple, image: QImage) -> None:
        if key[0] != "duplicate" or key[1] != self._generation or image.isNull():
            return
        parent = self.tree.topLevelItem(key[2])
        child = parent.child(key[3]) if parent is not None else None
        if child is not None:
            child.setIcon(0, screen_pixmap(self, image))

    def _menu(self, position) -> None:
        item = self.tree.itemAt(position)
        if item is not None and item.parent() is not None:
            show_item_menu(self.tree, position, item.data(0, PATH_ROLE), item.data(0, RELPATH_ROLE),
                           self._find_similar)
