"""The helpers of bench --match and bench --map: query copies, catalog variants, neighbours kept on a map."""

import numpy as np
import pytest
from PIL import Image

from desktop_app.bench.map_layout import kept_neighbours
from desktop_app.bench.matching import build_catalog, query_copies, same_photo
from support import make_image

pytestmark = pytest.mark.unit


def test_kept_neighbours_is_one_for_the_same_points_and_low_for_shuffled_ones():
    points = np.random.default_rng(0).normal(size=(300, 2))
    assert kept_neighbours(points, points) == 1.0
    assert kept_neighbours(points, points[np.random.default_rng(1).permutation(300)]) < 0.2


def test_the_match_bench_makes_variants_and_reencoded_copies(tmp_path):
    photos = [make_image(tmp_path / "in" / f"p{i}.jpg", seed=i, size=(60, 80)) for i in range(3)]
    catalog = build_catalog(photos, tmp_path / "catalog", 7)
    assert [p.name for p in catalog][:4] == ["p0.jpg", "p1.jpg", "p2.jpg", "p0-variant1.jpg"]
    assert not same_photo(catalog[0], catalog[3])  # a variant is not the photo
    originals = query_copies(catalog, tmp_path / "queries", 4, seed=0)
    assert len(originals) == 4 and set(originals.values()) <= {p.name for p in catalog}
    copy = Image.open(tmp_path / "queries" / "query0000.jpg")
    source = Image.open(tmp_path / "catalog" / originals["query0000.jpg"])
    assert copy.size == (round(source.width * 0.9), round(source.height * 0.9))
