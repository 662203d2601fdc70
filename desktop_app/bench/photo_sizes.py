"""Big copies of the bench's photos, as shops and phones make them (`--photo-size 1500x2000`).

The sample's photos are 224×224 JPEGs of a few KB, which decode in about a millisecond; shop photos are
1000–2400 px on the long side and phone photos 4000×3000, and their decoding can cost more than a forward pass.
Each copy is the photo padded to the target's aspect with its own border colour, enlarged (bicubic), given
mild noise (σ ≈ 3 grey levels: sensor noise and texture, so the file has a real photo's entropy: ~230 KB at
1500×2000 rather than the ~60 KB of a smooth enlargement) and saved as JPEG quality 90 under the original's
name (labels keep working). They go to a temporary folder and are never kept.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

SHOP_SIZE = (1500, 2000)  # width, height: a shop's product photo (the full-size fashion product set is 1800×2400)
PHONE_SIZE = (4000, 3000)  # a 12-megapixel phone photo, landscape
NOISE_SIGMA = 3.0
QUALITY = 90  # the shop-size set; bench --decoding makes its copies at RESAVE_SAFE_QUALITY
# A q90 re-save of a file this encoder already saved at q90 gives back nearly the same file (measured: the model's
# input moves by 0.002–0.007 grey levels on average, against 0.2–0.5 for the sample's own photos), so it is no
# yardstick; copies saved at q95, as cameras save, are changed by a q90 re-save as any photo is.
RESAVE_SAFE_QUALITY = 95


def parse_photo_size(text: str) -> tuple[int, int]:
    """'1500x2000' → (1500, 2000); ValueError with the reason otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*[x×]\s*(\d+)\s*", text)
    if not match or min(int(match[1]), int(match[2])) < 16 or max(int(match[1]), int(match[2])) > 20_000:
        raise ValueError(f"'{text}' is not WIDTHxHEIGHT in pixels (16 to 20000 each), e.g. 1500x2000")
    return int(match[1]), int(match[2])


def photo_size_argument(text: str) -> tuple[int, int]:
    """parse_photo_size for argparse (its message instead of "invalid value")."""
    try:
        return parse_photo_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def describe_size(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"


def describe_photos(paths: list[Path]) -> str:
    """The pixel size of these photos, e.g. "224×224", or "60×80 (3), 224×224 (397)" when they differ."""
    sizes: Counter[tuple[int, int]] = Counter()
    for path in paths:
        try:
            with Image.open(path) as img:
                sizes[img.size] += 1
        except OSError:
            continue
    if len(sizes) == 1:
        return describe_size(next(iter(sizes)))
    return ", ".join(f"{describe_size(size)} ({count})" for size, count in sorted(sizes.items())) or "unreadable"


def padded_to_aspect(img: Image.Image, aspect: float) -> Image.Image:
    """`img` centred on a canvas of width/height `aspect`, filled with the median colour of its border."""
    width, height = img.size
    if abs(width / height - aspect) < 1e-3:
        return img
    target = (max(width, round(height * aspect)), max(height, round(width / aspect)))
    pixels = np.asarray(img)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    canvas = Image.new("RGB", target, tuple(int(v) for v in np.median(border, axis=0)))
    canvas.paste(img, ((target[0] - width) // 2, (target[1] - height) // 2))
    return canvas


class _Noise:
    """One field of Gaussian noise, shifted differently for each photo (drawing a fresh field per photo would
    cost more than the enlargement itself)."""

    def __init__(self, size: tuple[int, int], seed: int):
        self.rng = np.random.default_rng(seed)
        self.field = np.clip(self.rng.normal(0, NOISE_SIGMA, (size[1], size[0], 3)), -127, 127).astype(np.int16)

    def shifts(self, count: int) -> list[tuple[int, int]]:
        return [(int(self.rng.integers(self.field.shape[0])), int(self.rng.integers(self.field.shape[1])))
                for _ in range(count)]

    def add(self, img: Image.Image, shift: tuple[int, int]) -> Image.Image:
        noise = np.roll(self.field, shift, axis=(0, 1))
        return Image.fromarray(np.clip(np.asarray(img, np.int16) + noise, 0, 255).astype(np.uint8))


def enlarge(source: Path, target: Path, size: tuple[int, int], noise: _Noise, shift: tuple[int, int],
            quality: int = QUALITY) -> Path:
    with Image.open(source) as img:
        padded = padded_to_aspect(img.convert("RGB"), size[0] / size[1])
    noise.add(padded.resize(size, Image.Resampling.BICUBIC), shift).save(target, "JPEG", quality=quality)
    return target


def enlarged_copies(sources: list[Path], folder: Path, size: tuple[int, int] = SHOP_SIZE, seed: int = 0,
                    threads: int = 2, quality: int = QUALITY) -> list[Path]:
    """A `size` copy of each photo in `folder` (same file stem, .jpg at `quality`), in the order of `sources`."""
    folder.mkdir(parents=True, exist_ok=True)
    noise = _Noise(size, seed)
    targets = [folder / f"{source.stem}.jpg" for source in sources]
    with ThreadPoolExecutor(max_workers=threads) as pool:  # Pillow and numpy release the GIL here
        return list(pool.map(enlarge, sources, targets, [size] * len(sources), [noise] * len(sources),
                             noise.shifts(len(sources)), [quality] * len(sources)))
