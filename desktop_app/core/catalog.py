"""Scanning a catalog folder: which image files exist and their identity (path, size, mtime_ns)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})


@dataclass(frozen=True)
class CatalogFile:
    relpath: str  # POSIX-style, relative to the catalog root
    size: int
    mtime_ns: int


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


def scan(root: Path) -> list[CatalogFile]:
    """All image files under root, recursively, sorted by relative path.

    Hidden files and folders (leading dot) are skipped. Symlinked folders are followed once each:
    a folder already visited (same device and inode) is not entered again, so loops end.
    """
    files: list[CatalogFile] = []
    seen_dirs: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
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
            full = os.path.join(dirpath, name)
            try:
                st = os.stat(full)
            except OSError:  # dangling symlink, or vanished since listing
                continue
            if not stat.S_ISREG(st.st_mode):  # e.g. a folder named "x.jpg" is walked, not read
                continue
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            files.append(CatalogFile(rel, st.st_size, st.st_mtime_ns))
    files.sort(key=lambda f: f.relpath)
    return files
