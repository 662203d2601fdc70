"""What a person can do with one catalog item wherever it is shown (results, near-duplicates, the browser):
open it, show it in its folder, copy its path, find items similar to it.

Opening goes through the desktop's launcher (xdg-open on Linux); where there is none, Qt only writes a line to
stderr, so the window says so itself and offers to copy the path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPoint, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget


def open_file(parent: QWidget, path: str) -> bool:
    """Open a file or folder with the desktop's program for it; if nothing opened it, a note with Copy path."""
    if QDesktopServices.openUrl(QUrl.fromLocalFile(path)):
        return True
    box = QMessageBox(QMessageBox.Icon.Information, "fashionrec",
                      f"Nothing could open {path}: this system has no program set up to open it (no desktop "
                      "launcher such as xdg-open). Copy the path to open it another way.",
                      QMessageBox.StandardButton.Close, parent)
    box.setObjectName("openFailed")
    copy = box.addButton("Copy path", QMessageBox.ButtonRole.AcceptRole)
    copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(path))
    box.open()  # window-modal, not blocking
    return False


def item_menu(parent: QWidget, path: str, relpath: str, find_similar: Callable[[str], object] | None) -> QMenu:
    """The context menu of one item; `find_similar(relpath)` adds "Find similar to this"."""
    menu = QMenu(parent)
    menu.addAction("Open", lambda: open_file(parent, path))
    menu.addAction("Show in folder", lambda: open_file(parent, str(Path(path).parent)))
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
