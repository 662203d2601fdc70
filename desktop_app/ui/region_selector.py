"""The query photo as a surface to mark a region on: drag a rectangle to search with that region only, drag
inside it to move it, double-click or Esc to clear it. The region is kept as fractions of the image (what
core.images.Crop takes), so it does not depend on the preview's size, the letterboxing around the photo in
the label, or the screen's device pixel ratio.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QLabel

from ..core.images import Crop

MIN_DRAG = 4  # logical pixels: a smaller drag is a click, not a region


class RegionImage(QLabel):
    """A QLabel showing the query photo (centred, unscaled pixmap) on which a person marks a region.

    `region_changed(Crop | None)` is emitted when a drawn or moved region is released, and when it is cleared.
    """

    region_changed = Signal(object)

    def __init__(self):
        super().__init__()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # Esc reaches it once it was clicked
        self._region: QRectF | None = None  # in fractions of the image
        self._press: QPointF | None = None  # where the button went down, in widget coordinates
        self._moving_from: QRectF | None = None  # the region being moved, as it was when the drag began
        self._drawing = False

    # -- public ---------------------------------------------------------------------------------------
    def region(self) -> Crop | None:
        r = self._region
        return None if r is None else Crop(r.x(), r.y(), r.width(), r.height())

    def set_region(self, crop: Crop | None, notify: bool = True) -> None:
        """Mark a region (fractions 0–1 of the image), or clear it with None."""
        self._region = None if crop is None else QRectF(crop.x, crop.y, crop.width, crop.height)
        self.update()
        if notify:
            self.region_changed.emit(self.region())

    def clear_region(self, notify: bool = True) -> None:
        if self._region is not None:
            self.set_region(None, notify)

    def image_rect(self) -> QRectF | None:
        """Where the photo is drawn, in widget (logical) pixels: the pixmap's logical size, centred."""
        pixmap = self.pixmap()
        if pixmap is None or pixmap.isNull():
            return None
        size = pixmap.deviceIndependentSize()
        area = QRectF(self.contentsRect())
        return QRectF(area.x() + (area.width() - size.width()) / 2, area.y() + (area.height() - size.height()) / 2,
                      size.width(), size.height())

    def region_rect(self) -> QRectF | None:
        """The region in widget pixels (None when there is none or no photo)."""
        image = self.image_rect()
        if image is None or self._region is None:
            return None
        r = self._region
        return QRectF(image.x() + r.x() * image.width(), image.y() + r.y() * image.height(),
                      r.width() * image.width(), r.height() * image.height())

    # -- mouse and keys -------------------------------------------------------------------------------
    def mousePressEvent(self, event):
        image = self.image_rect()
        if event.button() != Qt.MouseButton.LeftButton or image is None:
            return super().mousePressEvent(event)
        self._press = event.position()
        shown = self.region_rect()
        self._moving_from = (QRectF(self._region) if self._region is not None and shown is not None
                             and shown.contains(self._press) else None)
        self._drawing = False
        event.accept()

    def mouseMoveEvent(self, event):
        image = self.image_rect()
        if self._press is None or image is None:
            return super().mouseMoveEvent(event)
        delta = event.position() - self._press
        if self._moving_from is not None:
            r = QRectF(self._moving_from)
            dx = min(max(delta.x() / image.width(), -r.x()), 1 - r.right())
            dy = min(max(delta.y() / image.height(), -r.y()), 1 - r.bottom())
            self._region = r.translated(dx, dy)
        elif self._drawing or abs(delta.x()) + abs(delta.y()) >= MIN_DRAG:
            self._drawing = True
            corners = [self._to_fractions(p, image) for p in (self._press, event.position())]
            self._region = QRectF(corners[0], corners[1]).normalized()
        self.update()
        event.accept()

    def mouseReleaseEvent(self, event):
        if self._press is None or event.button() != Qt.MouseButton.LeftButton:
            return super().mouseReleaseEvent(event)
        changed = self._drawing or (self._moving_from is not None and self._moving_from != self._region)
        self._press, self._moving_from, self._drawing = None, None, False
        if self._region is not None and (self._region.width() <= 0 or self._region.height() <= 0):
            self._region = None  # a line along an edge: nothing to search with
        if changed:
            self.region_changed.emit(self.region())
        self.update()
        event.accept()

    def mouseDoubleClickEvent(self, event):
        self.clear_region()
        event.accept()

    def event(self, event):
        if (event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape
                and self._region is not None):
            event.accept()  # Esc clears the region here before it is the window's "cancel indexing"
            return True
        return super().event(event)

    def keyPressEvent(self, event):
        if event.key() == Qt.Key.Key_Escape and self._region is not None:
            self.clear_region()
            event.accept()
        else:
            super().keyPressEvent(event)

    def paintEvent(self, event):
        super().paintEvent(event)
        shown = self.region_rect()
        if shown is None:
            return
        image = self.image_rect()
        if image is None:
            return
        painter = QPainter(self)
        shade = QColor(0, 0, 0, 110)  # dim what lies outside the region
        for part in (QRectF(image.left(), image.top(), image.width(), shown.top() - image.top()),
                     QRectF(image.left(), shown.bottom(), image.width(), image.bottom() - shown.bottom()),
                     QRectF(image.left(), shown.top(), shown.left() - image.left(), shown.height()),
                     QRectF(shown.right(), shown.top(), image.right() - shown.right(), shown.height())):
            painter.fillRect(part, shade)
        painter.setPen(QPen(QColor("#ffb000"), 2, Qt.PenStyle.DashLine))
        painter.drawRect(shown)
        painter.end()

    @staticmethod
    def _to_fractions(point: QPointF, image: QRectF) -> QPointF:
        return QPointF(min(max((point.x() - image.x()) / image.width(), 0.0), 1.0),
                       min(max((point.y() - image.y()) / image.height(), 0.0), 1.0))
