"""Several query photos side by side (searched together), each with a × that takes it out of the search."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGridLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from .result_grid import device_pixels, screen_pixmap
from .thumbnails import ThumbnailLoader

THUMBNAIL = QSize(60, 80)
PER_ROW = 3


class PhotoStrip(QWidget):
    removed = Signal(str)  # the path of the photo taken out

    def __init__(self, thumbnails: ThumbnailLoader):
        super().__init__()
        self._thumbnails = thumbnails
        self._generation = 0
        self._labels: list[QLabel] = []
        self.paths: list[str] = []
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(4)
        thumbnails.loaded.connect(self._on_thumbnail)
        self.hide()

    def show_photos(self, paths: list[str]) -> None:
        """The photos of a search with several (hidden for one: the big preview shows it)."""
        self._generation += 1
        while self._grid.count():
            taken = self._grid.takeAt(0)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.deleteLater()
        self.paths, self._labels = list(paths), []
        for i, path in enumerate(paths if len(paths) > 1 else []):
            self._grid.addWidget(self._cell(i, path), i // PER_ROW, i % PER_ROW)
        self.setVisible(len(paths) > 1)

    def _cell(self, i: int, path: str) -> QWidget:
        cell = QWidget()
        column = QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 0)
        picture = QLabel("…")
        picture.setFixedSize(THUMBNAIL)
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        picture.setToolTip(path)
        remove = QToolButton()
        remove.setText(f"× {Path(path).name}"[:14])
        remove.setToolTip(f"Search without {Path(path).name}")
        remove.clicked.connect(lambda: self.removed.emit(path))
        column.addWidget(picture)
        column.addWidget(remove)
        self._labels.append(picture)
        self._thumbnails.request(("strip", self._generation, i), path, device_pixels(self, THUMBNAIL))
        return cell

    def _on_thumbnail(self, key: tuple, image: QImage) -> None:
        if key[0] != "strip" or key[1] != self._generation or key[2] >= len(self._labels):
            return
        if not image.isNull():
            self._labels[key[2]].setPixmap(screen_pixmap(self, image))
