"""ONNX models made on this machine (a network built from its weights, its int8 quantization), cached in the
model cache dir (paths.models_cache_dir) so they are made once.

Each model file `<stem>-<key digest>.onnx` has a sidecar `.json` naming the full key it was made for and its
SHA-256: a file whose sidecar names another key, or whose bytes do not match, is made again, never run.

The packaged app may carry a model made at build time (its resources' `models/`, same name and sidecar): it is
used, checked the same way, when the cache has none (build/build.sh bundles EfficientNet-Lite0's int8 model).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import UserError
from ..files import write_atomically
from ..paths import models_cache_dir, resources_dir

log = logging.getLogger(__name__)


def cached_model_path(stem: str, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return models_cache_dir() / f"{stem}-{digest}.onnx"


def bundled_path(cached: Path) -> Path:
    """Where the packaged app would carry this cached model (made at build time)."""
    return resources_dir() / "models" / cached.name


def sidecar_path(path: Path) -> Path:
    return path.with_suffix(".json")


def read_cached_model(path: Path, key: dict) -> bytes | None:
    """The cached model's bytes when its sidecar names this key and its SHA-256 matches; else None."""
    try:
        sidecar = json.loads(sidecar_path(path).read_text())
        data = path.read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(sidecar, dict) or sidecar.get("key") != key:
        log.warning("cached model %s was made for another key: making it again", path)
        return None
    if sidecar.get("sha256") != hashlib.sha256(data).hexdigest():
        log.warning("cached model %s is damaged (checksum differs): making it again", path)
        return None
    return data


def write_cached_model(path: Path, key: dict, data: bytes, what: str) -> None:
    try:
        write_atomically(path, data)
        sidecar = {"key": key, "sha256": hashlib.sha256(data).hexdigest()}
        write_atomically(sidecar_path(path), json.dumps(sidecar, sort_keys=True).encode())
    except OSError as err:
        raise UserError(f"Cannot save the {what} to {path} ({err.strerror or err}). Free some disk space "
                        "or set FASHIONREC_CACHE_DIR to a folder with room.") from None


def cached_model(stem: str, key: dict, make: Callable[[], bytes], what: str, done: str) -> tuple[bytes, str]:
    """(model bytes, what was done): from the cache when it holds a sound copy, else `make()`, then cached.
    `what` names the model in messages ("int8 model"), `done` what making it is ("quantized to int8 …")."""
    path = cached_model_path(stem, key)
    for place, candidate in (("cache", path), ("the app's bundled copy", bundled_path(path))):
        data = read_cached_model(candidate, key)
        if data is not None:
            return data, f"{what} loaded from {place} {candidate}"
    started = time.perf_counter()
    data = make()
    write_cached_model(path, key, data, what)
    return data, f"{done} in {time.perf_counter() - started:.1f} s (once; cached as {path})"
