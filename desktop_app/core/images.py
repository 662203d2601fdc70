"""Safe image decoding with Pillow: any readable file becomes an RGB uint8 array, or a one-line reason.

The resize matches `keras.utils.load_img(path, target_size=...)` (nearest neighbour, no aspect
preservation), so our vectors equal the original per-image recipe's on ordinary RGB photos.
"""

from __future__ import annotations

import errno
import io
import math
import os
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MODEL_SIZE = (224, 224)  # width, height
MAX_PIXELS = 100_000_000  # larger declared sizes are treated as decompression bombs
_MAX_FILE_BYTES = 512 * 1024 * 1024
# open_rgb enforces MAX_PIXELS itself. Pillow's bomb *warning* would only be noise, and turning it into an
# error with warnings.catch_warnings() is not thread-safe (decoding runs in threads). Pillow's hard
# DecompressionBombError (twice its limit) still applies and is caught below.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
warnings.filterwarnings("ignore", "(Possibly )?[Cc]orrupt EXIF", UserWarning)  # we fall back to no rotation


class ImageError(Exception):
    """The file cannot be used as an image; str(err) is a short reason for the person."""


class UnreadableFile(ImageError):
    """The file could not be read at all (missing, no permission...): nothing is known about its content."""


def os_error_reason(err: OSError, path: str | os.PathLike) -> str:
    """A short reason for a file that cannot be stat'ed or read."""
    if err.errno == errno.ENOENT:
        return "broken symbolic link (its target is missing)" if os.path.islink(path) else \
            "file not found (deleted or moved)"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied (the file is not readable)"
    if err.errno == errno.ELOOP:
        return "symbolic link loop"
    if err.errno == errno.EISDIR:
        return "is a folder, not an image file"
    return f"cannot read file: {err.strerror or err}"


def _read_bytes(path: str | os.PathLike) -> bytes:
    try:
        size = os.path.getsize(path)
        if os.path.isdir(path):
            raise ImageError("is a folder, not an image file")
        if size == 0:
            raise ImageError("empty file (0 bytes)")
        if size > _MAX_FILE_BYTES:
            raise ImageError(f"file too large ({size // 2**20} MiB)")
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        raise UnreadableFile(os_error_reason(err, path)) from None


def _to_rgb(img: Image.Image) -> Image.Image:
    """Every Pillow mode to 8-bit RGB; transparency is composited on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16/32-bit greyscale: Pillow's own conversion clips at 255, so scale instead.
        arr = np.asarray(img, dtype=np.float64)
        peak = 1.0 if img.mode == "F" and arr.max(initial=0) <= 1.0 else 65535.0
        img = Image.fromarray(np.clip(arr * (255.0 / peak), 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img


def open_rgb(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode the first frame of an image file, upright (EXIF orientation applied), as RGB."""
    data = _read_bytes(path)
    try:
        img = Image.open(io.BytesIO(data))
        width, height = img.size
        if width * height > max_pixels:
            raise ImageError(f"image too large ({width}×{height} pixels; decompression-bomb guard)")
        img.seek(0)  # first frame of animations
        img.load()
        return _to_rgb(_upright(img))
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError("not an image Pillow can read (unknown or corrupt format)") from None
    except Image.DecompressionBombError:  # Pillow refuses before telling us the size
        assert Image.MAX_IMAGE_PIXELS is not None  # Pillow raises this only while its limit is set
        raise ImageError(f"image too large (over {2 * Image.MAX_IMAGE_PIXELS:,} pixels declared; "
                         "decompression-bomb guard)") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as err:
        raise ImageError(f"corrupt or truncated image data ({err})") from None
    except MemoryError:
        raise ImageError("image too large to decode in memory") from None


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; damaged EXIF data leaves the pixels as stored rather than losing them."""
    try:
        return ImageOps.exif_transpose(img)
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error):
        return img


@dataclass(frozen=True)
class Crop:
    """A region of an image, as the person sees it (after EXIF rotation): left, top, width, height in pixels,
    or, when all four numbers are between 0 and 1, as fractions of the image's width and height."""

    x: float
    y: float
    width: float
    height: float

    @property
    def fractions(self) -> bool:
        return all(0 <= v <= 1 for v in (self.x, self.y, self.width, self.height))

    @classmethod
    def parse(cls, text: str) -> Crop:
        """'X,Y,W,H' → Crop; ValueError with a short reason when it is not four numbers ≥ 0 with W, H > 0."""
        parts = [p.strip() for p in str(text).split(",")]
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            numbers = []
        if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
            raise ValueError(f"'{text}' is not X,Y,W,H (four numbers: pixels, or fractions 0-1 of the image)")
        crop = cls(*numbers)
        if min(numbers) < 0:
            raise ValueError(f"'{text}': crop numbers cannot be negative")
        if crop.width == 0 or crop.height == 0:
            raise ValueError(f"'{text}': the crop has zero width or height")
        return crop

    def box(self, image_width: int, image_height: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in pixels of an image this size; ImageError when it does not fit."""
        scale = (image_width, image_height) if self.fractions else (1, 1)
        left, top = self.x * scale[0], self.y * scale[1]
        right, bottom = left + self.width * scale[0], top + self.height * scale[1]
        if right > image_width + 1e-6 or bottom > image_height + 1e-6:
            raise ImageError(f"the crop {self} goes past the image's edge (the image is {image_width}×{image_height} "
                             "pixels)")
        box = (round(left), round(top), round(right), round(bottom))
        if box[2] <= box[0] or box[3] <= box[1]:
            raise ImageError(f"the crop {self} is smaller than one pixel of this {image_width}×{image_height} image")
        return box

    def __str__(self) -> str:
        return ",".join(f"{v:g}" for v in (self.x, self.y, self.width, self.height))


def load_rgb(
    path: str | os.PathLike,
    size: tuple[int, int] = MODEL_SIZE,
    resample: Image.Resampling = Image.Resampling.NEAREST,
    crop: Crop | None = None,
) -> np.ndarray:
    """The image (or its `crop` region) at `size` (width, height) as a (height, width, 3) uint8 array."""
    img = open_rgb(path)
    if crop is not None:
        img = img.crop(crop.box(*img.size))
    if img.size != size:
        img = img.resize(size, resample)
    return np.asarray(img, dtype=np.uint8)


def load_readable(paths: list, size: tuple[int, int] = MODEL_SIZE) -> tuple[list, list[np.ndarray]]:
    """The paths that decode (load_rgb at `size`) and their pixels, in order; unreadable files are left out."""
    kept, pixels = [], []
    for path in paths:
        try:
            pixels.append(load_rgb(path, size))
            kept.append(path)
        except ImageError:
            continue
    return kept, pixels
