"""The packaged app: its self-test logic, and (heavy) a real PyInstaller build that must pass it.

The heavy test runs build/build.sh once (TensorFlow converts ResNet50, PyInstaller bundles the app without
TensorFlow, about 1-2 minutes on 2 cores), then drives the binary both ways: `--self-test` and a CLI
subcommand. The bundled .tflite run on LiteRT must give the Keras model's vectors.
"""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

from desktop_app import selftest
from desktop_app.core.embedders import available_backends, create_embedder
from desktop_app.core.embedders.tflite_runtime import XNNPACK_NOTICE
from support import REPO, make_image

APP = REPO / "dist" / "fashionrec" / "fashionrec"
CONVERTED = REPO / "build" / "work" / "models"


def test_self_test_catalog_has_a_known_answer(tmp_path):
    items = selftest.make_catalog(tmp_path / "catalog")
    query = selftest.make_query(items[selftest.TWIN], tmp_path / "query.png")
    assert len(items) == selftest.CATALOG_SIZE and query.parent != items[0].parent
    selftest.check_results("ok", [f"item{i:02d}.jpg" for i in (selftest.TWIN, 0, 1, 2, 3)])
    with pytest.raises(selftest.SelfTestFailure, match="is not first"):
        selftest.check_results("twin second", [f"item{i:02d}.jpg" for i in (0, selftest.TWIN, 1, 2, 3)])
    with pytest.raises(selftest.SelfTestFailure, match="expected 5 results"):
        selftest.check_results("too few", [f"item{selftest.TWIN:02d}.jpg"])


def test_self_test_checks_core_and_window_with_a_weight_free_model(tmp_path, qapp):
    """The whole self-test (core session, then the real main window) with a fast embedder."""
    summary = selftest.run_checks(tmp_path, create_embedder("colour-texture"), int8=False)
    assert "core" in summary and "main window" in summary and "agree" in summary


@pytest.mark.heavy
def test_self_test_runs_the_built_in_network(tmp_path, monkeypatch):
    for name in ("FASHIONREC_CACHE_DIR", "FASHIONREC_DATA_DIR"):  # the check points them at its work dir
        monkeypatch.setenv(name, os.environ[name])
    items = selftest.make_catalog(tmp_path / "catalog")
    query = selftest.make_query(items[selftest.TWIN], tmp_path / "query.png")
    summary = selftest.check_built_in(tmp_path / "catalog", query, tmp_path)
    assert summary.startswith("built-in network efficientnet-lite0 int8") and f"item{selftest.TWIN:02d}.jpg" in summary


def test_self_test_failure_exits_non_zero(monkeypatch, capsys):
    def broken(_workdir):
        raise selftest.SelfTestFailure("window: no results")

    monkeypatch.setattr(selftest, "run_checks", broken)
    assert selftest.main() == 1
    assert "self-test FAILED: window: no results" in capsys.readouterr().out


@pytest.fixture(scope="module")
def packaged_app():
    """dist/fashionrec built by build/build.sh (its own self-test run is left to the tests below)."""
    build = subprocess.run(["bash", str(REPO / "build" / "build.sh"), "--no-self-test"], cwd=REPO,
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert APP.is_file()
    return APP


def _run_app(*args, env_extra=None, timeout=300):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(QT_QPA_PLATFORM="offscreen", **(env_extra or {}))
    return subprocess.run([str(APP), *args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.heavy
def test_packaged_app_passes_its_self_test(packaged_app):
    run = _run_app("--self-test")
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    assert summary.startswith("fashionrec self-test passed")
    assert "frozen, LiteRTResNet50Embedder" in summary  # the converted model, found inside the bundle
    assert "weights file chosen at run time made into a model" in summary  # the bundled template works
    assert "built-in network efficientnet-lite0 int8 (the app's bundled copy) index + query" in summary
    print(summary)


@pytest.mark.heavy
def test_packaged_app_stays_lean(packaged_app):
    """Under 400 MB without a weights file, whatever else the build's venv holds (CI's has the test extra:
    Ray, scikit-learn, SciPy; they once added ~150 MB), and without TensorFlow."""
    folder = packaged_app.parent
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
    assert size < 400_000_000, f"dist/fashionrec is {size / 1e6:.0f} MB"
    bundled = {path.name for path in (folder / "_internal").iterdir()}
    assert not bundled & {"tensorflow", "keras", "ray", "sklearn", "scipy", "openTSNE"}


@pytest.mark.heavy
def test_packaged_app_serves_the_cli_too(packaged_app, tmp_path, data_dir):
    catalog = tmp_path / "catalog"
    for i in range(6):
        make_image(catalog / f"img{i}.jpg", seed=i)
    env = {"FASHIONREC_DATA_DIR": str(data_dir)}
    index = _run_app("index", str(catalog), "--random-weights", "0", env_extra=env)
    assert index.returncode == 0, index.stdout + index.stderr
    assert "6 embedded" in index.stdout
    query = _run_app("query", str(catalog / "img2.jpg"), "--catalog", str(catalog), "--random-weights", "0",
                     env_extra=env)
    assert query.returncode == 0, query.stdout + query.stderr
    assert "img2.jpg" not in query.stdout and "img0.jpg" in query.stdout  # itself left out, others listed
    assert XNNPACK_NOTICE not in index.stderr + query.stderr
    missing = _run_app("index", str(catalog), "--random-weights", "7", env_extra=env)
    assert missing.returncode != 0 and "no converted model" in (missing.stdout + missing.stderr)
    weight_free = _run_app("index", str(catalog), "--model", "colour-texture", env_extra=env)
    assert weight_free.returncode == 0 and "6 embedded" in weight_free.stdout, weight_free.stderr


@pytest.mark.heavy
def test_packaged_app_runs_the_bench(packaged_app, tmp_path, data_dir):
    """Without Keras the bench skips the seed loop (in one line) and measures the rest."""
    catalog = tmp_path / "photos"
    for i in range(20):
        make_image(catalog / f"img{i:02d}.jpg", seed=i)
    bench = _run_app("bench", "-n", "20", "--images", str(catalog), env_extra={"FASHIONREC_DATA_DIR": str(data_dir)})
    assert bench.returncode == 0, bench.stdout[-2000:] + bench.stderr[-2000:]
    assert "raw forward, litert backend, ready tensors" in bench.stdout
    assert "seed loop: skipped, it needs Keras" in bench.stdout
    assert "ai-edge-litert none" not in bench.stdout  # its version is found inside the bundle
    print(bench.stdout)


@pytest.mark.heavy
def test_bundled_model_on_litert_matches_keras(packaged_app, tmp_path):
    """What the frozen app computes (the bundled .tflite on LiteRT) equals the Keras recipe's vectors."""
    from desktop_app.core.embedders.litert import LiteRTResNet50Embedder
    from desktop_app.core.embedders.resnet50 import ResNet50Embedder
    from desktop_app.core.images import load_rgb
    from desktop_app.core.weights import random_weights

    batch = np.stack([load_rgb(make_image(tmp_path / f"{i}.jpg", seed=i), (224, 224)) for i in range(6)])
    bundled = LiteRTResNet50Embedder(random_weights(0), folder=CONVERTED)
    keras = ResNet50Embedder(random_weights(0), backend="keras")
    lite_vectors, keras_vectors = bundled.embed(batch), keras.embed(batch)
    cosine = np.sum(lite_vectors * keras_vectors, axis=1)
    assert cosine.min() >= 0.9999, cosine
    assert bundled.embed(batch[:1]).shape == (1, 2048)  # another batch size on the same interpreter


def test_without_tensorflow_resnet50_runs_on_litert(monkeypatch, tmp_path):
    """The packaged app has no TensorFlow: create_embedder picks the converted model, and says what it lacks."""
    import importlib.util

    from desktop_app.core.embedders.litert import LiteRTResNet50Embedder
    from desktop_app.core.errors import UserError
    from desktop_app.core.weights import random_weights

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorflow" else real_find_spec(name, *a))
    embedder = create_embedder("resnet50", random_weights(3))
    assert isinstance(embedder, LiteRTResNet50Embedder)
    assert available_backends() == ("litert",)  # what the CLI may offer there
    assert isinstance(create_embedder("resnet50", random_weights(3), backend="litert"), LiteRTResNet50Embedder)
    assert '"runtime": "litert"' in embedder.fingerprint  # never mixed with the Keras/TF backends' vectors
    with pytest.raises(UserError, match="needs TensorFlow"):
        create_embedder("resnet50", random_weights(3), backend="keras")
    with pytest.raises(UserError, match="no converted model"):
        LiteRTResNet50Embedder(random_weights(3), folder=tmp_path).embed(np.zeros((1, 224, 224, 3), np.uint8))
