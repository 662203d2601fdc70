"""Safe image decoding with Pillow: any readable file becomes an RGB uint8 array, or a one-line reason.

The default resize matches `keras.utils.load_img(path, target_size=...)` (nearest neighbour, no aspect
preservation), so our vectors equal the original per-image recipe's on ordinary RGB photos; a model's decoding
(decoding.POLICY) may name an antialiased filter instead (RESIZE_FILTERS), which load_rgb uses only to shrink.
"""

from __future__ import annotations

import contextlib
import errno
import io
import math
import os
import stat
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MODEL_SIZE = (224, 224)  # width, height
MAX_PIXELS = 100_000_000  # larger declared sizes are treated as decompression bombs
_MAX_FILE_BYTES = 512 * 1024 * 1024
# The resize filters a model's decoding may name (decoding.POLICY). Nearest is the recipe's (keras load_img); the
# others are Pillow's antialiased ones (their support widens with the reduction, so every source pixel counts).
RESIZE_FILTERS = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
                  "box": Image.Resampling.BOX, "lanczos": Image.Resampling.LANCZOS}
REDUCTIONS = (8, 4, 2, 1)  # the scales JPEG decoders offer (DCT scaling), largest reduction first
# open_rgb enforces MAX_PIXELS itself. Pillow's bomb *warning* would only be noise, and turning it into an
# error with warnings.catch_warnings() is not thread-safe (decoding runs in threads). Pillow's hard
# DecompressionBombError (twice its limit) still applies and is caught below.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
warnings.filterwarnings("ignore", "(Possibly )?[Cc]orrupt EXIF", UserWarning)  # we fall back to no rotation


class ImageError(Exception):
    """The file cannot be used as an image; str(err) is a short reason for the person."""


class UnreadableFile(ImageError):
    """The file could not be read at all (missing, no permission...): nothing is known about its content."""


class MemoryBudget(Protocol):
    """Bounds the memory of the decodes running at once (decoding.DecodeBudget)."""

    def reserve(self, nbytes: int) -> contextlib.AbstractContextManager: ...


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
        st = os.stat(path)
        size = st.st_size
        if stat.S_ISDIR(st.st_mode):
            raise ImageError("is a folder, not an image file")
        if not stat.S_ISREG(st.st_mode):  # /dev/zero, a FIFO (reading one would wait for a writer), a socket
            raise ImageError("not a regular file (a device or a pipe), not an image file")
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
    """Decode the first frame of an image file, upright (EXIF orientation applied), as RGB, at full size."""
    return _decode(path, max_pixels, None, lambda width, height: 1)[0]


def thumbnail(path: str | os.PathLike, bounds: tuple[int, int], budget: MemoryBudget | None = None) -> Image.Image:
    """The picture fitted within `bounds` (width, height; aspect kept, never enlarged), decoded reduced as far
    as that size allows: a 4000×3000 JPEG shown at 188×141 decodes at 1/8 (500×375), a seventh of its cost."""
    def factor(width: int, height: int) -> int:
        scale = min(1.0, bounds[0] / width, bounds[1] / height)
        return reduction((width, height), (math.ceil(width * scale), math.ceil(height * scale)))

    img = _decode(path, MAX_PIXELS, budget, factor)[0]
    img.thumbnail(bounds, Image.Resampling.BICUBIC)
    return img


def reduction(picture: tuple[int, int], at_least: tuple[int, int] | None) -> int:
    """The largest of 1, 2, 4 and 8 by which `picture` (width, height) can be divided with both sides still at
    least `at_least` (1 when `at_least` is None). JPEG decoders scale by these factors inside the decoder."""
    if at_least is None:
        return 1
    room = min(picture[0] // max(1, at_least[0]), picture[1] // max(1, at_least[1]))
    return next(factor for factor in REDUCTIONS if factor <= max(1, room))


def _decode(path: str | os.PathLike, max_pixels: int, budget: MemoryBudget | None,
            choose_factor: Callable[[int, int], int]) -> tuple[Image.Image, tuple[int, int]]:
    """(the upright RGB picture, reduced by `choose_factor(upright width, upright height)`; the upright full size).

    JPEG and JPEG 2000 reduce inside the decoder (JPEG: DCT scaling), so only the reduced pixels are ever made;
    other formats decode at full size and are then reduced by box averaging, which is what DCT scaling does,
    so a photo gives about the same pixels in any format."""
    data = _read_bytes(path)
    try:
        img = Image.open(io.BytesIO(data))
        full = _upright_size(img)
        factor = choose_factor(*full)
        img.seek(0)  # first frame of animations
        reduced_natively = factor > 1 and _reduce_in_decoder(img, factor)
        width, height = img.size
        if width * height > max_pixels:
            raise ImageError(f"image too large ({full[0]}×{full[1]} pixels; decompression-bomb guard)")
        with budget.reserve(_decode_bytes(img, len(data))) if budget else contextlib.nullcontext():
            img.load()
            picture: Image.Image = img
            if factor > 1 and not reduced_natively:
                picture = _to_rgb(img).reduce(factor)  # before turning it upright: less to turn
            return _to_rgb(_upright(picture)), full
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


def _reduce_in_decoder(img: Image.Image, factor: int) -> bool:
    """Ask the decoder for 1/factor of the picture; False when this format cannot (it then decodes full size)."""
    if img.format == "JPEG":
        width, height = img.size
        img.draft(None, (width // factor, height // factor))  # Pillow picks the largest scale ≥ that: 1/factor
        return True
    if img.format == "JPEG2000":
        img.reduce = factor.bit_length() - 1  # type: ignore[method-assign,assignment]  # Pillow's J2K setter
        return True
    return False


def _decode_bytes(img: Image.Image, file_bytes: int) -> int:
    """What decoding `img` may hold at its peak: the file, the decoded pixels and about two converted copies."""
    return file_bytes + 3 * img.size[0] * img.size[1] * max(4, len(img.getbands()))


def _upright_size(img: Image.Image) -> tuple[int, int]:
    """(width, height) as the person sees the picture: EXIF orientations 5 to 8 turn it a quarter."""
    try:
        turned = img.getexif().get(0x0112) in (5, 6, 7, 8)
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error):
        turned = False
    return (img.size[1], img.size[0]) if turned else img.size


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation, in place; damaged EXIF data leaves the pixels as stored rather than losing
    them. In place: the copy exif_transpose makes of an upright picture cost 15 ms of CPU for a 1500×2000 photo,
    twice its decoding (measured with time.thread_time, docs/performance.md "Where the CPU goes")."""
    try:
        ImageOps.exif_transpose(img, in_place=True)
        return img
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
    reduce_to: tuple[int, int] | None = None,
    budget: MemoryBudget | None = None,
) -> np.ndarray:
    """The image (or its `crop` region) at `size` (width, height) as a (height, width, 3) uint8 array.

    `reduce_to` (width, height): decoded at the smallest scale (1/2, 1/4, 1/8) at which the picture, or the crop
    region, is still at least that large, then resized to `size` as usual: a 1500×2000 JPEG then costs a fifth of
    its full decode. It gives other pixels than a full decode, so a model uses it only as decoding.POLICY says."""
    def factor(width: int, height: int) -> int:
        region = crop.box(width, height) if crop is not None else (0, 0, width, height)
        return reduction((region[2] - region[0], region[3] - region[1]), reduce_to)

    img, full = _decode(path, MAX_PIXELS, budget, factor)
    if crop is not None:
        left, top, right, bottom = crop.box(*full)
        across, down = img.width / full[0], img.height / full[1]  # 1 or 1/factor (sizes are rounded up)
        box = (int(left * across), int(top * down), math.ceil(right * across), math.ceil(bottom * down))
        img = img.crop(box)
    if img.size != size:
        # An antialiasing filter is for shrinking; a picture enlarged on either side (a small photo, a small crop)
        # is resized as the recipe does, nearest: enlarged bilinear, a copy looks like the catalog's other enlarged
        # (cropped) variants of its photo more than like the photo (bench --match: top-1 97.3 % against 99.2 %).
        enlarged = img.width < size[0] or img.height < size[1]
        img = img.resize(size, Image.Resampling.NEAREST if enlarged else resample)
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
