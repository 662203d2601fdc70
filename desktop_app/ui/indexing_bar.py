"""The row shown while a catalog indexes: progress, speed and time left, and Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton

from ..core.formatting import format_duration
from ..core.indexer import Progress


class IndexingBar(QFrame):
    def __init__(self, cancel):
        super().__init__()
        self.setObjectName("progressRow")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setFormat("%v / %m")
        self.label = QLabel()
        self.label.setMinimumWidth(280)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current batch (Esc); what is done is kept")
        self.cancel_button.clicked.connect(cancel)
        row.addWidget(self.bar, 1)
        row.addWidget(self.label)
        row.addWidget(self.cancel_button)

    def started(self) -> None:
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.label.setText("Looking for new and changed photos…")
        self.label.setToolTip("")

    def loading_model(self, description: str) -> None:
        self.bar.setRange(0, 0)  # busy: the first load imports TensorFlow (seconds)
        self.label.setText("Loading the model…")
        self.label.setToolTip(description)

    def show_progress(self, p: Progress) -> None:
        self.bar.setRange(0, max(p.total, 1))
        self.bar.setValue(p.done if p.total else 1)
        self.bar.setFormat("%v / %m" if p.total else "nothing new to index")
        self.label.setText(f"{p.rate:.1f} img/s · ETA {format_duration(p.eta)} · {p.skipped_count} skipped")

    def cancelling(self) -> None:
        self.label.setText("Cancelling after the current batch…")
