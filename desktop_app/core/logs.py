"""Logging to a file in the user log dir: tracebacks go there, not in the person's face."""

from __future__ import annotations

import logging
from pathlib import Path

from .paths import log_dir


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Log to <user log dir>/fashionrec.log; returns its path, or None if the folder is not writable."""
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(folder / "fashionrec.log", encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return Path(handler.baseFilename)
