"""The whole catalog as a thumbnail grid that stays smooth with tens of thousands of items: a QListView over
a list model that decodes thumbnails only for the rows in view (and a margin), keeps a bounded number of
them, and drops the requests of rows scrolled away before they are decoded."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView

from .item_actions import show_item_menu
from .result_grid import device_pixels
from .thumbnails import ThumbnailLoader

PATH_ROLE = Qt.ItemDataRole.UserRole
RELPATH_ROLE = Qt.ItemDataRole.UserRole + 1
ICON = QSize(90, 120)  # catalog photos are portrait 3:4
CACHE_SIZE = 600  # thumbnails kept (~30 MB): ten screens' worth
MARGIN_ROWS = 2  # grid lines above and below the view decoded ahead


class CatalogModel(QAbstractListModel):
    """Items (core.filters.CatalogItem) of one catalog folder; `want(first, last)` says which rows are in view."""

    def __init__(self, thumbnails: ThumbnailLoader, bounds: QSize, pixel_ratio: float = 1.0,
                 cache_size: int = CACHE_SIZE):
        """`bounds`: thumbnail size in device pixels; `pixel_ratio`: the screen's device pixels per pixel."""
        super().__init__()
        self._thumbnails = thumbnails
        self.bounds = bounds
        self._cache_size = cache_size
        self._root = ""
        self._items: list = []
        self._row_of: dict[str, int] = {}
        self._generation = 0  # of the item list; replies for an older one are ignored
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()  # relpath → thumbnail, oldest use first
        self._wanted: frozenset[str] = frozenset()  # asked for, not yet answered, still in view
        self.requested = 0  # thumbnails asked for (for tests and the timing script)
        self.loaded = 0  # thumbnails received
        self._pixel_ratio = pixel_ratio
        self._placeholder = QPixmap(bounds)
        self._placeholder.fill(Qt.GlobalColor.lightGray)
        self._placeholder.setDevicePixelRatio(pixel_ratio)
        thumbnails.loaded.connect(self._on_thumbnail)

    def set_items(self, root: str, items: list) -> None:
        self.beginResetModel()
        if root != self._root:
            self._cache.clear()
        self._root = root
        self._items = list(items)
        self._row_of = {item.relpath: row for row, item in enumerate(self._items)}
        self._generation += 1
        self._wanted = frozenset()
        self.endResetModel()

    def item(self, row: int):
        return self._items[row]

    def path(self, row: int) -> str:
        return str(Path(self._root) / self._items[row].relpath)

    def cached(self) -> int:
        return len(self._cache)

    def wanted(self) -> frozenset[str]:
        return self._wanted

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._items)

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return Path(item.relpath).name
        if role == Qt.ItemDataRole.DecorationRole:
            return self._cache.get(item.relpath, self._placeholder)
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join([item.relpath] + [f"{k}: {v}" for k, v in item.labels.items()])
        if role == RELPATH_ROLE:
            return item.relpath
        if role == PATH_ROLE:
            return self.path(index.row())
        return None

    def want(self, first: int, last: int) -> None:
        """Rows first..last are (about to be) on screen: ask for their missing thumbnails, forget the others."""
        in_view = [item.relpath for item in self._items[max(first, 0):last + 1]]
        new = []
        for relpath in in_view:
            if relpath in self._cache:
                self._cache.move_to_end(relpath)
            elif relpath not in self._wanted:
                new.append(relpath)
        # replaced, never changed (the pool's threads read it), and before the requests go out
        self._wanted = self._wanted.intersection(in_view).union(new)
        for relpath in new:
            self.requested += 1
            self._thumbnails.request(("browse", self._generation, relpath), str(Path(self._root) / relpath),
                                     self.bounds, self._still_wanted)

    def _still_wanted(self, key: object) -> bool:
        return isinstance(key, tuple) and key[1] == self._generation and key[2] in self._wanted

    def _on_thumbnail(self, key: tuple, image: QImage) -> None:
        if key[0] != "browse" or not self._still_wanted(key):
            return
        relpath = key[2]
        self._wanted = self._wanted - {relpath}
        self.loaded += 1
        if image.isNull():
            return
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self._pixel_ratio)
        self._cache[relpath] = pixmap
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        index = self.index(self._row_of[relpath])
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class CatalogGrid(QListView):
    """`set_items(root, items)`; activating an item (double-click, Enter) emits find_similar(relpath)."""

    find_similar = Signal(str)

    def __init__(self, thumbnails: ThumbnailLoader):
        super().__init__()
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)  # the layout never asks 44,000 items for their size
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setIconSize(ICON)
        self.setGridSize(QSize(ICON.width() + 30, ICON.height() + self.fontMetrics().height() + 14))
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.catalog_model = CatalogModel(thumbnails, device_pixels(self, ICON), self.devicePixelRatioF())
        self.setModel(self.catalog_model)
        self._update = QTimer(self)  # coalesces the scroll and resize events of one turn of the event loop
        self._update.setSingleShot(True)
        self._update.setInterval(0)
        self._update.timeout.connect(self.request_visible)
        self.verticalScrollBar().valueChanged.connect(lambda _value: self._update.start())  # not start(msec)
        self.catalog_model.modelReset.connect(self._update.start)
        self.activated.connect(lambda index: self.find_similar.emit(index.data(RELPATH_ROLE)))
        self.customContextMenuRequested.connect(self._menu)

    def set_items(self, root: str, items: list) -> None:
        self.catalog_model.set_items(root, items)
        self.scrollToTop()

    def visible_rows(self) -> tuple[int, int]:
        """(first, last) rows drawn in the viewport, widened by MARGIN_ROWS grid lines; (0, -1) when empty."""
        count = self.catalog_model.rowCount()
        if not count:
            return 0, -1
        cell = self.gridSize()
        columns = max(1, self.viewport().width() // cell.width())
        top = -self.visualRect(self.catalog_model.index(0)).top()  # pixels scrolled past the first line
        first_line = max(0, top // cell.height() - MARGIN_ROWS)
        last_line = (top + self.viewport().height()) // cell.height() + MARGIN_ROWS
        return first_line * columns, min(count - 1, (last_line + 1) * columns - 1)

    def request_visible(self) -> None:
        self.catalog_model.want(*self.visible_rows())

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._update.start()

    def _menu(self, position) -> None:
        index = self.indexAt(position)
        if index.isValid():
            show_item_menu(self, position, index.data(PATH_ROLE), index.data(RELPATH_ROLE), self.find_similar.emit)
