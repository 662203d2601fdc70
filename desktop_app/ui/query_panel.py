"""The left panel: the query photo (decoded off the UI thread), its name, and where to drop the next one."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

from .result_grid import device_pixels, screen_pixmap
from .thumbnails import ThumbnailLoader

QUERY_PREVIEW = QSize(220, 290)


class QueryPanel(QFrame):
    def __init__(self, thumbnails: ThumbnailLoader):
        super().__init__()
        self.setObjectName("dropZone")
        self.setFixedWidth(QUERY_PREVIEW.width() + 40)
        self._thumbnails = thumbnails
        self._generation = 0  # which photo the preview being decoded belongs to
        thumbnails.loaded.connect(self._on_thumbnail)
        title = QLabel("Query photo")
        title.setObjectName("panelTitle")
        self.image_label = QLabel()
        self.image_label.setObjectName("queryImage")
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setMinimumSize(QUERY_PREVIEW)
        self.image_label.setWordWrap(True)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        hint = QLabel("Drop a photo anywhere in this window,\nor Open photo… (Ctrl+Shift+O),\n"
                      "or paste one (Ctrl+V).")
        hint.setObjectName("hint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        panel = QVBoxLayout(self)
        panel.addWidget(title)
        panel.addWidget(self.image_label)
        panel.addWidget(self.caption)
        panel.addStretch(1)
        panel.addWidget(hint)
        self.image_label.setText("Drop a photo here")

    def show_photo(self, caption: str, path: str) -> None:
        self._generation += 1
        self.image_label.setText("Loading…")
        self.caption.setText(caption)
        self.caption.setToolTip(path)
        self._thumbnails.request(("query", self._generation), path, device_pixels(self, QUERY_PREVIEW))

    def highlight_drop(self, on: bool) -> None:
        self.setProperty("dragActive", on)
        self.style().unpolish(self)
        self.style().polish(self)

    def _on_thumbnail(self, key: tuple, image: QImage) -> None:
        if key != ("query", self._generation):
            return
        if image.isNull():
            self.image_label.setText("(no preview: not an image Qt can show)")
        else:
            self.image_label.setPixmap(screen_pixmap(self, image))
