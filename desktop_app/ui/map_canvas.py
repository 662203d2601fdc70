"""The catalog map's drawing: every item a dot coloured by its label, thumbnails once few enough are in view
(level of detail), the query and its results ringed, a legend; wheel zooms around the mouse, a drag pans, a drag
with Shift (or in lasso mode) draws a lasso, a double-click searches from the item under the mouse.

The dots are drawn into one numpy image per frame (their screen positions computed for all items at once), so a
frame of 44,000 items costs a few milliseconds: painting stays smooth while panning and zooming.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QWidget

from ..core.catalog_map import inside
from .result_grid import device_pixels, screen_pixmap
from .thumbnails import ThumbnailLoader

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#393b79", "#ad494a", "#637939"]
OTHER, UNLABELLED = "#9a9a9a", "#d0d0d0"
THUMBNAILS_BELOW = 120  # items in view: fewer than this are drawn as thumbnails
THUMBNAIL = QSize(48, 64)
DOT = 2  # pixels
ZOOM_STEP = 1.25


def colour_groups(values: list[str | None]) -> tuple[np.ndarray, list[tuple[str, QColor]]]:
    """Per item the index of its colour, and the legend: the most frequent labels get a colour of their own, the
    others share 'other', items without a label 'no label'."""
    counts: dict[str, int] = {}
    for value in values:
        if value:
            counts[value] = counts.get(value, 0) + 1
    top = sorted(counts, key=lambda v: (-counts[v], v))[:len(PALETTE)]
    legend = [(f"{value} ({counts[value]:,})", QColor(PALETTE[i])) for i, value in enumerate(top)]
    index = {value: i for i, value in enumerate(top)}
    other = len(top) < len(counts)
    if other:
        legend.append((f"other ({sum(counts.values()) - sum(counts[v] for v in top):,})", QColor(OTHER)))
    if any(not v for v in values):
        legend.append(("no label", QColor(UNLABELLED)))
    codes = np.array([index.get(v, len(top)) if v else len(legend) - 1 for v in values], np.int32)
    return codes, legend


class MapCanvas(QWidget):
    lasso_done = Signal(object)  # np.ndarray of the item positions inside the lasso
    item_chosen = Signal(str)  # relpath double-clicked

    def __init__(self, thumbnails: ThumbnailLoader | None = None):
        super().__init__()
        self.setMinimumSize(400, 300)
        self.setMouseTracking(True)
        self._thumbnails = thumbnails
        self.root = ""
        self.relpaths: list[str] = []
        self.points = np.zeros((0, 2), np.float64)
        self.codes = np.zeros(0, np.int32)
        self.legend: list[tuple[str, QColor]] = []
        self._rgb32 = np.zeros(1, np.uint32)  # per colour code: 0xffRRGGBB, QImage.Format_RGB32's own pixels
        self._buffer = np.zeros((0, 0), np.uint32)  # the dots' pixels (the QImage drawn borrows them)
        self.centre, self.scale = np.zeros(2), 1.0
        self.highlighted: dict[int, QColor] = {}  # item → ring colour (the query's results, the selection)
        self.query_point: np.ndarray | None = None
        self.lasso_mode = False
        self._lasso: list[QPointF] = []
        self._drag: QPointF | None = None
        self._pixmaps: dict[int, object] = {}  # item → its thumbnail (QPixmap), for the items in view
        self._generation = 0
        self.last_frame_items = 0  # dots or thumbnails drawn in the last frame (the bench)
        if thumbnails is not None:
            thumbnails.loaded.connect(self._on_thumbnail)

    # -- data -----------------------------------------------------------------------------------------------
    def set_map(self, root: str, relpaths: list[str], points: np.ndarray, values: list[str | None]) -> None:
        self.root, self.relpaths = root, list(relpaths)
        self.points = np.asarray(points, np.float64)
        self._generation += 1
        self._pixmaps.clear()
        self.highlighted, self.query_point = {}, None
        self.colour_by(values)
        self.fit()

    def colour_by(self, values: list[str | None]) -> None:
        self.codes, self.legend = colour_groups(values)
        self._rgb32 = np.array([0xFF000000 | c.rgb() for _, c in self.legend] or [0xFF000000], np.uint32)
        self.update()

    def fit(self) -> None:
        """The whole map in view."""
        if len(self.points):
            low, high = self.points.min(axis=0), self.points.max(axis=0)
            self.centre = (low + high) / 2
            self.scale = 0.9 * min(self.width() / max(high[0] - low[0], 1e-9),
                                   self.height() / max(high[1] - low[1], 1e-9))
        self.update()

    def show_query(self, results: list[str], query_relpath: str | None = None) -> None:
        """Ring the results (and the query item); a photo from elsewhere is placed among its results."""
        position = {r: i for i, r in enumerate(self.relpaths)}
        found = [position[r] for r in results if r in position]
        self.highlighted = {i: QColor("#000000") for i in found}
        if query_relpath in position:
            self.query_point = self.points[position[query_relpath]]
        else:
            self.query_point = self.points[found].mean(axis=0) if found else None
        self.update()

    # -- geometry -------------------------------------------------------------------------------------------
    def to_screen(self, world: np.ndarray) -> np.ndarray:
        return (world - self.centre) * self.scale + np.array([self.width() / 2, self.height() / 2])

    def to_world(self, x: float, y: float) -> np.ndarray:
        return (np.array([x, y]) - np.array([self.width() / 2, self.height() / 2])) / self.scale + self.centre

    def zoom(self, factor: float, around: QPointF | None = None) -> None:
        around = around or QPointF(self.width() / 2, self.height() / 2)
        fixed = self.to_world(around.x(), around.y())
        self.scale *= factor
        self.centre = fixed - (np.array([around.x(), around.y()]) - np.array([self.width() / 2,
                                                                               self.height() / 2])) / self.scale
        self.update()

    def pan(self, dx: float, dy: float) -> None:
        self.centre = self.centre - np.array([dx, dy]) / self.scale
        self.update()

    def item_at(self, x: float, y: float, radius: float = 6.0) -> int | None:
        if not len(self.points):
            return None
        distances = np.linalg.norm(self.to_screen(self.points) - np.array([x, y]), axis=1)
        nearest = int(np.argmin(distances))
        return nearest if distances[nearest] <= radius else None

    # -- painting -------------------------------------------------------------------------------------------
    def paintEvent(self, event):
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        screen = self.to_screen(self.points)
        w, h = self.width(), self.height()
        visible = np.flatnonzero((screen[:, 0] >= -THUMBNAIL.width()) & (screen[:, 0] < w + THUMBNAIL.width())
                                 & (screen[:, 1] >= -THUMBNAIL.height()) & (screen[:, 1] < h + THUMBNAIL.height()))
        self.last_frame_items = len(visible)
        if self._thumbnails is not None and 0 < len(visible) <= THUMBNAILS_BELOW:
            self._paint_thumbnails(painter, screen, visible)
        else:
            painter.drawImage(0, 0, self._dots(screen[visible], self.codes[visible], w, h))
        self._paint_marks(painter, screen)
        self._paint_legend(painter)
        painter.end()

    def _dots(self, screen: np.ndarray, codes: np.ndarray, w: int, h: int) -> QImage:
        """Every dot (DOT×DOT pixels of its label's colour) written into one RGB32 buffer as 32-bit words at once:
        about 1 ms for 44,000 dots (a QPainter call per dot would take tens)."""
        if self._buffer.shape != (h, w):
            self._buffer = np.empty((h, w), np.uint32)
        self._buffer.fill(0xFFFFFFFF)  # white
        xy = screen.astype(np.int64)
        keep = (xy[:, 0] >= 0) & (xy[:, 0] < w - DOT) & (xy[:, 1] >= 0) & (xy[:, 1] < h - DOT)
        first = xy[keep, 1] * w + xy[keep, 0]
        colours = self._rgb32[codes[keep]]
        flat = self._buffer.ravel()
        for dy in range(DOT):
            for dx in range(DOT):
                flat[first + dy * w + dx] = colours
        return QImage(self._buffer.data, w, h, 4 * w, QImage.Format.Format_RGB32)  # drawn without conversion

    def _paint_thumbnails(self, painter: QPainter, screen: np.ndarray, visible: np.ndarray) -> None:
        size = device_pixels(self, THUMBNAIL)
        for i in visible:
            x, y = screen[i]
            rect = QRectF(x - THUMBNAIL.width() / 2, y - THUMBNAIL.height() / 2, THUMBNAIL.width(), THUMBNAIL.height())
            pixmap = self._pixmaps.get(int(i))
            if pixmap is None:
                painter.fillRect(rect, QColor(self.legend[self.codes[i]][1]) if self.legend else QColor(OTHER))
                self._pixmaps[int(i)] = False  # asked for
                assert self._thumbnails is not None  # thumbnails are painted only with a loader (see paintEvent)
                self._thumbnails.request(("map", self._generation, int(i)), f"{self.root}/{self.relpaths[i]}", size)
            elif pixmap is False:
                painter.fillRect(rect, QColor(self.legend[self.codes[i]][1]) if self.legend else QColor(OTHER))
            elif isinstance(pixmap, QPixmap):
                painter.drawPixmap(rect.toRect(), pixmap)
            painter.setPen(QPen(self.legend[self.codes[i]][1] if self.legend else QColor(OTHER), 2))
            painter.drawRect(rect)

    def _paint_marks(self, painter: QPainter, screen: np.ndarray) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for i, colour in self.highlighted.items():
            painter.setPen(QPen(colour, 2))
            painter.drawEllipse(QPointF(*screen[i]), 7, 7)
        if self.query_point is not None:
            x, y = self.to_screen(self.query_point[np.newaxis])[0]
            painter.setPen(QPen(QColor("#d62728"), 3))
            painter.drawLine(QPointF(x - 9, y), QPointF(x + 9, y))
            painter.drawLine(QPointF(x, y - 9), QPointF(x, y + 9))
            painter.drawText(QPointF(x + 10, y - 10), "query")
        if self._lasso:
            painter.setPen(QPen(QColor("#333333"), 1, Qt.PenStyle.DashLine))
            painter.drawPolyline(QPolygonF(self._lasso))

    def _paint_legend(self, painter: QPainter) -> None:
        line = self.fontMetrics().height() + 2
        width = max((self.fontMetrics().horizontalAdvance(text) for text, _ in self.legend), default=0) + 28
        painter.fillRect(QRectF(6, 6, width, line * len(self.legend) + 8), QColor(255, 255, 255, 220))
        for row, (text, colour) in enumerate(self.legend):
            y = 10 + row * line
            painter.fillRect(QRectF(12, y + 3, 10, 10), colour)
            painter.setPen(QColor("#222222"))
            painter.drawText(QPointF(28, y + line - 5), text)

    def _on_thumbnail(self, key: tuple, image: QImage) -> None:
        if key[0] != "map" or key[1] != self._generation:
            return
        self._pixmaps[key[2]] = screen_pixmap(self, image) if not image.isNull() else False
        if len(self._pixmaps) > 4 * THUMBNAILS_BELOW:  # keep the newest only
            for old in list(self._pixmaps)[:len(self._pixmaps) - 2 * THUMBNAILS_BELOW]:
                del self._pixmaps[old]
        self.update()

    # -- mouse ----------------------------------------------------------------------------------------------
    def wheelEvent(self, event):
        self.zoom(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP, event.position())

    def mousePressEvent(self, event):
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self.lasso_mode or event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._lasso = [event.position()]
        else:
            self._drag = event.position()

    def mouseMoveEvent(self, event):
        if self._lasso:
            self._lasso.append(event.position())
            self.update()
        elif self._drag is not None:
            delta = event.position() - self._drag
            self._drag = event.position()
            self.pan(delta.x(), delta.y())

    def mouseReleaseEvent(self, event):
        if self._lasso:
            polygon = np.array([self.to_world(p.x(), p.y()) for p in self._lasso])
            self._lasso = []
            self.update()
            self.lasso_done.emit(np.flatnonzero(inside(self.points, polygon)))
        self._drag = None

    def mouseDoubleClickEvent(self, event):
        i = self.item_at(event.position().x(), event.position().y())
        if i is not None:
            self.item_chosen.emit(self.relpaths[i])

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if event.oldSize().width() <= 0:
            self.fit()
