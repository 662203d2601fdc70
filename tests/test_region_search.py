"""Region search: a crop of the query photo (pixels or fractions) is what every model embeds."""

import numpy as np
import pytest
from PIL import Image

from desktop_app.core.embedders import create_embedder
from desktop_app.core.errors import UserError
from desktop_app.core.images import Crop, ImageError, load_rgb
from desktop_app.core.session import CatalogSession
from support import side_by_side


@pytest.mark.parametrize("model", ["colour-texture", "tiny"])
def test_cropping_each_half_of_a_composite_finds_its_own_source_first(make_catalog, counting_embedder, tmp_path,
                                                                      model):
    folder = make_catalog(20)
    composite = side_by_side(folder, "img004.jpg", "img013.jpg", tmp_path / "two-items.png")
    embedder = counting_embedder if model == "tiny" else create_embedder(model)
    with CatalogSession(folder, embedder) as session:
        session.index()
        left = session.query(composite, k=3, crop=Crop.parse("0,0,60,80"))  # pixels
        right = session.query(composite, k=3, crop=Crop.parse("0.5,0,0.5,1"))  # fractions
    assert left[0].relpath == "img004.jpg" and left[0].distance < 1e-3
    assert right[0].relpath == "img013.jpg" and right[0].distance < 1e-3


@pytest.mark.heavy
def test_region_search_with_resnet50(make_catalog, random_embedder, tmp_path):
    folder = make_catalog(8)
    composite = side_by_side(folder, "img002.jpg", "img006.jpg", tmp_path / "two-items.png")
    with CatalogSession(folder, random_embedder) as session:
        session.index()
        left = session.query(composite, k=1, crop=Crop.parse("0,0,0.5,1"))
        right = session.query(composite, k=1, crop=Crop.parse("60,0,60,80"))
    assert [left[0].relpath, right[0].relpath] == ["img002.jpg", "img006.jpg"]


@pytest.mark.parametrize("text, reason", [
    ("10,10,20", "not X,Y,W,H"), ("a,b,c,d", "not X,Y,W,H"), ("1,2,3,nan", "not X,Y,W,H"),
    ("-1,0,10,10", "negative"), ("0,0,0,10", "zero width or height"), ("", "not X,Y,W,H"),
])
def test_malformed_crops_are_refused_with_the_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        Crop.parse(text)


def test_crop_boxes_in_pixels_and_fractions():
    assert Crop.parse("0.25, 0, 0.5, 1").box(120, 80) == (30, 0, 90, 80)
    assert Crop.parse("10,20,30,40").box(120, 80) == (10, 20, 40, 60)
    assert Crop.parse("0,0,1,1").box(120, 80) == (0, 0, 120, 80)  # all four ≤ 1: fractions, the whole image
    with pytest.raises(ImageError, match=r"past the image's edge \(the image is 120×80"):
        Crop.parse("100,0,30,10").box(120, 80)
    with pytest.raises(ImageError, match="smaller than one pixel"):
        Crop.parse("0,0,0.001,0.5").box(120, 80)


def test_crop_is_applied_before_the_resize(tmp_path):
    pixels = np.zeros((80, 120, 3), np.uint8)
    pixels[:, 60:] = 255  # right half white
    Image.fromarray(pixels).save(tmp_path / "half.png")
    assert load_rgb(tmp_path / "half.png", (8, 8), crop=Crop.parse("0.5,0,0.5,1")).min() == 255
    assert load_rgb(tmp_path / "half.png", (8, 8), crop=Crop.parse("0,0,60,80")).max() == 0


def test_a_crop_outside_the_query_photo_is_one_clear_error(make_catalog, counting_embedder):
    folder = make_catalog(3)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        with pytest.raises(UserError, match=r"Cannot use img000.jpg as a query: the crop 50,0,20,80 goes past"):
            session.query(folder / "img000.jpg", crop=Crop.parse("50,0,20,80"))
