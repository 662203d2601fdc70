"""Where fashionrec keeps its files: data (stores), config (settings), logs, caches, and bundled resources.

Each has an environment override (tests and the self-test point them at temporary folders)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "fashionrec"


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
    """`resources/` beside the package, or inside the PyInstaller bundle when frozen."""
    bundle = getattr(sys, "_MEIPASS", None)
    base = Path(bundle) if bundle else Path(__file__).resolve().parents[2]
    return base / "resources"
