"""Helpers shared by the tests (import them: `from support import make_image`); fixtures live in conftest.py."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


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


def reencoded_copies(catalog: Path, folder: Path, numbers) -> Path:
    """Re-encoded copies (JPEG q75, resized to 90 %) of catalog items img<i>.jpg in `folder`: match's kind of query
    photo (issue 25)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in numbers:
        img = Image.open(catalog / f"img{i:03d}.jpg")
        img.resize((round(img.width * 0.9), round(img.height * 0.9))).save(folder / f"copy{i:03d}.jpg", quality=75)
    return folder


def index_in_window(qtbot, window, folder, timeout_ms: int = 120_000):
    """Open `folder` in the window and wait for its index run to end; its IndexReport. The timeout is generous:
    CI shares 2 cores, and nothing waiting here asserts speed."""
    with qtbot.waitSignal(window.index_finished, timeout=timeout_ms) as finished:
        window.open_catalog(folder)
    return finished.args[0]


def side_by_side(folder: Path, left: str, right: str, out: Path) -> Path:
    """A photo of two catalog items side by side (their decoded pixels, saved losslessly)."""
    a, b = (np.asarray(Image.open(folder / name).convert("RGB")) for name in (left, right))
    Image.fromarray(np.concatenate([a, b], axis=1)).save(out)
    return out


LABEL_TYPES = ["Shirts", "Jeans", "Tshirts"]


def write_labels(folder: Path, n: int, file_name: str = "labels.csv") -> Path:
    """labels.csv for img000… img{n-1}: articleType cycles through LABEL_TYPES, gender is Men for the first half."""
    with open(folder / file_name, "w", newline="") as f:
        f.write("filename,articleType,gender\n")
        for i in range(n):
            f.write(f"img{i:03d}.jpg,{LABEL_TYPES[i % 3]},{'Men' if i < n // 2 else 'Women'}\n")
    return folder


class CountingEmbedder:
    """A small, fast, real embedder for pipeline tests: the 8×8 RGB thumbnail, L2-normalised.

    It counts the images it embeds, so tests can prove what was (not) re-embedded.
    """

    name = "tiny"
    dim = 8 * 8 * 3
    input_size = (8, 8)
    load_report = "nothing to load"
    weights = None
    precision = "fp32"

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
        from desktop_app.core.embedders.base import l2_normalise

        self.embedded += len(batch)
        self.batches += 1
        return l2_normalise(batch.reshape(len(batch), -1).astype(np.float32) + 1.0)


def assert_unit_rows_independent_of_the_batch(embedder, batch, row: int, atol: float) -> None:
    """The embedder's vectors of `batch` are finite, unit-length float32 rows, and `row` embedded alone gives
    the same vector as inside the batch."""
    vectors = embedder.embed(batch)
    assert vectors.shape == (len(batch), embedder.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(embedder.embed(batch[row : row + 1])[0], vectors[row], atol=atol)


def write_legacy_h5(base, path):
    """A Keras network's weights in the legacy HDF5 layout of the ImageNet file, whose layer names are an older
    Keras' (here "old_layer_N"): only the order tells which layer is which, as for Keras' loader."""
    import h5py

    with h5py.File(path, "w") as f:
        weighted = [layer for layer in base.layers if layer.weights]
        layer_names = [f"old_layer_{i}" for i in range(len(weighted))]
        f.attrs["layer_names"] = [name.encode() for name in layer_names]
        for layer_name, layer in zip(layer_names, weighted, strict=True):
            names = [f"{layer_name}/{w.name}:0" for w in layer.weights]
            f.create_group(layer_name).attrs["weight_names"] = [n.encode() for n in names]
            for name, values in zip(names, layer.get_weights(), strict=True):
                f[layer_name].create_dataset(name, data=values)
    return path


HOLD_LIMIT = 60  # seconds an index batch is held at most: only a failing run (the query waits) waits this long


class Hold:
    """Called by a real runtime (held_sessions, held_interpreters) with the rows of each batch it runs: after
    `open_batches` index batches (more than one photo), the next one is held there — inside the embedder's
    forward pass — until `release` (or HOLD_LIMIT). `events` records the order, for tests that assert a query
    answered meanwhile."""

    def __init__(self, open_batches: int = 0):
        self.open_batches, self.batches = open_batches, 0
        self.inside, self.release = threading.Event(), threading.Event()
        self.events: list[str] = []

    def __call__(self, rows: int) -> None:
        if rows <= 1:
            return
        self.batches += 1
        if self.batches > self.open_batches and not self.release.is_set():
            self.events.append("index batch inside the runtime")
            self.inside.set()
            self.release.wait(HOLD_LIMIT)
            self.events.append("index batch goes on")


def held_sessions(monkeypatch, hold: Hold) -> None:
    """ONNX Runtime sessions (EfficientNet-Lite0, int8) whose run() calls `hold` first."""
    from desktop_app.core.embedders import onnx_embedder

    real = onnx_embedder.inference_session

    class HeldSession:
        def __init__(self, session):
            self.session = session

        def run(self, outputs, feeds):
            hold(len(next(iter(feeds.values()))))
            return self.session.run(outputs, feeds)

    monkeypatch.setattr(onnx_embedder, "inference_session",
                        lambda model, threads=None: HeldSession(real(model, threads)))


def held_interpreters(monkeypatch, hold: Hold) -> None:
    """TFLite interpreters (ResNet50's tflite backend, LiteRT) whose invoke() calls `hold` first, input set."""
    from desktop_app.core.embedders import tflite_runtime

    real = tflite_runtime.interpreter_class()

    class HeldInterpreter(real):
        def invoke(self):
            hold(int(self.get_input_details()[0]["shape"][0]))
            super().invoke()

    monkeypatch.setattr(tflite_runtime, "interpreter_class", lambda: HeldInterpreter)


# -- processes that get a signal mid-step (tests/test_cli_interrupts.py, tests/test_ui_signals.py) ---------------

class SlowEmbedder(CountingEmbedder):
    """A CountingEmbedder taking 0.3 s a batch: a signal sent while it indexes lands mid-run."""

    def embed(self, batch):
        time.sleep(0.3)
        return super().embed(batch)


def slow_export_rows(started: str | None = None) -> None:
    """From now on core.export writes a row every 50 ms, and creates the file `started` as it begins writing:
    a signal sent then lands mid-write."""
    from desktop_app.core import export

    rows = export.neighbour_rows

    def slow_rows(*args):
        if started:
            Path(started).touch()
        for row in rows(*args):
            time.sleep(0.05)
            yield row

    export.neighbour_rows = slow_rows


def start_python(script: str, **names: Path) -> subprocess.Popen:
    """A child Python running `script` (dedented; each NAME in it replaced by the repr of its path), with the app
    and this folder (its test embedders) importable."""
    code = textwrap.dedent(script)
    for name, value in names.items():
        code = code.replace(name, repr(str(value)))
    search_path = f"{REPO}{os.pathsep}{REPO / 'tests'}"
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": search_path})


def wait_for(condition, process: subprocess.Popen, timeout: float = 60) -> None:
    """Until condition() holds; fails (with the process's output) when it ends first or the time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the step to interrupt never started"
        time.sleep(0.02)


def ended(process: subprocess.Popen, timeout: float = 60) -> str:
    """The process's stderr once it has ended; one still running after `timeout` s is killed and the test fails."""
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        raise AssertionError(f"the process did not end within {timeout} s; stderr:\n{err}") from None


def stored(folder: Path, embedder=None) -> int:
    """Items in the cache of `folder` for `embedder` (default a CountingEmbedder), read without writing."""
    from desktop_app.core.session import CatalogSession

    with CatalogSession(folder, embedder or CountingEmbedder(), read_only=True) as session:
        return session.store.count()


def assert_the_next_run_resumes(folder: Path, kept: int, total: int) -> None:
    """After a stop that kept `kept` of `total` photos: the cache is whole, and the next index run embeds only the
    others."""
    from desktop_app.core.session import CatalogSession

    embedder = CountingEmbedder()
    with CatalogSession(folder, embedder) as session:
        assert session.store.integrity_ok()
        report = session.index()
    assert (report.unchanged, report.embedded) == (kept, total - kept) and embedder.embedded == total - kept


def stored_or_zero(folder: Path) -> int:
    try:
        return stored(folder)
    except Exception:  # not created yet, or its tables not yet
        return 0


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `fashionrec-cli argv…` run in this process (cli.main), with --model
    colour-texture unless the arguments name a model; an argparse usage error gives its exit code too."""
    from desktop_app import cli

    try:
        code = cli.main([*argv] if "--model" in argv else [*argv, "--model", "colour-texture"])
    except SystemExit as exit:  # a usage error, from argparse
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err
