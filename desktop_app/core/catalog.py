"""Scanning a catalog folder: which image files exist and their identity (path, size, mtime_ns)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .images import os_error_reason

# The mtime recorded for a file that could not be read: it never equals a real one, so an incremental
# run tries the file again (after its permissions are fixed, or a drive is back) instead of trusting
# an identity that says nothing about the content.
UNREAD_MTIME = -1
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})


@dataclass(frozen=True)
class CatalogFile:
    relpath: str  # POSIX-style, relative to the catalog root
    size: int
    mtime_ns: int
    problem: str = ""  # why the file cannot be read at all, found while scanning (it is listed as skipped)


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def catalog_root(folder: str | os.PathLike) -> Path:
    """The catalog's identity: its resolved absolute path. Raises UserError if it is not a folder."""
    path = Path(folder).expanduser()
    if not path.exists():
        raise UserError(f"Catalog folder not found: {path}")
    if not path.is_dir():
        raise UserError(f"Not a folder: {path}")
    return path.resolve()


def scan(root: Path, unreadable_folders: list[tuple[str, str]] | None = None) -> list[CatalogFile]:
    """All image files under root, recursively, sorted by relative path.

    Hidden files and folders (leading dot) are skipped. Symlinked folders are followed once each:
    a folder already visited (same device and inode) is not entered again, so loops end.
    Image names that cannot be read (broken or looping symlinks, names that are not valid UTF-8) are
    returned with a `problem`, so the person sees them as skipped instead of silently missing.
    Folders that cannot be listed are added to `unreadable_folders` as (relpath, reason).
    """
    files: list[CatalogFile] = []
    seen_dirs: set[tuple[int, int]] = set()

    def note_unreadable(err: OSError) -> None:
        if unreadable_folders is not None:
            rel = os.path.relpath(err.filename or root, root).replace(os.sep, "/")
            unreadable_folders.append((rel, f"folder could not be read ({err.strerror or err})"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=note_unreadable):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:
            dirnames[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith(".") or not is_image_name(name):
                continue
            entry = _catalog_file(root, os.path.join(dirpath, name))
            if entry:
                files.append(entry)
    files.sort(key=lambda f: f.relpath)
    return files


def _catalog_file(root: Path, full: str) -> CatalogFile | None:
    """The identity of one image-named directory entry; None for folders, devices and vanished files."""
    problem = ""
    try:
        st = os.stat(full)
    except OSError as err:  # a broken or looping symlink, or vanished since listing
        problem = os_error_reason(err, full)
        try:
            st = os.lstat(full)
        except OSError:
            return None
    if not problem and not stat.S_ISREG(st.st_mode):  # e.g. a folder named "x.jpg" is walked, not read
        return None
    rel = os.path.relpath(full, root).replace(os.sep, "/")
    if not _is_valid_text(rel):  # the store keeps names as text: record a readable, lossy version
        rel = os.fsencode(rel).decode("utf-8", "replace")
        problem = problem or "file name is not valid UTF-8 text; rename the file to index it"
    return CatalogFile(rel, st.st_size, st.st_mtime_ns, problem)


def _is_valid_text(name: str) -> bool:
    """False for names holding undecodable bytes (Python keeps them as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
