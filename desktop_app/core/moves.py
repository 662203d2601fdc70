"""Photos moved or renamed since the last run keep their vectors: a stored item whose path is gone and a new path
with the same size and content hash (catalog.content_hash) are one photo, re-pointed in the store instead of being
embedded again. Only new paths of a size some gone item has are read, and only their two ends.

Items stored before content hashes existed (a store migrated from format 1) get theirs at the end of the next
index run (`hash_unhashed`), in batches that a cancel stops between, so the move after that one is recognised.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from .catalog import CatalogFile, content_hash
from .store import Moved, Store

HASH_BATCH = 512  # items hashed per transaction by hash_unhashed


def find_moves(store: Store, root: Path, gone: list[str], new: list[CatalogFile]) -> list[Moved]:
    """The new files that are gone items under another path, each gone item matched at most once."""
    if not gone or not new:
        return []
    gone_items: dict[tuple[int, str], list[str]] = defaultdict(list)
    for relpath, (size, stored_hash) in sorted(store.content_hashes(gone).items()):
        gone_items[size, stored_hash].append(relpath)
    sizes = {size for size, _ in gone_items}
    moves = []
    for file in new:
        if file.problem or file.size not in sizes:
            continue
        digest = hash_as_scanned(root, file)
        olds = gone_items.get((file.size, digest)) if digest else None
        if digest and olds:
            moves.append(Moved(olds.pop(0), file.relpath, file.size, file.mtime_ns, digest))
    return moves


def hash_as_scanned(root: Path, file: CatalogFile) -> str | None:
    """The content hash of a file whose identity (size, mtime) is `file`'s; None when it has changed since or
    cannot be read (so a hash never stands for other content than the vector's)."""
    path = root / file.relpath
    digest = content_hash(path, file.size)
    try:
        st = os.stat(path)
    except OSError:
        return None
    return digest if (st.st_size, st.st_mtime_ns) == (file.size, file.mtime_ns) else None


def hash_unhashed(store: Store, root: Path, files: list[CatalogFile],
                  should_cancel: Callable[[], bool] | None = None) -> int:
    """Content hashes for the items stored without one whose file is unchanged; how many were stored."""
    scanned = {f.relpath: f for f in files}
    todo = [scanned[relpath] for relpath, size, mtime in store.unhashed()
            if relpath in scanned and (scanned[relpath].size, scanned[relpath].mtime_ns) == (size, mtime)]
    done = 0
    for start in range(0, len(todo), HASH_BATCH):
        if should_cancel and should_cancel():
            break
        hashes = [(f.relpath, f.size, f.mtime_ns, digest) for f in todo[start:start + HASH_BATCH]
                  if (digest := hash_as_scanned(root, f))]
        store.set_hashes(hashes)
        done += len(hashes)
    return done
