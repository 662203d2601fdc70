"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from .errors import UserError

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


def check_output_file(path: str | os.PathLike, suffixes: tuple[str, ...], what: str) -> Path:
    """`path` if a file of one of `suffixes` can be created there (checked by creating and removing one, so a
    folder such as /proc or a read-only mount is found out before any long work); UserError saying why not."""
    if not str(path).strip():
        raise UserError(f"No {what} file given (the name is empty).")
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder; give a file name ending in {' or '.join(suffixes)}.")
    if path.suffix.lower() not in suffixes:
        raise UserError(f"Cannot tell the format of {path.name}: name the {what} {' or '.join(suffixes)}.")
    if not path.parent.is_dir():
        raise UserError(f"The folder {path.parent} does not exist.")
    try:
        handle, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as err:
        raise UserError(f"Cannot create a file in {path.parent} ({err.strerror or err}); choose another folder "
                        f"for the {what}.") from None
    os.close(handle)
    os.unlink(probe)
    return path


def new_file_mode(replacing: Path | None = None) -> int:
    """The permission bits a file should get when it appears: those of the file it replaces, else what the
    umask leaves of rw-rw-rw- (a temporary file from mkstemp is 0600, whatever the umask)."""
    if replacing is not None:
        with contextlib.suppress(OSError):
            return replacing.stat().st_mode & 0o777
    return 0o666 & ~current_umask()


def current_umask() -> int:
    """The process's umask: read from /proc where there is one (setting it to read it races with other threads
    creating files), else set and restored."""
    with contextlib.suppress(OSError, ValueError, StopIteration), open("/proc/self/status", encoding="ascii") as status:
        return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
