"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import contextlib
import io
import os
import time
from pathlib import Path

import numpy as np

STALE_PARTIAL_SECONDS = 3600


def write_atomically(path: Path, data: bytes) -> None:
    """`path` holds either its old content or all of `data`, never a part: written beside it, then renamed.
    Another process writing the same file at the same time writes the same bytes (each to its own partial)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob("*.partial"):  # left by a process killed while writing
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > STALE_PARTIAL_SECONDS:
                stale.unlink()
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)  # a full disk leaves nothing behind
        raise


def save_arrays_atomically(path: Path, array: np.ndarray | None = None, **named: np.ndarray) -> None:
    """One array as .npy, or named arrays as .npz, written with `write_atomically`; never pickled."""
    buffer = io.BytesIO()
    if array is not None:
        np.save(buffer, array, allow_pickle=False)
    else:
        np.savez(buffer, allow_pickle=False, **named)
    write_atomically(path, buffer.getvalue())
