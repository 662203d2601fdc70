"""What happens to the window's catalog, told once to whoever listens (search pane, tools, folder watcher,
status bar) instead of the window calling each of them: opened, grew, changed, closed."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class CatalogEvents(QObject):
    opened = Signal(object)  # lanes.CatalogInfo: a catalog (or the same one with another model) is open in both lanes
    grew = Signal(object)  # core.indexer.Progress: indexing runs and a batch was committed (or the run began)
    changed = Signal(object)  # core.indexer.IndexReport: an index run ended; the reader has read the store again
    closed = Signal()  # the catalog shown until now is no longer open (another one replaces it, or the window closes)
