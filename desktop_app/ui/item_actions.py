"""What a person can do with one catalog item wherever it is shown (results, near-duplicates, the browser):
open it, show it in its folder, copy its path, find items similar to it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPoint, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMenu, QWidget


def open_file(path: str) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def item_menu(parent: QWidget, path: str, relpath: str, find_similar: Callable[[str], object] | None) -> QMenu:
    """The context menu of one item; `find_similar(relpath)` adds "Find similar to this"."""
    menu = QMenu(parent)
    menu.addAction("Open", lambda: open_file(path))
    menu.addAction("Show in folder", lambda: open_file(str(Path(path).parent)))
    menu.addAction("Copy path", lambda: QGuiApplication.clipboard().setText(path))
    if find_similar is not None:
        menu.addSeparator()
        menu.addAction("Find similar to this", lambda: find_similar(relpath))
    return menu


def show_item_menu(view, position: QPoint, path: str, relpath: str,
                   find_similar: Callable[[str], object] | None) -> None:
    """Pops the item's menu at `position` (viewport coordinates of an item view, as customContextMenuRequested
    gives them)."""
    item_menu(view, path, relpath, find_similar).exec(view.viewport().mapToGlobal(position))
