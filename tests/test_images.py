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


# -- reduced decoding (issue 22) ------------------------------------------------------------------------------
class RecordingBudget:
    """A MemoryBudget that records what each decode reserved: the size of the pixels it was going to make."""

    def __init__(self):
        self.reserved: list[int] = []

    def reserve(self, nbytes):
        import contextlib

        self.reserved.append(nbytes)
        return contextlib.nullcontext()


def photo(path, size, fmt=None, exif=None, quality=90):
    """A photo-like image: smooth colour blocks, so a reduced decode looks like a full one scaled down."""
    img = Image.fromarray(np.random.default_rng(1).integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize(
        size, Image.Resampling.BILINEAR)
    options = {"quality": quality} if (fmt or path.suffix) in ("JPEG", ".jpg") else {}
    img.save(path, format=fmt, **options, **({"exif": exif} if exif is not None else {}))
    return path


@pytest.mark.parametrize("picture, wanted, factor", [
    ((1500, 2000), (224, 224), 4), ((1500, 2000), (64, 80), 8), ((224, 224), (64, 80), 2),
    ((300, 300), (224, 224), 1), ((100, 100), (224, 224), 1), ((12_000, 12_000), (224, 224), 8),
    ((4000, 3000), (224, 224), 8), ((1791, 2000), (224, 224), 4), ((1792, 2000), (224, 224), 8),
])
def test_reduction_is_the_largest_scale_still_at_least_the_wanted_size(picture, wanted, factor):
    from desktop_app.core.images import reduction

    assert reduction(picture, wanted) == factor
    assert reduction(picture, None) == 1


def test_a_big_jpeg_decodes_only_its_reduced_pixels_and_looks_the_same(tmp_path):
    path = photo(tmp_path / "shop.jpg", (1500, 2000))
    full, reduced = RecordingBudget(), RecordingBudget()
    exact = load_rgb(path, (224, 224), budget=full)
    small = load_rgb(path, (224, 224), reduce_to=(224, 224), budget=reduced)
    assert small.shape == exact.shape == (224, 224, 3)
    assert reduced.reserved[0] < full.reserved[0] / 10  # 375×500 decoded, not 1500×2000
    assert np.abs(small.astype(int) - exact.astype(int)).mean() < 3  # the same picture


def test_reduced_decoding_of_a_photo_not_bigger_than_the_input_is_the_full_decoding(tmp_path):
    path = photo(tmp_path / "sample.jpg", (224, 224))
    assert np.array_equal(load_rgb(path, (224, 224), reduce_to=(224, 224)), load_rgb(path, (224, 224)))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
def test_formats_without_decoder_scaling_are_box_reduced_like_a_jpeg(tmp_path, fmt):
    jpeg = photo(tmp_path / "a.jpg", (480, 640), quality=98)
    other = tmp_path / f"a.{fmt.lower()}"
    Image.open(jpeg).save(other, format=fmt, **({"lossless": True, "method": 0} if fmt == "WEBP" else {}))
    exact = load_rgb(other, (60, 80), resample=Image.Resampling.NEAREST)
    reduced = load_rgb(other, (60, 80), reduce_to=(60, 80))
    assert np.abs(reduced.astype(int) - load_rgb(jpeg, (60, 80), reduce_to=(60, 80)).astype(int)).mean() < 2
    assert not np.array_equal(reduced, exact)  # box-reduced (1/8), not a nearest-neighbour pick of the full


def test_an_upright_photo_is_not_copied_after_decoding(tmp_path, monkeypatch):
    """Copying a decoded 1500×2000 picture cost twice its decoding (docs/performance.md)."""
    path = photo(tmp_path / "shop.jpg", (1500, 2000))
    monkeypatch.setattr(Image.Image, "copy", lambda self: pytest.fail("the decoded picture was copied"))
    assert load_rgb(path, (224, 224)).shape == (224, 224, 3)


def test_reduced_decoding_keeps_the_exif_orientation(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: turn 90° clockwise to see it upright
    path = photo(tmp_path / "phone.jpg", (2000, 1500), exif=exif)
    exact, reduced = load_rgb(path, (150, 200)), load_rgb(path, (150, 200), reduce_to=(150, 200))
    assert np.abs(reduced.astype(int) - exact.astype(int)).mean() < 3


def test_a_crop_is_decoded_at_the_scale_its_region_needs(tmp_path):
    """A small region of a big photo keeps its full resolution; a big region is decoded reduced. Either way
    it is the same region as without reduction."""
    from desktop_app.core.images import Crop

    pixels = np.zeros((1200, 1600, 3), np.uint8)
    pixels[:, 800:] = (0, 0, 255)  # right half blue
    pixels[400:640, 1200:1440] = (255, 0, 0)  # a red square in it
    path = tmp_path / "big.jpg"
    Image.fromarray(pixels).save(path, quality=95, subsampling=0)  # 4:4:4: no colour bleeding at the edges
    small_region, big_region = RecordingBudget(), RecordingBudget()
    square = load_rgb(path, (224, 224), crop=Crop.parse("1200,400,240,240"), reduce_to=(224, 224),
                      budget=small_region)
    half = load_rgb(path, (64, 80), crop=Crop.parse("0.5,0,0.5,1"), reduce_to=(64, 80), budget=big_region)
    assert small_region.reserved[0] > 30 * big_region.reserved[0]  # full size vs 1/8
    assert np.abs(square[8:-8, 8:-8].astype(int) - (255, 0, 0)).max() < 40
    assert (half.max(axis=2) > 200).all()  # blue or red: nothing of the black left half


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_huge_jpeg_is_decoded_reduced_and_refused_at_full_size(tmp_path):
    """12,000×12,000 (144 megapixels, over MAX_PIXELS): reduced it is a 1500×1500 decode; the full decode is
    refused with the reason rather than taking 432 MB. Greyscale keeps the test's own memory small."""
    path = tmp_path / "huge.jpg"
    Image.new("L", (12_000, 12_000), 128).save(path, quality=50)
    assert load_rgb(path, (224, 224), reduce_to=(224, 224)).shape == (224, 224, 3)
    with pytest.raises(ImageError, match=r"too large \(12000×12000 pixels"):
        load_rgb(path, (224, 224))


def test_a_thumbnail_fits_its_bounds_and_decodes_no_more_than_it_shows(tmp_path):
    from desktop_app.core.images import thumbnail

    path = photo(tmp_path / "phone.jpg", (4000, 3000))
    budget = RecordingBudget()
    thumb = thumbnail(path, (188, 250), budget)
    assert thumb.size == (188, 141)  # 4:3 kept, fitted to the width
    assert budget.reserved[0] < 3 * (500 * 375 * 4) + path.stat().st_size + 1  # decoded at 1/8: 500×375
    assert thumbnail(photo(tmp_path / "small.png", (60, 80)), (188, 250)).size == (60, 80)  # never enlarged
