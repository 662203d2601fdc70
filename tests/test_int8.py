"""int8: calibration sample, quantized-model cache (rebuilt when damaged or foreign), fingerprints, the graph
builder's errors, and the fidelity arithmetic. Quick: quantization runs on a tiny network here; the real
ResNet50 is in the heavy tests at the end."""

import json

import numpy as np
import pytest

from desktop_app.bench import fidelity
from desktop_app.core.catalog_data import Catalog
from desktop_app.core.embedders import int8, onnx_build, onnx_graph
from desktop_app.core.embedders.onnx_embedder import inference_session
from desktop_app.core.embedders.recipe import preprocess
from desktop_app.core.errors import UserError
from desktop_app.core.weights import random_weights
from support import write_legacy_h5

pytestmark = pytest.mark.integration


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "model-cache"
    monkeypatch.setenv("FASHIONREC_CACHE_DIR", str(folder))
    return folder


def tiny_network(seed: int = 0):
    """Same input and output names as the ResNet50 graph: NHWC 224² → transpose → conv → ReLU → max pool."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    kernel = numpy_helper.from_array(rng.normal(0, 0.05, (16, 3, 3, 3)).astype(np.float32), "w")
    bias = numpy_helper.from_array(rng.normal(0, 1, 16).astype(np.float32), "b")
    nodes = [helper.make_node("Transpose", [onnx_build.INPUT_NAME], ["nchw"], perm=[0, 3, 1, 2]),
             helper.make_node("Conv", ["nchw", "w", "b"], ["conv"], strides=[4, 4]),
             helper.make_node("Relu", ["conv"], ["relu"]),
             helper.make_node("GlobalMaxPool", ["relu"], ["pool"]),
             helper.make_node("Flatten", ["pool"], [onnx_build.OUTPUT_NAME])]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info(onnx_build.INPUT_NAME, TensorProto.FLOAT, [None, 224, 224, 3])],
        [helper.make_tensor_value_info(onnx_build.OUTPUT_NAME, TensorProto.FLOAT, [None, 16])], [kernel, bias])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", onnx_build.OPSET)])


def resnet50(seed: int):
    return onnx_graph.resnet50_network(random_weights(seed))


def photos(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    return coarse.repeat(28, axis=1).repeat(28, axis=2)


# -- calibration ----------------------------------------------------------------------------------------------

def test_sample_is_spread_evenly_and_keeps_short_lists_whole():
    assert int8.sample_evenly(list(range(100)), 4) == [0, 25, 50, 75]
    assert int8.sample_evenly([1, 2], 4) == [1, 2]


def test_catalog_calibration_is_drawn_once_and_read_back(make_catalog):
    root = make_catalog(5).resolve()
    first = Catalog(root).int8_calibration()
    assert first.images.shape == (5, 224, 224, 3)
    (root / "img000.jpg").unlink()  # the kept sample does not follow the catalog: the int8 model stays valid
    assert Catalog(root).int8_calibration().digest == first.digest


def test_damaged_calibration_file_is_drawn_again(make_catalog):
    root = make_catalog(3).resolve()
    digest = Catalog(root).int8_calibration().digest
    Catalog(root).calibration_path.write_bytes(b"not an array")
    assert Catalog(root).int8_calibration().digest == digest  # same files → same sample


def test_empty_catalog_cannot_calibrate(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="No images found"):
        Catalog((tmp_path / "empty").resolve()).int8_calibration()


def test_catalog_without_a_readable_photo_has_an_uncalibrated_store_and_cannot_embed(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "bad.jpg").write_bytes(b"not a jpeg")
    root = (tmp_path / "broken").resolve()
    embedder = int8.Int8ResNet50Embedder(random_weights(0), Catalog(root).int8_calibration)
    assert json.loads(embedder.fingerprint)["calibration"] == "none"
    with pytest.raises(UserError, match="No readable image to calibrate int8"):
        embedder.load()


def test_int8_fingerprint_names_precision_and_calibration():
    a = int8.Int8ResNet50Embedder(random_weights(0), int8.Calibration(photos(2)))
    b = int8.Int8ResNet50Embedder(random_weights(0), int8.Calibration(photos(2, seed=1)))
    fields = json.loads(a.fingerprint)
    assert fields["precision"] == "int8" and fields["calibration"] == a.calibration.digest
    assert a.fingerprint != b.fingerprint


# -- the quantized model and its cache -----------------------------------------------------------------------

def test_quantized_tiny_network_agrees_with_fp32():
    import onnxruntime as ort

    calibration = int8.Calibration(photos(8))
    model = int8.quantize(tiny_network(), calibration, preprocess)
    pixels = preprocess(photos(6, seed=3))
    fp32 = ort.InferenceSession(tiny_network().SerializeToString()).run(None, {onnx_build.INPUT_NAME: pixels})[0]
    quantized = inference_session(model).run(None, {onnx_build.INPUT_NAME: pixels})[0]
    assert b"QuantizeLinear" in model
    cosines = np.sum(quantized * fp32, axis=1) / np.linalg.norm(quantized, axis=1) / np.linalg.norm(fp32, axis=1)
    assert cosines.min() > 0.99


def test_quantized_weights_keep_to_seven_bits():
    """uint8 × int8 kernels without VNNI (AVX2) add two products in 16 bits: 255·64·2 fits, 255·127·2 not."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(int8.quantize(tiny_network(), int8.Calibration(photos(8)), preprocess))
    weights = [numpy_helper.to_array(t) for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    largest = max(int(np.abs(w.astype(np.int16)).max()) for w in weights)
    assert largest == 64  # the 7-bit range is used, and nothing beyond it


@pytest.fixture
def tiny_resnet(monkeypatch):
    built = []
    monkeypatch.setattr(onnx_graph, "build_model_for", lambda weights: built.append(weights) or tiny_network())
    return built


def test_quantized_model_is_cached_and_reused(cache_dir, tiny_resnet):
    calibration = int8.Calibration(photos(4))
    data, report = int8.quantized_model(resnet50(0), calibration)
    assert report.startswith("quantized to int8 on 4 calibration images")
    again, report = int8.quantized_model(resnet50(0), calibration)
    assert again == data and report.startswith("int8 model loaded from cache") and len(tiny_resnet) == 1
    int8.quantized_model(resnet50(1), calibration)  # other weights: another model
    assert len(tiny_resnet) == 2 and len(list(cache_dir.rglob("*.onnx"))) == 2


@pytest.mark.parametrize("spoil", ["flip a byte", "truncate", "foreign model", "foreign key", "no sidecar"])
def test_damaged_or_foreign_cached_model_is_rebuilt(cache_dir, tiny_resnet, spoil):
    calibration = int8.Calibration(photos(4))
    good, _ = int8.quantized_model(resnet50(0), calibration)
    path = int8.cached_path(resnet50(0), calibration)
    sidecar = path.with_suffix(".json")
    if spoil == "flip a byte":
        data = bytearray(good)
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif spoil == "truncate":
        path.write_bytes(good[:100])
    elif spoil == "foreign model":
        path.write_bytes(tiny_network(seed=7).SerializeToString())
    elif spoil == "foreign key":
        sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), "key": {"weights": "other"}}))
    else:
        sidecar.unlink()
    data, report = int8.quantized_model(resnet50(0), calibration)
    assert report.startswith("quantized") and data == good and path.read_bytes() == good


# -- graph builder -----------------------------------------------------------------------------------------

def test_graph_builder_names_a_missing_layer():
    with pytest.raises(UserError, match="does not fit ResNet50 at layer 'conv1'"):
        onnx_graph.build_model({}, "weights.h5")


def test_graph_builder_names_a_layer_of_the_wrong_shape():
    arrays = {"conv1_conv": [np.zeros((7, 7, 3, 64)), np.zeros(64)], "conv1_bn": [np.ones(32)] * 4}
    with pytest.raises(UserError, match="does not fit ResNet50 at layer 'conv1'"):
        onnx_graph.build_model(arrays, "weights.h5")


def test_weights_file_with_another_layer_count_is_refused(tmp_path):
    import h5py

    with h5py.File(tmp_path / "small.h5", "w") as f:
        f.attrs["layer_names"] = [b"dense"]
        f.create_group("dense").attrs["weight_names"] = [b"dense/kernel:0"]
        f["dense"].create_dataset("dense/kernel:0", data=np.zeros((2, 2)))
    with pytest.raises(UserError, match="holds 1 layers with weights; ResNet50 without top has 106"):
        onnx_graph.layer_arrays_from_h5(tmp_path / "small.h5")


# -- fidelity arithmetic -----------------------------------------------------------------------------------

def clusters(n_per: int, centres: int, spread: float, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    centre = rng.normal(size=(centres, 32))
    vectors = np.concatenate([c + spread * rng.normal(size=(n_per, 32)) for c in centre])
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), [str(i // n_per) for i in range(len(vectors))]


def test_top_neighbours_leave_the_photo_itself_out():
    vectors, _ = clusters(4, 3, 0.1)
    top = fidelity.top_neighbours(vectors, vectors, 3)
    assert not (top == np.arange(len(vectors))[:, None]).any()
    assert fidelity.overlap(top, top) == 1.0


def test_agreement_and_precision_tell_noise_apart():
    vectors, labels = clusters(12, 4, 0.05)
    same = fidelity.agreement(vectors, vectors, vectors)
    assert same.mean_cosine == pytest.approx(1.0) and same.top_overlap == 1.0
    noisy = vectors + 2.0 * np.random.default_rng(1).normal(size=vectors.shape)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    worse = fidelity.agreement(noisy, noisy, vectors)
    assert worse.mean_cosine < 0.9 and worse.top_overlap < 0.9
    assert fidelity.precision_by_label(vectors, labels) == 1.0
    assert fidelity.precision_by_label(noisy, labels) < 0.9


@pytest.mark.parametrize("int8_overlap, jpeg_overlap, precision_int8, met", [
    (0.95, 0.80, 0.700, True), (0.85, 0.80, 0.700, False), (0.95, 0.97, 0.700, False), (0.95, 0.80, 0.680, False),
])
def test_goal_needs_all_three_conditions(int8_overlap, jpeg_overlap, precision_int8, met):
    result = fidelity.Fidelity(100, fidelity.Agreement(0.99, 0.9, int8_overlap),
                               fidelity.Agreement(0.99, 0.9, jpeg_overlap), 100, 0.70, precision_int8, 0.69)
    assert result.goal_met is met


def test_report_says_whether_int8_may_be_a_default_and_shows_another_calibration():
    other = ("int8 calibrated on 32 of these photos", fidelity.Agreement(0.97, 0.88, 0.81), 0.749)
    result = fidelity.Fidelity(100, fidelity.Agreement(0.97, 0.88, 0.82), fidelity.Agreement(0.99, 0.98, 0.95),
                               100, 0.746, 0.748, 0.747, other)
    text = fidelity.format_fidelity(result, "test")
    assert "int8 calibrated on 32 of these photos" in text.splitlines()[4] and "0.81" in text.splitlines()[4]
    assert "what makes int8 a model's default, docs/models.md \"int8\"): yes" in text and "NOT met" in text
    lower = fidelity.Fidelity(100, result.int8, result.jpeg, 100, 0.746, 0.730, 0.747)
    assert "default, docs/models.md \"int8\"): no" in fidelity.format_fidelity(lower, "test")


# -- the real network (heavy) ----------------------------------------------------------------------------------

@pytest.mark.heavy
def test_resnet50_graph_matches_keras_and_int8_stays_close(tmp_path, cache_dir, make_catalog):
    import keras
    import onnxruntime as ort

    from desktop_app.core.embedders.base import l2_normalise
    from desktop_app.core.embedders.keras_forward import build_keras_model
    from desktop_app.core.embedders.recipe import preprocess
    from desktop_app.core.images import load_rgb
    from desktop_app.core.weights import Weights, check_weights_file

    model = build_keras_model(random_weights(0))
    rng = np.random.default_rng(1)
    for layer in model.layers[0].layers:  # distinct batch-norm statistics: the fold is tested, not an identity
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.1, n), rng.normal(0, 0.1, n),
                               rng.uniform(0.5, 1.5, n)])
    assert onnx_graph.keras_layer_order() == [layer.name for layer in model.layers[0].layers if layer.weights]
    weights = Weights(path=check_weights_file(write_legacy_h5(model.layers[0], tmp_path / "w.h5")), source="test")
    pixels = np.stack([load_rgb(p, (224, 224)) for p in sorted(make_catalog(6).iterdir())])
    reference = l2_normalise(model(preprocess(pixels), training=False).numpy())

    graph = ort.InferenceSession(onnx_graph.build_model_for(weights).SerializeToString())
    fp32 = l2_normalise(graph.run(None, {onnx_build.INPUT_NAME: preprocess(pixels)})[0])
    assert np.sum(fp32 * reference, axis=1).min() >= 0.9999

    embedder = int8.Int8ResNet50Embedder(weights, int8.Calibration(pixels))
    quantized = embedder.embed(pixels)
    assert embedder.load_report.startswith("quantized to int8")
    assert np.sum(quantized * reference, axis=1).min() > 0.99
    again = int8.Int8ResNet50Embedder(weights, int8.Calibration(pixels))
    np.testing.assert_array_equal(again.embed(pixels), quantized)
    assert again.load_report.startswith("int8 model loaded from cache")
