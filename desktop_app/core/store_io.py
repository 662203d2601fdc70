"""The SQLite side of a store: connecting (read-only too, on a read-only disk), transactions, a failure told plainly
(damage, as opposed to a full disk or a read-only folder), and the lock one writer holds across processes."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from pathlib import Path

from .errors import UserError


class CatalogBusy(UserError):
    """Another process holds the store's lock (it is indexing this catalog with this model, or forgetting it)."""


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing store (sqlite3.Error when it cannot be opened).

    A WAL store needs its index file (-shm) beside it, which SQLite cannot create on a read-only disk or in a
    folder nobody may write: there the file is opened as immutable, which is safe because nobody can be
    writing it either (a writer needs the same folder for its -wal and -shm files)."""
    def connect(parameters: str) -> sqlite3.Connection:
        return sqlite3.connect(f"{path.resolve().as_uri()}?{parameters}", uri=True, timeout=30,
                               isolation_level=None, check_same_thread=False)

    db = connect("mode=ro")
    try:
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opening is lazy: this opens the file
        return db
    except sqlite3.OperationalError:
        db.close()
        if folder_writable(path.parent):
            raise
    return connect("mode=ro&immutable=1")


def folder_writable(folder: Path) -> bool:
    """Whether files can be created in `folder` (root ignores permissions but not a read-only mount)."""
    read_only_mount = hasattr(os, "statvfs") and bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    return not read_only_mount and os.access(folder, os.W_OK)


@contextlib.contextmanager
def store_lock(lock_path: Path, busy_message: str, wait: bool = False, on_wait=None):
    """One process at a time writes a store (indexing or forgetting it); readers are never blocked (WAL).
    With `wait`, `on_wait()` is called once before blocking, so the person knows why nothing happens."""
    with open(lock_path, "a+b") as handle:
        if not _lock_file(handle, False):
            if not wait:
                raise CatalogBusy(busy_message)
            if on_wait is not None:
                on_wait()
            _lock_file(handle, True)
        try:
            yield
        finally:
            _unlock_file(handle)


@contextlib.contextmanager
def transaction(db: sqlite3.Connection):
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # SQLite has already rolled back after some errors, e.g. a full disk
            db.execute("ROLLBACK")
        raise



def is_damage(err: sqlite3.DatabaseError) -> bool:
    """A damaged file (rebuild it), as opposed to a full disk, a read-only folder or a lock."""
    name = getattr(err, "sqlite_errorname", "")  # Python 3.11+; the message covers older versions
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or \
        any(text in str(err) for text in ("malformed", "not a database"))


def environment_error(err: Exception, path: Path) -> UserError:
    text = str(err)
    if "full" in text:
        hint = "Free some disk space and index again"
    elif "locked" in text or "busy" in text:
        hint = "Another fashionrec is using it; try again in a moment"
    else:
        hint = "Check the folder's permissions, or set FASHIONREC_DATA_DIR to a writable folder"
    return UserError(f"Cannot use the cache {path} ({text}). {hint}; nothing indexed so far is lost.")


if sys.platform == "win32":
    import msvcrt

    def _lock_file(handle, wait: bool) -> bool:
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock_file(handle) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_file(handle, wait: bool) -> bool:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True

    def _unlock_file(handle) -> None:
        fcntl.flock(handle, fcntl.LOCK_UN)

