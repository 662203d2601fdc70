"""bench --decoding (bench/decoding.py): reduced against full decoding per resize filter, beside a q90 re-save."""

import numpy as np
import pytest
from PIL import Image

from desktop_app.bench.decoding import NO_RESIZE, format_decoding, measure_decoding
from desktop_app.cli.benchmark import jpeg_quality, resize_filters
from desktop_app.core.embedders import create_embedder

pytestmark = pytest.mark.unit


def _photos(folder, count, size):
    """Blocky photos with fine noise, so nearest-neighbour sampling and averaging see different pixels."""
    folder.mkdir()
    paths = []
    for i in range(count):
        rng = np.random.default_rng(i)
        blocks = Image.fromarray(rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)).resize(size, Image.BILINEAR)
        noisy = np.clip(np.asarray(blocks, np.int16) + rng.normal(0, 12, (size[1], size[0], 3)), 0, 255)
        paths.append(folder / f"p{i:02d}.jpg")
        Image.fromarray(noisy.astype(np.uint8)).save(paths[-1], quality=95)
    return paths


def test_photos_of_the_input_size_decode_the_same_whatever_the_margin_or_filter(tmp_path):
    embedder = create_embedder("colour-texture")  # input 64×80
    paths = _photos(tmp_path / "small", 12, (64, 80))
    labels = {p.name: "ab"[i % 2] for i, p in enumerate(paths)}
    rows = measure_decoding(embedder, paths, labels, "64×80", margins=(1,), resizes=("nearest", "bilinear"))
    assert [(r.resize, r.margin) for r in rows] == [(NO_RESIZE, 1)]  # one row: no filter changes a pixel
    assert rows[0].reduced.top_overlap == 1.0 and rows[0].input_change_reduced == 0.0
    assert rows[0].precision_reduced == rows[0].precision_full is not None
    assert rows[0].input_change_resaved > 0  # a q90 re-save of a q95 photo changes it


def test_an_antialiased_filter_moves_the_input_less_than_nearest_when_decoding_reduced(tmp_path):
    embedder = create_embedder("colour-texture")
    paths = _photos(tmp_path / "big", 12, (640, 800))  # 1/8 with margin 1: 80×100, resized to 64×80
    rows = measure_decoding(embedder, paths, None, "640×800", margins=(1,), resizes=("nearest", "bilinear"))
    nearest, bilinear = rows
    assert (nearest.resize, bilinear.resize) == ("nearest", "bilinear")
    assert bilinear.input_change_reduced < nearest.input_change_reduced / 2
    assert bilinear.reduced.top_overlap >= nearest.reduced.top_overlap
    assert nearest.precision_full is None  # no labels
    table = format_decoding(rows)
    assert "bilinear" in table and "(no labels)" in table and "Δ input" in table


def test_the_bench_options_refuse_unknown_filters_and_qualities():
    import argparse

    assert resize_filters("nearest, bilinear") == ("nearest", "bilinear")
    assert jpeg_quality("95") == 95
    for bad in ("bicubic", ",", "nearest,fast"):
        with pytest.raises(argparse.ArgumentTypeError, match="resize filters are nearest, bilinear"):
            resize_filters(bad)
    for bad in ("0", "101", "q90"):
        with pytest.raises(argparse.ArgumentTypeError, match="JPEG quality"):
            jpeg_quality(bad)
