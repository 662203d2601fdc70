"""The on-disk cache of one catalog's vectors for one model fingerprint: SQLite in WAL mode.

Where it lives is the catalog's business (catalog_data.Catalog). Each batch is committed in its own
transaction, so a crash or kill keeps every finished batch. Vectors are raw little-endian float32 blobs;
nothing read back from disk is ever unpickled or executed.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import UserError
from .store_io import connect_read_only, environment_error, is_damage, transaction
from .store_schema import SCHEMA_VERSION, TABLES, foreign_reason, migratable, migrate, readable

if TYPE_CHECKING:
    from .catalog_data import Catalog

log = logging.getLogger(__name__)

VECTOR_DTYPE = np.dtype("<f4")


@dataclass(frozen=True)
class Embedded:
    relpath: str
    size: int
    mtime_ns: int
    vector: np.ndarray
    content_hash: str | None = None  # catalog.content_hash of the file as it was read (None: not known)


@dataclass(frozen=True)
class Skipped:
    relpath: str
    size: int
    mtime_ns: int
    reason: str


class NotIndexed(UserError):
    """A store opened only to read does not exist: the catalog was never indexed with that model."""


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
        self.read_only = read_only
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
            raise environment_error(err, self.path) from None
        try:
            meta = dict(db.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as err:
            db.close()
            raise UserError(f"The cache {self.path} cannot be read ({err}); index the catalog again to rebuild "
                            "it.") from None
        expected = self._expected_meta()
        if not _same_store(meta, expected) or not readable(meta.get("schema_version")):
            db.close()
            raise UserError(f"The cache {self.path} cannot be used: {foreign_reason(meta, expected)}; index the "
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
            db.executescript(TABLES)
            self._check_meta(db)
            return db
        except BaseException as err:
            if db is not None:
                db.close()
            if fresh:  # no half-written new store is left behind
                self._remove_files()
            if isinstance(err, sqlite3.DatabaseError):
                if is_damage(err):
                    raise _UnusableStore(f"the cache file is damaged ({err})") from None
                raise environment_error(err, self.path) from None
            raise

    def _check_meta(self, db: sqlite3.Connection) -> None:
        expected = self._expected_meta()
        try:
            meta = dict(db.execute("SELECT key, value FROM meta"))
        except sqlite3.OperationalError:  # e.g. a meta table without these columns
            raise _UnusableStore("the cache file is not in fashionrec's format") from None
        if not meta:  # a new store (INSERT OR IGNORE: another process may be creating it too)
            with transaction(db):
                db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)", expected.items())
            meta = dict(db.execute("SELECT key, value FROM meta"))
        if not _same_store(meta, expected) or not migratable(meta.get("schema_version")):
            raise _UnusableStore(foreign_reason(meta, expected))
        migrated_from = migrate(db)
        if migrated_from is not None:
            log.info("store %s migrated from format %d to %d in place", self.path, migrated_from, SCHEMA_VERSION)

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
        twin.read_only = True
        try:
            twin._db = connect_read_only(self.path)
        except sqlite3.Error as err:
            raise environment_error(err, self.path) from None
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

    def content_hashes(self, relpaths: list[str]) -> dict[str, tuple[int, str]]:
        """relpath → (size, content hash) of those items that have a hash (see set_hashes)."""
        found: dict[str, tuple[int, str]] = {}
        for start in range(0, len(relpaths), 500):  # SQLite's limit on parameters
            chunk = relpaths[start:start + 500]
            found.update((relpath, (size, digest)) for relpath, size, digest in self._db.execute(
                "SELECT relpath, size, content_hash FROM items WHERE content_hash IS NOT NULL AND relpath IN "
                f"({','.join('?' * len(chunk))})", chunk))
        return found

    def unhashed(self) -> list[tuple[str, int, int]]:
        """(relpath, size, mtime_ns) of the items stored without a content hash (by an older version)."""
        return list(self._db.execute("SELECT relpath, size, mtime_ns FROM items WHERE content_hash IS NULL"))

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
                "INSERT OR REPLACE INTO items (relpath, size, mtime_ns, vector, content_hash) VALUES (?, ?, ?, ?, ?)",
                [(e.relpath, e.size, e.mtime_ns, _vector_blob(e.vector, self.dim), e.content_hash) for e in embedded])
            self._db.executemany("DELETE FROM skipped WHERE relpath = ?", [(e.relpath,) for e in embedded])
            self._db.executemany(
                "INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?)",
                [(s.relpath, s.size, s.mtime_ns, s.reason) for s in skipped])
            self._db.executemany("DELETE FROM items WHERE relpath = ?", [(s.relpath,) for s in skipped])

    def move(self, moves: list[Moved]) -> None:
        """Items re-pointed to the path their file has now, their vectors kept (one transaction)."""
        with self._writing():
            self._db.executemany("UPDATE items SET relpath = ?, size = ?, mtime_ns = ?, content_hash = ? "
                                 "WHERE relpath = ?", [(m.relpath, m.size, m.mtime_ns, m.content_hash, m.old_relpath)
                                                       for m in moves])

    def set_hashes(self, hashes: list[tuple[str, int, int, str]]) -> None:
        """(relpath, size, mtime_ns, content hash) of items stored without one; an item whose file has changed
        since (another size or time) is left as it is."""
        with self._writing():
            self._db.executemany("UPDATE items SET content_hash = ? WHERE relpath = ? AND size = ? AND mtime_ns = ?",
                                 [(digest, relpath, size, mtime) for relpath, size, mtime, digest in hashes])

    def remove(self, relpaths: list[str]) -> None:
        with self._writing():
            for table in ("items", "skipped"):
                self._db.executemany(f"DELETE FROM {table} WHERE relpath = ?", [(r,) for r in relpaths])

    @contextlib.contextmanager
    def _writing(self):
        """A write transaction whose failure (disk full, read-only) is told to the person as a UserError."""
        try:
            with transaction(self._db):
                yield
                self._db.execute("UPDATE generation SET value = value + 1")
        except sqlite3.OperationalError as err:
            raise environment_error(err, self.path) from None

    def integrity_ok(self) -> bool:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # -- locking ------------------------------------------------------------------------------------
    def writer_lock(self, wait: bool = False, on_wait=None):
        """This store's lock (Catalog.writer_lock), held while indexing."""
        return self.catalog.writer_lock(self.path, wait, on_wait)


@dataclass(frozen=True)
class Moved:
    """A stored item whose file is now at another path (same size and content hash)."""

    old_relpath: str
    relpath: str
    size: int
    mtime_ns: int
    content_hash: str


class _UnusableStore(Exception):
    pass


def _same_store(meta: dict, expected: dict) -> bool:
    """The same catalog, model and dimension, whatever the format version."""
    return {k: v for k, v in meta.items() if k != "schema_version"} == \
        {k: v for k, v in expected.items() if k != "schema_version"}


def _vector_blob(vector: np.ndarray, dim: int) -> bytes:
    vector = np.asarray(vector, dtype=VECTOR_DTYPE)
    if vector.shape != (dim,):
        raise ValueError(f"vector of shape {vector.shape}, expected ({dim},)")
    return vector.tobytes()


