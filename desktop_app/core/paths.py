"""Where fashionrec keeps its files: data (stores), config (settings), logs, caches, and bundled resources.

Each has an environment override (tests and the self-test point them at temporary folders)."""

from __future__ import annotations

import importlib.resources
import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "fashionrec"
RESOURCES_PACKAGE = "desktop_app.resources"


def data_dir() -> Path:
    """User data dir for the stores; FASHIONREC_DATA_DIR overrides it (tests use that)."""
    override = os.environ.get("FASHIONREC_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))


def config_dir() -> Path:
    override = os.environ.get("FASHIONREC_DATA_DIR")
    return Path(override) / "config" if override else Path(platformdirs.user_config_dir(APP_NAME))


def log_dir() -> Path:
    override = os.environ.get("FASHIONREC_DATA_DIR")
    return Path(override) / "logs" if override else Path(platformdirs.user_log_dir(APP_NAME))


def cache_dir() -> Path:
    """Files that can be made again (converted models); FASHIONREC_CACHE_DIR overrides it."""
    override = os.environ.get("FASHIONREC_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME))


def models_cache_dir() -> Path:
    """Converted models: shared by every data dir, so a one-off conversion is not repeated per data dir."""
    return cache_dir() / "models"


def resources_dir() -> Path:
    """The bundled resources: icons, style sheet, and a weights file placed there.

    The top-level `resources/` folder is the package `desktop_app.resources` (setup.py), so editable installs
    and installed wheels both find it through importlib.resources (a wheel carries the icons and the style
    sheet only); the PyInstaller bundle carries it as `resources/` beside the app.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(str(importlib.resources.files(RESOURCES_PACKAGE)))
