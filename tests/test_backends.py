"""ResNet50 backends: selectable, kept apart by the fingerprint, and equivalent to the Keras reference."""

import json

import numpy as np
import pytest

from desktop_app.cli import program, sessions
from desktop_app.core.embedders import available_backends, create_embedder, resnet50
from desktop_app.core.embedders.recipe import preprocess
from desktop_app.core.embedders.tflite_convert import tflite_cache_path
from desktop_app.core.embedders.tflite_runtime import TFLiteForward, interpreter_class
from desktop_app.core.errors import UserError
from desktop_app.core.images import load_rgb
from desktop_app.core.weights import Weights, random_weights
from support import make_image


def test_backend_comes_from_argument_then_environment_then_default(monkeypatch):
    monkeypatch.delenv(resnet50.BACKEND_ENV, raising=False)
    assert create_embedder("resnet50", random_weights(0)).backend == resnet50.DEFAULT_BACKEND
    monkeypatch.setenv(resnet50.BACKEND_ENV, "keras")
    assert create_embedder("resnet50", random_weights(0)).backend == "keras"
    assert create_embedder("resnet50", random_weights(0), "tflite").backend == "tflite"


def test_unknown_backend_is_a_user_error(monkeypatch):
    monkeypatch.setenv(resnet50.BACKEND_ENV, "cuda")
    with pytest.raises(UserError, match="Unknown backend 'cuda'. Available: tflite, keras, keras-xla"):
        create_embedder("resnet50", random_weights(0))


def test_each_backend_has_its_own_fingerprint_so_stores_never_mix():
    fingerprints = {b: create_embedder("resnet50", random_weights(0), b).fingerprint for b in resnet50.BACKENDS}
    assert len(set(fingerprints.values())) == len(resnet50.BACKENDS)
    assert all(json.loads(f)["backend"] == b for b, f in fingerprints.items())


def test_with_tensorflow_every_backend_is_available():
    assert available_backends() == resnet50.BACKENDS


def test_cli_backend_option_reaches_the_embedder():
    args = program.build_parser().parse_args(["index", "folder", "--random-weights", "--backend", "keras-xla"])
    assert sessions.embedder_from(args).backend == "keras-xla"


def test_converted_model_cache_is_keyed_by_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHIONREC_CACHE_DIR", str(tmp_path))
    seed0, seed1 = tflite_cache_path(random_weights(0)), tflite_cache_path(random_weights(1))
    assert seed0.parent == tmp_path / "models" and seed0.suffix == ".tflite"
    assert seed0 != seed1 and seed0 == tflite_cache_path(random_weights(0))


@pytest.fixture(scope="module")
def keras_reference():
    embedder = create_embedder("resnet50", random_weights(0), "keras")
    embedder.load()
    return embedder


@pytest.fixture(scope="module")
def sample_batch(tmp_path_factory):
    """24 decoded generated photos (small ones and two larger), as the indexer would feed them."""
    folder = tmp_path_factory.mktemp("backend-sample")
    sizes = [(60, 80)] * 22 + [(300, 400), (224, 224)]
    paths = [make_image(folder / f"p{i:02d}.jpg", seed=100 + i, size=size) for i, size in enumerate(sizes)]
    return np.stack([load_rgb(p) for p in paths])


def _top5(vectors: np.ndarray) -> list[list[int]]:
    """Each row's 5 nearest other rows (Euclidean), as a search of the sample would return them."""
    distances = np.linalg.norm(vectors[:, None, :] - vectors[None, :, :], axis=-1)
    np.fill_diagonal(distances, np.inf)
    return np.argsort(distances, axis=1, kind="stable")[:, :5].tolist()


@pytest.mark.heavy
@pytest.mark.parametrize("backend", [b for b in resnet50.BACKENDS if b != "keras"])
def test_backend_vectors_match_the_keras_reference(backend, keras_reference, sample_batch):
    reference = keras_reference.embed(sample_batch)
    embedder = create_embedder("resnet50", random_weights(0), backend)
    # tflite: a full batch, then a smaller one and a single image (its other code paths);
    # keras-xla: one batch, as every new batch size costs an XLA compilation
    chunks = [16, 23] if backend == "tflite" else []
    ours = np.concatenate([embedder.embed(part) for part in np.split(sample_batch, chunks)])

    assert ours.shape == (24, 2048) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(ours * reference, axis=1)
    assert cosines.min() >= 0.999, cosines
    assert _top5(ours) == _top5(reference)


@pytest.mark.heavy
def test_tflite_model_is_converted_once_then_loaded_from_the_cache():
    create_embedder("resnet50", random_weights(0), "tflite").load()  # converts, unless an earlier run did
    fresh = create_embedder("resnet50", random_weights(0), "tflite")
    fresh.load()
    assert tflite_cache_path(fresh.weights).is_file()
    assert fresh.load_report.startswith("TFLite model loaded from cache")
    assert fresh._keras_model is None  # loading from the cache needs no Keras model at all
    empty = fresh.forward(np.zeros((0, 224, 224, 3), np.float32))
    assert empty.shape == (0, 2048)


@pytest.mark.heavy
@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated")
def test_both_tflite_runtimes_give_bit_identical_vectors(sample_batch):
    """Why the interpreter in use (ai-edge-litert or TensorFlow's own) is not part of the fingerprint."""
    pytest.importorskip("ai_edge_litert")
    import tensorflow as tf

    embedder = create_embedder("resnet50", random_weights(0), "tflite")
    embedder.load()
    assert interpreter_class().__module__.startswith("ai_edge_litert")
    path, batch = tflite_cache_path(embedder.weights), preprocess(sample_batch[:4])
    litert = TFLiteForward(path)(batch)
    tensorflow_lite = TFLiteForward(path, interpreter=tf.lite.Interpreter)(batch)
    assert np.array_equal(litert, tensorflow_lite)


@pytest.mark.heavy
def test_conversion_of_a_bad_weights_file_is_a_clear_error(tmp_path, monkeypatch):
    """The conversion runs in a child process; its reason reaches the person, and nothing is cached."""
    monkeypatch.setenv("FASHIONREC_CACHE_DIR", str(tmp_path))
    bogus = tmp_path / "weights.h5"
    bogus.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)  # passes the magic check, is no HDF5 file
    embedder = create_embedder("resnet50", Weights(path=bogus, source="test"), "tflite")
    with pytest.raises(UserError, match="Could not convert the model for the tflite backend: Could not load "
                                        "ResNet50 weights from"):
        embedder.load()
    assert not list((tmp_path / "models").glob("*.tflite"))


@pytest.mark.heavy
def test_cli_query_prints_no_interpreter_notice(make_catalog):
    """The C++ runtime announces its XNNPACK delegate on stderr whenever an interpreter is made; the CLI's
    stderr shows only what is meant for the person (the model line of `index`, nothing for `query`)."""
    import subprocess
    import sys

    from desktop_app.core.embedders.tflite_runtime import XNNPACK_NOTICE
    from support import REPO

    folder = make_catalog(3)
    cli_command = [sys.executable, "-m", "desktop_app.cli"]
    index = subprocess.run([*cli_command, "index", str(folder), "--random-weights", "--backend", "tflite"],
                           capture_output=True, text=True, cwd=REPO, timeout=600)
    assert index.returncode == 0, index.stderr
    query = subprocess.run([*cli_command, "query", str(folder / "img001.jpg"), "--catalog", str(folder),
                            "--random-weights", "--backend", "tflite"], capture_output=True, text=True, cwd=REPO,
                           timeout=600)
    assert query.returncode == 0, query.stderr
    assert "img000.jpg" in query.stdout
    assert XNNPACK_NOTICE not in index.stderr + query.stderr
    assert query.stderr == ""
