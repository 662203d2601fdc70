"""The window's dialogs: missing weights, skipped files, and the About text."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QLayout,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..core import settings, weights
from ..core.embedders import BUILT_IN_DESCRIPTION
from ..core.errors import UserError
from ..core.paths import data_dir, log_dir
from .model_choice import BUILT_IN_CHOICE

# The models the weights dialog offers instead (no weights file needed): (model box choice, button, what it
# compares), the recommended one first. One entry per model: a new weight-free network is one more line here.
WEIGHT_FREE_CHOICES = (
    (BUILT_IN_CHOICE, f"Use the built-in network ({BUILT_IN_DESCRIPTION})",
     "Recommended: a trained network installed with fashionrec, no weights file needed (docs/models.md)."),
    ("shape-colour", "Use shape-colour", "Compares shapes and colours: meaningful results without a weights file."),
    ("colour-texture", "Use colour-texture",
     "Compares colours and textures: meaningful results without a weights file."),
)
WEIGHT_FREE_MODELS = tuple(choice for choice, _, _ in WEIGHT_FREE_CHOICES)


class WeightsDialog(QDialog):
    """Says, in the window's words, which weights file is missing and where to get it. The person chooses the
    file (checked, remembered), the weight-free model, or random weights (demo). `choice` is then the
    Weights to use, or the name of the model to switch to; None when cancelled."""

    def __init__(self, message: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("ResNet50 weights needed")
        self.choice: weights.Weights | str | None = None
        link = f'<a href="{weights.WEIGHTS_URL}">{weights.WEIGHTS_URL}</a>'
        text = QLabel(f"<b>The ResNet50 model needs its ImageNet weights file</b> <tt>{weights.WEIGHTS_FILENAME}</tt> "
                      "(94 MB). fashionrec found no usable copy of it and could not download it."
                      f"<p>Download it from {link}, then choose it here; fashionrec remembers it.</p>"
                      f"<p>Or, recommended, use the built-in network ({BUILT_IN_DESCRIPTION}, installed with "
                      f"fashionrec): it needs no weights file. {' and '.join(WEIGHT_FREE_MODELS[1:])} need none "
                      "either.</p>")
        text.setWordWrap(True)
        text.setMinimumWidth(560)
        text.setOpenExternalLinks(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)  # link: click, select, copy
        self.text = text
        self.problem = QLabel()
        self.problem.setObjectName("notice")
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.hide()
        if message != weights.missing_weights_message():  # e.g. the saved or FASHIONREC_WEIGHTS file is broken
            self._show_problem(message)
        # One choice per row, the recommended one (the built-in network) first, random weights last.
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, Qt.Orientation.Vertical)
        choose = QPushButton("Choose the weights file…")
        demo = QPushButton("Use random weights (demo)")
        demo.setToolTip("An untrained network: the app works, but the results are not meaningful.")
        actions: list[tuple[QPushButton, Callable[..., object]]] = []
        for choice, label, tip in WEIGHT_FREE_CHOICES:
            button = QPushButton(label)
            button.setToolTip(tip)
            actions.append((button, lambda _=False, m=choice: self.choose_weight_free_model(m)))
        self.built_in_button = actions[0][0]
        actions.insert(1, (choose, self._choose_file))
        for button, slot in (*actions, (demo, self.choose_random)):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)  # ActionRole: no auto-accept
            button.clicked.connect(slot)
        for each in buttons.buttons():  # Enter takes the recommended choice, whichever button has the focus
            if isinstance(each, QPushButton):
                each.setAutoDefault(False)
        self.built_in_button.setDefault(True)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)  # grows with the explanation shown
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
            checked = weights.check_weights_file(Path(path))
        except UserError as err:
            self._show_problem(str(err))
            return False
        settings.put(weights.SETTING_KEY, str(checked))
        self.choice = weights.Weights(path=checked, source="chosen in the app")
        self.accept()
        return True

    def choose_random(self) -> None:
        self.choice = weights.random_weights(0)
        self.accept()

    def choose_weight_free_model(self, model: str = WEIGHT_FREE_MODELS[0]) -> None:
        self.choice = model
        self.accept()

    def _show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()
        self.adjustSize()


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


def about_text(model_description: str | None, model: str) -> str:
    """Help ▸ About; `model_description`: the active embedder's describe(), None while no catalog is open."""
    active = (f"<p>Active model: {html.escape(model_description)}.</p>" if model_description else
              f"<p>Model: {model} (described here once a catalog is open with it).</p>")
    return (f"<h3>fashionrec {__version__}</h3>"
            "<p>Finds look-alike fashion items in a folder of product photos, entirely on this computer.</p>"
            "<p>The model turns each photo into a list of numbers describing it; the nearest descriptions are "
            f"the most similar items.</p>{active}"
            f"<p>Index cache: <tt>{data_dir()}</tt><br>Log file: <tt>{log_dir() / 'fashionrec.log'}</tt></p>")
