import numpy as np
import pytest
from PIL import Image

from desktop_app.core.images import ImageError, load_rgb
from support import make_image


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "CMYK", "1"])
def test_every_common_mode_becomes_rgb_224(tmp_path, mode):
    fmt = "TIFF" if mode == "CMYK" else "PNG"
    path = make_image(tmp_path / f"x.{fmt.lower()}", 3, mode=mode, fmt=fmt)
    pixels = load_rgb(path)
    assert pixels.shape == (224, 224, 3) and pixels.dtype == np.uint8


def test_transparency_is_composited_on_white(tmp_path):
    path = tmp_path / "clear.png"
    Image.new("RGBA", (10, 10), (255, 0, 0, 0)).save(path)
    assert (load_rgb(path, (10, 10)) == 255).all()


def test_sixteen_bit_greyscale_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((4, 4), 32768, dtype=np.uint16)).save(path)
    value = load_rgb(path, (4, 4))[0, 0, 0]
    assert 120 <= value <= 135  # half of full scale, not clipped to 255


def test_resize_matches_keras_load_img_nearest(tmp_path):
    from PIL import Image as PILImage

    path = make_image(tmp_path / "a.jpg", 5)
    expected = np.asarray(PILImage.open(path).convert("RGB").resize((224, 224), PILImage.Resampling.NEAREST))
    assert np.array_equal(load_rgb(path), expected)


def test_garbage_gives_a_reason_not_a_crash(tmp_path):
    path = tmp_path / "fake.jpg"
    path.write_text("hello, I am text")
    with pytest.raises(ImageError, match="not an image"):
        load_rgb(path)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="empty file"):
        load_rgb(empty)


def test_load_readable_leaves_out_unreadable_files_and_keeps_the_order(tmp_path):
    from desktop_app.core.images import load_readable

    first, second = make_image(tmp_path / "a.jpg", seed=1), make_image(tmp_path / "c.png", seed=2, fmt="PNG")
    (tmp_path / "b.jpg").write_bytes(b"not a jpeg")
    kept, pixels = load_readable([first, tmp_path / "b.jpg", second], (32, 24))
    assert kept == [first, second] and [p.shape for p in pixels] == [(24, 32, 3)] * 2
