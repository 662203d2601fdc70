"""The bench's photos: the first n of a folder (linked, not copied), or generated ones; and synthetic catalogs
that look indexed, for timings that do not depend on the vectors' values."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.catalog import scan
from ..core.catalog_data import Catalog
from ..core.embedders.base import l2_normalise
from ..core.errors import UserError
from ..core.moves import hash_as_scanned
from ..core.store import Embedded

DEFAULT_IMAGES = Path(__file__).resolve().parents[3] / "shared" / "data" / "fashion-2k" / "images"


def generate_images(folder: Path, n: int, seed: int = 0) -> None:
    """n small product-like JPEGs (a coloured garment shape on white), each different."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        img = Image.new("RGB", (60, 80), "white")
        draw = ImageDraw.Draw(img)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        left, top = rng.integers(2, 20), rng.integers(2, 25)
        box = (int(left), int(top), int(60 - rng.integers(2, 20)), int(80 - rng.integers(2, 25)))
        (draw.ellipse if i % 2 else draw.rectangle)(box, fill=colour)
        img.save(folder / f"generated{i:05d}.jpg", quality=90)


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard link (same bytes, no space), else symlink, else copy."""
    try:
        os.link(src, dst)
    except OSError:
        try:
            os.symlink(src, dst)
        except OSError:
            dst.write_bytes(src.read_bytes())


def source_folder(images: Path | None) -> Path | None:
    """Where the bench's photos come from: `images`, else the sample when present (None: generated ones)."""
    return images or (DEFAULT_IMAGES if DEFAULT_IMAGES.is_dir() else None)


def prepare_catalog(images: Path | None, n: int, workdir: Path) -> tuple[Path, str]:
    """A folder with exactly n photos (links to the first n of `images`, or generated ones)."""
    source = source_folder(images)
    folder = workdir / "catalog"
    if source is None:
        generate_images(folder, n)
        return folder, f"{n} generated 60×80 JPEGs (no sample catalog at {DEFAULT_IMAGES})"
    if not Path(source).is_dir():
        raise UserError(f"Images folder not found: {source}")
    files = scan(Path(source).resolve())[:n]
    if len(files) < n:
        raise UserError(f"{source} has only {len(files)} images; use -n {len(files)} or fewer.")
    folder.mkdir(parents=True)
    for i, f in enumerate(files):
        link_or_copy(Path(source).resolve() / f.relpath, folder / f"{i:05d}{Path(f.relpath).suffix.lower()}")
    return folder, f"first {n} of {source}"


def random_unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return l2_normalise(rng.standard_normal((n, dim), dtype=np.float32))


def synthesise_indexed_catalog(photos: list[Path], count: int, folder: Path, embedder, data_dir: Path) -> None:
    """A `count`-file catalog (links to `photos`, cycled) whose store (under `data_dir`) already holds a vector
    and a content hash per file, as if indexed: random unit vectors, since re-opening never looks at their values."""
    folder.mkdir(parents=True)
    for i in range(count):
        link_or_copy(photos[i % len(photos)], folder / f"item{i:06d}{photos[i % len(photos)].suffix}")
    store_random_vectors(folder, embedder, data_dir, hashed=True)


def store_random_vectors(folder: Path, embedder, data_dir: Path, hashed: bool = False) -> None:
    """The folder's store (under `data_dir`) filled with a random unit vector per file, as if indexed; with
    `hashed`, also each file's content hash, as today's indexer stores it (without, the first `index` hashes
    every item once, as for a cache migrated from store format 1)."""
    root = folder.resolve()
    files = scan(root)
    store = Catalog(root, data_dir).open_store(embedder)
    try:
        for start in range(0, len(files), 1000):
            chunk = files[start : start + 1000]
            vectors = random_unit_vectors(len(chunk), embedder.dim, seed=start)
            embedded = [Embedded(f.relpath, f.size, f.mtime_ns, v, hash_as_scanned(root, f) if hashed else None)
                        for f, v in zip(chunk, vectors, strict=True)]
            store.commit_batch(embedded, [])
    finally:
        store.close()
