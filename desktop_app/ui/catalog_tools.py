"""The window's whole-catalog tools, wired into its menus: File ▸ Export similar items…, Catalog ▸ Find
near-duplicates…, Catalog ▸ Browse catalog…. Their windows are made on first use."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu

from .browser import CatalogBrowser
from .duplicates_view import DuplicatesView
from .export_action import SimilarItemsExport
from .task_row import TaskRow
from .worker import NO_CATALOG_MESSAGE


class CatalogTools:
    def __init__(self, window, file_menu: QMenu, catalog_menu: QMenu):
        self._window = window
        self.row = TaskRow()  # the export's progress, in the main window
        self.export = SimilarItemsExport(window, self.row)
        self.duplicates: DuplicatesView | None = None
        self.browser: CatalogBrowser | None = None
        self.export_action = self._add(file_menu, "&Export similar items…", self._export,
                                       "Write the most similar items of every item to a .csv or .jsonl file")
        catalog_menu.addSeparator()
        self.browse_action = self._add(catalog_menu, "&Browse catalog…", self.show_browser,
                                       "Every item of the catalog; start a search from any of them", "Ctrl+B")
        self.duplicates_action = self._add(catalog_menu, "Find &near-duplicates…", self.show_duplicates,
                                           "Groups of near-identical photos in the catalog", "Ctrl+D")
        window.index_finished.connect(self._catalog_changed)

    def show_duplicates(self) -> DuplicatesView | None:
        if self._has_catalog():
            self.duplicates = self.duplicates or DuplicatesView(self._window)
            self.duplicates.start()
        return self.duplicates

    def show_browser(self) -> CatalogBrowser | None:
        if self._has_catalog():
            self.browser = self.browser or CatalogBrowser(self._window)
            self.browser.start()
        return self.browser

    def _export(self) -> None:
        if self._has_catalog():
            self.export.ask()

    def _has_catalog(self) -> bool:
        if self._window.catalog is None:
            self._window.show_message(NO_CATALOG_MESSAGE)
        return self._window.catalog is not None

    def _catalog_changed(self, _report) -> None:
        if self.browser is not None and self.browser.isVisible():
            self.browser.reload()

    def _add(self, menu: QMenu, text: str, slot, tip: str, shortcut: str | None = None):
        action = self._window._action(text, slot, QKeySequence(shortcut) if shortcut else None, tip)
        menu.addAction(action)
        return action
