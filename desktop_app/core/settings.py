"""Settings shared by the CLI and the GUI (a small JSON file in the user config dir)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .paths import config_dir


def _settings_file() -> Path:
    return config_dir() / "settings.json"


def load() -> dict:
    try:
        value = json.loads(_settings_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def get(key: str, default=None):
    return load().get(key, default)


def put(key: str, value) -> None:
    """Set one key; written atomically so a crash never leaves half a file."""
    values = load()
    if value is None:
        values.pop(key, None)
    else:
        values[key] = value
    path = _settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values, indent=2), encoding="utf-8")
    os.replace(tmp, path)
