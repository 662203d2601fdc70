"""One catalog folder and what fashionrec keeps for it in the data dir: the one place that names those files.

Under <data dir>/catalogs/<folder name>-<hash of its path>/ (`Catalog.folder`):
  <model>-<hash of fingerprint>.sqlite (+ -wal, -shm)  a store: one embedder's vectors and skip reasons (store.py)
  <store>.lock                                         its writer lock: one process indexes a store at a time
  <store>.sqlite.compact/                              its compact search index, for big catalogs (compact_index.py)
  <store>.tuned-<field>-<hash>.npz                     its projection tuned to a label field (tuning.py)
  <store>.sqlite.damaged-<time>…                       the latest damaged copy of it, kept for inspection (store.py)
  int8-calibration.npy                                 the photos int8 calibrates on, for every int8 store
The catalog's labels are `labels_file` when one is given, else a labels.csv in or beside the folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import paths
from .catalog import catalog_root, no_images_message, scan
from .errors import UserError
from .files import save_arrays_atomically
from .store import Store
from .store_io import folder_writable, store_lock

if TYPE_CHECKING:
    from .embedders import Embedder
    from .embedders.int8 import Calibration

log = logging.getLogger(__name__)

CALIBRATION_FILE = "int8-calibration.npy"
STORE_SUFFIX = ".sqlite"
SQLITE_SIDE_FILES = ("-wal", "-shm")  # SQLite's WAL mode keeps these beside a store


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


class Catalog:
    """A catalog folder (`root`, resolved; it may no longer exist, e.g. for `forget`) and its files in the data dir
    (`data_dir`, default paths.data_dir())."""

    def __init__(self, root: Path, data_dir: Path | None = None, labels_file: Path | None = None):
        self.root = root
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", root.name)[:40] or "catalog"
        self.folder = (data_dir or paths.data_dir()) / "catalogs" / f"{name}-{_short_hash(str(root))}"
        self.labels_file = labels_file

    @classmethod
    def open(cls, folder: str | os.PathLike, data_dir: Path | None = None,
             labels_file: Path | None = None) -> Catalog:
        """The catalog of an existing folder (UserError when it is not one)."""
        return cls(catalog_root(folder), data_dir, labels_file)

    def writable_folder(self) -> Path:
        """`folder`, created if needed; UserError saying what to do when it cannot be written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / f".write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            raise UserError(
                f"Cannot write to the fashionrec data folder {self.folder} ({err.strerror or err}). "
                "Free some space or fix its permissions, or point FASHIONREC_DATA_DIR at a writable folder."
            ) from None
        return self.folder

    def can_write(self) -> bool:
        """Whether its files can be made and changed here: False when `folder` exists on a read-only disk or in a
        folder this user may not write (its stores can then only be read: `open_store(..., read_only=True)`).
        A folder not made yet counts as writable: making it says what is wrong (`writable_folder`)."""
        return not self.folder.is_dir() or folder_writable(self.folder)

    # -- stores ------------------------------------------------------------------------------------
    def store_path(self, model_name: str, fingerprint: str) -> Path:
        return self.folder / f"{model_name}-{_short_hash(fingerprint)}{STORE_SUFFIX}"

    def has_store(self, embedder: Embedder) -> bool:
        return self.store_path(embedder.name, embedder.fingerprint).exists()

    def open_store(self, embedder: Embedder, read_only: bool = False) -> Store:
        """The store of `embedder`'s vectors, created if there is none; `read_only`: only an existing one,
        only read (store.NotIndexed when there is none; it works on a read-only disk too)."""
        return Store(self, embedder.fingerprint, embedder.dim, embedder.name, read_only)

    def store_paths(self) -> list[Path]:
        return self.stores_in(self.folder)

    @staticmethod
    def stores_in(folder: Path) -> list[Path]:
        """The store files in a catalog's folder of the data dir (listed without knowing the catalog)."""
        return sorted(folder.glob(f"*{STORE_SUFFIX}")) if folder.is_dir() else []

    @staticmethod
    def model_of(store_path: Path) -> str:
        """The model a store file belongs to, from its name (<model>-<hash>.sqlite)."""
        return store_path.stem.rsplit("-", 1)[0]

    # -- what belongs to a store -------------------------------------------------------------------
    def lock_path(self, store_path: Path) -> Path:
        return store_path.with_suffix(".lock")

    def writer_lock(self, store_path: Path, wait: bool = False, on_wait=None):
        """The store's lock, held while indexing or forgetting it (other stores of the catalog stay free)."""
        self.writable_folder()
        return store_lock(self.lock_path(store_path),
                          f"The catalog {self.root} is busy: another fashionrec is indexing it with "
                          f"{self.model_of(store_path)}. Try again when it has finished.", wait, on_wait)

    def compact_dir(self, store_path: Path) -> Path:
        return store_path.with_name(store_path.name + ".compact")

    def tuned_path(self, store_path: Path, field_name: str) -> Path:
        safe_field = "".join(c if c.isalnum() or c in "-_" else "_" for c in field_name)[:40]
        field_hash = hashlib.sha256(field_name.encode()).hexdigest()[:8]
        return store_path.with_name(f"{store_path.stem}.tuned-{safe_field}-{field_hash}.npz")

    def map_path(self, store_path: Path) -> Path:
        """The catalog map's cached layout (core/catalog_map.py)."""
        return store_path.with_name(store_path.name + ".map.npz")

    def derived_files(self, store_path: Path) -> list[Path]:
        """Every file and folder made from one store (all can be made again): its SQLite side files, compact
        index, map, tuned projections and damaged copies."""
        made = [Path(f"{store_path}{suffix}") for suffix in SQLITE_SIDE_FILES] + [self.compact_dir(store_path),
                                                                                 self.map_path(store_path)]
        made += store_path.parent.glob(f"{store_path.stem}.tuned-*.npz")
        made += store_path.parent.glob(f"{store_path.name}.damaged-*")
        return made

    @property
    def calibration_path(self) -> Path:
        return self.folder / CALIBRATION_FILE

    def int8_calibration(self) -> Calibration:
        """The photos int8 calibrates on for this catalog: read from `calibration_path`, or drawn evenly over its
        sorted files and saved there the first time, so the same catalog always gets the same int8 model. A file
        that cannot be read back as such a sample is drawn again (the store then follows the new digest)."""
        from .embedders.int8 import Calibration, sample_evenly

        path = self.calibration_path
        source = f"{self.root.name} ({path.name})"
        if path.is_file():
            try:
                return Calibration(np.load(path, allow_pickle=False), source)
            except (OSError, ValueError, UserError) as err:
                log.warning("int8 calibration sample %s is unusable (%s): drawing it again", path, err)
        files = [f for f in scan(self.root) if not f.problem]
        if not files:
            raise UserError(no_images_message(self.root))
        drawn = Calibration.from_files([self.root / f.relpath for f in sample_evenly(files)], f"catalog {self.root}")
        self.writable_folder()
        save_arrays_atomically(path, drawn.images)
        return Calibration(drawn.images, source)

    # -- labels ------------------------------------------------------------------------------------
    @property
    def labels_path(self) -> Path | None:
        """The labels file given, else labels.csv inside the folder, else beside it; None when there is none."""
        from .labels import find_labels_file

        return self.labels_file or find_labels_file(self.root)
