"""The window's dialogs: missing weights, skipped files, About."""

from __future__ import annotations

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHeaderView, QLabel, QMessageBox,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from .. import __version__
from ..core import settings, weights
from ..core.errors import UserError
from ..core.paths import data_dir, log_dir


class WeightsDialog(QDialog):
    """Says which weights file is missing; the person chooses it (remembered) or random weights (demo)."""

    def __init__(self, message: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("ResNet50 weights needed")
        self.choice: weights.Weights | None = None
        text = QLabel(f"<b>The model's weights file is needed:</b> <tt>{weights.WEIGHTS_FILENAME}</tt>"
                      f"<p>{message}</p>")
        text.setWordWrap(True)
        text.setMinimumWidth(520)
        self.problem = QLabel()
        self.problem.setObjectName("notice")
        self.problem.setWordWrap(True)
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        choose = QPushButton(f"Choose {weights.WEIGHTS_FILENAME}…")
        demo = QPushButton("Use random weights (demo)")
        demo.setToolTip("An untrained network: the app works, but the results are not meaningful.")
        buttons.addButton(choose, QDialogButtonBox.ButtonRole.ActionRole)  # ActionRole: no auto-accept
        buttons.addButton(demo, QDialogButtonBox.ButtonRole.ActionRole)
        choose.clicked.connect(self._choose_file)
        demo.clicked.connect(self.choose_random)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose the ResNet50 weights file", "",
                                              f"Keras weights ({weights.WEIGHTS_FILENAME} *.h5);;All files (*)")
        if path:
            self.choose_file(path)

    def choose_file(self, path: str) -> bool:
        """Accept a weights file after the core's sanity check, and remember it for the next start."""
        try:
            checked = weights.check_weights_file(path)
        except UserError as err:
            self.problem.setText(str(err))
            self.problem.show()
            return False
        settings.put(weights.SETTING_KEY, str(checked))
        self.choice = weights.Weights(path=checked, source="chosen in the app")
        self.accept()
        return True

    def choose_random(self) -> None:
        self.choice = weights.random_weights(0)
        self.accept()


class SkippedDialog(QDialog):
    """The files indexing could not use, each with its reason."""

    def __init__(self, catalog: str, skipped: list[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Skipped files")
        self.resize(760, 420)
        table = QTableWidget(len(skipped), 2)
        table.setHorizontalHeaderLabels(["File", "Reason"])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        for row, (relpath, reason) in enumerate(skipped):
            table.setItem(row, 0, QTableWidgetItem(relpath))
            table.setItem(row, 1, QTableWidgetItem(reason))
        self.table = table
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{len(skipped)} file(s) in {catalog} could not be indexed. "
                                "Fix or replace them and update the index (F5)."))
        layout.addWidget(table)
        layout.addWidget(buttons)


def show_about(parent: QWidget) -> None:
    QMessageBox.about(
        parent, "About fashionrec",
        f"<h3>fashionrec {__version__}</h3>"
        "<p>Finds look-alike fashion items in a folder of product photos, entirely on this computer.</p>"
        "<p>Each photo becomes a 2048-number description from a ResNet50 network (global max pooling, "
        "L2-normalised); the nearest descriptions are the most similar items.</p>"
        f"<p>Index cache: <tt>{data_dir()}</tt><br>Log file: <tt>{log_dir() / 'fashionrec.log'}</tt></p>")
