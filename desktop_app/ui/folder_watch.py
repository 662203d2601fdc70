"""Catalog ▸ Watch the folder: the open catalog is indexed again a moment after photos are added, changed,
moved or deleted in it, without F5.

watchdog reports file events on its own thread (recursively; unlike Qt's QFileSystemWatcher it also reports a
photo rewritten in place). Each event of an image file, or of a folder, restarts a quiet timer on the UI thread;
when QUIET_SECONDS pass without one, ONE index run starts however many files came (a burst of 1,000 copies is
one run). Events during a run mark the catalog dirty: one more run follows when it ends. Reads (the indexer's
own, the thumbnails') are not events here. The menu entry turns watching off and on; it is remembered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from ..core.catalog import is_image_name
from .catalog_events import CatalogEvents

log = logging.getLogger(__name__)

QUIET_SECONDS = 1.0
SETTING = "watch_folder"
CHANGES = frozenset({"created", "modified", "moved", "deleted", "closed"})  # not "opened", "closed_no_write"


class FolderWatch(QObject):
    _noticed = Signal()  # emitted on watchdog's thread, delivered on this object's (the UI thread)

    def __init__(self, events: CatalogEvents, reindex: Callable[[], bool], settings: QSettings, menu: QMenu):
        """`reindex()` starts an index run of the open catalog, or returns False when one is running."""
        super().__init__(menu)
        self._reindex, self._settings = reindex, settings
        self._root: str | None = None
        self._observer = None
        self.dirty = False  # changes seen while a run was going on: one more run when it ends
        self.runs = 0  # index runs this watch started (tests, the log)
        self.action = QAction("&Watch the folder for new photos", menu, checkable=True)
        self.action.setStatusTip("Index photos added, changed or deleted in the open catalog a moment after, "
                                 "without pressing F5")
        self.action.setChecked(bool(settings.value(SETTING, True, type=bool)))
        self.action.toggled.connect(self._toggled)
        menu.addAction(self.action)
        self.timer = QTimer(self, singleShot=True, interval=int(QUIET_SECONDS * 1000))
        self.timer.timeout.connect(self._quiet)
        self._noticed.connect(self.timer.start)  # (re)start: the run waits for a quiet moment
        events.opened.connect(lambda info: self._watch(info.root))
        events.closed.connect(lambda: self._watch(None))
        events.changed.connect(self._run_ended)

    @property
    def watching(self) -> str | None:
        """The folder watched now (None: none)."""
        return self._root if self._observer is not None else None

    def stop(self) -> None:
        self._watch(None)

    def _watch(self, root: str | None) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
            self._observer = None
        self.timer.stop()
        self.dirty = False
        self._root = root
        if root is not None and self.action.isChecked():
            self._observer = _start_observer(root, self._noticed.emit)

    def _toggled(self, on: bool) -> None:
        self._settings.setValue(SETTING, on)
        self._watch(self._root)

    def _quiet(self) -> None:
        if self._reindex():
            self.runs += 1
            log.info("folder watch: changes in %s, indexing", self._root)
        else:
            self.dirty = True

    def _run_ended(self, _report) -> None:
        if self.dirty and self.watching:
            self.dirty = False
            self.timer.start()


def _start_observer(root: str, notify: Callable[[], None]):
    from watchdog.events import FileSystemEventHandler  # imported when a catalog opens, not at start-up
    from watchdog.observers import Observer

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            if event.event_type not in CHANGES:
                return
            paths = (str(event.src_path), str(getattr(event, "dest_path", "") or ""))
            if event.is_directory or any(is_image_name(path) for path in paths):
                notify()

    observer = Observer()
    try:
        observer.schedule(Handler(), root, recursive=True)
        observer.start()
    except OSError as err:  # e.g. the system's limit of watched folders: the window works on without watching
        log.warning("cannot watch %s: %s", root, err)
        return None
    return observer
