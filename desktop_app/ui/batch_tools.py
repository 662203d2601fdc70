"""The window's many-photos tools: File ▸ Match a folder…, Catalog ▸ Map…. Their windows are made on first use."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from .map_view import MapView
from .match_view import MatchView


class BatchTools:
    def __init__(self, host, search, add_action: Callable[..., QAction], has_catalog: Callable[[], bool]):
        """`host` runs operations (the MainWindow); `search` is the SearchPane (its settings apply, a chosen photo
        is searched there); `has_catalog()` says whether a catalog is open (and tells the person when not)."""
        self._host, self._search, self._has_catalog = host, search, has_catalog
        self.match_view: MatchView | None = None
        self.map_view: MapView | None = None
        self.match_action = add_action("&Match a folder…", self.show_match, None,
                                       "Match every photo of a folder against the catalog: which ones it already has")

        self.map_action = add_action("&Map…", self.show_map, None,
                                     "The whole catalog laid out by similarity, coloured by a label")

    def add_to_menus(self, file_menu: QMenu, catalog_menu: QMenu) -> None:
        file_menu.addAction(self.match_action)
        catalog_menu.addAction(self.map_action)

    def catalog_changed(self) -> None:
        """A catalog opened or its index changed: an open map is laid out again (or read from its cache)."""
        if self.map_view is not None and self.map_view.isVisible():
            self.map_view.start()

    def show_map(self) -> MapView | None:
        if not self._has_catalog():
            return None
        self.map_view = self.map_view or MapView(self._host, self._host.thumbnails, self._search)
        self.map_view.start()
        return self.map_view

    def show_match(self, folder: str | None = None) -> MatchView | None:
        """The match window; with `folder`, matching it starts at once (tests), else the person chooses one."""
        if not self._has_catalog():
            return None
        self.match_view = self.match_view or MatchView(self._host, self._search.settings, self._search.query_image)
        if folder:
            self.match_view.start(folder)
        else:
            self.match_view.show()
            self.match_view.choose_folder()
        return self.match_view
