"""The main window: open a catalog, watch it index, drop a photo, browse the most similar items.

Slow work happens elsewhere: the core on the CatalogWorker's thread (indexing by tokened signals, the rest as
operations.py's one-shot operations), decoding on the ThumbnailLoader's pool. The tests and the packaged
app's self-test drive the public methods (open_catalog, query_image, query_item, cancel_indexing, shown_results).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QStandardPaths, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import image_patterns, no_images_message
from ..core.embedders import DEFAULT_MODEL, Embedder
from ..core.indexer import DEFAULT_BATCH_SIZE
from ..core.search import DEFAULT_K
from ..core.weights import WEIGHTS_FILENAME, Weights
from .catalog_tools import CatalogTools
from .dialogs import WEIGHT_FREE_MODEL, SkippedDialog, WeightsDialog, about_text
from .drops import PastedImages, act_on_mime, droppable
from .indexing_bar import IndexingBar
from .model_choice import MODEL_CHOICES, model_box
from .operations import Operations, replies_to
from .search_pane import SearchPane
from .status_bar import CatalogStatus
from .thumbnails import ThumbnailLoader
from .window_settings import RecentCatalogs, window_settings
from .worker import CatalogInfo, CatalogWorker, ResultItem, WorkerThread


class MainWindow(QMainWindow):
    catalog_opened = Signal(object)  # CatalogInfo, once the window shows it
    index_finished = Signal(object)  # IndexReport, once the window shows it
    grid_ready = Signal(float)  # seconds from the query request to a complete grid (thumbnails included)
    message_shown = Signal(str)  # a notice or an error dialog the person must see

    _open_requested = Signal(int, str, str, object)
    _index_requested = Signal(int)

    def __init__(self, model: str | None = None, weights: Weights | None = None, embedder: Embedder | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE, report_timing: bool = False,
                 worker: CatalogWorker | None = None):
        """`model` None: the model chosen last time. `worker`: a seam for tests (default: a CatalogWorker)."""
        super().__init__()
        self._settings = window_settings()
        self.weights = weights
        remembered = self._settings.value("model", DEFAULT_MODEL)
        remembered = remembered if remembered in MODEL_CHOICES else DEFAULT_MODEL
        self.model = embedder.name if embedder is not None else (model or remembered)
        self.catalog: CatalogInfo | None = None
        self.indexing = False
        self.skipped_files: dict[str, str] = {}
        self.report_timing = report_timing
        self.error_box: QMessageBox | None = None  # the last catalog-level error shown as a dialog
        self._wanted_folder: str | None = None  # the catalog asked for last (reopened when the model changes)
        self._index_token = 0  # the open/index request whose replies the window shows
        self._pasted = PastedImages()

        self.setWindowTitle("fashionrec — find similar fashion items")
        self.setMinimumSize(820, 560)
        self.setAcceptDrops(True)
        self.worker = worker or CatalogWorker({embedder.name: embedder} if embedder is not None else None, batch_size)
        self.background = WorkerThread(self.worker, self)
        self.operations = Operations(self.worker, self)
        self.thumbnails = ThumbnailLoader(self)
        self._build_actions()
        self._build_menus()
        self.setCentralWidget(self._build_body())
        self.status = CatalogStatus(self.show_skipped)
        self.statusBar().addPermanentWidget(self.status)
        self.statusBar().setSizeGripEnabled(True)
        self._connect_worker()
        self._set_indexing(False)
        geometry = self._settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 720)

    # -- construction ---------------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even while the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        self.open_action = self._action("&Open catalog folder…", self.choose_catalog, QKeySequence.StandardKey.Open,
                                        "Choose a folder of product photos to index and search")
        self.photo_action = self._action("Open &photo…", self.choose_photo, "Ctrl+Shift+O",
                                         "Find the items most similar to a photo")
        self.paste_action = self._action("&Paste photo", self.paste, QKeySequence.StandardKey.Paste,
                                         "Search with an image or an image file from the clipboard")
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.reindex_action = self._action("&Update index", self.reindex, "F5",
                                           "Embed new and changed photos of the open catalog")
        self.cancel_action = self._action("&Cancel indexing", self.cancel_indexing, "Esc")
        self.skipped_action = self._action("&Skipped files…", self.show_skipped)
        self.about_action = self._action("&About fashionrec", self.show_about)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent = RecentCatalogs(file_menu.addMenu("Recent catalogs"), self._settings, self.open_catalog)
        file_menu.addSeparator()
        file_menu.addActions([self.photo_action, self.paste_action])
        catalog_menu = self.menuBar().addMenu("&Catalog")
        catalog_menu.addActions([self.reindex_action, self.cancel_action, self.skipped_action])
        self.tools = CatalogTools(self, file_menu, catalog_menu)  # export, near-duplicates, browser
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self.menuBar().addMenu("&Help").addAction(self.about_action)

    def _build_body(self) -> QWidget:
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 8, 12, 8)
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
        layout.addWidget(self.tools.row)
        self.search = SearchPane(self, self.thumbnails, self.report_timing)
        self.search.grid_ready.connect(self.grid_ready)
        self.grid, self.results_title, self.query_panel = self.search.grid, self.search.title, self.search.query_panel
        layout.addWidget(self.search, 1)
        return body

    def _build_toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        open_button = QPushButton("Open catalog…")
        open_button.clicked.connect(self.choose_catalog)
        photo_button = QPushButton("Open photo…")
        photo_button.clicked.connect(self.choose_photo)
        self.model_box = model_box(self.model, self.set_model)
        self.k_box = QSpinBox()
        self.k_box.setRange(1, 50)
        self.k_box.setValue(DEFAULT_K)
        self.k_box.setToolTip("How many similar items to show")
        self.k_box.findChild(QLineEdit).setAcceptDrops(False)  # a dropped photo is a query, not text
        self.k_box.valueChanged.connect(lambda _k: self.search.rerun())
        for widget in (open_button, photo_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(QLabel("Model:"))
        bar.addWidget(self.model_box)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Results:"))
        bar.addWidget(self.k_box)
        return bar

    def _connect_worker(self) -> None:
        w = self.worker
        self._open_requested.connect(w.open_catalog)
        self._index_requested.connect(w.index)
        for signal, slot in ((w.opened, self._on_opened), (w.loading_model, self._on_loading_model),
                             (w.progress, self._on_progress), (w.file_skipped, self._on_file_skipped),
                             (w.finished, self._on_index_finished), (w.error, self._on_error),
                             (w.weights_needed, self._on_weights_needed)):
            signal.connect(slot)  # bound methods of this window: queued to the UI thread

    # -- public API (menus, tests, self-test) -------------------------------------------------------
    def open_catalog(self, folder: str | Path) -> None:
        """Open (and bring up to date) a catalog; a running index is cancelled first."""
        if self.indexing:
            self.worker.cancel()
        self.show_message("")
        self._wanted_folder = str(folder)
        self._index_token = self.operations.next_token()
        self._open_requested.emit(self._index_token, str(folder), self.model, self.weights)

    def reindex(self) -> None:
        if self.catalog is not None and not self.indexing:
            self._set_indexing(True)
            self._index_token = self.operations.next_token()
            self._index_requested.emit(self._index_token)

    def cancel_indexing(self) -> None:
        if self.indexing:
            self.worker.cancel()
            self.indexing_bar.cancelling()

    def set_model(self, model: str) -> None:
        """Use another model (remembered for the next start); the catalog asked for reopens with it."""
        if model == self.model:
            return
        self.model = model
        self.model_box.setCurrentText(model)
        self._settings.setValue("model", model)
        self.show_message("")
        if self._wanted_folder is not None:
            self.open_catalog(self._wanted_folder)

    def query_image(self, path: str | Path) -> None:
        """Search the open catalog with any photo file."""
        self.search.query_image(str(path), self.k_box.value())

    def query_item(self, relpath: str) -> None:
        """Search from an item of the catalog (its stored vector: no model needed)."""
        if self.catalog is not None:
            self.search.query_item(self.catalog.root, relpath, self.k_box.value())

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
        path, _ = QFileDialog.getOpenFileName(
            self, "Find items similar to a photo", start,
            f"Images ({image_patterns()});;All files (*)")
        if path:
            self._settings.setValue("photo_folder", str(Path(path).parent))
            self.query_image(path)

    def paste(self) -> None:
        if not self.use_mime(QGuiApplication.clipboard().mimeData()):
            self.show_message("The clipboard holds no image and no image file to search with.")

    def use_mime(self, mime: QMimeData | None) -> bool:
        """Act on dropped or pasted data: a file → query, a folder → open as catalog, image data → query."""
        return act_on_mime(mime, self.open_catalog, self.query_image, self._pasted)

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

    # -- replies to the open/index request ----------------------------------------------------------------
    @replies_to("_index_token")
    def _on_opened(self, info: CatalogInfo) -> None:
        self.search.catalog_opened(same_catalog=self.catalog is not None and self.catalog.root == info.root)
        self.catalog = info
        self.skipped_files.clear()
        self._show_skipped_count()
        self.recent.remember(info.root)
        self.status.show_catalog(info)
        self.setWindowTitle(f"{Path(info.root).name} — fashionrec")
        self.demo_banner.setVisible(info.random_weights)
        if info.rebuilt_reason:
            self.show_message(f"The cache of this catalog was rebuilt: {info.rebuilt_reason}.")
        self._set_indexing(True)
        self.catalog_opened.emit(info)

    @replies_to("_index_token")
    def _on_loading_model(self, description: str) -> None:
        self.indexing_bar.loading_model(description)

    @replies_to("_index_token")
    def _on_progress(self, progress) -> None:
        self.indexing_bar.show_progress(progress)

    @replies_to("_index_token")
    def _on_file_skipped(self, relpath: str, reason: str) -> None:
        self.skipped_files[relpath] = reason
        self._show_skipped_count()

    @replies_to("_index_token")
    def _on_index_finished(self, report) -> None:
        self._set_indexing(False)
        self.skipped_files = dict(report.all_skipped)
        self._show_skipped_count()
        self.status.show_count(report.indexed)
        if report.cancelled:
            self.statusBar().showMessage(
                f"Indexing cancelled: {report.indexed} of {report.files} photos are searchable; "
                "Update index (F5) continues where it stopped.")
        else:
            self.statusBar().showMessage(
                f"Index up to date ({report.elapsed:.1f} s): {report.embedded} new, {report.unchanged} unchanged, "
                f"{report.removed} removed, {len(report.newly_skipped)} newly skipped", 15000)
        if report.files == 0 and self.catalog is not None:
            self.show_message(no_images_message(Path(self.catalog.root)))
        self.search.index_finished(changed=bool(report.embedded or report.removed))
        self.index_finished.emit(report)

    @replies_to("_index_token")
    def _on_error(self, message: str) -> None:
        self._set_indexing(False)
        self.show_error_dialog(message)

    @replies_to("_index_token")
    def _on_weights_needed(self, message: str, folder: str) -> None:
        choice = self.ask_for_weights(message)
        if isinstance(choice, str):
            self.set_model(choice)
        elif choice is not None:
            self.weights = choice
            self.open_catalog(folder)
        else:
            self.show_message(f"{self.model} cannot index {folder} without its weights file {WEIGHTS_FILENAME}. "
                              f"Open the catalog again to choose the file, or choose the {WEIGHT_FREE_MODEL} model "
                              "(no weights needed).")

    # -- small helpers ------------------------------------------------------------------------------------
    def _show_skipped_count(self) -> None:
        self.status.show_skipped(len(self.skipped_files))
        self.skipped_action.setEnabled(bool(self.skipped_files))

    def _set_indexing(self, on: bool) -> None:
        self.indexing = on
        self.indexing_bar.setVisible(on)
        self.cancel_action.setEnabled(on)
        self.reindex_action.setEnabled(not on and self.catalog is not None)
        if on:
            self.indexing_bar.started()
            self.statusBar().clearMessage()  # the last run's outcome no longer holds
        self.skipped_action.setEnabled(bool(self.skipped_files))

    # -- shutting down ----------------------------------------------------------------------------------
    def closeEvent(self, event):
        self.shut_down()
        super().closeEvent(event)

    def shut_down(self) -> None:
        """Cancel indexing, let the current batch finish, join the worker thread, then release files.

        Called on close and when the application quits some other way; running it twice is harmless.
        """
        if not self.background.running:
            return
        self.statusBar().showMessage("Finishing the current batch…")
        self.operations.cancel_all()
        self.background.shut_down()
        self.thumbnails.shut_down()
        self._settings.setValue("geometry", self.saveGeometry())
        self._settings.sync()
        self._pasted.remove()
