"""The weight-free shape + colour descriptor: what each part responds to, and what it ignores."""

import numpy as np
import pytest

from desktop_app.core.embedders import colour_texture as ct
from desktop_app.core.embedders import shape_colour as sc
from support import assert_unit_rows_independent_of_the_batch

WIDTH, HEIGHT = sc.ShapeColourEmbedder.input_size
pytestmark = pytest.mark.unit

EDGE_DIM = sc.CELLS[0] * sc.CELLS[1] * sc.ORIENTATION_BINS


def silhouette(shape: str, colour=(40, 60, 160), top=10, left=8, height=60, width=48, background=255):
    """A (HEIGHT, WIDTH, 3) product photo: a filled shape in the given box on a plain background."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    v, u = (y - top) / height, (x - left) / width  # 0..1 inside the box
    inside = (v >= 0) & (v < 1) & (u >= 0) & (u < 1)
    if shape == "triangle":  # narrow at the top, wide at the bottom
        inside &= np.abs(u - 0.5) <= v / 2
    elif shape == "ellipse":
        inside &= (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25
    elif shape == "tee":  # a T: a wide bar on top of a narrow one
        inside &= (v < 0.3) | (np.abs(u - 0.5) < 0.2)
    img = np.full((HEIGHT, WIDTH, 3), background, np.uint8)
    img[inside] = colour
    return img


@pytest.fixture(scope="module")
def embedder():
    return sc.ShapeColourEmbedder()


def parts(vector):
    return (vector[:EDGE_DIM] / np.sqrt(sc.FRAME_WEIGHT), vector[EDGE_DIM:2 * EDGE_DIM] / np.sqrt(sc.ITEM_WEIGHT),
            vector[2 * EDGE_DIM:] / np.sqrt(sc.COLOUR_WEIGHT))


def test_vectors_are_unit_float32_and_independent_of_the_batch(embedder):
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, size=(5, HEIGHT, WIDTH, 3), dtype=np.uint8)
    batch[3] = silhouette("tee")
    batch[4] = 200  # a flat image: no edges and no item
    assert_unit_rows_independent_of_the_batch(embedder, batch, row=3, atol=1e-5)


def test_item_part_ignores_where_the_item_is_and_how_big(embedder):
    big, small_shifted, other_shape = embedder.embed(np.stack([
        silhouette("triangle"), silhouette("triangle", top=30, left=20, height=40, width=32),
        silhouette("ellipse")]))
    item = [parts(v)[1] for v in (big, small_shifted, other_shape)]
    frame = [parts(v)[0] for v in (big, small_shifted)]
    assert item[0] @ item[1] > 0.95  # the box is stretched to the frame: the same outline
    assert item[0] @ item[1] > frame[0] @ frame[1] + 0.1  # whereas the frame part sees the move
    assert item[0] @ item[2] < item[0] @ item[1] - 0.1  # and another outline stays apart


def test_edges_between_colours_of_equal_lightness_count(embedder):
    # a green item on a grey of about the same lightness: no lightness edge, a strong colour edge
    green_on_grey = silhouette("tee", colour=(0, 150, 0), background=(137, 137, 137))
    lightness = ct.rgb_to_lab(green_on_grey[None])[0, ..., 0]
    assert np.ptp(lightness) < 5  # against ~57 for the same T in black
    frame = parts(embedder.embed(green_on_grey[None])[0])[0]
    same_outline_in_black = parts(embedder.embed(silhouette("tee", colour=(0, 0, 0))[None])[0])[0]
    assert frame @ same_outline_in_black > 0.8


def test_small_shifts_change_little(embedder):
    rng = np.random.default_rng(1)
    blocks = [rng.integers(0, 256, size=(8, 7, 3)).repeat(10, axis=0).repeat(10, axis=1)[:HEIGHT, :WIDTH]
              for _ in range(2)]
    pattern, other = blocks
    images = [pattern, np.roll(pattern, (1, 1), axis=(0, 1)), np.roll(pattern, (4, 4), axis=(0, 1)), other]
    frame = [parts(v)[0] for v in embedder.embed(np.stack(images).astype(np.uint8))]
    one_pixel, four_pixels, unrelated = (frame[0] @ f for f in frame[1:])
    assert one_pixel > 0.9  # bilinear cells and orientations: a shift moves votes a little, not whole bins
    assert one_pixel > four_pixels > unrelated


def test_nearest_neighbour_is_the_same_outline_whatever_its_size_and_colour(embedder):
    catalog = np.stack([silhouette(shape, colour) for shape in ("triangle", "ellipse", "tee")
                        for colour in ((200, 30, 30), (30, 30, 200))])
    for i, shape in enumerate(("triangle", "ellipse", "tee")):
        query = silhouette(shape, colour=(30, 160, 30), top=25, left=14, height=45, width=36)
        similarity = embedder.embed(catalog) @ embedder.embed(query[None])[0]
        assert int(np.argmax(similarity)) // 2 == i


def test_bounding_boxes_and_pooling():
    mask = np.zeros((3, 10, 8), bool)
    mask[0, 2:5, 3:7] = True
    mask[1, 9, 0] = True
    np.testing.assert_array_equal(np.stack(sc.bounding_boxes(mask)), [[2, 9, 0], [4, 9, 9], [3, 0, 0], [6, 0, 7]])
    pooling = sc.pooling_matrix(80, 10)
    np.testing.assert_allclose(pooling.sum(axis=0), 1.0, atol=1e-6)  # every pixel counts once
    np.testing.assert_allclose(pooling.sum(axis=1), 8.0, atol=1e-5)  # and every cell gets as many pixels


def test_fingerprint_is_its_own(embedder):
    assert embedder.name == "shape-colour"
    assert embedder.fingerprint != ct.ColourTextureEmbedder().fingerprint
    assert '"version": 1' in embedder.fingerprint
