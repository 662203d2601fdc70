"""File ▸ Export similar items…: the k most similar items of every catalog item, written to a .csv or .jsonl
file by core.export on the worker thread, with progress and Cancel (a cancelled export writes no file).
With a label filter set above the results, the dialog offers to export only the items passing it (items and
their similar items both, as `fashionrec-cli neighbours --where`)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..core.filters import Conditions
from ..core.search import DEFAULT_K
from .task_row import TaskRow

FILE_TYPES = "CSV (*.csv);;JSON Lines (*.jsonl)"


class ExportDialog(QDialog):
    """Where to write (the extension chooses the format), how many similar items per item, and whether only
    the items passing the window's label filter (`where`, described as `filter_text`) are exported."""

    def __init__(self, parent: QWidget, path: str, k: int = DEFAULT_K, where: Conditions | None = None,
                 filter_text: str = ""):
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
        form.addRow(buttons)

    def path(self) -> str:
        return self.path_edit.text().strip()

    def k(self) -> int:
        return self.k_box.value()

    def where(self) -> Conditions | None:
        return self._where if self.filter_check.isChecked() else None

    def _choose(self) -> None:
        path, chosen_filter = QFileDialog.getSaveFileName(self, "Export similar items", self.path(), FILE_TYPES)
        if path:
            if not Path(path).suffix:
                path += ".jsonl" if "jsonl" in chosen_filter else ".csv"
            self.path_edit.setText(path)


class SimilarItemsExport(QObject):
    """The export of the window's open catalog; `finished(report)` once a run ended (ExportReport, or None
    when it failed: the window then shows why)."""

    finished = Signal(object)

    def __init__(self, window, row: TaskRow):
        super().__init__(window)
        self._window = window
        self._row = row
        self._folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)

    def ask(self) -> None:
        """The dialog, then the export (menu entry)."""
        name = f"{Path(self._window.catalog.root).name}-similar.csv" if self._window.catalog else "similar-items.csv"
        filters = self._window.search.filters
        dialog = ExportDialog(self._window, str(Path(self._folder) / name), self._window.k_box.value(),
                              filters.where(), filters.describe_where())
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.path():
            self._folder = str(Path(dialog.path()).parent)
            self.export(dialog.path(), dialog.k(), dialog.where())

    def export(self, path: str, k: int, where: Conditions | None = None) -> None:
        from ..core.export import export_neighbours

        if self._row.running:
            self._window.show_message("Wait for the running operation to finish (or cancel it) first.")
            return
        self._window.show_message("")
        self._window.statusBar().clearMessage()
        self._row.run(self._window, f"Finding the {k} most similar items of every item…",
                      lambda catalog, task: export_neighbours(catalog.session, path, k, where,
                                                              progress=task.report, should_cancel=task.should_cancel),
                      self._done, self._failed)

    def _done(self, report) -> None:
        if report.cancelled:
            text = f"Export cancelled: {report.path.name} was not written."
        else:
            seconds = report.search_seconds + report.write_seconds
            text = (f"Wrote {report.rows:,} rows ({report.items:,} items × {report.k} similar) to {report.path} "
                    f"in {seconds:.1f} s.")
        self._window.statusBar().showMessage(text)
        self.finished.emit(report)

    def _failed(self, message: str) -> None:
        self._window.show_message(message)
        self.finished.emit(None)
