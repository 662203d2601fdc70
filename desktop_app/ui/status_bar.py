"""The permanent part of the status bar: which catalog and model, how many items, how many skipped."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from .lanes import CatalogInfo
from .model_choice import choice_name


def elide_path(path: str, keep: int = 2) -> str:
    """The last `keep` folders of a path, for the status bar (the tooltip has all of it)."""
    parts = Path(path).parts
    return path if len(parts) <= keep + 1 else str(Path("…", *parts[-keep:]))


class CatalogStatus(QWidget):
    def __init__(self, show_skipped):
        super().__init__()
        self.catalog_label = QLabel("No catalog open")
        self.count_label = QLabel()
        self.model_label = QLabel()
        self.skipped_button = QPushButton()
        self.skipped_button.setFlat(True)
        self.skipped_button.clicked.connect(show_skipped)
        self.skipped_button.hide()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.catalog_label, self.count_label, self.skipped_button, self.model_label):
            row.addWidget(widget)

    def show_catalog(self, info: CatalogInfo) -> None:
        self.catalog_label.setText(elide_path(info.root))
        self.catalog_label.setToolTip(info.root)
        self.show_count(info.items)
        self.model_label.setText(choice_name(info.model_name, info.precision)  # named as in the model box
                                 + (" · random weights (demo)" if info.random_weights else ""))
        self.model_label.setToolTip(info.model)
        self.model_label.setProperty("demo", info.random_weights)
        self.model_label.style().polish(self.model_label)

    def show_count(self, items: int) -> None:
        self.count_label.setText(f"{items:,} items")

    def show_skipped(self, count: int) -> None:
        self.skipped_button.setText(f"{count} skipped…")
        self.skipped_button.setVisible(count > 0)
