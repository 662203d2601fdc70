"""Two small buttons over the result tile under the mouse: More like this (+) and Less like this (−)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QToolButton, QWidget


class FeedbackButtons(QWidget):
    def __init__(self, view: QListWidget, relpath_of: Callable[[QListWidgetItem], str],
                 on_more: Callable[[str], object], on_less: Callable[[str], object]):
        """Shown over the tile the mouse is on; `on_more(relpath)` / `on_less(relpath)` when clicked."""
        super().__init__(view.viewport())
        self._view, self._relpath_of = view, relpath_of
        self.relpath: str | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self.more_button = self._button("+", "More like this: search again, moved towards this item", on_more)
        self.less_button = self._button("−", "Less like this: search again, moved away from this item", on_less)
        row.addWidget(self.more_button)
        row.addWidget(self.less_button)
        self.adjustSize()
        view.setMouseTracking(True)
        view.itemEntered.connect(self.show_over)
        view.viewport().installEventFilter(self)
        view.verticalScrollBar().valueChanged.connect(self.hide)
        self.hide()

    def _button(self, text: str, tip: str, act: Callable[[str], object]) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setObjectName("feedbackButton")
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(lambda: self.relpath and act(self.relpath))
        return button

    def show_over(self, tile: QListWidgetItem) -> None:
        """Over the top right corner of `tile` (the mouse entered it)."""
        self.relpath = self._relpath_of(tile)
        rect = self._view.visualItemRect(tile)
        self.move(rect.topRight() - QPoint(self.width() + 4, -4))
        self.show()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave and not self.rect().contains(self.mapFromGlobal(QCursor.pos())):
            self.hide()
        return False
