"""Real vectors at scale for `bench --scale`: the bench's photos flipped, cropped and colour-shifted, embedded by
the model, so that the compact index's recall is measured on tens of thousands of real-network vectors (its
first stage keeps FIRST_STAGE of them, a small share: it can miss). The variants are made in memory at bench
time, from a seed, and never written anywhere.

Each photo gives `per_photo` vectors: itself, then variants, each a random mix of a horizontal flip, a crop
keeping 75–100 % of each side (resized back), and brightness, contrast and saturation moved by up to ±25 %."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from ..core.images import load_readable

REAL_ITEMS = 42_000  # the default size of the real set (2,000 sample photos × 21)
BATCH = 64


def variant(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random variant of a (h, w, 3) uint8 photo, at the same size."""
    image = Image.fromarray(pixels)
    width, height = image.size
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    keep_w, keep_h = rng.uniform(0.75, 1.0, 2)
    left, top = rng.uniform(0, 1 - keep_w) * width, rng.uniform(0, 1 - keep_h) * height
    image = image.crop((round(left), round(top), round(left + keep_w * width), round(top + keep_h * height)))
    image = image.resize((width, height), Image.Resampling.BILINEAR)
    for enhance in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        image = enhance(image).enhance(rng.uniform(0.75, 1.25))
    return np.asarray(image)


def variants(photos: list[np.ndarray], per_photo: int, seed: int) -> Iterator[np.ndarray]:
    """Every photo as it is, then per_photo - 1 variants of each (photo by photo)."""
    rng = np.random.default_rng(seed)
    for pixels in photos:
        yield pixels
        for _ in range(per_photo - 1):
            yield variant(pixels, rng)


def augmented_vectors(embedder, paths: list[Path], count: int = REAL_ITEMS, seed: int = 0,
                      say: Callable[[str], None] = lambda _: None) -> np.ndarray:
    """(count, dim) vectors of the photos and their variants, embedded by `embedder` in batches."""
    photos = load_readable(paths, embedder.input_size)[1]
    per_photo = -(-count // len(photos))
    vectors, batch = [], []
    for made, pixels in enumerate(variants(photos, per_photo, seed), start=1):
        batch.append(pixels)
        if len(batch) == BATCH or made == count:
            vectors.append(embedder.embed(np.stack(batch)))
            batch = []
            if len(vectors) % 100 == 0:
                say(f"{made:,} of {count:,} vectors …")
        if made == count:
            break
    return np.concatenate(vectors)
