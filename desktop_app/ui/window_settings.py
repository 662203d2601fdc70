"""What the window remembers between launches: recent catalogs, model, photo folder, geometry."""

from __future__ import annotations

import functools

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

from ..core.paths import config_dir

MAX_RECENT = 8


def window_settings() -> QSettings:
    """In the same config folder as the core's settings (tests isolate it)."""
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)


class RecentCatalogs:
    """The File ▸ Recent catalogs menu, newest first; choosing one calls open_catalog(folder)."""

    def __init__(self, menu: QMenu, settings: QSettings, open_catalog):
        self.menu, self._settings, self._open = menu, settings, open_catalog
        self._update_menu()

    def folders(self) -> list[str]:
        value = self._settings.value("recent_catalogs", [])
        return [value] if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else []

    def remember(self, folder: str) -> None:
        recent = [folder] + [f for f in self.folders() if f != folder]
        self._settings.setValue("recent_catalogs", recent[:MAX_RECENT])
        self._update_menu()

    def _update_menu(self) -> None:
        self.menu.clear()
        for folder in self.folders():
            self.menu.addAction(folder, functools.partial(self._open, folder))
        self.menu.setEnabled(not self.menu.isEmpty())
