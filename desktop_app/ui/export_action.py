"""File ▸ Export similar items…: the k most similar items of every catalog item, written to a .csv or .jsonl
file by core.export on the writer lane, with progress and Cancel (a cancelled export writes no file).
The dialog starts from the search pane's settings: with a label filter set above the results it offers to
export only the items passing it (items and their similar items both, as `fashionrec-cli neighbours --where`),
with similarity tuned to labels it offers the tuned distances. It proposes a folder that exists, and checks the
file name before it closes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..core.errors import UserError
from ..core.export import check_output
from ..core.filters import Conditions
from ..core.query import Query
from ..core.search import DEFAULT_K
from .operations.tools import export_similar
from .status_bar import elide_path
from .task_row import TaskRow

FILE_TYPES = "CSV (*.csv);;JSON Lines (*.jsonl)"


class ExportDialog(QDialog):
    """Where to write (the extension chooses the format), how many similar items per item, and whether only
    the items passing the window's label filter (`where`, described as `filter_text`) are exported."""

    def __init__(self, parent: QWidget, path: str, k: int = DEFAULT_K, where: Conditions | None = None,
                 filter_text: str = "", tuned: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export similar items")
        self.path_edit = QLineEdit(path)
        self.path_edit.setMinimumWidth(420)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.k_box = QSpinBox()
        self.k_box.setRange(1, 100)
        self.k_box.setValue(k)
        self.k_box.setToolTip("How many similar items to write for each item (the item itself is left out)")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("File (.csv or .jsonl):", path_row)
        form.addRow("Similar items per item:", self.k_box)
        self._where = where
        self.filter_check = QCheckBox(f"Only items with {filter_text} (the filter above the results)")
        self.filter_check.setChecked(where is not None)
        self.filter_check.setVisible(where is not None)
        form.addRow(self.filter_check)
        self._tuned = tuned
        self.tuned_check = QCheckBox(f"Distances tuned to {tuned} (as the results above)")
        self.tuned_check.setChecked(tuned is not None)
        self.tuned_check.setVisible(tuned is not None)
        form.addRow(self.tuned_check)
        self.problem = QLabel()
        self.problem.setObjectName("notice")
        self.problem.setWordWrap(True)
        self.problem.hide()
        form.addRow(self.problem)
        form.addRow(buttons)

    def path(self) -> str:
        return self.path_edit.text().strip()

    def k(self) -> int:
        return self.k_box.value()

    def where(self) -> Conditions | None:
        return self._where if self.filter_check.isChecked() else None

    def tuned(self) -> str | None:
        return self._tuned if self.tuned_check.isChecked() else None

    def accept(self) -> None:
        """Closes only on a file name the export can write (the folder exists, .csv or .jsonl)."""
        try:
            check_output(self.path())
        except UserError as err:
            self.problem.setText(str(err))
            self.problem.show()
            return
        super().accept()

    def _choose(self) -> None:
        path, chosen_filter = QFileDialog.getSaveFileName(self, "Export similar items", self.path(), FILE_TYPES)
        if path:
            if not Path(path).suffix:
                path += ".jsonl" if "jsonl" in chosen_filter else ".csv"
            self.path_edit.setText(path)


def default_folder() -> str:
    """Documents when it exists, else the home folder (a fresh account may have no Documents folder)."""
    for location in (QStandardPaths.StandardLocation.DocumentsLocation, QStandardPaths.StandardLocation.HomeLocation):
        folder = QStandardPaths.writableLocation(location)
        if folder and Path(folder).is_dir():
            return folder
    return str(Path.home())


class SimilarItemsExport(QObject):
    """The export of the open catalog; `finished(report)` once a run ended (ExportReport, or None when it
    failed: the window then shows why)."""

    finished = Signal(object)

    def __init__(self, host, row: TaskRow, settings: Callable[[], Query], describe_where: Callable[[], str]):
        """`host`: runs operations, shows messages, has a status bar (the MainWindow); `settings()`: the search
        pane's settings to start from, `describe_where()` its label filter in words."""
        super().__init__(host)
        self._host, self._row = host, row
        self._settings, self._describe_where = settings, describe_where
        self._folder = ""
        self._writing = False
        self.catalog_name = ""  # the open catalog's folder: the proposed file is named after it

    def ask(self) -> None:
        """The dialog, then the export (menu entry)."""
        if not self._folder or not Path(self._folder).is_dir():
            self._folder = default_folder()
        name = f"{Path(self.catalog_name).name}-similar.csv" if self.catalog_name else "similar-items.csv"
        settings = self._settings()
        dialog = ExportDialog(self._host, str(Path(self._folder) / name), settings.k, settings.where,
                              self._describe_where(), settings.tuned)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._folder = str(Path(dialog.path()).parent)
            self.export(dialog.path(), dialog.k(), dialog.where(), dialog.tuned())

    def export(self, path: str, k: int, where: Conditions | None = None, tuned: str | None = None) -> None:
        if self._row.running:
            self._host.show_message("Wait for the running operation to finish (or cancel it) first.")
            return
        self._host.show_message("")
        self._host.statusBar().clearMessage()
        self._writing = False
        self._row.start(f"Finding the {k} most similar items of every item…",
                        export_similar(self._host, path, k, where, tuned, self._progress), self._done, self._failed)

    def _progress(self, done: int, total: int, writing: bool = False) -> None:
        """The search's progress, then the writing's: the row says which (it sat at 100 % while writing)."""
        if writing and not self._writing:
            self._writing = True
            self._row.label.setText("Writing the file… (Cancel: no file is written)")
        self._row.progress(done, total)

    def _done(self, report) -> None:
        if report.cancelled:
            text = f"Export cancelled: {report.path.name} was not written."
        else:
            seconds = report.search_seconds + report.write_seconds
            text = (f"Wrote {report.rows:,} rows ({report.items:,} items × {report.k} similar) to "
                    f"{elide_path(str(report.path))} in {seconds:.1f} s.")
        self._host.statusBar().showMessage(text)
        self.finished.emit(report)

    def _failed(self, message: str) -> None:
        self._host.show_message(message)
        self.finished.emit(None)
