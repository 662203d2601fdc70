"""What is cached on disk, read from the data dir alone: every catalog's stores, their size, and forgetting them.

A store's meta table records its catalog folder (`root`), so a cache is listed (and can be removed) even
when its folder has been deleted or moved.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from .catalog_data import SQLITE_SIDE_FILES, Catalog
from .paths import data_dir
from .store_io import connect_read_only


@dataclass(frozen=True)
class StoreInfo:
    path: Path
    model: str
    bytes: int  # on disk, with the -wal and -shm files
    items: int = 0
    skipped: int = 0
    fingerprint: dict = field(default_factory=dict)
    root: str | None = None  # the catalog folder, from the store's meta table
    error: str | None = None  # why the store could not be read


@dataclass(frozen=True)
class CachedCatalog:
    folder: Path  # the cache folder in the data dir
    root: str | None  # the catalog folder it caches (None when no store says)
    stores: list[StoreInfo]

    @property
    def exists(self) -> bool:
        return self.root is not None and Path(self.root).is_dir()

    @property
    def missing(self) -> bool:
        """Its folder is known (a store says which) and is gone; a catalog whose stores cannot be read is not."""
        return self.root is not None and not Path(self.root).is_dir()

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.stores)

    def models(self) -> list[str]:
        return sorted({s.model for s in self.stores})


def bytes_on_disk(path: Path) -> int:
    return sum(os.path.getsize(f"{path}{suffix}") for suffix in ("", *SQLITE_SIDE_FILES)
               if os.path.exists(f"{path}{suffix}"))


def read_store_info(path: Path) -> StoreInfo:
    """One store's contents, read-only and without the model."""
    size = bytes_on_disk(path)
    try:
        with contextlib.closing(connect_read_only(path)) as db:
            meta = dict(db.execute("SELECT key, value FROM meta"))
            items = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
            skipped = db.execute("SELECT COUNT(*) FROM skipped").fetchone()[0]
        return StoreInfo(path, Catalog.model_of(path), bytes_on_disk(path), items, skipped,
                         json.loads(meta.get("fingerprint", "{}")), meta.get("root"))
    except (sqlite3.DatabaseError, ValueError) as err:
        return StoreInfo(path, Catalog.model_of(path), size, error=f"unreadable ({err})")


def _catalog_in(folder: Path) -> CachedCatalog:
    stores = [read_store_info(path) for path in Catalog.stores_in(folder)]
    root = next((s.root for s in stores if s.root), None)
    return CachedCatalog(folder, root, stores)


def cached_catalog(root: Path, base: Path | None = None) -> CachedCatalog:
    """What is cached for one catalog folder (no store: an empty list)."""
    return _catalog_in(Catalog(root, base).folder)


def list_stores(root: Path, base: Path | None = None) -> list[StoreInfo]:
    return cached_catalog(root, base).stores


def list_catalogs(base: Path | None = None) -> list[CachedCatalog]:
    """Every catalog with at least one store in the data dir, by folder name."""
    catalogs_dir = (base or data_dir()) / "catalogs"
    if not catalogs_dir.is_dir():
        return []
    found = [_catalog_in(folder) for folder in sorted(catalogs_dir.iterdir()) if folder.is_dir()]
    return [catalog for catalog in found if catalog.stores]


def forget_catalog(root: Path, base: Path | None = None) -> int:
    """Delete every store of a catalog (the folder itself need not exist any more); returns how many.
    A store being indexed is refused (CatalogBusy) before anything is deleted.

    The lock files stay while the catalog folder exists (deleting one would let a second process lock a
    new file at the same time); once the folder is gone nobody can index it, and the cache folder goes too.
    """
    return _forget(Catalog(root, base))


def _forget(catalog: Catalog) -> int:
    stores = catalog.store_paths()
    with contextlib.ExitStack() as locks:
        for path in stores:
            locks.enter_context(catalog.writer_lock(path))
        for path in stores:
            for made in [path, *catalog.derived_files(path)]:
                if made.is_dir():
                    shutil.rmtree(made, ignore_errors=True)
                else:
                    made.unlink(missing_ok=True)
    if catalog.folder.is_dir() and not catalog.root.is_dir():
        shutil.rmtree(catalog.folder, ignore_errors=True)
    return len(stores)


def forget_missing(base: Path | None = None) -> list[CachedCatalog]:
    """Forget every catalog whose folder no longer exists; returns those forgotten."""
    gone = []
    for catalog in list_catalogs(base):
        if catalog.missing and catalog.root is not None:
            _forget(Catalog(Path(catalog.root), base))
            gone.append(catalog)
    return gone
