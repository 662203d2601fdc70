"""A generated set of product-like photos to calibrate int8 on, the same on every machine: so a network whose
int8 model does not depend on the catalog (EfficientNet-Lite0) is quantized once per machine, not per catalog.

Each image is a light (sometimes dark) backdrop with one to three shapes — ellipses, rotated rectangles,
triangles — filled with a flat colour, a gradient, stripes or checks, with soft shading and a little grain;
every fourth image is a texture filling the frame. Only integer and exactly rounded float arithmetic is
used (+, −, ×, ÷, comparisons; no sin, exp or library random streams, whose last bits may differ between
CPUs or numpy versions), so the pixels — and the calibration digest in the store fingerprint — are the same
everywhere. tests/test_calibration_set.py pins the digest.
"""

from __future__ import annotations

import functools

import numpy as np

from .int8 import Calibration

COUNT = 32
SIZE = 224
SOURCE = f"{COUNT} generated product-like images (the same on every machine)"
_MASK = (1 << 64) - 1


class _Random:
    """SplitMix64: a tiny generator defined by its integer arithmetic alone."""

    def __init__(self, seed: int):
        self.state = seed & _MASK

    def bits(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float:
        return low + (high - low) * ((self.bits() >> 11) / float(1 << 53))

    def integer(self, low: int, high: int) -> int:
        """low ≤ n < high."""
        return low + self.bits() % (high - low)

    def colour(self) -> np.ndarray:
        return np.array([self.integer(0, 256) for _ in range(3)], np.float64)

    def grain(self, shape: tuple[int, int]) -> np.ndarray:
        """Values in [-1, 1) on a coarse 56×56 grid, repeated up to `shape` (SplitMix64 over a counter)."""
        counter = np.arange(56 * 56, dtype=np.uint64) + np.uint64(self.bits() & 0xFFFFFFFF)
        z = counter * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        values = ((z >> np.uint64(40)).astype(np.float64) / float(1 << 23) - 1.0).reshape(56, 56)
        return values.repeat(shape[0] // 56, axis=0).repeat(shape[1] // 56, axis=1)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    return (x + 0.5) / SIZE, (y + 0.5) / SIZE


def _rotation(rng: _Random) -> tuple[float, float]:
    """(cos, sin) of a random angle, from the rational parametrisation (no trigonometry)."""
    t = rng.uniform(-1.0, 1.0)
    return (1 - t * t) / (1 + t * t), 2 * t / (1 + t * t)


def _fill(rng: _Random, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(SIZE, SIZE, 3) float pixels: a flat colour, a gradient, stripes or checks."""
    first, second = rng.colour(), rng.colour()
    kind = rng.integer(0, 4)
    cos, sin = _rotation(rng)
    along = x * cos + y * sin
    if kind == 0:
        weight = np.zeros_like(x)
    elif kind == 1:
        weight = np.clip(along - along.min(), 0, None) / max(float(np.ptp(along)), 1e-9)
    else:
        period = rng.uniform(0.02, 0.15)
        weight = np.floor(along / period) % 2
        if kind == 3:
            across = -x * sin + y * cos
            weight = (weight + np.floor(across / period)) % 2
    return first + weight[..., None] * (second - first)


def _shape_mask(rng: _Random, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    cx, cy = rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.75)
    rx, ry = rng.uniform(0.1, 0.4), rng.uniform(0.1, 0.45)
    cos, sin = _rotation(rng)
    u, v = (x - cx) * cos + (y - cy) * sin, -(x - cx) * sin + (y - cy) * cos
    kind = rng.integer(0, 3)
    if kind == 0:
        return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0
    if kind == 1:
        return (np.abs(u) <= rx) & (np.abs(v) <= ry)
    return (v <= ry) & (v >= -ry + 2 * ry * np.abs(u) / rx)  # a triangle, apex up


def generated_image(index: int) -> np.ndarray:
    """The `index`-th image of the set, (SIZE, SIZE, 3) uint8 RGB."""
    rng = _Random(0x5EED_0000 + index)
    x, y = _grid()
    if index % 4 == 3:
        pixels = _fill(rng, x, y)
    else:
        light = rng.uniform(0, 1) < 0.85
        pixels = np.broadcast_to(rng.colour() * 0.15 + (216.0 if light else 0.0), (SIZE, SIZE, 3)).copy()
        for _ in range(rng.integer(1, 4)):
            mask = _shape_mask(rng, x, y)
            shading = 1.0 - rng.uniform(0, 0.35) * (x * rng.uniform(-1, 1) + y * rng.uniform(-1, 1))
            pixels[mask] = (_fill(rng, x, y) * shading[..., None])[mask]
    pixels = pixels + rng.uniform(0, 12) * rng.grain((SIZE, SIZE))[..., None]
    return np.clip(np.floor(pixels + 0.5), 0, 255).astype(np.uint8)


@functools.cache
def generated_calibration() -> Calibration:
    return Calibration(np.stack([generated_image(i) for i in range(COUNT)]), SOURCE)
