"""What a drop or a paste holds: a folder (open it as a catalog), a file (search with it), or image pixels
(saved as a PNG, then searched with)."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QImage


def droppable(mime: QMimeData) -> bool:
    return any(url.isLocalFile() for url in mime.urls()) or mime.hasImage()


class PastedImages:
    """Image data without a file, saved in a temporary folder that `remove` deletes (on closing)."""

    def __init__(self):
        self._folder: str | None = None
        self._numbers = itertools.count(1)

    def save(self, image: QImage) -> Path:
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="fashionrec-paste-")
        path = Path(self._folder) / f"pasted-{next(self._numbers)}.png"
        image.save(str(path))  # PNG, from the name
        return path

    def remove(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def act_on_mime(mime: QMimeData | None, open_catalog, query_images, pasted: PastedImages) -> bool:
    """Open the dropped folder or search with the dropped files (several: searched together) or image; False when
    it holds neither. `query_images(paths)` gets a list of one or more paths."""
    if mime is None:
        return False
    local = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    if local:
        if local[0].is_dir():
            open_catalog(local[0])
        else:
            query_images([str(path) for path in local if not path.is_dir()])
        return True
    if mime.hasImage():
        image = QImage(mime.imageData())
        if image.isNull():
            return False
        query_images([str(pasted.save(image))])
        return True
    return False
