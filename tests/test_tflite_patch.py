"""A weights file chosen at run time runs on LiteRT without TensorFlow: its constants written into the template.

The template is built once here as build/build.sh builds it (TensorFlow converts it, ~20 s). The weights files
are other networks': seeded random kernels with random biases and batch-norm statistics (a fresh init has
zeros and ones there, which would not test the batch-norm fold), saved by Keras' legacy HDF5 writer, or by
the packaged self-test's writer; Keras loading the same file gives the reference vectors.
"""

from __future__ import annotations

import time

import h5py
import numpy as np
import pytest

from desktop_app.core.embedders import litert_build, tflite_patch
from desktop_app.core.embedders.litert import LiteRTResNet50Embedder
from desktop_app.core.errors import UserError
from desktop_app.core.images import load_rgb
from desktop_app.core.weights import WEIGHTS_FILENAME, Weights, random_weights
from support import make_image

pytestmark = pytest.mark.heavy


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    litert_build.build_template(folder)
    return folder


@pytest.fixture(scope="module")
def keras_written_weights(tmp_path_factory):
    """A no-top weights file unlike the template's, written by Keras."""
    from keras.src.legacy.saving import legacy_h5_format

    from desktop_app.core.embedders.keras_forward import build_keras_model

    model = build_keras_model(random_weights(7))
    litert_build.randomise_biases_and_statistics(model, np.random.default_rng(7))
    path = tmp_path_factory.mktemp("weights") / WEIGHTS_FILENAME
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model.layers[0])
    return path


@pytest.fixture(params=["written by Keras", "written from the map (self-test)"])
def other_weights(request, template, tmp_path):
    if request.param == "written by Keras":
        return request.getfixturevalue("keras_written_weights")
    return tflite_patch.write_random_weights_file(tmp_path / WEIGHTS_FILENAME, template, seed=5)


def _images(folder, count=4):
    return np.stack([load_rgb(make_image(folder / f"{i}.jpg", seed=i), (224, 224)) for i in range(count)])


def test_a_weights_file_written_into_the_template_gives_the_keras_vectors(template, other_weights, tmp_path,
                                                                         monkeypatch):
    from desktop_app.core.embedders.resnet50 import ResNet50Embedder

    monkeypatch.setenv("FASHIONREC_CACHE_DIR", str(tmp_path / "cache"))
    weights = Weights(path=other_weights, source="test")
    batch = _images(tmp_path)
    embedder = LiteRTResNet50Embedder(weights, folder=template)
    started = time.perf_counter()
    embedder.load()
    print(f"patched in {time.perf_counter() - started:.2f} s → {embedder.model_path.name}")
    assert embedder.model_path.parent == tmp_path / "cache" / "models" and weights.tag() in embedder.model_path.name

    patched = embedder.embed(batch)
    keras = ResNet50Embedder(weights, backend="keras").embed(batch)  # Keras loads the same file itself
    cosine = np.sum(patched * keras, axis=1)
    print("1 - cosine per image:", 1 - cosine, "max |difference|:", np.abs(patched - keras).max())
    assert cosine.min() >= 0.9999, cosine
    # not the template's own weights, nor another random init: the vectors are this file's
    template_keras = ResNet50Embedder(random_weights(0), backend="keras").embed(batch)
    assert np.sum(patched * template_keras, axis=1).max() < 0.99

    again = LiteRTResNet50Embedder(weights, folder=template)
    again.load()  # the cached model, not patched twice
    assert again.model_path == embedder.model_path
    assert np.allclose(again.embed(batch[:1]), patched[:1], atol=1e-6)


def test_weights_that_do_not_fit_are_refused_clearly(template, tmp_path, monkeypatch):
    monkeypatch.setenv("FASHIONREC_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "same-count.h5"
    with h5py.File(path, "w") as f:  # 106 weighted layers (the weights check passes) of the wrong shapes
        f.attrs["layer_names"] = [f"layer{i}".encode() for i in range(106)]
        for i in range(106):
            group = f.create_group(f"layer{i}")
            group.attrs["weight_names"] = [b"w"]
            group.create_dataset("w", data=np.zeros(4, np.float32))
    embedder = LiteRTResNet50Embedder(Weights(path=path, source="test"), folder=template)
    expected = (r"does not fit ResNet50: its weighted layer #1 'layer0' has arrays of "
                r"shapes \[\(4,\)\], ResNet50's 'conv1_conv' needs \[\(7, 7, 3, 64\), \(64,\)\]")
    with pytest.raises(UserError, match=expected):
        embedder.load()
    assert not (tmp_path / "cache").exists()  # nothing half-made is left behind


def test_random_weights_still_need_a_converted_model(template):
    with pytest.raises(UserError, match="no converted model"):
        LiteRTResNet50Embedder(random_weights(3), folder=template).load()


def test_a_damaged_template_is_reported_not_run(template, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv("FASHIONREC_CACHE_DIR", str(tmp_path / "cache"))
    damaged = tmp_path / "models"
    shutil.copytree(template, damaged)
    skeleton, _ = tflite_patch.template_files(damaged)
    skeleton.write_bytes(skeleton.read_bytes()[:-100])
    weights = Weights(path=tflite_patch.write_random_weights_file(tmp_path / "w.h5", template), source="test")
    with pytest.raises(UserError, match="template in .* is damaged: reinstall fashionrec"):
        LiteRTResNet50Embedder(weights, folder=damaged).load()
