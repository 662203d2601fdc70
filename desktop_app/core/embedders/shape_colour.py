"""A weight-free descriptor led by shape: colour-edge orientations of the frame and of the item's bounding box.

Needs no downloaded weights and no TensorFlow: numpy only, vectorised over the batch. Three parts, each
Hellinger-mapped (square root of an L1 histogram = L2-normalised) and concatenated with weights whose
squares sum to 1, so the cosine similarity of two vectors is a weighted sum of the parts' cosines:

- Frame edges: orientation histograms (18 signed orientations, so dark-to-light and light-to-dark edges
  differ) of the lightly blurred image's gradient, in a 10×8 grid of cells. Each pixel takes the strongest
  of its L*, a*, b* gradients (as colour HOG does), so edges between colours of equal lightness count; it
  votes for its two nearest orientations and its nearest cells (bilinear), so a shift of a pixel or a small
  rotation moves the histogram a little instead of flipping a bin.
- Item edges: the same histograms after stretching the item's bounding box (the pixels that differ from
  the plain background) to the whole frame: the outline and its details at the same place whatever the
  item's size and position in the photo.
- Colour: colour-texture's CIELAB histogram of the item (background left out), with a small weight.

Parts and weights were chosen by measurement on half of the fashion-2k sample (docs/models.md, "Algorithms").
Bare silhouettes (the mask shrunk to 16×12, framed or bounding-box normalised) scored well on their own
but added nothing once both edge parts were there, so they are not part of the vector.
"""

from __future__ import annotations

import functools

import numpy as np

from .base import l2_normalise
from .colour_texture import AB_BINS, L_BINS, WeightFreeDescriptor, colour_histogram, foreground_mask, rgb_to_lab

ORIENTATION_BINS, CELLS = 18, (10, 8)  # signed orientations; cells: rows, columns (8×8 pixels at 64×80)
BLUR_KERNEL = (1, 4, 6, 4, 1)  # binomial ≈ Gaussian σ = 1 pixel: JPEG noise and stripes finer than a cell fade
# Shares of the cosine similarity (they sum to 1). Chosen on one half of fashion-2k (articleType
# precision@5): the two edge parts share the most; colour costs a little articleType precision and buys
# much same-colour precision (see the table in docs/models.md).
FRAME_WEIGHT, ITEM_WEIGHT, COLOUR_WEIGHT = 0.46, 0.46, 0.08
VERSION = 1  # bump when the computation changes: the fingerprint then gives it a fresh cache


def _two_nearest_cells(size: int, cells: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """((lower cell, upper cell), (their shares)) of each of `size` pixels: the two cells whose centres
    surround it, shared bilinearly; beyond the first or last centre both are that cell, so every pixel
    counts once."""
    position = (np.arange(size) + 0.5) * cells / size - 0.5
    low = np.floor(position).astype(np.int64)
    upper_share = (position - low).astype(np.float32)
    return (np.clip(low, 0, cells - 1), np.clip(low + 1, 0, cells - 1)), (1 - upper_share, upper_share)


@functools.cache
def pooling_matrix(size: int, cells: int) -> np.ndarray:
    """(cells, size) float32: `_two_nearest_cells` as a matrix (pixels → cells)."""
    matrix = np.zeros((cells, size), np.float32)
    for cell, share in zip(*_two_nearest_cells(size, cells), strict=True):
        np.add.at(matrix, (cell, np.arange(size)), share)
    return matrix


@functools.cache
def blur_matrix(size: int) -> np.ndarray:
    """(size, size) float32: the binomial blur along one axis as a matrix, edges repeated."""
    kernel = np.asarray(BLUR_KERNEL, np.float64) / sum(BLUR_KERNEL)
    radius = len(kernel) // 2
    matrix = np.zeros((size, size))
    for i in range(size):
        for j, weight in enumerate(kernel):
            matrix[i, min(max(i + j - radius, 0), size - 1)] += weight
    return matrix.astype(np.float32)


def blur(channels: np.ndarray) -> np.ndarray:
    """(n, c, h, w) → the same, blurred along both axes (two matrix products)."""
    h, w = channels.shape[-2:]
    return blur_matrix(h) @ channels @ blur_matrix(w).T


def edge_histograms(channels: np.ndarray) -> np.ndarray:
    """(n, c, h, w) float32 → (n, rows·columns·ORIENTATION_BINS) signed orientation histograms of each
    pixel's strongest channel gradient, weighted by its magnitude, softly binned in orientation and space.
    One bincount pools each pixel into its two nearest column cells; a matrix product pools the rows."""
    n, _, h, w = channels.shape
    rows, columns = CELLS
    gy, gx = np.gradient(channels, axis=(2, 3))
    squared = gx * gx + gy * gy
    strongest = squared.argmax(axis=1)[:, None]
    gy, gx = np.take_along_axis(gy, strongest, 1)[:, 0], np.take_along_axis(gx, strongest, 1)[:, 0]
    magnitude = np.sqrt(np.take_along_axis(squared, strongest, 1)[:, 0])
    orientation = np.arctan2(gy, gx) * np.float32(ORIENTATION_BINS / (2 * np.pi)) - np.float32(0.5)
    low = np.floor(orientation)
    upper_share = orientation - low
    low_bin = low.astype(np.int64) % ORIENTATION_BINS
    row_start = (np.arange(n)[:, None, None] * h + np.arange(h)[None, :, None]) * columns
    index, weight = [], []
    for cell, cell_share in zip(*_two_nearest_cells(w, columns), strict=True):
        for bin_, bin_share in ((low_bin, 1 - upper_share), ((low_bin + 1) % ORIENTATION_BINS, upper_share)):
            index.append(((row_start + cell) * ORIENTATION_BINS + bin_).ravel())
            weight.append((magnitude * bin_share * cell_share).ravel())
    votes = np.bincount(np.concatenate(index), np.concatenate(weight), minlength=n * h * columns * ORIENTATION_BINS)
    per_row = votes.astype(np.float32).reshape(n, h, columns * ORIENTATION_BINS)
    return (pooling_matrix(h, rows) @ per_row).reshape(n, -1)


def bounding_boxes(mask: np.ndarray) -> tuple[np.ndarray, ...]:
    """(top, bottom, left, right) inclusive pixel bounds of each (h, w) mask; the whole frame when empty."""
    n, h, w = mask.shape
    rows, columns = np.any(mask, axis=2), np.any(mask, axis=1)
    empty = ~np.any(rows, axis=1)
    top, bottom = np.where(empty, 0, rows.argmax(1)), np.where(empty, h - 1, h - 1 - rows[:, ::-1].argmax(1))
    left, right = np.where(empty, 0, columns.argmax(1)), np.where(empty, w - 1, w - 1 - columns[:, ::-1].argmax(1))
    return top, bottom, left, right


def _sample_positions(low: np.ndarray, high: np.ndarray, out_size: int, limit: int):
    """Bilinear source positions (floor, floor + 1, fraction) of out_size samples spread over [low, high]."""
    position = low[:, None] + (np.arange(out_size) + 0.5)[None] * ((high - low + 1) / out_size)[:, None] - 0.5
    position = np.clip(position, 0, limit - 1)
    floor = np.floor(position).astype(np.int64)
    return floor, np.minimum(floor + 1, limit - 1), (position - floor).astype(np.float32)


def crop_to_boxes(channels: np.ndarray, boxes: tuple[np.ndarray, ...]) -> np.ndarray:
    """(n, c, h, w): each image's box stretched (bilinear) to the whole h×w frame."""
    n, c, h, w = channels.shape
    top, bottom, left, right = boxes
    y0, y1, fy = _sample_positions(top, bottom, h, h)
    x0, x1, fx = _sample_positions(left, right, w, w)
    image = np.arange(n)[:, None, None]
    fy, fx = fy[:, :, None, None], fx[:, None, :, None]

    def pixels(ys, xs):  # (n, h, w, c)
        return channels[image, :, ys[:, :, None], xs[:, None, :]]

    top_row = pixels(y0, x0) * (1 - fx) + pixels(y0, x1) * fx
    bottom_row = pixels(y1, x0) * (1 - fx) + pixels(y1, x1) * fx
    return np.ascontiguousarray((top_row * (1 - fy) + bottom_row * fy).transpose(0, 3, 1, 2))


def hellinger(histograms: np.ndarray) -> np.ndarray:
    return l2_normalise(np.sqrt(np.maximum(histograms, 0)))


class ShapeColourEmbedder(WeightFreeDescriptor):
    name = "shape-colour"
    dim = 2 * CELLS[0] * CELLS[1] * ORIENTATION_BINS + L_BINS * AB_BINS * AB_BINS

    def settings(self) -> dict:
        return {"algorithm": "lab-edge-orientations+item-box+lab-histogram", "version": VERSION,
                "orientations": ORIENTATION_BINS, "cells": list(CELLS), "gradient": "strongest-of-Lab",
                "blur": list(BLUR_KERNEL), "weights": [FRAME_WEIGHT, ITEM_WEIGHT, COLOUR_WEIGHT]}

    def describe(self) -> str:
        return (f"shape + colour descriptor (edges of the frame {FRAME_WEIGHT:.0%}, of the item's box "
                f"{ITEM_WEIGHT:.0%}, Lab colour histogram {COLOUR_WEIGHT:.0%}; no weights needed)")

    def embed(self, batch: np.ndarray) -> np.ndarray:
        lab = rgb_to_lab(np.asarray(batch, dtype=np.uint8))
        channels = blur(np.ascontiguousarray(lab.transpose(0, 3, 1, 2)))
        frame = hellinger(edge_histograms(channels))
        item = hellinger(edge_histograms(crop_to_boxes(channels, bounding_boxes(foreground_mask(lab)))))
        colour = hellinger(colour_histogram(lab))
        parts = [np.sqrt(FRAME_WEIGHT) * frame, np.sqrt(ITEM_WEIGHT) * item, np.sqrt(COLOUR_WEIGHT) * colour]
        # The outer normalisation only matters for a flat image, whose edge parts are all zero.
        return l2_normalise(np.hstack(parts))
