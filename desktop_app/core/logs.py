"""Logging to a file in the user log dir: tracebacks go there, not in the person's face."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from .paths import log_dir

# fashionrec.log is rotated at LOG_MAX_BYTES, keeping LOG_BACKUPS older files (.log.1 …): at most ~8 MB in all.
LOG_MAX_BYTES = 2 * 1024 * 1024
LOG_BACKUPS = 3


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Log to <user log dir>/fashionrec.log; returns its path, or None if the folder is not writable."""
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            folder / "fashionrec.log", maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return Path(handler.baseFilename)
