"""The store's tables, their version, and the migrations that bring a store written by an older fashionrec up to
date in place (its vectors kept, nothing embedded again).

The version is kept in the meta table (`schema_version`). Opening a store for writing migrates an older one: the
steps of MIGRATIONS from its version up, with the new version number, in one transaction, so a kill leaves the old
store or the migrated one, never half of it. A store of a version with no path to this one (newer, or older than
MIGRATIONS reaches) is rebuilt as before (store.py moves it aside). A store opened only to read (a query on a
read-only disk) is read as it is: the columns reading needs are the same in every version from OLDEST_READABLE on.

Versions:
  1  meta, items (relpath, size, mtime_ns, vector), skipped (relpath, size, mtime_ns, reason), generation
  2  items.content_hash: lets a moved or renamed photo keep its vector (catalog.content_hash; indexer.py)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from .store_io import transaction

SCHEMA_VERSION = 2
OLDEST_READABLE = 1
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    relpath TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, vector BLOB NOT NULL,
    content_hash TEXT);
CREATE TABLE IF NOT EXISTS skipped (
    relpath TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS generation (id INTEGER PRIMARY KEY CHECK (id = 0), token TEXT NOT NULL,
    value INTEGER NOT NULL);
INSERT OR IGNORE INTO generation VALUES (0, lower(hex(randomblob(8))), 0);
"""


def _add_content_hash(db: sqlite3.Connection) -> None:
    # NULL for the items already there: the next index run hashes them (indexer.py), reading no vector again.
    db.execute("ALTER TABLE items ADD COLUMN content_hash TEXT")


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {  # version → the step to the next version
    1: _add_content_hash,
}


def migratable(version: str | None) -> bool:
    """Whether a store of this version can be brought to SCHEMA_VERSION (the current one included)."""
    return version is not None and version.isdigit() and all(v in MIGRATIONS for v in
                                                             range(int(version), SCHEMA_VERSION))


def readable(version: str | None) -> bool:
    return version is not None and version.isdigit() and OLDEST_READABLE <= int(version) <= SCHEMA_VERSION


def migrate(db: sqlite3.Connection) -> int | None:
    """Bring the store to SCHEMA_VERSION; returns the version it had (None when it was current already).
    The version is read again inside the transaction: another process may have migrated it meanwhile."""
    with transaction(db):
        version = int(db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
        if version == SCHEMA_VERSION:
            return None
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](db)
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
    return version


def foreign_reason(meta: dict, expected: dict) -> str:
    """Why a store whose meta is not the expected one cannot be used (it is rebuilt)."""
    if meta.get("schema_version") != expected["schema_version"]:
        return (f"the cache was written by another version of fashionrec (cache format "
                f"{meta.get('schema_version', 'unknown')}, this version uses {expected['schema_version']})")
    if meta.get("fingerprint") != expected["fingerprint"] or meta.get("dim") != expected["dim"]:
        return "the cache holds vectors of another model or weights"
    return "the cache belongs to another catalog folder"
