"""The left panel: the query photo (decoded off the UI thread) with the region to search with, its name, and
where to drop the next one."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout

from ..core.images import Crop
from .photo_strip import PhotoStrip
from .region_selector import RegionImage
from .result_grid import device_pixels, screen_pixmap
from .thumbnails import ThumbnailLoader

QUERY_PREVIEW = QSize(220, 290)


class QueryPanel(QFrame):
    region_changed = Signal(object)  # Crop (fractions of the photo) or None: the person marked or cleared a region
    photo_removed = Signal(str)  # one of several query photos was taken out of the search

    def __init__(self, thumbnails: ThumbnailLoader):
        super().__init__()
        self.setObjectName("dropZone")
        self.setFixedWidth(QUERY_PREVIEW.width() + 40)
        self._thumbnails = thumbnails
        self._generation = 0  # which photo the preview being decoded belongs to
        thumbnails.loaded.connect(self._on_thumbnail)
        title = QLabel("Query photo")
        title.setObjectName("panelTitle")
        self.image_label = RegionImage()
        self.image_label.setObjectName("queryImage")
        self.image_label.region_changed.connect(self._on_region)
        self.image_label.setMinimumSize(QUERY_PREVIEW)
        self.image_label.setWordWrap(True)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        self.region_hint = QLabel("Drag on the photo to search with that region only.")
        self.region_hint.setObjectName("hint")
        self.region_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.region_hint.setWordWrap(True)
        self.clear_region_button = QPushButton("Whole photo")
        self.clear_region_button.setToolTip("Search with the whole photo again (or double-click it, or Esc)")
        self.clear_region_button.clicked.connect(lambda: self.image_label.clear_region())
        self.clear_region_button.hide()
        self.strip = PhotoStrip(thumbnails)
        self.strip.removed.connect(self.photo_removed)
        hint = QLabel("Drop a photo anywhere in this window,\nor Open photo… (Ctrl+Shift+O),\n"
                      "or paste one (Ctrl+V).")
        hint.setObjectName("hint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        panel = QVBoxLayout(self)
        panel.addWidget(title)
        panel.addWidget(self.image_label)
        panel.addWidget(self.caption)
        panel.addWidget(self.strip)
        panel.addWidget(self.region_hint)
        panel.addWidget(self.clear_region_button)
        panel.addStretch(1)
        panel.addWidget(hint)
        self.image_label.setText("Drop a photo here")

    def region(self) -> Crop | None:
        return self.image_label.region()

    def show_photo(self, caption: str, path: str, more: tuple[str, ...] = ()) -> None:
        """A new query photo (and `more` searched with it, shown side by side): its region (if any) is cleared
        without re-running anything."""
        self.strip.show_photos([path, *more])
        self.image_label.clear_region(notify=False)
        self._show_region_state()
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

    def _on_region(self, crop: Crop | None) -> None:
        self._show_region_state()
        self.region_changed.emit(crop)

    def _show_region_state(self) -> None:
        marked = self.image_label.region() is not None
        self.clear_region_button.setVisible(marked)
        self.region_hint.setText("Drag inside the region to move it; double-click or Esc: whole photo."
                                 if marked else "Drag on the photo to search with that region only.")
