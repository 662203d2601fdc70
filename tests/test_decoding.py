"""The decode pool (in order, in parallel, stoppable), the memory budget every decode shares, and the per-model
decode policy (issue 22)."""

import contextlib
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.core import decoding
from desktop_app.core.catalog import scan
from desktop_app.core.decoding import DecodeBudget, Decoder, decoded_in_order
from desktop_app.core.embedders import BUILT_IN_MODEL, MODELS, create_embedder, needs_weights
from support import make_image

pytestmark = pytest.mark.unit


def _catalog(folder: Path, n: int) -> list:
    for i in range(n):
        make_image(folder / f"p{i:02d}.jpg", seed=i)
    return scan(folder)


def test_files_come_back_in_order_with_the_reasons_of_unreadable_ones(tmp_path):
    files = _catalog(tmp_path, 6)
    (tmp_path / "p03.jpg").write_bytes(b"not a photo")
    results = list(decoded_in_order(Decoder((8, 8)), tmp_path, files, workers=3, lookahead=4))
    assert [item.relpath for item, _ in results] == [f.relpath for f in files]
    assert [type(pixels) for _, pixels in results] == [np.ndarray] * 3 + [str] + [np.ndarray] * 2
    assert "not an image" in results[3][1]


def test_the_workers_decode_at_the_same_time(tmp_path):
    files = _catalog(tmp_path, 4)
    both_running = threading.Barrier(2, timeout=10)

    def decode(path):
        both_running.wait()  # broken (BrokenBarrierError → a skip reason) unless two decodes overlap
        return np.zeros((2, 2, 3), np.uint8)

    results = list(decoded_in_order(decode, tmp_path, files, workers=2, lookahead=4))
    assert all(isinstance(pixels, np.ndarray) for _, pixels in results)


def test_closing_the_generator_stops_the_decoding(tmp_path):
    files = _catalog(tmp_path, 40)
    calls = []

    def decode(path):
        calls.append(path)
        time.sleep(0.02)
        return np.zeros((2, 2, 3), np.uint8)

    with contextlib.closing(decoded_in_order(decode, tmp_path, files, workers=1, lookahead=20)) as decoded:
        next(decoded)
    assert len(calls) <= 3  # the first and the one or two started meanwhile: the 18 waiting are dropped


def test_a_decode_bigger_than_the_budget_waits_to_run_alone():
    budget = DecodeBudget(limit=100)
    inside, events = threading.Semaphore(0), []
    release = threading.Event()

    def hold(name, nbytes):
        with budget.reserve(nbytes):
            events.append((name, budget.in_use))
            inside.release()
            release.wait(10)

    small = [threading.Thread(target=hold, args=(f"small{i}", 40)) for i in range(2)]
    for thread in small:
        thread.start()
    assert inside.acquire(timeout=10) and inside.acquire(timeout=10)  # both small ones fit: 80 ≤ 100
    big = threading.Thread(target=hold, args=("big", 500))
    big.start()
    assert not inside.acquire(timeout=0.2)  # the big one waits while the small ones hold memory
    release.set()
    for thread in [*small, big]:
        thread.join(10)
    assert events[-1] == ("big", 500)  # alone once it ran
    assert budget.in_use == 0 and budget.peak == 500


def test_every_decode_reserves_from_the_process_budget(tmp_path, monkeypatch):
    budget = DecodeBudget()
    monkeypatch.setattr(decoding, "BUDGET", budget)
    path = make_image(tmp_path / "a.png", 1, size=(300, 200), fmt="PNG")
    Decoder((32, 32))(path)
    assert budget.peak >= 300 * 200 * 3 and budget.in_use == 0


@pytest.mark.parametrize("model, precision", [(m, p) for m in MODELS if not needs_weights(m)
                                              for p in (("fp32", "int8") if m == BUILT_IN_MODEL else ("fp32",))])
def test_a_model_not_decoding_as_the_recipe_says_so_in_its_fingerprint(model, precision):
    """Vectors of one decoding (scale, resize filter) must never share a store with vectors of another."""
    embedder = create_embedder(model, precision=precision)
    tag = decoding.decoding_tag(model, precision)
    assert (decoding.decoder_for(embedder) != Decoder(embedder.input_size)) == bool(tag)
    assert tag in embedder.fingerprint


def test_resnet50_fp32_keeps_the_seed_recipes_full_decoding():
    assert decoding.policy_of("resnet50") == decoding.Decoding() and decoding.decoding_tag("resnet50") == ""


def test_the_policy_is_looked_up_by_model_and_precision(monkeypatch):
    monkeypatch.setattr(decoding, "POLICY", {"m": decoding.Decoding(2), "m int8": decoding.Decoding(1, "bilinear")})
    assert [decoding.policy_of("m"), decoding.policy_of("m", "int8"), decoding.policy_of("other")] == [
        decoding.Decoding(2), decoding.Decoding(1, "bilinear"), decoding.Decoding()]
    assert decoding.decoding_tag("m") == "decode-reduced-2x-v1"  # as before resize filters existed
    assert decoding.decoding_tag("m", "int8") == "decode-reduced-1x-bilinear-v2"
    assert decoding.Decoding(decoding.FULL, "bilinear").tag == "decode-full-bilinear-v2"


def _stripes(path: Path, size=(1600, 2000)) -> Path:
    """One-pixel black and white columns: what nearest-neighbour sampling aliases and an average sees as grey."""
    pixels = np.zeros((size[1], size[0], 3), np.uint8)
    pixels[:, ::2] = 255
    Image.fromarray(pixels).save(path)
    return path


@pytest.mark.parametrize("margin", [decoding.FULL, 1])
def test_an_antialiased_resize_averages_what_nearest_neighbour_samples(tmp_path, margin):
    path = _stripes(tmp_path / "stripes.png")
    nearest = Decoder((64, 80), margin)(path).astype(int)
    bilinear = Decoder((64, 80), margin, "bilinear")(path).astype(int)
    if margin == decoding.FULL:
        assert set(np.unique(nearest)) <= {0, 255}  # single source pixels, black or white
    assert np.abs(bilinear - 127.5).max() <= 2  # every input pixel the stripes' mean


def test_reduced_and_full_decoding_with_the_same_antialiased_resize_give_about_the_same_pixels(tmp_path):
    rng = np.random.default_rng(3)
    smooth = Image.fromarray(rng.integers(0, 256, (8, 6, 3), dtype=np.uint8)).resize((1500, 2000), Image.BILINEAR)
    noisy = np.clip(np.asarray(smooth, np.int16) + rng.normal(0, 3, (2000, 1500, 3)), 0, 255).astype(np.uint8)
    path = tmp_path / "shop.jpg"
    Image.fromarray(noisy).save(path, quality=90)
    full = Decoder((224, 224), decoding.FULL, "bilinear")(path).astype(int)
    for margin in (1, 2):
        assert np.abs(Decoder((224, 224), margin, "bilinear")(path).astype(int) - full).mean() < 0.5


def test_a_filter_only_shrinks_a_picture_enlarged_on_either_side_is_resized_nearest(tmp_path):
    small = _stripes(tmp_path / "small.png", (40, 100))  # narrower than the input: enlarged across
    assert set(np.unique(Decoder((64, 80), decoding.FULL, "bilinear")(small))) <= {0, 255}  # nearest: no greys
    big = _stripes(tmp_path / "big.png", (640, 800))
    assert np.abs(Decoder((64, 80), decoding.FULL, "bilinear")(big).astype(int) - 127.5).max() <= 4  # averaged: grey
