"""Reliability (issue 7): a wrong, truncated or with-top weights file gets a clear message, fast.

The cheap tests use small HDF5 files written with h5py. The heavy ones write real Keras ResNet50
weights files (seeded random values, Keras' legacy HDF5 layout, the real file name), so the real
`--weights` path is also tested offline: the no-top file must load and give a working index.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from desktop_app import cli
from desktop_app.core.embedders.base import l2_normalise
from desktop_app.core.embedders.recipe import preprocess
from desktop_app.core.errors import UserError
from desktop_app.core.images import load_rgb
from desktop_app.core.session import CatalogSession
from desktop_app.core.weights import WEIGHTS_FILENAME, check_weights_file
from support import make_image


def _keras_like_weights(path, layers: dict[str, int]):
    """An HDF5 file in Keras' legacy layout: {layer name: number of weight arrays}."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [name.encode() for name in layers]
        for name, count in layers.items():
            group = f.create_group(name)
            group.attrs["weight_names"] = [f"{name}/w{i}".encode() for i in range(count)]
            for i in range(count):
                group.create_dataset(f"{name}/w{i}", data=np.zeros(4, np.float32))
    return path


def _index_with_weights(folder, path, capsys) -> tuple[int, list[str]]:
    code = cli.main(["index", str(folder), "--weights", str(path)])
    return code, capsys.readouterr().err.splitlines()


def test_a_text_file_is_not_weights(tmp_path):
    path = tmp_path / WEIGHTS_FILENAME
    path.write_text("<html>Download failed</html>")
    with pytest.raises(UserError, match=f"Not a Keras HDF5 weights file: {path}. Expected '{WEIGHTS_FILENAME}'"):
        check_weights_file(path)


def test_an_hdf5_file_without_layers(tmp_path):
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.arange(3))
    with pytest.raises(UserError, match="is an HDF5 file but holds no Keras layer weights"):
        check_weights_file(path)


def test_weights_of_another_network(tmp_path):
    path = _keras_like_weights(tmp_path / "mobilenet.h5", {"input": 0, "conv": 2, "bn": 4, "dense": 2})
    with pytest.raises(UserError, match=r"holds the weights of another network \(3 layers with weights; "
                                        r"ResNet50 without top has 106\)"):
        check_weights_file(path)


def test_a_truncated_hdf5_file(tmp_path):
    path = _keras_like_weights(tmp_path / "cut.h5", {f"layer{i}": 2 for i in range(106)})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match=r"is incomplete \(truncated, e.g. an interrupted download\)"):
        check_weights_file(path)


def test_bad_weights_through_the_cli_is_one_line(tmp_path, capsys):
    path = _keras_like_weights(tmp_path / "other.h5", {"conv": 2})
    (tmp_path / "catalog").mkdir()
    code, err = _index_with_weights(tmp_path / "catalog", path, capsys)
    assert code == 1 and len(err) == 1 and "holds the weights of another network" in err[0]


# -- real Keras ResNet50 weights files ------------------------------------------------------------------

@pytest.fixture(scope="module")
def keras_weights_files(tmp_path_factory):
    """Real ResNet50 weights files (seed 123): no-top under the real name, with-top, and a truncated copy.
    Also returns the no-top network itself, to compute the vectors the file must reproduce."""
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    folder = tmp_path_factory.mktemp("weights")

    def write(include_top: bool, path):
        keras.utils.set_random_seed(123)
        model = keras.applications.ResNet50(weights=None, include_top=include_top,
                                            input_shape=None if include_top else (224, 224, 3))
        with h5py.File(path, "w") as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, model)
        return model

    (folder / "with top").mkdir()
    write(True, folder / "with top" / "resnet50_weights_tf_dim_ordering_tf_kernels.h5")
    notop_model = write(False, folder / WEIGHTS_FILENAME)
    data = (folder / WEIGHTS_FILENAME).read_bytes()
    (folder / "partial").mkdir()
    (folder / "partial" / WEIGHTS_FILENAME).write_bytes(data[: len(data) * 2 // 3])
    return {"notop": folder / WEIGHTS_FILENAME, "model": notop_model,
            "with_top": folder / "with top" / "resnet50_weights_tf_dim_ordering_tf_kernels.h5",
            "truncated": folder / "partial" / WEIGHTS_FILENAME}


@pytest.mark.heavy
def test_real_no_top_weights_load_through_the_weights_option(keras_weights_files, make_catalog, capsys,
                                                             random_embedder):
    folder = make_catalog(3)
    assert cli.main(["index", str(folder), "--weights", str(keras_weights_files["notop"])]) == 0
    assert "3 embedded" in capsys.readouterr().out

    from desktop_app.core.embedders import create_embedder
    from desktop_app.core.weights import resolve_weights

    embedder = create_embedder("resnet50", resolve_weights(keras_weights_files["notop"], allow_download=False))
    with CatalogSession(folder, embedder) as session:  # the store the CLI filled (the network is not built)
        assert session.store.count() == 3 and session.index().embedded == 0
        relpaths, stored = session.store.load_vectors()
        assert len(session.query_item("img001.jpg", k=2)) == 2

    pixels = np.stack([load_rgb(folder / relpath) for relpath in relpaths])
    features = keras_weights_files["model"](preprocess(pixels), training=False).numpy().max(axis=(1, 2))
    assert np.allclose(stored, l2_normalise(features), atol=1e-5)  # the file's weights, exactly
    assert not np.allclose(stored, random_embedder.embed(pixels), atol=1e-3)  # not some other init


@pytest.mark.heavy
@pytest.mark.parametrize("kind, message", [
    ("with_top", "holds the ResNet50 weights WITH the ImageNet classification top (layer 'predictions'); "
                 f"fashionrec needs the no-top file '{WEIGHTS_FILENAME}'."),
    ("truncated", "is incomplete (truncated, e.g. an interrupted download)"),
])
def test_real_wrong_weights_files_are_refused_with_a_clear_message(keras_weights_files, tmp_path, capsys,
                                                                   kind, message):
    make_image(tmp_path / "catalog" / "a.jpg", seed=1)
    code, err = _index_with_weights(tmp_path / "catalog", keras_weights_files[kind], capsys)
    assert code == 1 and len(err) == 1
    assert err[0].startswith(f"fashionrec: {keras_weights_files[kind]} ") or \
        err[0].startswith(f"fashionrec: The weights file {keras_weights_files[kind]} ")
    assert message in err[0]
