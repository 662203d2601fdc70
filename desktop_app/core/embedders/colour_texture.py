"""A weight-free descriptor: CIELAB colour histogram of the item + gradient-orientation (HOG-like) histogram.

Needs no downloaded weights and no TensorFlow: pure numpy, vectorised over the batch (a batch of 16
images takes milliseconds). Two parts, each Hellinger-mapped (square root) and L2-normalised, then
concatenated with weights whose squares sum to 1, so the result is L2-normalised and the cosine
similarity of two vectors is COLOUR_WEIGHT·cos(colour) + TEXTURE_WEIGHT·cos(texture).

- Colour: a joint L*a*b* histogram (CIELAB is roughly perceptually uniform; greys fall in the middle
  a*/b* bin whatever their lightness). Product photos sit on a plain background that would otherwise
  fill most of the histogram, so pixels close to the image's median border colour are left out
  (all pixels are kept when that would leave almost nothing).
- Texture/shape: orientation histograms of the lightness gradient (9 unsigned orientations, weighted
  by gradient magnitude) in an 8×6 grid of cells, so the outline and the pattern's direction count.
"""

from __future__ import annotations

import json

import numpy as np

from ..decoding import decoding_tag
from .base import l2_normalise

L_BINS, AB_BINS, AB_RANGE = 4, 7, 70.0  # a*, b* clipped to ±AB_RANGE; odd AB_BINS: a centre bin for greys
ORIENTATION_BINS, CELLS = 9, (8, 6)  # cells: rows, columns (10×~11 pixels each at 64×80)
# Shares of the cosine similarity (they sum to 1). Chosen on fashion-2k as a compromise: texture alone
# finds the same articleType best, colour alone the same baseColour; 25/75 keeps most of both.
COLOUR_WEIGHT, TEXTURE_WEIGHT = 0.25, 0.75
BACKGROUND_DELTA_E = 10.0  # Lab distance to the border colour under which a pixel counts as background
MIN_FOREGROUND = 0.05  # below this fraction of foreground pixels, use the whole image for colour
VERSION = 1  # bump when the computation changes: the fingerprint then gives it a fresh cache

_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                         [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]], dtype=np.float32)
_D65_WHITE = np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
_channel = np.arange(256, dtype=np.float64) / 255.0
_SRGB_TO_LINEAR = np.where(_channel <= 0.04045, _channel / 12.92,
                           ((_channel + 0.055) / 1.055) ** 2.4).astype(np.float32)


def rgb_to_lab(batch: np.ndarray) -> np.ndarray:
    """(n, h, w, 3) uint8 sRGB → float32 CIELAB (D65): L* in [0, 100], a*, b* roughly in [-110, 110]."""
    xyz = _SRGB_TO_LINEAR[batch] @ _SRGB_TO_XYZ.T / _D65_WHITE
    epsilon, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > epsilon, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return np.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], axis=-1).astype(np.float32)


def foreground_mask(lab: np.ndarray) -> np.ndarray:
    """(n, h, w) bool: pixels that differ from the median colour of the image's 2-pixel border."""
    border = np.concatenate([lab[:, :2].reshape(len(lab), -1, 3), lab[:, -2:].reshape(len(lab), -1, 3),
                             lab[:, :, :2].reshape(len(lab), -1, 3), lab[:, :, -2:].reshape(len(lab), -1, 3)],
                            axis=1)
    background = np.median(border, axis=1)[:, None, None, :]
    mask = np.linalg.norm(lab - background, axis=-1) > BACKGROUND_DELTA_E
    too_small = mask.mean(axis=(1, 2)) < MIN_FOREGROUND
    mask[too_small] = True
    return mask


def _bin(values: np.ndarray, low: float, high: float, bins: int) -> np.ndarray:
    scaled = (values - low) * (bins / (high - low))
    return np.clip(scaled.astype(np.int64), 0, bins - 1)


def _histograms(index: np.ndarray, weights: np.ndarray, bins: int) -> np.ndarray:
    """Per-image histograms in one bincount: index (n, ...) in [0, bins) → (n, bins)."""
    n = len(index)
    offset = (np.arange(n) * bins).reshape((n,) + (1,) * (index.ndim - 1))
    flat = np.bincount((index + offset).ravel(), weights=weights.ravel(), minlength=n * bins)
    return flat.reshape(n, bins)


def colour_histogram(lab: np.ndarray) -> np.ndarray:
    """(n, L_BINS·AB_BINS²) Lab histograms of the foreground pixels, each summing to 1."""
    l_bin = _bin(lab[..., 0], 0.0, 100.0, L_BINS)
    a_bin = _bin(lab[..., 1], -AB_RANGE, AB_RANGE, AB_BINS)
    b_bin = _bin(lab[..., 2], -AB_RANGE, AB_RANGE, AB_BINS)
    index = (l_bin * AB_BINS + a_bin) * AB_BINS + b_bin
    counts = _histograms(index, foreground_mask(lab).astype(np.float64), L_BINS * AB_BINS * AB_BINS)
    return counts / counts.sum(axis=1, keepdims=True)


def gradient_histogram(lightness: np.ndarray) -> np.ndarray:
    """(n, rows·columns·ORIENTATION_BINS) magnitude-weighted unsigned orientation histograms per cell."""
    n, h, w = lightness.shape
    gy, gx = np.gradient(lightness, axis=(1, 2))
    magnitude = np.hypot(gx, gy)
    orientation = np.mod(np.arctan2(gy, gx), np.pi)  # unsigned: an edge and its reverse look alike
    o_bin = _bin(orientation, 0.0, np.pi, ORIENTATION_BINS)
    rows, columns = CELLS
    cell = (np.arange(h) * rows // h)[:, None] * columns + (np.arange(w) * columns // w)[None, :]
    index = cell[None] * ORIENTATION_BINS + o_bin
    return _histograms(index, magnitude.astype(np.float64), rows * columns * ORIENTATION_BINS)


class WeightFreeDescriptor:
    """What the numpy descriptors share: no weights, nothing to load, a fingerprint made of their settings."""

    name: str
    dim: int
    input_size = (64, 80)  # width, height: product photos are mostly portrait
    load_report = "nothing to load (numpy only, no weights)"
    weights = None
    precision = "fp32"
    backend = "numpy"

    def load(self) -> None:
        """Nothing to prepare: the descriptor is plain numpy."""

    def settings(self) -> dict:
        """Everything the vectors depend on besides the pixels (the fingerprint is made of it)."""
        raise NotImplementedError

    @property
    def fingerprint(self) -> str:
        decoding = decoding_tag(self.name)  # how its photos are decoded (decoding.POLICY); "" for full decoding
        return json.dumps({"dim": self.dim, "input_size": list(self.input_size), **self.settings(),
                           **({"decoding": decoding} if decoding else {})}, sort_keys=True)


class ColourTextureEmbedder(WeightFreeDescriptor):
    name = "colour-texture"
    dim = L_BINS * AB_BINS * AB_BINS + CELLS[0] * CELLS[1] * ORIENTATION_BINS

    def settings(self) -> dict:
        return {"algorithm": "lab-histogram+gradient-orientations", "version": VERSION,
                "lab_bins": [L_BINS, AB_BINS, AB_RANGE], "orientations": ORIENTATION_BINS, "cells": list(CELLS),
                "weights": [COLOUR_WEIGHT, TEXTURE_WEIGHT], "background_delta_e": BACKGROUND_DELTA_E}

    def describe(self) -> str:
        return (f"colour + texture descriptor (Lab colour histogram {COLOUR_WEIGHT:.0%}, "
                f"gradient orientations {TEXTURE_WEIGHT:.0%}; no weights needed)")

    def embed(self, batch: np.ndarray) -> np.ndarray:
        lab = rgb_to_lab(np.asarray(batch, dtype=np.uint8))
        colour = l2_normalise(np.sqrt(colour_histogram(lab)))
        texture = l2_normalise(np.sqrt(gradient_histogram(lab[..., 0])))
        # The outer normalisation only matters for a flat image, whose texture part is all zero.
        return l2_normalise(np.hstack([np.sqrt(COLOUR_WEIGHT) * colour, np.sqrt(TEXTURE_WEIGHT) * texture]))
