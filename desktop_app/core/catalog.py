"""Scanning a catalog folder: which image files exist and their identity (path, size, mtime_ns)."""

from __future__ import annotations

import hashlib
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
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")  # the order they are named in
IMAGE_EXTENSIONS = frozenset(IMAGE_SUFFIXES)
HASH_SAMPLE = 64 * 1024  # bytes read at each end of a file for its content hash


def image_patterns() -> str:
    """`*.jpg *.jpeg …`, for a file dialog's filter."""
    return " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES)


def no_images_message(root: Path) -> str:
    return f"No images found in {root} (looked for {' '.join(IMAGE_SUFFIXES)} files)."


@dataclass(frozen=True)
class CatalogFile:
    relpath: str  # POSIX-style, relative to the catalog root
    size: int
    mtime_ns: int
    problem: str = ""  # why the file cannot be read at all, found while scanning (it is listed as skipped)


def content_hash(path: str | os.PathLike, size: int) -> str | None:
    """A fast hash of a file's content: BLAKE2b-128 of its first and last HASH_SAMPLE bytes (the whole file when
    smaller), for a file of `size` bytes. With the size, what tells a moved or renamed photo from another photo:
    an edited photo is saved anew (a JPEG is re-encoded whole), so its size or its ends change. None when the
    file cannot be read."""
    digest = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as f:
            digest.update(f.read(HASH_SAMPLE))
            if size > 2 * HASH_SAMPLE:
                f.seek(size - HASH_SAMPLE)
            digest.update(f.read(HASH_SAMPLE))
    except OSError:
        return None
    return digest.hexdigest()


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def catalog_root(folder: str | os.PathLike) -> Path:
    """The catalog's identity: its resolved absolute path. Raises UserError if it is not a folder (an empty
    name too: Path('') is the current folder, which nobody means by an empty argument)."""
    if not str(folder).strip():
        raise UserError("No catalog folder given (the name is empty).")
    path = Path(folder).expanduser()
    if not path.exists():
        raise UserError(f"Catalog folder not found: {path}")
    if not path.is_dir():
        raise UserError(f"Not a folder: {path}")
    return path.resolve()


def _image_names_by_folder(root: Path, onerror=None):
    """(folder path, image file names in it) for root and its subfolders, sorted; hidden files and folders
    (leading dot) left out. Symlinked folders are followed once each: a folder already visited (same
    device and inode) is not entered again, so loops end."""
    seen_dirs: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=onerror):
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
        yield dirpath, [name for name in filenames if not name.startswith(".") and is_image_name(name)]


def has_images(root: Path) -> bool:
    """Whether `scan` would find at least one image name; stops at the first (cheap on any real catalog)."""
    return any(names for _, names in _image_names_by_folder(root))


def scan(root: Path, unreadable_folders: list[tuple[str, str]] | None = None) -> list[CatalogFile]:
    """All image files under root, recursively, sorted by relative path (see `_image_names_by_folder`).

    Image names that cannot be read (broken or looping symlinks, names that are not valid UTF-8) are
    returned with a `problem`, so the person sees them as skipped instead of silently missing.
    Folders that cannot be listed are added to `unreadable_folders` as (relpath, reason).
    """
    files: list[CatalogFile] = []

    def note_unreadable(err: OSError) -> None:
        if unreadable_folders is not None:
            rel = os.path.relpath(err.filename or root, root).replace(os.sep, "/")
            unreadable_folders.append((rel, f"folder could not be read ({err.strerror or err})"))

    for dirpath, names in _image_names_by_folder(root, note_unreadable):
        for name in names:
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
