"""The result tiles: one per similar item, its thumbnail decoded off the UI thread, and a context menu."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from .feedback_buttons import FeedbackButtons
from .item_actions import item_menu, open_file
from .lanes import ResultItem
from .thumbnails import ThumbnailLoader

PATH_ROLE = Qt.ItemDataRole.UserRole
RELPATH_ROLE = Qt.ItemDataRole.UserRole + 1
MARKS = {True: ("▲ more like this", QColor(210, 240, 210)), False: ("▼ less like this", QColor(245, 215, 215))}


def device_pixels(widget: QWidget, size: QSize) -> QSize:
    """Thumbnails are decoded at the screen's real pixel size, so they stay sharp on high-DPI screens."""
    return size * widget.devicePixelRatioF()


def screen_pixmap(widget: QWidget, image: QImage) -> QPixmap:
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(widget.devicePixelRatioF())
    return pixmap


class ResultGrid(QListWidget):
    """One row of up to five tiles at any window width, wrapping when there are more; the tiles grow with the
    window (their thumbnails are decoded again at the new size once the resizing stops).

    `show_results(items)` replaces the tiles; `complete` is emitted once every thumbnail is in.
    """

    complete = Signal()
    find_similar = Signal(str)  # relpath of the item chosen in the context menu
    more_like = Signal(str)  # relpath: "More like this" (context menu or the tile's + button)
    less_like = Signal(str)  # relpath: "Less like this"
    reset_feedback = Signal()

    def __init__(self, thumbnails: ThumbnailLoader):
        super().__init__()
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setMovement(QListWidget.Movement.Static)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(True)  # (no uniform item sizes: the size it caches kept tiles small after a resize)
        self.setSpacing(6)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._items: list[ResultItem] = []
        self._generation = 0  # which show_results the thumbnails belong to; older ones are ignored
        self._thumbs_pending = 0
        self._thumbnails = thumbnails
        self._sharpen = QTimer(self, singleShot=True, interval=200)  # after a resize: thumbnails at the new size
        self._sharpen.timeout.connect(lambda: self._request_thumbnails("resized"))
        thumbnails.loaded.connect(self._on_thumbnail)
        self.itemActivated.connect(lambda tile: open_file(self, tile.data(PATH_ROLE)))
        self.customContextMenuRequested.connect(self._menu)
        self.feedback = FeedbackButtons(self, lambda tile: tile.data(RELPATH_ROLE), self.more_like.emit,
                                        self.less_like.emit)
        self._fit_tiles()

    def results(self) -> list[ResultItem]:
        return list(self._items)

    def show_results(self, items: list[ResultItem], liked: set[str] | None = None,
                     disliked: set[str] | None = None) -> None:
        """The tiles of `items`; those `liked` or `disliked` (relpaths) are marked."""
        self.clear_results()
        self._items = list(items)
        self._thumbs_pending = len(items)
        placeholder = QPixmap(self.iconSize())
        placeholder.fill(Qt.GlobalColor.lightGray)
        for item in items:
            lines = [f"{item.rank}. {Path(item.relpath).name}", f"distance {item.distance:.3f}"]
            if item.label:
                lines.append(item.label)
            mark = True if item.relpath in (liked or ()) else False if item.relpath in (disliked or ()) else None
            if mark is not None:
                lines.append(MARKS[mark][0])
            tile = QListWidgetItem(placeholder, "\n".join(lines))
            if mark is not None:
                tile.setBackground(MARKS[mark][1])
            tile.setToolTip(item.path)
            tile.setData(PATH_ROLE, item.path)
            tile.setData(RELPATH_ROLE, item.relpath)
            tile.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.addItem(tile)
        self._request_thumbnails("result")
        if not items:
            self.complete.emit()

    def _request_thumbnails(self, kind: str) -> None:
        """kind "result": the tiles' first thumbnails (counted for `complete`); "resized": sharper ones."""
        for i, item in enumerate(self._items):
            self._thumbnails.request((kind, self._generation, i), item.path, device_pixels(self, self.iconSize()))

    def clear_results(self) -> None:
        self._generation += 1
        self.feedback.hide()
        self._items = []
        self._thumbs_pending = 0
        self.clear()

    def _on_thumbnail(self, key: tuple, image: QImage) -> None:
        if key[0] not in ("result", "resized") or key[1] != self._generation:
            return
        tile = self.item(key[2])
        if tile is not None and not image.isNull():
            tile.setIcon(screen_pixmap(self, image))
        if key[0] == "resized":
            return
        self._thumbs_pending -= 1
        if self._thumbs_pending == 0:
            self.complete.emit()

    def _menu(self, position) -> None:
        tile = self.itemAt(position)
        if tile is None:
            return
        relpath = tile.data(RELPATH_ROLE)
        menu = item_menu(self, tile.data(PATH_ROLE), relpath, self.find_similar.emit)
        menu.addAction("More like this", lambda: self.more_like.emit(relpath))
        menu.addAction("Less like this", lambda: self.less_like.emit(relpath))
        menu.addAction("Reset (no more/less like this)", self.reset_feedback.emit)
        menu.exec(self.viewport().mapToGlobal(position))

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._fit_tiles()

    def _fit_tiles(self) -> None:
        """Five tiles fill the width; a tall text-free photo area, but never taller than the view."""
        text_height = 3 * self.fontMetrics().height() + 16
        by_width = (self.viewport().width() - 8) // 5 - 2 * self.spacing()
        by_height = (self.viewport().height() - text_height - 24) * 3 // 4 + 16
        tile = max(120, min(by_width, by_height, 400))
        icon = QSize(tile - 16, (tile - 16) * 4 // 3)  # catalog photos are portrait 3:4
        if icon != self.iconSize():
            self.setIconSize(icon)
            self.setGridSize(QSize(tile, icon.height() + text_height))
            if self._items:
                self._sharpen.start()
