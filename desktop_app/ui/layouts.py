"""A row of controls in one call: the dialogs' control bars are all built this way."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

STRETCH = None  # in `controls_row`: the free space goes here


def controls_row(*items: QWidget | str | None) -> QHBoxLayout:
    """A horizontal layout of `items`: a widget, a str (a label) or STRETCH."""
    row = QHBoxLayout()
    for item in items:
        if item is STRETCH:
            row.addStretch(1)
        else:
            row.addWidget(QLabel(item) if isinstance(item, str) else item)
    return row
