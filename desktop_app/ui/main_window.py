"""The main window: open a catalog, watch it index, drop a photo, browse the most similar items.

Everything slow happens elsewhere: the core on the CatalogWorker's thread, image decoding on the
ThumbnailLoader's pool. The public methods (open_catalog, query_image, query_item, cancel_indexing,
shown_results) are what the tests and the packaged app's self-test drive.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QMimeData, QSettings, QSize, Qt, QThread, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QFrame, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QMainWindow, QMenu, QMessageBox, QProgressBar,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from ..core.embedders import DEFAULT_MODEL, MODELS, Embedder
from ..core.catalog import image_patterns, no_images_message
from ..core.formatting import format_duration
from ..core.indexer import DEFAULT_BATCH_SIZE, Progress
from ..core.paths import config_dir
from ..core.search import DEFAULT_K
from ..core.weights import Weights
from .dialogs import SkippedDialog, WeightsDialog, show_about
from .thumbnails import ThumbnailLoader
from .worker import CatalogInfo, CatalogWorker, ResultItem

MAX_RECENT = 8
QUERY_PREVIEW = QSize(220, 290)
PATH_ROLE = Qt.ItemDataRole.UserRole
RELPATH_ROLE = Qt.ItemDataRole.UserRole + 1


def _elide_path(path: str, keep: int = 2) -> str:
    """The last `keep` folders of a path, for the status bar (the tooltip has all of it)."""
    parts = Path(path).parts
    return path if len(parts) <= keep + 1 else str(Path("…", *parts[-keep:]))


def window_settings() -> QSettings:
    """Recent catalogs and geometry, in the same config folder as the core's settings (tests isolate it)."""
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)


class ResultGrid(QListWidget):
    """The result tiles: one row of up to five at any window width, wrapping when k is larger."""

    def __init__(self):
        super().__init__()
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setMovement(QListWidget.Movement.Static)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setSpacing(6)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._fit_tiles()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._fit_tiles()

    def _fit_tiles(self) -> None:
        """Five tiles fill the width; a tall text-free photo area, but never taller than the view."""
        text_height = 3 * self.fontMetrics().height() + 16
        by_width = (self.viewport().width() - 8) // 5 - 2 * self.spacing()
        by_height = (self.viewport().height() - text_height - 24) * 3 // 4 + 16
        tile = max(120, min(by_width, by_height, 400))
        icon = QSize(tile - 16, (tile - 16) * 4 // 3)  # catalog photos are portrait 3:4
        if icon != self.iconSize():
            self.setIconSize(icon)
            self.setGridSize(QSize(tile, icon.height() + text_height))


class MainWindow(QMainWindow):
    catalog_opened = Signal(object)  # CatalogInfo, once the window shows it
    index_finished = Signal(object)  # IndexReport, once the window shows it
    grid_ready = Signal(float)  # seconds from the query request to a complete grid (thumbnails included)
    message_shown = Signal(str)

    _open_requested = Signal(str, str, object)
    _index_requested = Signal()
    _query_requested = Signal(int, str, int)
    _item_query_requested = Signal(int, str, int)

    def __init__(self, model: str | None = None, weights: Weights | None = None,
                 embedder: Embedder | None = None, batch_size: int = DEFAULT_BATCH_SIZE, report_timing: bool = False):
        super().__init__()
        self.weights = weights
        self.model = embedder.name if embedder is not None else (model or DEFAULT_MODEL)
        self.catalog: CatalogInfo | None = None
        self.indexing = False
        self.skipped_files: dict[str, str] = {}
        self.report_timing = report_timing
        self._results: list[ResultItem] = []
        self._token = 0  # identifies the newest query; older answers and thumbnails are ignored
        self._query_started = 0.0
        self._query_pending = False
        self.error_box: QMessageBox | None = None  # the last catalog-level error shown as a dialog
        self._last_query = None  # (query method, its argument): re-run when k changes
        self._thumbs_pending = 0
        self._paste_dir: str | None = None
        self._settings = window_settings()

        self.setWindowTitle("fashionrec — find similar fashion items")
        self.setMinimumSize(820, 560)
        self.setAcceptDrops(True)
        self._thread = QThread(self)
        self._thread.setObjectName("catalog-worker")
        self.worker = CatalogWorker({embedder.name: embedder} if embedder is not None else None, batch_size)
        self.worker.moveToThread(self._thread)
        self.thumbnails = ThumbnailLoader(self)
        self._build_actions()
        self._build_menus()
        self.setCentralWidget(self._build_body())
        self._build_status_bar()
        self._connect_worker()
        self.thumbnails.loaded.connect(self._on_thumbnail)
        self._thread.start()
        self._update_recent_menu()
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
        self.about_action = self._action("&About fashionrec", lambda: show_about(self))

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Recent catalogs")
        file_menu.addSeparator()
        file_menu.addAction(self.photo_action)
        file_menu.addAction(self.paste_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        catalog_menu = self.menuBar().addMenu("&Catalog")
        for action in (self.reindex_action, self.cancel_action, self.skipped_action):
            catalog_menu.addAction(action)
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
        layout.addWidget(self._build_progress_row())
        row = QHBoxLayout()
        row.setSpacing(12)
        row.addWidget(self._build_query_panel())
        row.addLayout(self._build_results_panel(), 1)
        layout.addLayout(row, 1)
        return body

    def _build_toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        open_button = QPushButton("Open catalog…")
        open_button.clicked.connect(self.choose_catalog)
        photo_button = QPushButton("Open photo…")
        photo_button.clicked.connect(self.choose_photo)
        self.model_box = QComboBox()
        self.model_box.addItems(MODELS)
        self.model_box.setCurrentText(self.model)
        self.model_box.setToolTip("How photos are compared; each model keeps its own index of the catalog")
        self.model_box.currentTextChanged.connect(self.set_model)
        self.k_box = QSpinBox()
        self.k_box.setRange(1, 50)
        self.k_box.setValue(DEFAULT_K)
        self.k_box.setToolTip("How many similar items to show")
        self.k_box.findChild(QLineEdit).setAcceptDrops(False)  # a dropped photo is a query, not text
        self.k_box.valueChanged.connect(self._rerun_query)
        for widget in (open_button, photo_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(QLabel("Model:"))
        bar.addWidget(self.model_box)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Results:"))
        bar.addWidget(self.k_box)
        return bar

    def _build_progress_row(self) -> QWidget:
        self.progress_row = QFrame()
        self.progress_row.setObjectName("progressRow")
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("%v / %m")
        self.progress_label = QLabel()
        self.progress_label.setMinimumWidth(280)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current batch (Esc); what is done is kept")
        self.cancel_button.clicked.connect(self.cancel_indexing)
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.progress_label)
        row.addWidget(self.cancel_button)
        return self.progress_row

    def _build_query_panel(self) -> QWidget:
        self.drop_zone = QFrame()
        self.drop_zone.setObjectName("dropZone")
        self.drop_zone.setFixedWidth(QUERY_PREVIEW.width() + 40)
        panel = QVBoxLayout(self.drop_zone)
        title = QLabel("Query photo")
        title.setObjectName("panelTitle")
        self.query_image_label = QLabel()
        self.query_image_label.setObjectName("queryImage")
        self.query_image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.query_image_label.setMinimumSize(QUERY_PREVIEW)
        self.query_image_label.setWordWrap(True)
        self.query_caption = QLabel()
        self.query_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.query_caption.setWordWrap(True)
        hint = QLabel("Drop a photo anywhere in this window,\nor Open photo… (Ctrl+Shift+O),\n"
                      "or paste one (Ctrl+V).")
        hint.setObjectName("hint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        panel.addWidget(title)
        panel.addWidget(self.query_image_label)
        panel.addWidget(self.query_caption)
        panel.addStretch(1)
        panel.addWidget(hint)
        self._show_query_placeholder()
        return self.drop_zone

    def _build_results_panel(self) -> QVBoxLayout:
        panel = QVBoxLayout()
        self.results_title = QLabel("Open a catalog folder, then drop a photo to see the most similar items.")
        self.results_title.setObjectName("panelTitle")
        self.grid = ResultGrid()
        self.grid.itemActivated.connect(lambda item: self.open_file(item.data(PATH_ROLE)))
        self.grid.customContextMenuRequested.connect(self._result_menu)
        panel.addWidget(self.results_title)
        panel.addWidget(self.grid, 1)
        return panel

    def _build_status_bar(self) -> None:
        self.catalog_label = QLabel("No catalog open")
        self.count_label = QLabel()
        self.model_label = QLabel()
        self.skipped_button = QPushButton()
        self.skipped_button.setFlat(True)
        self.skipped_button.clicked.connect(self.show_skipped)
        self.skipped_button.hide()
        for widget in (self.catalog_label, self.count_label, self.skipped_button, self.model_label):
            self.statusBar().addPermanentWidget(widget)
        self.statusBar().setSizeGripEnabled(True)

    def _connect_worker(self) -> None:
        w = self.worker
        self._open_requested.connect(w.open_catalog)
        self._index_requested.connect(w.index)
        self._query_requested.connect(w.query_image)
        self._item_query_requested.connect(w.query_item)
        w.opened.connect(self._on_opened)
        w.loading_model.connect(self._on_loading_model)
        w.progress.connect(self._on_progress)
        w.skipped.connect(self._on_skipped)
        w.finished.connect(self._on_index_finished)
        w.results.connect(self._on_results)
        w.error.connect(self._on_error)
        w.weights_needed.connect(self._on_weights_needed)

    # -- public API (menus, tests, self-test) -------------------------------------------------------
    def open_catalog(self, folder: str | Path) -> None:
        """Open (and bring up to date) a catalog; a running index is cancelled first."""
        if self.indexing:
            self.worker.cancel()
        self.show_message("")
        self._open_requested.emit(str(folder), self.model, self.weights)

    def reindex(self) -> None:
        if self.catalog is not None and not self.indexing:
            self._set_indexing(True)
            self._index_requested.emit()

    def cancel_indexing(self) -> None:
        if self.indexing:
            self.worker.cancel()
            self.progress_label.setText("Cancelling after the current batch…")

    def set_model(self, model: str) -> None:
        if model == self.model:
            return
        self.model = model
        self.model_box.setCurrentText(model)
        if self.catalog is not None:
            self.open_catalog(self.catalog.root)

    def query_image(self, path: str | Path) -> None:
        """Search the open catalog with any photo file."""
        path = str(path)
        self._start_query(Path(path).name, path)
        self._query_requested.emit(self._token, path, self.k_box.value())
        self._last_query = (self.query_image, path)

    def query_item(self, relpath: str) -> None:
        """Search from an item of the catalog (its stored vector: no model needed)."""
        if self.catalog is None:
            return
        path = str(Path(self.catalog.root) / relpath)
        self._start_query(relpath, path)
        self._item_query_requested.emit(self._token, relpath, self.k_box.value())
        self._last_query = (self.query_item, relpath)

    def shown_results(self) -> list[ResultItem]:
        return list(self._results)

    def show_message(self, text: str) -> None:
        """A message the person must see (bad input, errors); empty text hides it."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        if text:
            self.message_shown.emit(text)

    def choose_catalog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a catalog folder of product photos",
                                                  self.catalog.root if self.catalog else "")
        if folder:
            self.open_catalog(folder)

    def choose_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Find items similar to a photo", "",
            f"Images ({image_patterns()});;All files (*)")
        if path:
            self.query_image(path)

    def paste(self) -> None:
        if not self.use_mime(QGuiApplication.clipboard().mimeData()):
            self.show_message("The clipboard holds no image and no image file to search with.")

    def use_mime(self, mime: QMimeData | None) -> bool:
        """Act on dropped or pasted data: a file → query, a folder → open as catalog, image data → query."""
        if mime is None:
            return False
        local = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        if local:
            target = Path(local[0])
            if target.is_dir():
                self.open_catalog(target)
            else:
                self.query_image(target)
            return True
        if mime.hasImage():
            image = QImage(mime.imageData())
            if image.isNull():
                return False
            if self._paste_dir is None:
                self._paste_dir = tempfile.mkdtemp(prefix="fashionrec-paste-")
            path = Path(self._paste_dir) / f"pasted-{self._token + 1}.png"
            image.save(str(path), "PNG")
            self.query_image(path)
            return True
        return False

    def show_skipped(self) -> None:
        if self.catalog is not None:
            SkippedDialog(self.catalog.root, sorted(self.skipped_files.items()), self).exec()

    def open_file(self, path: str) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def ask_for_weights(self, message: str) -> Weights | None:
        """The weights dialog (modal); None when the person cancels."""
        dialog = WeightsDialog(message, self)
        dialog.exec()
        return dialog.choice

    # -- drag and drop --------------------------------------------------------------------------------
    def _droppable(self, mime: QMimeData) -> bool:
        return any(url.isLocalFile() for url in mime.urls()) or mime.hasImage()

    def _highlight_drop(self, on: bool) -> None:
        self.drop_zone.setProperty("dragActive", on)
        self.drop_zone.style().unpolish(self.drop_zone)
        self.drop_zone.style().polish(self.drop_zone)

    def dragEnterEvent(self, event):
        event.acceptProposedAction()  # anything: a drop of the wrong kind gets an explaining message
        self._highlight_drop(self._droppable(event.mimeData()))

    def dragLeaveEvent(self, event):
        self._highlight_drop(False)

    def dropEvent(self, event):
        self._highlight_drop(False)
        if self.use_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()
            self.show_message("Drop an image file (or a folder to open it as a catalog).")

    # -- worker signals ---------------------------------------------------------------------------------
    def _on_opened(self, info: CatalogInfo) -> None:
        self.catalog = info
        self.skipped_files.clear()
        self._show_skipped_count()
        self._remember_recent(info.root)
        self.catalog_label.setText(_elide_path(info.root))
        self.catalog_label.setToolTip(info.root)
        self.setWindowTitle(f"{Path(info.root).name} — fashionrec")
        self._show_count(info.items)
        self.model_label.setText(info.model_name + (" · random weights (demo)" if info.random_weights else ""))
        self.model_label.setToolTip(info.model)
        self.demo_banner.setVisible(info.random_weights)
        self.model_label.setProperty("demo", info.random_weights)
        self.model_label.style().polish(self.model_label)
        if info.rebuilt_reason:
            self.show_message(f"The cache of this catalog was rebuilt: {info.rebuilt_reason}.")
        if not self._results and not self._query_pending:
            self.results_title.setText("Drop a photo to see the most similar items of this catalog.")
        self._set_indexing(True)
        self.progress_label.setText("Looking for new and changed photos…")
        self.catalog_opened.emit(info)

    def _on_loading_model(self, description: str) -> None:
        self.progress_bar.setRange(0, 0)  # busy: the first load imports TensorFlow (seconds)
        self.progress_label.setText("Loading the model…")
        self.progress_label.setToolTip(description)

    def _on_progress(self, p: Progress) -> None:
        self.progress_bar.setRange(0, max(p.total, 1))
        self.progress_bar.setValue(p.done if p.total else 1)
        self.progress_bar.setFormat("%v / %m" if p.total else "nothing new to index")
        self.progress_label.setText(f"{p.rate:.1f} img/s · ETA {format_duration(p.eta)} · {p.skipped_count} skipped")

    def _on_skipped(self, relpath: str, reason: str) -> None:
        self.skipped_files[relpath] = reason
        self._show_skipped_count()

    def _on_index_finished(self, report) -> None:
        self._set_indexing(False)
        self.skipped_files = dict(report.all_skipped)
        self._show_skipped_count()
        self._show_count(report.indexed)
        if report.cancelled:
            self.statusBar().showMessage(
                f"Indexing cancelled: {report.indexed} of {report.files} photos are searchable; "
                "Update index (F5) continues where it stopped.")
        else:
            self.statusBar().showMessage(
                f"Index up to date ({report.elapsed:.1f} s): {report.embedded} new, {report.unchanged} unchanged, "
                f"{report.removed} removed, {len(report.newly_skipped)} newly skipped", 15000)
        if report.files == 0:
            self.show_message(no_images_message(self.catalog.root if self.catalog else "this folder"))
        self.index_finished.emit(report)

    def _on_error(self, message: str) -> None:
        if self.indexing:
            self._set_indexing(False)
        from_query = self._query_pending
        if from_query:
            self._query_pending = False
            self.results_title.setText("No results: see the message above.")
        self.show_message(message)
        if not from_query:  # the catalog itself cannot be used (data folder, disk, busy): worth a dialog
            self.error_box = QMessageBox(QMessageBox.Icon.Warning, "fashionrec", message,
                                         QMessageBox.StandardButton.Ok, self)
            self.error_box.open()  # window-modal, without blocking the event loop

    def _on_weights_needed(self, message: str, folder: str) -> None:
        choice = self.ask_for_weights(message)
        if choice is None:
            self.show_message(f"{message}\nOpen the catalog again to choose the file in the app.")
            return
        self.weights = choice
        self.open_catalog(folder)

    # -- results ----------------------------------------------------------------------------------------
    def _start_query(self, caption: str, path: str) -> None:
        self._token += 1
        self._query_started = time.perf_counter()
        self._query_pending = True
        self.show_message("")
        self.query_image_label.setText("Loading…")
        self.query_caption.setText(caption)
        self.query_caption.setToolTip(path)
        self.thumbnails.request(("query", self._token), path, self._device_pixels(QUERY_PREVIEW))
        if self.indexing:  # the worker answers after the index run; cancelling ends that run sooner
            self.results_title.setText("Searching once indexing finishes… (Esc: stop indexing and search "
                                       "what is indexed so far)")
        else:
            self.results_title.setText("Searching…")

    def _rerun_query(self) -> None:
        if self._last_query is not None:
            method, argument = self._last_query
            method(argument)

    def _on_results(self, token: int, items: list[ResultItem]) -> None:
        if token != self._token:
            return
        self._query_pending = False
        self._results = items
        self.grid.clear()
        self._thumbs_pending = len(items)
        placeholder = QPixmap(self.grid.iconSize())
        placeholder.fill(Qt.GlobalColor.lightGray)
        for item in items:
            lines = [f"{item.rank}. {Path(item.relpath).name}", f"distance {item.distance:.3f}"]
            if item.label:
                lines.append(item.label)
            tile = QListWidgetItem(placeholder, "\n".join(lines))
            tile.setToolTip(item.path)
            tile.setData(PATH_ROLE, item.path)
            tile.setData(RELPATH_ROLE, item.relpath)
            tile.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.grid.addItem(tile)
            self.thumbnails.request(("result", token, item.rank - 1), item.path,
                                    self._device_pixels(self.grid.iconSize()))
        query = self.query_caption.text()
        self.results_title.setText(f"The {len(items)} most similar to {query}" if items else "No results.")
        if not items:
            self._grid_complete()

    def _on_thumbnail(self, key: tuple, image: QImage) -> None:
        kind, token = key[0], key[1]
        if token != self._token:
            return
        if kind == "query":
            if image.isNull():
                self.query_image_label.setText("(no preview: not an image Qt can show)")
            else:
                self.query_image_label.setPixmap(self._screen_pixmap(image))
            return
        tile = self.grid.item(key[2])
        if tile is not None and not image.isNull():
            tile.setIcon(self._screen_pixmap(image))
        self._thumbs_pending -= 1
        if self._thumbs_pending == 0:
            self._grid_complete()

    def _grid_complete(self) -> None:
        seconds = time.perf_counter() - self._query_started
        if self.report_timing:
            print(f"timing: query to complete grid {seconds:.3f} s", flush=True)
        self.grid_ready.emit(seconds)

    def _result_menu(self, position) -> None:
        tile = self.grid.itemAt(position)
        if tile is None:
            return
        path, relpath = tile.data(PATH_ROLE), tile.data(RELPATH_ROLE)
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.open_file(path))
        menu.addAction("Show in folder", lambda: self.open_file(str(Path(path).parent)))
        menu.addAction("Copy path", lambda: QGuiApplication.clipboard().setText(path))
        menu.addSeparator()
        menu.addAction("Find similar to this", lambda: self.query_item(relpath))
        menu.exec(self.grid.viewport().mapToGlobal(position))

    # -- small helpers ------------------------------------------------------------------------------------
    def _device_pixels(self, size: QSize) -> QSize:
        """Thumbnails are decoded at the screen's real pixel size, so they stay sharp on high-DPI screens."""
        return size * self.devicePixelRatioF()

    def _screen_pixmap(self, image: QImage) -> QPixmap:
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        return pixmap

    def _show_query_placeholder(self) -> None:
        self.query_image_label.setText("Drop a photo here")
        self.query_caption.setText("")

    def _show_count(self, items: int) -> None:
        self.count_label.setText(f"{items:,} items")

    def _show_skipped_count(self) -> None:
        n = len(self.skipped_files)
        self.skipped_button.setText(f"{n} skipped…")
        self.skipped_button.setVisible(n > 0)
        self.skipped_action.setEnabled(n > 0)

    def _set_indexing(self, on: bool) -> None:
        self.indexing = on
        self.progress_row.setVisible(on)
        self.cancel_action.setEnabled(on)
        self.reindex_action.setEnabled(not on and self.catalog is not None)
        if on:
            self.progress_bar.setRange(0, 0)
            self.progress_label.setToolTip("")
        self.skipped_action.setEnabled(bool(self.skipped_files))

    def _remember_recent(self, folder: str) -> None:
        recent = [folder] + [f for f in self.recent_catalogs() if f != folder]
        self._settings.setValue("recent_catalogs", recent[:MAX_RECENT])
        self._update_recent_menu()

    def recent_catalogs(self) -> list[str]:
        value = self._settings.value("recent_catalogs", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        for folder in self.recent_catalogs():
            self.recent_menu.addAction(folder, lambda f=folder: self.open_catalog(f))
        self.recent_menu.setEnabled(not self.recent_menu.isEmpty())

    # -- shutting down ----------------------------------------------------------------------------------
    def closeEvent(self, event):
        self.shut_down()
        super().closeEvent(event)

    def shut_down(self) -> None:
        """Cancel indexing, let the current batch finish, join the worker thread, then release files.

        Called on close and when the application quits some other way; running it twice is harmless.
        """
        if self._thread.isFinished():
            return
        self.statusBar().showMessage("Finishing the current batch…")
        self.worker.shut_down()
        self._thread.quit()
        self._thread.wait()
        self.worker.close_session()
        self.thumbnails.shut_down()
        self._settings.setValue("geometry", self.saveGeometry())
        self._settings.sync()
        if self._paste_dir is not None:
            shutil.rmtree(self._paste_dir, ignore_errors=True)
