"""The main window: open a catalog, watch it index, drop a photo, browse the most similar items.

Slow work runs on two background lanes (lanes.py): the writer opens and indexes the catalog (catalog_control.py)
while the reader answers searches from what is indexed so far (search_pane.py). What happens to the catalog
reaches the window's parts as CatalogEvents; decoding thumbnails runs on the ThumbnailLoader's pool. The tests
and the packaged app's self-test drive the public methods (open_catalog, query_image, query_item,
cancel_indexing, shown_results).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QStandardPaths, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import image_patterns, no_images_message
from ..core.embedders import BUILT_IN_MODEL, DEFAULT_MODEL, DefaultModel, Embedder
from ..core.indexer import DEFAULT_BATCH_SIZE
from ..core.weights import WEIGHTS_FILENAME, Weights, missing_weights_message
from .catalog_control import CatalogControl, index_outcome
from .catalog_events import CatalogEvents
from .catalog_tools import CatalogTools
from .dialogs import WEIGHT_FREE_MODELS, SkippedDialog, WeightsDialog, about_text
from .drops import PastedImages, act_on_mime, droppable
from .folder_watch import FolderWatch
from .indexing_bar import IndexingBar
from .lanes import CatalogInfo, Lanes, ResultItem
from .model_choice import BUILT_IN_CHOICE, MODEL_CHOICES, model_box
from .operations import Operations
from .search_pane import SearchPane
from .status_bar import CatalogStatus
from .thumbnails import ThumbnailLoader
from .window_settings import RecentCatalogs, window_settings


class MainWindow(QMainWindow):
    catalog_opened = Signal(object)  # CatalogInfo, once the window shows it
    index_finished = Signal(object)  # IndexReport, once the window shows it
    grid_ready = Signal(float)  # seconds from the query request to a complete grid (thumbnails included)
    message_shown = Signal(str)  # a notice or an error dialog the person must see

    def __init__(self, model: str | None = None, weights: Weights | None = None, embedder: Embedder | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE, report_timing: bool = False):
        """`model` None: the model chosen last time; `embedder`: an already built one, chosen by its name."""
        super().__init__()
        self._settings = window_settings()
        self.weights = weights
        remembered = self._settings.value("model")
        remembered = remembered if remembered in MODEL_CHOICES else None
        self.model = embedder.name if embedder is not None else (model or remembered or DEFAULT_MODEL)
        # No model named (none given, none chosen before): ResNet50 if its weights are found, else the built-in
        # network, said in a notice (_on_weights_needed). Not remembered: weights found later make it ResNet50.
        self._automatic_model = embedder is None and model is None and remembered is None
        self.report_timing = report_timing
        self.error_box: QMessageBox | None = None  # the last catalog-level error shown as a dialog
        self._wanted_folder: str | None = None  # the catalog asked for last (reopened when the model changes)
        self._pasted = PastedImages()

        self.setWindowTitle("fashionrec — find similar fashion items")
        self.setMinimumSize(820, 560)
        self.setAcceptDrops(True)
        self.lanes = Lanes(self, {embedder.name: embedder} if embedder is not None else None)
        self.operations = Operations(self.lanes, self)
        self.events = CatalogEvents(self)
        self.control = CatalogControl(self, self.events, batch_size)
        self.thumbnails = ThumbnailLoader(self)
        self._build_actions()
        self.setCentralWidget(self._build_body())
        self._build_menus()
        self.watch = FolderWatch(self.events, self.control.reindex, self._settings, self.catalog_menu)
        self.status = CatalogStatus(self.show_skipped)
        self.statusBar().addPermanentWidget(self.status)
        self.statusBar().setSizeGripEnabled(True)
        self._connect_catalog()
        self._show_indexing(False)
        geometry = self._settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 720)

    # -- construction ---------------------------------------------------------------------------------
    def add_action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        """A window action: its shortcut works even while the menu bar is hidden."""
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        add = self.add_action
        self.open_action = add("&Open catalog folder…", self.choose_catalog, QKeySequence.StandardKey.Open,
                               "Choose a folder of product photos to index and search")
        self.photo_action = add("Open &photo…", self.choose_photo, "Ctrl+Shift+O",
                                "Find the items most similar to a photo")
        self.paste_action = add("&Paste photo", self.paste, QKeySequence.StandardKey.Paste,
                                "Search with an image or an image file from the clipboard")
        self.quit_action = add("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.reindex_action = add("&Update index", self.reindex, "F5",
                                  "Embed new and changed photos of the open catalog")
        self.cancel_action = add("&Cancel indexing", self.cancel_indexing, "Esc")
        self.skipped_action = add("&Skipped files…", self.show_skipped)
        self.about_action = add("&About fashionrec", self.show_about)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent = RecentCatalogs(file_menu.addMenu("Recent catalogs"), self._settings, self.open_catalog)
        file_menu.addSeparator()
        file_menu.addActions([self.photo_action, self.paste_action])
        self.catalog_menu = self.menuBar().addMenu("&Catalog")
        self.catalog_menu.addActions([self.reindex_action, self.cancel_action, self.skipped_action])
        self.tools.add_to_menus(file_menu, self.catalog_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self.menuBar().addMenu("&Help").addAction(self.about_action)

    def _build_body(self) -> QWidget:
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 8, 12, 8)
        self.search = SearchPane(self, self.events, self.thumbnails, self.report_timing)
        self.search.grid_ready.connect(self.grid_ready)
        self.grid, self.results_title, self.query_panel = self.search.grid, self.search.title, self.search.query_panel
        self.k_box = self.search.k_box
        layout.addLayout(self._build_toolbar())
        self.demo_banner = QLabel("Random weights (demo): the network is untrained, so the results are "
                                  "not meaningful. Choose the ResNet50 weights file for real use.")
        self.demo_banner.setObjectName("demoBanner")
        self.demo_banner.setWordWrap(True)
        self.demo_banner.hide()
        layout.addWidget(self.demo_banner)
        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()
        layout.addWidget(self.notice)
        self.indexing_bar = IndexingBar(self.cancel_indexing)
        layout.addWidget(self.indexing_bar)
        self.tools = CatalogTools(self, self.events, self.search, self.add_action)
        layout.addWidget(self.tools.row)
        layout.addWidget(self.search, 1)
        return body

    def _build_toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        for text, slot in (("Open catalog…", self.choose_catalog), ("Open photo…", self.choose_photo)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            bar.addWidget(button)
        self.model_box = model_box(self.model, self.set_model)
        bar.addStretch(1)
        for widget in (QLabel("Model:"), self.model_box, QLabel("Results:"), self.k_box):
            bar.addWidget(widget)
        return bar

    def _connect_catalog(self) -> None:
        control, events = self.control, self.events
        events.opened.connect(self._on_opened)
        events.grew.connect(self._on_grew)
        events.changed.connect(self._on_index_finished)
        control.loading_model.connect(self.indexing_bar.loading_model)
        control.failed.connect(self._on_failed)
        control.weights_needed.connect(self._on_weights_needed)

    # -- public API (menus, tests, self-test) -------------------------------------------------------
    @property
    def catalog(self) -> CatalogInfo | None:
        return self.control.info

    @property
    def indexing(self) -> bool:
        return self.control.indexing

    @property
    def skipped_files(self) -> dict[str, str]:
        return self.control.skipped

    def open_catalog(self, folder: str | Path) -> None:
        """Open (and bring up to date) a catalog; a running index is cancelled first."""
        self.show_message("")
        self._wanted_folder = str(folder)
        self.control.open(str(folder), self.model, self.weights)

    def reindex(self) -> None:
        if self.control.reindex():
            self._show_indexing(True)

    def cancel_indexing(self) -> None:
        if self.indexing:
            self.control.cancel()
            self.indexing_bar.cancelling()

    def set_model(self, model: str) -> None:
        """Use another model (remembered for the next start); the catalog asked for reopens with it."""
        if model == self.model:
            return
        self._show_model(model)
        self._settings.setValue("model", model)
        self.show_message("")
        if self._wanted_folder is not None:
            self.open_catalog(self._wanted_folder)

    def query_image(self, path: str | Path) -> None:
        """Search the open catalog with any photo file."""
        self.search.query_image(str(path))

    def query_item(self, relpath: str) -> None:
        """Search from an item of the catalog (its stored vector: no model needed)."""
        self.search.query_item(relpath)

    def shown_results(self) -> list[ResultItem]:
        return self.search.results()

    def show_message(self, text: str) -> None:
        """A message the person must see (bad input, errors); empty text hides it."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        if text:
            self.message_shown.emit(text)

    def show_error_dialog(self, text: str) -> None:
        """A problem with the catalog itself (data folder, disk, busy): a dialog, window-modal, not blocking."""
        self.error_box = QMessageBox(QMessageBox.Icon.Warning, "fashionrec", text, QMessageBox.StandardButton.Ok, self)
        self.error_box.open()
        self.message_shown.emit(text)

    def choose_catalog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a catalog folder of product photos",
                                                  self.catalog.root if self.catalog else "")
        if folder:
            self.open_catalog(folder)

    def choose_photo(self) -> None:
        pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
        start = self._settings.value("photo_folder") or pictures
        path, _ = QFileDialog.getOpenFileName(self, "Find items similar to a photo", start,
                                              f"Images ({image_patterns()});;All files (*)")
        if path:
            self._settings.setValue("photo_folder", str(Path(path).parent))
            self.query_image(path)

    def paste(self) -> None:
        if not self.use_mime(QGuiApplication.clipboard().mimeData()):
            self.show_message("The clipboard holds no image and no image file to search with.")

    def use_mime(self, mime: QMimeData | None) -> bool:
        """Act on dropped or pasted data: a file → query, a folder → open as catalog, image data → query."""
        return act_on_mime(mime, self.open_catalog, self.search.query_images, self._pasted)

    def show_skipped(self) -> None:
        if self.catalog is not None:
            SkippedDialog(self.catalog.root, sorted(self.skipped_files.items()), self).exec()

    def show_about(self) -> None:
        description = self.catalog.model if self.catalog else None
        QMessageBox.about(self, "About fashionrec", about_text(description, self.model))

    def ask_for_weights(self, message: str) -> Weights | str | None:
        """The weights dialog (modal): the weights to use, a model to switch to, or None when cancelled."""
        dialog = WeightsDialog(message, self)
        dialog.exec()
        return dialog.choice

    # -- drag and drop --------------------------------------------------------------------------------
    def dragEnterEvent(self, event):
        event.acceptProposedAction()  # anything: a drop of the wrong kind gets an explaining message
        self.query_panel.highlight_drop(droppable(event.mimeData()))

    def dragLeaveEvent(self, event):
        self.query_panel.highlight_drop(False)

    def dropEvent(self, event):
        self.query_panel.highlight_drop(False)
        if self.use_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()
            self.show_message("Drop an image file (or a folder to open it as a catalog).")

    # -- what the catalog did -----------------------------------------------------------------------------
    def _on_opened(self, info: CatalogInfo) -> None:
        self._show_model(self.control.choice or self.model)
        self.recent.remember(info.root)
        self.status.show_catalog(info)
        self._show_skipped_count()
        self.setWindowTitle(f"{Path(info.root).name} — fashionrec")
        self.demo_banner.setVisible(info.random_weights)
        if info.rebuilt_reason:
            self.show_message(f"The cache of this catalog was rebuilt: {info.rebuilt_reason}.")
        self._show_indexing(True)
        self.catalog_opened.emit(info)

    def _on_grew(self, progress) -> None:
        self._show_indexing(True)
        self.indexing_bar.show_progress(progress)
        self._show_skipped_count()
        if self.catalog is not None and self.catalog.items == 0:  # a first indexing: every photo done is new
            self.status.show_count(progress.done - progress.skipped_count)

    def _on_index_finished(self, report) -> None:
        self._show_indexing(False)
        self._show_skipped_count()
        self.status.show_count(report.indexed)
        self.statusBar().showMessage(index_outcome(report), 0 if report.cancelled else 15000)
        if report.files == 0 and self.catalog is not None:
            self.show_message(no_images_message(Path(self.catalog.root)))
        self.index_finished.emit(report)

    def _on_failed(self, message: str) -> None:
        """Opening or indexing failed: said in a dialog; the model box goes back to the model still open."""
        self._show_indexing(False)
        if self.control.choice is not None:
            self._show_model(self.control.choice)
        self.show_error_dialog(message)

    def _on_weights_needed(self, message: str, folder: str) -> None:
        if self._automatic_model and message == missing_weights_message():
            self._show_model(BUILT_IN_CHOICE)
            self.open_catalog(folder)
            note = DefaultModel(BUILT_IN_MODEL).note("To use ResNet50, choose it in the model box.")
            self.show_message(note[:1].upper() + note[1:])
            return
        choice = self.ask_for_weights(message)
        if isinstance(choice, str):
            self.set_model(choice)
        elif choice is not None:
            self.weights = choice
            self.open_catalog(folder)
        else:
            wanted = self.model
            if self.control.choice is not None:  # cancelled: the box and F5 stay with the open catalog's model
                self._show_model(self.control.choice)
            kept = f" The catalog stays open with {self.model}." if self.catalog else ""
            self.show_message(f"{wanted} cannot index {folder} without its weights file {WEIGHTS_FILENAME}.{kept} "
                              "Open the catalog again to choose the file, or choose "
                              f"{' or '.join(WEIGHT_FREE_MODELS)} (no weights needed).")

    # -- small helpers ------------------------------------------------------------------------------------
    def _show_model(self, choice: str) -> None:
        self.model = choice
        self.model_box.blockSignals(True)
        self.model_box.setCurrentText(choice)
        self.model_box.blockSignals(False)

    def _show_skipped_count(self) -> None:
        self.status.show_skipped(len(self.skipped_files))
        self.skipped_action.setEnabled(bool(self.skipped_files))

    def _show_indexing(self, on: bool) -> None:
        if on and not self.indexing_bar.isVisible():
            self.indexing_bar.started()
            self.statusBar().clearMessage()  # the last run's outcome no longer holds
        self.indexing_bar.setVisible(on)
        self.cancel_action.setEnabled(on)
        self.reindex_action.setEnabled(not on and self.catalog is not None)

    # -- shutting down ----------------------------------------------------------------------------------
    def closeEvent(self, event):
        self.shut_down()
        super().closeEvent(event)

    def shut_down(self) -> None:
        """Cancel indexing, let the current batch finish, join the lanes, then release files.

        Called on close and when the application quits some other way; running it twice is harmless.
        """
        if not self.lanes.running:
            return
        self.statusBar().showMessage("Finishing the current batch…")
        self.watch.stop()
        self.control.close()
        self.operations.cancel_all()
        self.lanes.shut_down()
        self.thumbnails.shut_down()
        self._settings.setValue("geometry", self.saveGeometry())
        self._settings.sync()
        self._pasted.remove()
