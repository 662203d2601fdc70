"""The bench's big copies of photos (photo_sizes.py) and how the bench names photo sizes and decoding time."""

import argparse

import numpy as np
import pytest
from PIL import Image

from desktop_app.bench import photo_sizes
from desktop_app.bench.big_photos import TimedDecode
from support import make_image

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, size", [("1500x2000", (1500, 2000)), (" 4000 × 3000 ", (4000, 3000))])
def test_photo_sizes_are_read_as_width_x_height(text, size):
    assert photo_sizes.parse_photo_size(text) == size


@pytest.mark.parametrize("text", ["1500", "1500x", "0x100", "1500x2000x3", "30000x100", "big"])
def test_a_malformed_photo_size_is_refused_with_an_example(text):
    with pytest.raises(argparse.ArgumentTypeError, match="e.g. 1500x2000"):
        photo_sizes.photo_size_argument(text)


def test_copies_are_padded_to_the_aspect_enlarged_noisy_jpegs_under_the_same_names(tmp_path):
    sources = [make_image(tmp_path / "src" / f"p{i}.png", seed=i, size=(60, 60), fmt="PNG") for i in range(3)]
    copies = photo_sizes.enlarged_copies(sources, tmp_path / "big", (120, 160))
    assert [c.name for c in copies] == ["p0.jpg", "p1.jpg", "p2.jpg"]
    for source, copy in zip(sources, copies, strict=True):
        with Image.open(copy) as img:
            assert (img.format, img.size) == ("JPEG", (120, 160))
            pixels = np.asarray(img, np.int16)
        original = np.asarray(Image.open(source).convert("RGB"))
        border = np.median(np.concatenate([original[0], original[-1], original[:, 0], original[:, -1]]), axis=0)
        assert np.abs(pixels[:10, 60] - border).mean() < 12  # padded above the photo with its border's colour
        assert pixels[:10].std(axis=(0, 1)).min() > 1  # with noise: no flat areas, in any channel
    assert photo_sizes.describe_photos(copies) == "120×160"
    assert photo_sizes.describe_photos([*copies, sources[0]]) == "60×60 (1), 120×160 (3)"


def test_timed_decode_adds_up_the_cpu_time_of_its_calls(tmp_path):
    path = make_image(tmp_path / "a.png", 1, size=(400, 400), fmt="PNG")
    timed = TimedDecode(lambda p: np.asarray(Image.open(p).convert("RGB").resize((50, 50))))
    for _ in range(3):
        assert timed(path).shape == (50, 50, 3)
    assert len(timed.calls) == 3 and timed.cpu_seconds > 0


def test_copies_are_saved_at_the_quality_asked(tmp_path):
    source = [make_image(tmp_path / "p.png", seed=1, size=(60, 60), fmt="PNG")]
    tables = {}
    for quality in (90, 95):
        copy = photo_sizes.enlarged_copies(source, tmp_path / f"q{quality}", (120, 160), quality=quality)[0]
        with Image.open(copy) as img:
            tables[quality] = img.quantization[0]
    assert max(tables[95]) < max(tables[90])  # finer quantization: the higher quality
