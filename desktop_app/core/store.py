"""The on-disk cache of one catalog's vectors for one model fingerprint: SQLite in WAL mode.

Where it lives is the catalog's business (catalog_data.Catalog). Each batch is committed in its own
transaction, so a crash or kill keeps every finished batch. Vectors are raw little-endian float32 blobs;
nothing read back from disk is ever unpickled or executed.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import UserError

if TYPE_CHECKING:
    from .catalog_data import Catalog

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
VECTOR_DTYPE = np.dtype("<f4")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    relpath TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS skipped (
    relpath TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS generation (id INTEGER PRIMARY KEY CHECK (id = 0), token TEXT NOT NULL,
    value INTEGER NOT NULL);
INSERT OR IGNORE INTO generation VALUES (0, lower(hex(randomblob(8))), 0);
"""


@dataclass(frozen=True)
class Embedded:
    relpath: str
    size: int
    mtime_ns: int
    vector: np.ndarray


@dataclass(frozen=True)
class Skipped:
    relpath: str
    size: int
    mtime_ns: int
    reason: str


class CatalogBusy(UserError):
    """Another process holds the store's lock (it is indexing this catalog with this model, or forgetting it)."""


class NotIndexed(UserError):
    """A store opened only to read does not exist: the catalog was never indexed with that model."""


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
        if _folder_writable(path.parent):
            raise
    return connect("mode=ro&immutable=1")


def _folder_writable(folder: Path) -> bool:
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


class Store:
    """Vectors and skip reasons of one catalog for one embedder fingerprint."""

    def __init__(self, catalog: Catalog, fingerprint: str, dim: int, model_name: str = "model",
                 read_only: bool = False):
        """Opens the store, creating it when there is none; `read_only` only reads an existing one (NotIndexed
        when there is none), which also works on a read-only disk, and never creates or rebuilds anything."""
        self.catalog = catalog
        self.root = catalog.root
        self.fingerprint = fingerprint
        self.dim = dim
        self.model_name = model_name
        self.path = catalog.store_path(model_name, fingerprint)
        self.rebuilt_reason: str | None = None  # set when a damaged or foreign store was replaced
        if read_only:
            self.folder = catalog.folder
            self._db = self._open_read_only()
        else:
            self.folder = catalog.writable_folder()
            self._db = self._open()

    # -- opening ---------------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        """The checked store; a damaged or foreign one is moved aside and replaced by a new one."""
        try:
            return self._connect_checked()
        except _UnusableStore as problem:
            self.rebuilt_reason = str(problem)
            self._move_aside()
        try:
            return self._connect_checked()
        except _UnusableStore as problem:  # even a brand-new file is unusable: the folder is the problem
            raise UserError(f"Cannot create the cache {self.path}: {problem}.") from None

    def _open_read_only(self) -> sqlite3.Connection:
        if not self.path.exists():
            raise NotIndexed(f"The catalog {self.root} is not indexed with {self.model_name} yet.")
        try:
            db = connect_read_only(self.path)
        except sqlite3.Error as err:
            raise _environment_error(err, self.path) from None
        try:
            meta = dict(db.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as err:
            db.close()
            raise UserError(f"The cache {self.path} cannot be read ({err}); index the catalog again to rebuild "
                            "it.") from None
        expected = self._expected_meta()
        if meta != expected:
            db.close()
            raise UserError(f"The cache {self.path} cannot be used: {_foreign_reason(meta, expected)}; index the "
                            "catalog again to rebuild it.")
        return db

    def _expected_meta(self) -> dict[str, str]:
        return {"schema_version": str(SCHEMA_VERSION), "fingerprint": self.fingerprint, "dim": str(self.dim),
                "root": str(self.root)}

    def _connect_checked(self) -> sqlite3.Connection:
        """Raises _UnusableStore (damaged or foreign: rebuild it) or UserError (the disk or folder)."""
        fresh = not self.path.exists()
        db = None
        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            if not fresh:
                status = db.execute("PRAGMA quick_check").fetchone()[0]
                if status != "ok":
                    raise _UnusableStore(f"the cache failed its integrity check ({status})")
            db.executescript(_SCHEMA)
            self._check_meta(db)
            return db
        except BaseException as err:
            if db is not None:
                db.close()
            if fresh:  # no half-written new store is left behind
                self._remove_files()
            if isinstance(err, sqlite3.DatabaseError):
                if _is_damage(err):
                    raise _UnusableStore(f"the cache file is damaged ({err})") from None
                raise _environment_error(err, self.path) from None
            raise

    def _check_meta(self, db: sqlite3.Connection) -> None:
        expected = self._expected_meta()
        try:
            meta = dict(db.execute("SELECT key, value FROM meta"))
        except sqlite3.OperationalError:  # e.g. a meta table without these columns
            raise _UnusableStore("the cache file is not in fashionrec's format") from None
        if not meta:  # a new store (INSERT OR IGNORE: another process may be creating it too)
            with _transaction(db):
                db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)", expected.items())
            meta = dict(db.execute("SELECT key, value FROM meta"))
        if meta != expected:
            raise _UnusableStore(_foreign_reason(meta, expected))

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)

    def _move_aside(self) -> None:
        """Keep the latest damaged store for inspection instead of deleting it; it is never read again.

        Older damaged copies are deleted, so flipping between app versions cannot fill the disk.
        """
        for older in self.folder.glob(f"{self.path.name}.damaged-*"):
            older.unlink()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                src.replace(Path(f"{self.path}.damaged-{stamp}{suffix}"))
        log.warning("store %s replaced: %s", self.path, self.rebuilt_reason)

    def close(self) -> None:
        self._db.close()

    def reader(self) -> Store:
        """A read-only twin of this store on its own SQLite connection: in WAL mode each of its reads sees one
        committed state, whatever this (writing) connection commits meanwhile (core/reader.py)."""
        twin = copy.copy(self)
        try:
            twin._db = connect_read_only(self.path)
        except sqlite3.Error as err:
            raise _environment_error(err, self.path) from None
        return twin

    # -- reading -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def consistent_read(self):
        """Every read inside the block sees the same committed state of the store (one read transaction)."""
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    def identities(self) -> dict[str, tuple[int, int]]:
        """relpath → (size, mtime_ns) of every file already handled (embedded or skipped)."""
        rows = self._db.execute("SELECT relpath, size, mtime_ns FROM items "
                                "UNION ALL SELECT relpath, size, mtime_ns FROM skipped")
        return {relpath: (size, mtime) for relpath, size, mtime in rows}

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM items").fetchone()[0]

    def skipped_files(self) -> list[tuple[str, str]]:
        return list(self._db.execute("SELECT relpath, reason FROM skipped ORDER BY relpath"))

    def generation(self) -> str:
        """Changes with every write (a token of this store file + a counter): derived data such as the
        compact index is stale when it was built at another generation."""
        token, value = self._db.execute("SELECT token, value FROM generation").fetchone()
        return f"{token}-{value}"

    def iter_vectors(self, rows: int = 8192):
        """(relpaths, vectors) chunks of up to `rows` items, in load_vectors' order, without holding them all."""
        cursor = self._db.execute("SELECT relpath, vector FROM items ORDER BY relpath")
        while chunk := cursor.fetchmany(rows):
            yield self._as_matrix(chunk)

    def load_vectors(self) -> tuple[list[str], np.ndarray]:
        """All (relpaths, vectors) sorted by path; vectors as an (n, dim) float32 matrix."""
        return self._as_matrix(self._db.execute("SELECT relpath, vector FROM items ORDER BY relpath").fetchall())

    def _as_matrix(self, rows: list[tuple[str, bytes]]) -> tuple[list[str], np.ndarray]:
        expected = self.dim * VECTOR_DTYPE.itemsize
        relpaths = [relpath for relpath, _ in rows]
        if any(len(blob) != expected for _, blob in rows):
            raise UserError(f"The cache {self.path} holds vectors of the wrong size; run 'forget' and index again.")
        blob = b"".join(vector for _, vector in rows)
        vectors = np.frombuffer(blob, dtype=VECTOR_DTYPE).reshape(len(rows), self.dim)
        return relpaths, vectors.astype(np.float32, copy=False)

    # -- writing -----------------------------------------------------------------------------------
    def commit_batch(self, embedded: list[Embedded], skipped: list[Skipped]) -> None:
        """One transaction: all of a batch is on disk, or none of it."""
        with self._writing():
            self._db.executemany(
                "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)",
                [(e.relpath, e.size, e.mtime_ns, _vector_blob(e.vector, self.dim)) for e in embedded])
            self._db.executemany("DELETE FROM skipped WHERE relpath = ?", [(e.relpath,) for e in embedded])
            self._db.executemany(
                "INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?)",
                [(s.relpath, s.size, s.mtime_ns, s.reason) for s in skipped])
            self._db.executemany("DELETE FROM items WHERE relpath = ?", [(s.relpath,) for s in skipped])

    def remove(self, relpaths: list[str]) -> None:
        with self._writing():
            for table in ("items", "skipped"):
                self._db.executemany(f"DELETE FROM {table} WHERE relpath = ?", [(r,) for r in relpaths])

    @contextlib.contextmanager
    def _writing(self):
        """A write transaction whose failure (disk full, read-only) is told to the person as a UserError."""
        try:
            with _transaction(self._db):
                yield
                self._db.execute("UPDATE generation SET value = value + 1")
        except sqlite3.OperationalError as err:
            raise _environment_error(err, self.path) from None

    def integrity_ok(self) -> bool:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # -- locking ------------------------------------------------------------------------------------
    def writer_lock(self, wait: bool = False, on_wait=None):
        """This store's lock (Catalog.writer_lock), held while indexing."""
        return self.catalog.writer_lock(self.path, wait, on_wait)


class _UnusableStore(Exception):
    pass


def _vector_blob(vector: np.ndarray, dim: int) -> bytes:
    vector = np.asarray(vector, dtype=VECTOR_DTYPE)
    if vector.shape != (dim,):
        raise ValueError(f"vector of shape {vector.shape}, expected ({dim},)")
    return vector.tobytes()


def _is_damage(err: sqlite3.DatabaseError) -> bool:
    """A damaged file (rebuild it), as opposed to a full disk, a read-only folder or a lock."""
    name = getattr(err, "sqlite_errorname", "")  # Python 3.11+; the message covers older versions
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or \
        any(text in str(err) for text in ("malformed", "not a database"))


def _environment_error(err: Exception, path: Path) -> UserError:
    text = str(err)
    if "full" in text:
        hint = "Free some disk space and index again"
    elif "locked" in text or "busy" in text:
        hint = "Another fashionrec is using it; try again in a moment"
    else:
        hint = "Check the folder's permissions, or set FASHIONREC_DATA_DIR to a writable folder"
    return UserError(f"Cannot use the cache {path} ({text}). {hint}; nothing indexed so far is lost.")


def _foreign_reason(meta: dict, expected: dict) -> str:
    if meta.get("schema_version") != expected["schema_version"]:
        return (f"the cache was written by another version of fashionrec (cache format "
                f"{meta.get('schema_version', 'unknown')}, this version uses {expected['schema_version']})")
    if meta.get("fingerprint") != expected["fingerprint"] or meta.get("dim") != expected["dim"]:
        return "the cache holds vectors of another model or weights"
    return "the cache belongs to another catalog folder"


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection):
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # SQLite has already rolled back after some errors, e.g. a full disk
            db.execute("ROLLBACK")
        raise


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

