"""The row shown while a long catalog operation runs (export, near-duplicates): what runs, progress, Cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton

from .operations import Op, OpTask


class TaskRow(QFrame):
    """`start(text, request, on_success, on_failure)` sends a named operation made `with_progress(row.progress)`
    and shows its progress until it answers; Cancel asks it to stop (the work then returns its 'cancelled'
    value)."""

    def __init__(self):
        super().__init__()
        self.setObjectName("progressRow")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.label)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        self.task: OpTask | None = None
        self.hide()

    @property
    def running(self) -> bool:
        return self.task is not None

    def start(self, text: str, request: Op, on_success: Callable[[Any], Any], on_failure: Callable[[str], Any]) -> int:
        self.label.setText(text)
        self.bar.setRange(0, 0)  # busy until the first report
        self.cancel_button.setEnabled(True)
        self.show()
        self.task = request.task
        return request.success(self._finishing(on_success)).failure(self._finishing(on_failure)).run()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText("Cancelling…")

    def phase(self, text: str) -> None:
        """A step that reports no progress of its own starts: its name, and the bar busy (not a still 0 %)."""
        self.label.setText(text)
        self.bar.setRange(0, 0)

    def progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)

    def _finishing(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def finish(value) -> None:
            self.task = None
            self.hide()
            callback(value)

        return finish
