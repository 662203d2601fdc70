"""The window's whole-catalog tools: File ▸ Export similar items…, Catalog ▸ Browse catalog…, Catalog ▸ Find
near-duplicates…. Their windows are made on first use; they hear of the catalog through CatalogEvents."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from .batch_tools import BatchTools
from .browser import CatalogBrowser
from .catalog_events import CatalogEvents
from .duplicates_view import DuplicatesView
from .export_action import SimilarItemsExport
from .lanes import NO_CATALOG_MESSAGE
from .task_row import TaskRow


class CatalogTools:
    def __init__(self, host, events: CatalogEvents, search, add_action: Callable[..., QAction]):
        """`host` runs operations and shows messages (the MainWindow); `search` is the SearchPane whose settings
        an export starts from and whose query a "Find similar" runs; `add_action(text, slot, shortcut, tip)`."""
        self._host, self._search = host, search
        self._open = False
        self.row = TaskRow()  # the export's progress, in the main window
        self.export = SimilarItemsExport(host, self.row, search.settings, search.filters.describe_where)
        self.duplicates: DuplicatesView | None = None
        self.browser: CatalogBrowser | None = None
        self.model_name = ""  # of the open catalog (the duplicates' default threshold is per model)
        self.export_action = add_action("&Export similar items…", self._export, None,
                                        "Write the most similar items of every item to a .csv or .jsonl file")
        self.browse_action = add_action("&Browse catalog…", self.show_browser, QKeySequence("Ctrl+B"),
                                        "Every item of the catalog; start a search from any of them")
        self.duplicates_action = add_action("Find &near-duplicates…", self.show_duplicates, QKeySequence("Ctrl+D"),
                                            "Groups of near-identical photos in the catalog")
        self.batch = BatchTools(host, search, add_action, self._has_catalog)  # match a folder, the map
        events.opened.connect(self._opened)
        events.changed.connect(self._catalog_changed)
        events.closed.connect(lambda: setattr(self, "_open", False))

    def add_to_menus(self, file_menu: QMenu, catalog_menu: QMenu) -> None:
        file_menu.addAction(self.export_action)
        self.batch.add_to_menus(file_menu, catalog_menu)
        catalog_menu.addSeparator()
        catalog_menu.addActions([self.browse_action, self.duplicates_action])

    def show_duplicates(self) -> DuplicatesView | None:
        if self._has_catalog():
            self.duplicates = self.duplicates or DuplicatesView(self._host, self._find_similar_unfiltered)
            self.duplicates.start(self.model_name)
        return self.duplicates

    def show_browser(self) -> CatalogBrowser | None:
        if self._has_catalog():
            self.browser = self.browser or CatalogBrowser(self._host, self._search.query_item)
            self.browser.start()
        return self.browser

    def _export(self) -> None:
        if self._has_catalog():
            self.export.ask()

    def _find_similar_unfiltered(self, relpath: str) -> None:
        """From the near-duplicates window: its item need not pass the main window's label filter."""
        self._search.query_item(relpath, keep_filter=False)

    def _has_catalog(self) -> bool:
        if not self._open:
            self._host.show_message(NO_CATALOG_MESSAGE)
        return self._open

    def _opened(self, info) -> None:
        self._open, self.model_name = True, info.model_name
        self.export.catalog_name = info.root
        self._catalog_changed(None)

    def _catalog_changed(self, _report) -> None:
        self.batch.catalog_changed()
        if self.browser is not None and self.browser.isVisible():
            self.browser.reload()
