"""Thumbnails decoded at display size on a small thread pool, so a big photo never blocks the window."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QSize, QThreadPool, Signal
from PySide6.QtGui import QImage

from ..core.decoding import BUDGET
from ..core.images import ImageError, thumbnail


def read_scaled(path: str, bounds: QSize) -> QImage:
    """The image at `path` fitted into `bounds`, upright; a null QImage means unreadable.

    Decoded as the core decodes (images.thumbnail): reduced as far as the size allows (a 4000×3000 JPEG at
    1/8), within the process's decoding memory budget, with the same EXIF handling and the same formats."""
    try:
        img = thumbnail(path, (bounds.width(), bounds.height()), BUDGET)
    except ImageError:
        return QImage()
    return QImage(img.tobytes(), img.width, img.height, 3 * img.width, QImage.Format.Format_RGB888).copy()


class _Job(QRunnable):
    def __init__(self, loader: ThumbnailLoader, key: object, path: str, bounds: QSize,
                 wanted: Callable[[object], bool] | None):
        super().__init__()
        self.loader, self.key, self.path, self.bounds, self.wanted = loader, key, path, bounds, wanted

    def run(self) -> None:
        if self.wanted is None or self.wanted(self.key):
            self.loader.loaded.emit(self.key, read_scaled(self.path, self.bounds))


class ThumbnailLoader(QObject):
    """request(key, path) → later `loaded(key, QImage)` on the UI thread (a null image if unreadable)."""

    loaded = Signal(object, QImage)

    def __init__(self, parent: QObject | None = None, threads: int = 2):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)

    def request(self, key: object, path: str, bounds: QSize, wanted: Callable[[object], bool] | None = None) -> None:
        """`wanted(key)`, asked on the pool's thread just before decoding: False drops the request (nothing
        is emitted for it), e.g. for a row scrolled out of view meanwhile."""
        self._pool.start(_Job(self, key, path, bounds, wanted))

    def shut_down(self) -> None:
        """Drop what has not started and wait for the rest: no job may outlive this object."""
        self._pool.clear()
        self._pool.waitForDone()
