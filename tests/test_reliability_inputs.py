"""Reliability (issue 7): a catalog full of broken and odd files; bad query files (files that change while
they are indexed: test_reliability_changes.py).

Every image here is generated in the test. The corpus goes through the core indexer, and through the
window's lanes, with the small CountingEmbedder; one heavy test checks EXIF orientation with
the real (randomly initialised) ResNet50.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app import cli
from desktop_app.core.errors import UserError
from desktop_app.core.images import ImageError, load_rgb
from desktop_app.core.session import CatalogSession
from support import REPO, CountingEmbedder, make_image

RUNNING_AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
EXIF_ORIENTATION = 0x0112
ROTATE_90_CW = 6  # EXIF orientation: the stored pixels must be turned 90° clockwise to be upright


def png_bytes(width: int, height: int, bit_depth: int, colour_type: int, raw_rows: bytes = b"") -> bytes:
    """A PNG written by hand: for what Pillow will not write (48-bit RGB) or must not (a bomb header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw_rows))
            + chunk(b"IEND", b""))


def pattern(seed: int, width: int = 30, height: int = 40) -> np.ndarray:
    """A distinct (height, width, 3) uint8 picture per seed, with large flat blocks."""
    coarse = np.random.default_rng(seed).integers(0, 256, size=(4, 3, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(coarse, "RGB").resize((width, height), Image.Resampling.NEAREST))


def write_exif_rotated_pair(folder: Path) -> tuple[Path, Path]:
    """rotated.jpg stores its pixels sideways with EXIF orientation 6; upright.png holds the same pixels
    turned upright losslessly. Both must decode to the same array, hence the same vector."""
    rotated = folder / "rotated.jpg"
    sideways = Image.fromarray(pattern(11, width=40, height=30))
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = ROTATE_90_CW
    sideways.save(rotated, exif=exif, quality=95)
    stored = np.asarray(Image.open(rotated).convert("RGB"))  # the decoded JPEG pixels, as stored
    upright = folder / "upright.png"
    Image.fromarray(np.rot90(stored, k=-1)).save(upright)  # k=-1: 90° clockwise
    return rotated, upright


def build_bad_input_corpus(folder: Path) -> tuple[set[str], dict[str, str]]:
    """The issue's corpus. Returns (files that must be indexed, {file that must be skipped: reason part})."""
    folder.mkdir(parents=True, exist_ok=True)
    good: set[str] = set()

    def add(name: str, image: Image.Image, **save) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, **save)
        good.add(name)

    rgb = Image.fromarray(pattern(1))
    add("plain.jpg", rgb)
    add("rgba.png", rgb.convert("RGBA"))
    add("grey 16-bit.png", Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.uint16) * 257))
    rows16 = pattern(2).astype(">u2") * 257
    (folder / "rgb 48-bit.png").write_bytes(
        png_bytes(30, 40, 16, 2, b"".join(b"\0" + row.tobytes() for row in rows16)))
    good.add("rgb 48-bit.png")
    palette = Image.fromarray((np.arange(40 * 30).reshape(40, 30) // 100).astype(np.uint8), "P")
    palette.putpalette([value for i in range(16) for value in (i * 16, 255 - i * 16, 90)])
    add("palette-transparent.png", palette, transparency=0)  # index 0 (the top rows) is see-through
    add("cmyk.jpg", rgb.convert("CMYK"))
    add("grey.jpg", rgb.convert("L"))
    frames = [Image.fromarray(pattern(s)) for s in (3, 4)]
    add("animated.gif", frames[0], save_all=True, append_images=frames[1:], duration=100, loop=0)
    add("image.webp", rgb, lossless=True)
    add("image.tiff", rgb)
    add("one-pixel.png", Image.new("RGB", (1, 1), (200, 30, 30)))
    add("wide 10000x50.png", Image.fromarray(pattern(5, width=10000, height=50)))
    add("ünïcödé 名前 👗.jpg", Image.fromarray(pattern(6)))
    add("with  spaces .jpg", Image.fromarray(pattern(7)))
    add("x.jpg/inside a folder named x.jpg.jpg", Image.fromarray(pattern(8)))
    rotated, upright = write_exif_rotated_pair(folder)
    good |= {rotated.name, upright.name}
    os.symlink(folder, folder / "x.jpg" / "loop to the catalog")  # a folder symlink loop: walked once

    bad = {
        "zero.jpg": "empty file (0 bytes)",
        "truncated.jpg": "corrupt or truncated image data",
        "text.jpg": "not an image Pillow can read",
        "page.png": "not an image Pillow can read",
        "bomb 50000x50000.png": "decompression-bomb guard",
        "bomb 12000x9000.png": "image too large (12000×9000 pixels; decompression-bomb guard)",
        "loop-a.jpg": "symbolic link loop",
        "loop-b.jpg": "symbolic link loop",
        "dangling.jpg": "broken symbolic link (its target is missing)",
        "caf\ufffd.jpg": "file name is not valid UTF-8",
    }
    (folder / "zero.jpg").write_bytes(b"")
    whole = (folder / "plain.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    (folder / "text.jpg").write_text("This is a text file, not a photo.\n")
    (folder / "page.png").write_text("<!DOCTYPE html><html><body>404 Not Found</body></html>")
    (folder / "bomb 50000x50000.png").write_bytes(png_bytes(50000, 50000, 8, 2, b"\0" * 64))
    (folder / "bomb 12000x9000.png").write_bytes(png_bytes(12000, 9000, 8, 2, b"\0" * 64))
    os.symlink("loop-b.jpg", folder / "loop-a.jpg")
    os.symlink("loop-a.jpg", folder / "loop-b.jpg")
    os.symlink("no such file.jpg", folder / "dangling.jpg")
    try:
        with open(os.path.join(os.fsencode(folder), b"caf\xe9.jpg"), "wb") as f:  # a Latin-1 name
            f.write(whole)
    except OSError:  # file systems that only take UTF-8 names (macOS) cannot have this problem
        del bad["caf\ufffd.jpg"]

    unreadable = make_image(folder / "unreadable.jpg", seed=9)
    unreadable.chmod(0)
    if RUNNING_AS_ROOT:  # root reads it anyway, so it is a good file here
        good.add("unreadable.jpg")
    else:
        bad["unreadable.jpg"] = "permission denied"
    return good, bad


def assert_corpus_result(indexed: set[str], skipped: dict[str, str], good: set[str], bad: dict[str, str]):
    assert indexed == good
    assert set(skipped) == set(bad)
    for relpath, expected in bad.items():
        assert expected in skipped[relpath], (relpath, skipped[relpath])


def test_bad_input_corpus_is_indexed_with_a_specific_reason_per_skipped_file(tmp_path):
    if RUNNING_AS_ROOT:
        print("note: running as root, so the chmod-000 file is readable and is expected to be indexed")
    good, bad = build_bad_input_corpus(tmp_path / "catalog")
    embedder = CountingEmbedder()
    with CatalogSession(tmp_path / "catalog", embedder) as session:
        report = session.index(batch_size=4)
        relpaths, vectors = session.store.load_vectors()
        again = session.index(batch_size=4)

    assert not report.cancelled
    assert_corpus_result(set(relpaths), dict(report.all_skipped), good, bad)
    assert embedder.embedded == len(good)  # the loop through the folder symlink added nothing twice
    assert np.array_equal(vectors[relpaths.index("rotated.jpg")], vectors[relpaths.index("upright.png")])
    retried = {name for name, reason in bad.items() if reason == "permission denied"}  # may be fixed by now
    assert (again.embedded, again.unchanged) == (0, len(good) + len(bad) - len(retried))
    assert {relpath for relpath, _ in again.newly_skipped} == retried


def test_the_cli_lists_each_skipped_file_with_its_reason(tmp_path, monkeypatch, capsys):
    good, bad = build_bad_input_corpus(tmp_path / "catalog")
    assert cli.main(["index", str(tmp_path / "catalog"), "--random-weights"],
                    make_embedder=lambda args: CountingEmbedder()) == 0
    out = capsys.readouterr().out
    assert f"{len(good)} embedded" in out and f"{len(bad)} skipped" in out
    assert "  skipped zero.jpg: empty file (0 bytes)" in out
    assert "  skipped loop-a.jpg: symbolic link loop" in out


def test_bad_input_corpus_through_the_window_lanes(tmp_path, qapp):
    """The window's own work functions, called on this thread: open + index on a writer lane, queries on a reader
    lane (which keeps going after a bad one)."""
    from desktop_app.ui.lanes import READER, WRITER, Lane
    from desktop_app.ui.operations.catalog import index_on, open_on

    good, bad = build_bad_input_corpus(tmp_path / "catalog")
    writer, reader = Lane(WRITER, {"tiny": CountingEmbedder()}), Lane(READER)
    skipped, answers = {}, []

    class Task:
        def report(self, update) -> None:
            skipped.update(getattr(update, "newly_skipped", ()))

        def should_cancel(self) -> bool:
            return False

    opened = open_on(writer, str(tmp_path / "catalog"), "tiny", None)
    report = index_on(writer.catalog, Task(), batch_size=4)
    assert not report.cancelled
    relpaths, _ = writer.session.store.load_vectors()
    assert_corpus_result(set(relpaths), skipped, good, bad)

    reader.install(opened.reader)
    reader.succeeded.connect(lambda token, items: answers.append((token, [i.relpath for i in items])))
    reader.failed.connect(lambda token, message: answers.append((token, message)))

    def query(name):
        return lambda catalog: catalog.result_items(catalog.session.query(tmp_path / "catalog" / name, 5))

    reader.run(8, query("text.jpg"), True)  # and it keeps going after a bad query
    reader.run(9, query("plain.jpg"), True)
    assert answers[0] == (8, "Cannot use text.jpg as a query: not an image Pillow can read (unknown or corrupt "
                             "format).")
    assert answers[1][0] == 9 and len(answers[1][1]) == 5 and "plain.jpg" not in answers[1][1]
    reader.close_catalog()
    writer.close_catalog()


# -- what each odd format decodes to ------------------------------------------------------------------

def test_odd_formats_decode_to_the_right_upright_rgb_pixels(tmp_path):
    build_bad_input_corpus(tmp_path)
    source = pattern(1)
    at_source_size = lambda name: load_rgb(tmp_path / name, (30, 40))  # noqa: E731

    assert np.array_equal(at_source_size("image.webp"), source)  # lossless formats: exact
    assert np.array_equal(at_source_size("image.tiff"), source)
    assert np.array_equal(at_source_size("rgba.png"), source)  # fully opaque alpha changes nothing
    assert np.array_equal(at_source_size("rgb 48-bit.png"), pattern(2))  # 16-bit samples scaled, not clipped
    grey = np.asarray(Image.fromarray(source).convert("L"))
    assert np.array_equal(at_source_size("grey 16-bit.png")[..., 0], grey)
    assert np.abs(at_source_size("cmyk.jpg").astype(int) - source).mean() < 8  # JPEG loss only
    with Image.open(tmp_path / "animated.gif") as gif:
        assert np.array_equal(at_source_size("animated.gif"), np.asarray(gif.convert("RGB")))  # first frame
    with Image.open(tmp_path / "palette-transparent.png") as palette:
        transparent = np.asarray(palette) == 0
    assert transparent.any() and (at_source_size("palette-transparent.png")[transparent] == 255).all()
    assert (load_rgb(tmp_path / "one-pixel.png") == (200, 30, 30)).all()
    assert load_rgb(tmp_path / "wide 10000x50.png").shape == (224, 224, 3)


def test_exif_orientation_is_applied(tmp_path):
    rotated, upright = write_exif_rotated_pair(tmp_path)
    as_stored = np.asarray(Image.open(rotated).convert("RGB"))
    assert as_stored.shape == (30, 40, 3)
    assert load_rgb(rotated, (30, 40)).shape == (40, 30, 3)  # taller than wide once upright
    assert np.array_equal(load_rgb(rotated), load_rgb(upright))
    assert not np.array_equal(load_rgb(rotated), load_rgb_ignoring_exif(rotated))  # so the check can fail


def load_rgb_ignoring_exif(path: Path) -> np.ndarray:
    img = Image.open(path).convert("RGB").resize((224, 224), Image.Resampling.NEAREST)
    return np.asarray(img)


def test_damaged_exif_keeps_the_pixels(tmp_path):
    path = tmp_path / "bad-exif.jpg"
    Image.fromarray(pattern(4)).save(path, exif=b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0")
    assert load_rgb(path).shape == (224, 224, 3)


@pytest.mark.heavy
def test_exif_rotated_jpeg_has_the_upright_images_resnet_vector(tmp_path, random_embedder):
    rotated, upright = write_exif_rotated_pair(tmp_path)
    vectors = random_embedder.embed(np.stack([load_rgb(rotated), load_rgb(upright),
                                              load_rgb_ignoring_exif(rotated)]))
    assert np.allclose(vectors[0], vectors[1], atol=1e-6)
    assert not np.allclose(vectors[0], vectors[2], atol=1e-3)


# -- bad query files ------------------------------------------------------------------------------------

def test_bad_query_files_are_clear_user_errors_and_the_session_keeps_going(make_catalog, tmp_path):
    folder = make_catalog(6)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes((folder / "img000.jpg").read_bytes()[:200])
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    (tmp_path / "a folder.jpg").mkdir()
    expected = {
        broken: "Cannot use broken.jpg as a query: corrupt or truncated image data",
        text: "Cannot use notes.png as a query: not an image Pillow can read (unknown or corrupt format).",
        tmp_path / "a folder.jpg": "Cannot use a folder.jpg as a query: is a folder, not an image file.",
        tmp_path / "gone.jpg": "Cannot use gone.jpg as a query: file not found (deleted or moved).",
    }
    with CatalogSession(folder, CountingEmbedder()) as session:
        session.index()
        for path, message in expected.items():
            with pytest.raises(UserError) as err:
                session.query(path)
            assert str(err.value).startswith(message)
        assert len(session.query(folder / "img003.jpg")) == 5


def test_bad_query_through_the_cli_is_one_line(make_catalog, tmp_path, monkeypatch, capsys):
    folder = make_catalog(3)
    assert cli.main(["index", str(folder), "--random-weights"], make_embedder=lambda args: CountingEmbedder()) == 0
    capsys.readouterr()
    (tmp_path / "dropped.jpg").write_text("<html>not an image</html>")
    assert cli.main(["query", str(tmp_path / "dropped.jpg"), "--catalog", str(folder), "--random-weights"],
                    make_embedder=lambda args: CountingEmbedder()) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "fashionrec: Cannot use dropped.jpg as a query: not an image Pillow can read (unknown or corrupt format)."]


def test_load_rgb_reasons_are_image_errors_not_crashes(tmp_path):
    with pytest.raises(ImageError, match="is a folder"):
        load_rgb(tmp_path)


def test_an_unexpected_decoder_error_skips_only_that_file(make_catalog, monkeypatch, caplog):
    folder = make_catalog(5)

    def buggy_for_one_file(path):
        if Path(path).name == "img002.jpg":
            raise ZeroDivisionError("division by zero")  # as a Pillow plugin bug on a fuzzed file might
        return load_rgb(path, CountingEmbedder.input_size)

    with CatalogSession(folder, CountingEmbedder()) as session:
        report = session.index(batch_size=2, decode=buggy_for_one_file)
    assert report.indexed == 4
    assert report.all_skipped == [("img002.jpg", "unexpected decoder error (ZeroDivisionError: division by zero); "
                                             "details are in the log")]
    assert "Traceback" in caplog.text and "img002.jpg" in caplog.text


def test_unicode_names_on_a_console_that_cannot_show_them(tmp_path):
    """E.g. Windows with output redirected (cp1252): the report must not die on a file name."""
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "名前 broken.jpg").write_text("not an image")  # skipped: no network needed
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = subprocess.run([sys.executable, "-m", "desktop_app.cli", "index", str(tmp_path / "catalog"),
                             "--random-weights"], capture_output=True, text=True, encoding="ascii",
                            errors="strict", env=env, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "  skipped \\u540d\\u524d broken.jpg: not an image Pillow can read" in result.stdout
