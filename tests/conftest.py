"""Shared fixtures: a private data dir per test and cache dir per run, generated catalogs, one seeded random
ResNet50."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SAMPLE_CATALOG = REPO.parent / "shared" / "data" / "fashion-2k"


@pytest.fixture(scope="session", autouse=True)
def clipboard_emptied_before_exit():
    """What a test leaves on the clipboard is deleted by Qt's own exit handler after Python has shut down:
    a segfault (exit code 139) after every test passed. Empty it while Python still runs."""
    yield
    if "PySide6.QtGui" in sys.modules:
        from PySide6.QtGui import QGuiApplication

        if QGuiApplication.instance() is not None:
            QGuiApplication.clipboard().clear()


@pytest.fixture(scope="session", autouse=True)
def cache_dir(tmp_path_factory) -> Path:
    """One FASHIONREC_CACHE_DIR for the whole run, not the person's: a model is converted once per run (not
    per test), and its ~100 MB files go with pytest's temporary folders (it keeps the last three runs').
    Set in os.environ, so the CLI and app processes the tests start use it too."""
    folder = tmp_path_factory.mktemp("fashionrec-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FASHIONREC_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch) -> Path:
    """Every test gets its own FASHIONREC_DATA_DIR (stores, settings, logs) and no weights settings."""
    folder = tmp_path / "fashionrec-data"
    monkeypatch.setenv("FASHIONREC_DATA_DIR", str(folder))
    monkeypatch.delenv("FASHIONREC_WEIGHTS", raising=False)
    return folder


def make_image(path: Path, seed: int, size=(60, 80), mode="RGB", fmt=None) -> Path:
    """A small image with blocky random structure (a distinct pattern per seed)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(4, 3, 3), dtype=np.uint8)
    img = Image.fromarray(coarse, "RGB").resize(size, Image.Resampling.BILINEAR)
    if mode != "RGB":
        img = img.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format=fmt)
    return path


@pytest.fixture
def make_catalog(tmp_path):
    """make_catalog(n, name="catalog") → a folder of n generated JPEGs named img000.jpg …"""

    def make(n: int, name: str = "catalog", start_seed: int = 0) -> Path:
        folder = tmp_path / name
        for i in range(n):
            make_image(folder / f"img{i:03d}.jpg", seed=start_seed + i)
        return folder

    return make


@pytest.fixture
def open_window(qtbot):
    """open_window(embedder=None, batch_size=4, model=None) → a shown MainWindow, closed (thread joined)
    after the test."""

    from desktop_app.ui.main_window import MainWindow

    windows = []  # held here: qtbot only keeps weak references, and a window must be closed, not collected

    def make(embedder=None, batch_size: int = 4, model: str | None = None):
        window = MainWindow(model=model, embedder=embedder, batch_size=batch_size)
        windows.append(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield make
    for window in windows:
        window.close()  # joins the worker thread
        window.deleteLater()  # as qtbot does: a window left to Qt's exit handler outlives Python (a crash)


@pytest.fixture(scope="session")
def random_embedder():
    """The real ResNet50 network with explicitly seeded random weights (weights=None), built once."""
    from desktop_app.core.embedders import create_embedder
    from desktop_app.core.weights import random_weights

    embedder = create_embedder("resnet50", random_weights(0))
    embedder.load()
    return embedder


class CountingEmbedder:
    """A small, fast, real embedder for pipeline tests: the 8×8 RGB thumbnail, L2-normalised.

    It counts the images it embeds, so tests can prove what was (not) re-embedded.
    """

    name = "tiny"
    dim = 8 * 8 * 3
    input_size = (8, 8)
    load_report = "nothing to load"

    def __init__(self, tag: str = "v1"):
        self.tag = tag
        self.embedded = 0
        self.batches = 0

    @property
    def fingerprint(self) -> str:
        return f"tiny-thumbnail-{self.tag}"

    def describe(self) -> str:
        return "8×8 thumbnail (tests)"

    def load(self) -> None:
        pass

    def embed(self, batch):
        from desktop_app.core.embedders import l2_normalise

        self.embedded += len(batch)
        self.batches += 1
        return l2_normalise(batch.reshape(len(batch), -1).astype(np.float32) + 1.0)


@pytest.fixture
def counting_embedder() -> CountingEmbedder:
    return CountingEmbedder()
