"""Shared fixtures (a private data dir per test and cache dir per run, generated catalogs, one seeded random
ResNet50) and the layer of every test. Helpers that tests import live in support.py.

Layers, as pytest markers (run one with e.g. `bash build/run-tests.sh -m unit`):
  unit         one module's behaviour on small generated inputs
  integration  several parts together: stores on disk, the CLI in subprocesses, real models
  gui          the Qt window (pytest-qt, offscreen)
  packaging    wheels, the PyInstaller bundle
A test module declares its layer with `pytestmark = pytest.mark.<layer>`, or is listed in LAYERS below; every test
has exactly one layer: a test with none, or with two (its own marker beside its module's), stops the run.
`heavy` is separate.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from support import CountingEmbedder, make_image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

LAYER_MARKERS = ("unit", "integration", "gui", "packaging")
LAYERS = {
    "test_architecture": "unit", "test_catalog": "unit", "test_colour_texture": "unit", "test_evaluate": "unit",
    "test_images": "unit", "test_logs": "unit", "test_registry": "unit", "test_search": "unit",
    "test_tflite_runtime": "unit", "test_weights": "unit", "test_duplicates": "unit", "test_filters": "unit",
    "test_neighbours": "unit", "test_region_search": "unit",
    "test_bench_similar": "integration", "test_cli_similar": "integration",
    "test_backends": "integration", "test_bench": "integration", "test_cli": "integration",
    "test_cli_edges": "integration", "test_indexer": "integration", "test_recipe": "integration",
    "test_reliability_cache": "integration",
    "test_reliability_crash": "integration", "test_reliability_inputs": "integration",
    "test_reliability_changes": "integration",
    "test_reliability_weights": "integration", "test_tflite_patch": "integration",
    "test_ui": "gui", "test_ui_newcomer": "gui", "test_ui_operations": "gui",
    "test_frozen": "packaging",
}


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by these markers
def pytest_collection_modifyitems(items):
    for item in items:
        layers = {marker.name for marker in item.iter_markers() if marker.name in LAYER_MARKERS}
        if len(layers) > 1:
            raise pytest.UsageError(f"{item.nodeid}: two test layers ({', '.join(sorted(layers))}); a test has "
                                    f"one: move it to a module of its layer")
        if layers:
            continue
        module = item.module.__name__.rpartition(".")[2]
        if module not in LAYERS:
            raise pytest.UsageError(f"{item.nodeid}: no test layer; add `pytestmark = pytest.mark.<layer>` "
                                    f"({', '.join(LAYER_MARKERS)}) to its module or list it in LAYERS in "
                                    f"tests/conftest.py")
        item.add_marker(LAYERS[module])


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


@pytest.fixture
def counting_embedder() -> CountingEmbedder:
    return CountingEmbedder()
