"""The weight-free colour + texture descriptor: Lab conversion, what each part responds to, its cache."""

import numpy as np
import pytest
from PIL import Image

from desktop_app import cli
from desktop_app.core import caches
from desktop_app.core.embedders import colour_texture as ct
from desktop_app.core.embedders import create_embedder
from desktop_app.core.session import CatalogSession
from support import assert_unit_rows_independent_of_the_batch

WIDTH, HEIGHT = ct.ColourTextureEmbedder.input_size
COLOUR_DIM = ct.L_BINS * ct.AB_BINS * ct.AB_BINS


def stripes(colour, background=(255, 255, 255), vertical=False, period=8, phase=0):
    """A (HEIGHT, WIDTH, 3) image: stripes of `colour` on `background` inside a 4-pixel plain frame."""
    img = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    img[:] = background
    coords = np.arange(WIDTH if vertical else HEIGHT) + phase
    on = (coords // (period // 2)) % 2 == 0
    inner = np.zeros((HEIGHT, WIDTH), dtype=bool)
    inner[4:-4, 4:-4] = True
    mask = inner & (on[None, :] if vertical else on[:, None])
    img[mask] = colour
    return img


@pytest.fixture(scope="module")
def embedder():
    return create_embedder("colour-texture")


def parts(vector):
    return vector[:COLOUR_DIM], vector[COLOUR_DIM:]


def test_lab_matches_reference_values():
    lab = ct.rgb_to_lab(np.array([[[[255, 255, 255], [0, 0, 0], [255, 0, 0], [128, 128, 128]]]], np.uint8))[0, 0]
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=0.01)
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=0.01)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.05)  # standard sRGB red, D65
    np.testing.assert_allclose(lab[3], [53.59, 0, 0], atol=0.05)


def test_vectors_are_unit_float32_and_independent_of_the_batch(embedder):
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, size=(5, HEIGHT, WIDTH, 3), dtype=np.uint8)
    batch[4] = 200  # a flat image: no gradients at all
    assert_unit_rows_independent_of_the_batch(embedder, batch, row=2, atol=1e-6)


def test_colour_part_sees_colour_and_ignores_the_plain_background(embedder):
    red_on_white, red_on_grey, blue_on_white = embedder.embed(np.stack([
        stripes((220, 20, 20)), stripes((220, 20, 20), background=(128, 128, 128)), stripes((20, 40, 220))]))
    colour = [parts(v)[0] for v in (red_on_white, red_on_grey, blue_on_white)]
    # the background is left out, so red stripes have the same colour histogram on white and on grey
    np.testing.assert_allclose(colour[0], colour[1], atol=1e-6)
    assert colour[0] @ colour[2] < 0.05  # red and blue share no colour bin


def test_texture_part_sees_orientation_not_colour(embedder):
    horizontal_red, horizontal_blue, vertical_red = embedder.embed(np.stack([
        stripes((220, 20, 20)), stripes((20, 40, 220)), stripes((220, 20, 20), vertical=True)]))
    texture = [parts(v)[1] for v in (horizontal_red, horizontal_blue, vertical_red)]
    scale = np.sqrt(ct.TEXTURE_WEIGHT)
    assert texture[0] @ texture[1] / scale**2 > 0.95  # same stripes, other colour
    assert texture[0] @ texture[2] / scale**2 < 0.5  # same colour, stripes turned 90°


def test_nearest_neighbour_is_the_look_alike(embedder):
    catalog = np.stack([stripes((220, 20, 20)), stripes((20, 40, 220)), stripes((220, 20, 20), vertical=True),
                        stripes((20, 160, 40), vertical=True)])
    query = stripes((200, 30, 30), phase=3)  # red horizontal stripes, shifted and a little darker
    similarity = embedder.embed(catalog) @ embedder.embed(query[None])[0]
    assert int(np.argmax(similarity)) == 0


def test_own_cache_beside_resnet50s(make_catalog):
    from desktop_app.core.weights import random_weights

    folder = make_catalog(3)
    resnet = create_embedder("resnet50", random_weights(0))  # not run: only its fingerprint and store
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        report = session.index()
        assert report.embedded == 3 and len(session.searcher) == 3
    with CatalogSession(folder, resnet) as session:
        assert session.store.count() == 0  # a separate store: no colour-texture vectors in it
    names = sorted(p.name for p in session.store.folder.glob("*.sqlite"))
    assert len(names) == 2 and names[0].startswith("colour-texture-") and names[1].startswith("resnet50-")
    assert len(caches.list_stores(session.root)) == 2


def test_cli_indexes_and_queries_with_it(make_catalog, capsys):
    folder = make_catalog(6)
    assert cli.main(["index", str(folder), "--model", "colour-texture"]) == 0
    assert "6 embedded" in capsys.readouterr().out
    assert cli.main(["query", str(folder / "img002.jpg"), "--catalog", str(folder), "--model", "colour-texture",
                     "-k", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and not any("img002" in line for line in lines)


def test_cli_refuses_weights_options_for_it(make_catalog, capsys):
    folder = make_catalog(1)
    assert cli.main(["index", str(folder), "--model", "colour-texture", "--random-weights"]) == 1
    assert "needs no weights" in capsys.readouterr().err


def test_reads_real_files_at_its_input_size(tmp_path, embedder):
    from desktop_app.core.images import load_rgb

    Image.fromarray(stripes((220, 20, 20))).resize((300, 400)).save(tmp_path / "big.png")
    pixels = load_rgb(tmp_path / "big.png", embedder.input_size)
    assert pixels.shape == (HEIGHT, WIDTH, 3)
    assert parts(embedder.embed(pixels[None])[0])[0] @ parts(embedder.embed(stripes((220, 20, 20))[None])[0])[0] \
        > 0.9 * ct.COLOUR_WEIGHT
