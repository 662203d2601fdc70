"""Any no-top ResNet50 weights file on LiteRT, without TensorFlow: its weights written into a converted template.

Every ResNet50 weights file converts to the same TFLite graph; only the constants differ: each of the 53
convolutions has a kernel and a bias with its batch normalisation folded in (the converter does that fold).
So at build time (TensorFlow available) `build_template` converts one network and records where each
convolution's kernel and bias bytes lie in the .tflite file; at run time `patch` computes those constants
from any .h5 file with numpy and h5py and writes them in. Under 0.1 MB is bundled, not a second 94 MB model:
the template is kept as its "skeleton" (the file minus the patched bytes) plus a JSON map of the cut-outs.

The template is not the seed-0 model: with random init every bias is zero, and the converter merges equal
constants into one shared tensor, which one file's distinct biases could not be written into. The template
network gets distinct random batch-norm statistics and biases, so every convolution keeps constants of its own.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..weights import WEIGHTS_FILENAME, Weights

TEMPLATE = "resnet50-gmp-template"
MAP_FORMAT = 1


def template_files(folder: Path) -> tuple[Path, Path]:
    """(skeleton bytes, JSON map) of the template in `folder`."""
    return folder / f"{TEMPLATE}.skeleton", folder / f"{TEMPLATE}.json"


def has_template(folder: Path) -> bool:
    return all(path.is_file() for path in template_files(folder))


def read_map(folder: Path) -> dict:
    patch_map = json.loads(template_files(folder)[1].read_text())
    if patch_map.get("format") != MAP_FORMAT:
        raise UserError(f"The model template in {folder} has format {patch_map.get('format')}, this fashionrec "
                        f"reads format {MAP_FORMAT}: reinstall fashionrec.")
    return patch_map


def fold(kernel, bias, gamma, beta, mean, variance, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """A Keras convolution (HWIO kernel) followed by its inference-mode batch normalisation, as one TFLite
    convolution: OHWI kernel and bias, float32 (computed in float64, rounded once)."""
    scale = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(variance, np.float64) + epsilon)
    folded_kernel = np.asarray(kernel, np.float64) * scale  # scales the output channels (last axis)
    folded_bias = (np.asarray(bias, np.float64) - mean) * scale + beta
    return (np.ascontiguousarray(folded_kernel.transpose(3, 0, 1, 2), dtype="<f4"),
            np.ascontiguousarray(folded_bias, dtype="<f4"))


# -- run time: numpy + h5py ---------------------------------------------------------------------------------

def _weighted_layers(h5file) -> list[tuple[str, list[np.ndarray]]]:
    """(layer name, weight arrays) of each layer holding weights, in file order: the order Keras' legacy
    loader matches them to the network's layers by."""
    group = h5file["model_weights"] if "layer_names" not in h5file.attrs and "model_weights" in h5file else h5file
    layers = []
    for raw in group.attrs.get("layer_names", []):
        name = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        weight_names = group[name].attrs.get("weight_names", []) if name in group else []
        if len(weight_names):
            layers.append((name, [np.asarray(group[name][w]) for w in weight_names]))
    return layers


def _layer_arrays(path: Path, layers, entry: dict, role: str, shapes: list[tuple]) -> list[np.ndarray]:
    index = entry[f"{role}_index"]
    name, arrays = layers[index]
    if [tuple(a.shape) for a in arrays] != shapes:
        raise UserError(
            f"{path} does not fit ResNet50: its weighted layer #{index + 1} '{name}' has arrays of shapes "
            f"{[tuple(a.shape) for a in arrays]}, ResNet50's '{entry[role]}' needs {shapes}. "
            f"Expected the no-top file '{WEIGHTS_FILENAME}'.")
    return arrays


def patched_constants(path: Path, patch_map: dict) -> list[tuple[int, bytes]]:
    """(offset in the template file, bytes) of every folded kernel and bias computed from the .h5 file."""
    import h5py  # bundled with the app (the weights check uses it); imported late: starting stays fast

    try:
        with h5py.File(path, "r") as f:
            layers = _weighted_layers(f)
    except OSError as err:
        raise UserError(f"Cannot read the weights file {path}: {err}") from None
    expected = patch_map["weighted_layers"]
    if len(layers) != expected:
        raise UserError(f"{path} holds {len(layers)} layers with weights; ResNet50 without top has {expected}. "
                        f"Expected '{WEIGHTS_FILENAME}'.")
    constants = []
    for entry in patch_map["convolutions"]:
        out_channels, *_ = entry["kernel_shape"]  # OHWI
        hwio = tuple(entry["kernel_shape"][1:]) + (out_channels,)
        conv = _layer_arrays(path, layers, entry, "conv", [hwio, (out_channels,)])
        bn = _layer_arrays(path, layers, entry, "bn", [(out_channels,)] * 4)
        kernel, bias = fold(*conv, *bn, entry["epsilon"])
        constants += [(entry["kernel_offset"], kernel.tobytes()), (entry["bias_offset"], bias.tobytes())]
    return constants


def patch(path: Path, folder: Path) -> bytes:
    """The .tflite file of the weights in `path`: the template in `folder` with that file's constants."""
    patch_map = read_map(folder)
    skeleton = memoryview(template_files(folder)[0].read_bytes())
    constants = sorted(patched_constants(path, patch_map))
    if len(skeleton) + sum(len(data) for _, data in constants) != patch_map["file_size"]:
        raise UserError(f"The bundled model template in {folder} is damaged: reinstall fashionrec.")
    model = bytearray(patch_map["file_size"])
    kept = 0  # bytes of the skeleton placed so far
    end = 0  # end of the previous constant in the model
    for offset, data in constants:
        gap = offset - end
        model[end:offset] = skeleton[kept : kept + gap]
        model[offset : offset + len(data)] = data
        kept, end = kept + gap, offset + len(data)
    model[end:] = skeleton[kept:]
    return bytes(model)


def patched_model_path(weights: Weights, folder: Path) -> Path:
    """The model for `weights` made from the template in `folder`, in the user cache (made once, ~1 s)."""
    from .resnet50 import _write_atomically, model_cache_dir

    template_id = read_map(folder)["template_id"]
    target = model_cache_dir() / f"resnet50-gmp-{weights.tag()}-template-{template_id}.tflite"
    if not target.is_file():
        data = patch(weights.path, folder)
        try:
            _write_atomically(target, data)
        except OSError as err:
            raise UserError(f"Cannot save the model for {weights.path} to {target} ({err.strerror or err}). "
                            "Free some disk space and try again.") from None
    return target


def write_random_weights_file(path: Path, folder: Path, seed: int = 0) -> Path:
    """A no-top ResNet50 weights file of seeded random values in Keras' legacy HDF5 layout, written without
    Keras from the template's map (the packaged app's self-test runs one)."""
    import h5py

    rng = np.random.default_rng(seed)
    layers: dict[int, tuple[str, dict[str, np.ndarray]]] = {}
    for entry in read_map(folder)["convolutions"]:
        out_channels, height, width, in_channels = entry["kernel_shape"]
        kernel = rng.normal(0, np.sqrt(2 / (height * width * in_channels)), (height, width, in_channels, out_channels))
        layers[entry["conv_index"]] = (entry["conv"], {"kernel": kernel, "bias": rng.normal(0, 0.1, out_channels)})
        statistics = random_statistics(rng, out_channels)
        layers[entry["bn_index"]] = (entry["bn"], dict(zip(("gamma", "beta", "moving_mean", "moving_variance"),
                                                           statistics)))
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layers[i][0].encode() for i in sorted(layers)]
        for name, arrays in (layers[i] for i in sorted(layers)):
            group = f.create_group(name)
            group.attrs["weight_names"] = [f"{name}/{key}".encode() for key in arrays]
            for key, values in arrays.items():
                group.create_dataset(f"{name}/{key}", data=values.astype(np.float32))
    return path


# -- build time: TensorFlow ---------------------------------------------------------------------------------

def random_statistics(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Batch-norm gamma, beta, moving mean and variance for `n` channels: random, distinct, sane."""
    return [rng.uniform(0.5, 1.5, n), rng.normal(0, 0.1, n), rng.normal(0, 0.1, n), rng.uniform(0.5, 1.5, n)]


def randomise_biases_and_statistics(model, rng: np.random.Generator) -> None:
    """Distinct random convolution biases and batch-norm statistics (a fresh init has zeros and ones)."""
    import keras

    for layer in model.layers[0].layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights(random_statistics(rng, layer.gamma.shape[0]))
        elif isinstance(layer, keras.layers.Conv2D):
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(0, 0.1, bias.shape)])


def template_keras_model():
    """The recipe's network with its constants all distinct (see the module doc)."""
    from ..weights import random_weights
    from .resnet50 import build_keras_model

    model = build_keras_model(random_weights(0))
    randomise_biases_and_statistics(model, np.random.default_rng(1))
    return model


def conv_bn_pairs(model) -> list[dict]:
    """Each convolution of the network, its batch normalisation, their positions among the weighted layers
    (the .h5 order) and their folded constants."""
    import keras

    base = model.layers[0]
    weighted = [layer for layer in base.layers if layer.weights]
    position = {layer.name: i for i, layer in enumerate(weighted)}
    pairs = []
    for conv in (layer for layer in weighted if isinstance(layer, keras.layers.Conv2D)):
        bn = base.get_layer(conv.name.removesuffix("_conv") + "_bn")
        kernel, bias = fold(*conv.get_weights(), *bn.get_weights(), bn.epsilon)
        pairs.append({"conv": conv.name, "bn": bn.name, "conv_index": position[conv.name],
                      "bn_index": position[bn.name], "epsilon": float(bn.epsilon), "kernel": kernel, "bias": bias})
    if 2 * len(pairs) != len(weighted):
        raise RuntimeError(f"expected a batch normalisation per convolution, got {len(pairs)} of {len(weighted)}")
    return pairs


def _conv_constants(tflite: bytes) -> list[list[tuple[int, np.ndarray]]]:
    """For each CONV_2D operator: [(byte offset, values)] of its kernel and bias, each used nowhere else."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(tflite, 0)
    graph = model.Subgraphs(0)
    uses: dict[int, int] = {}
    for i in range(graph.OperatorsLength()):
        for tensor in graph.Operators(i).InputsAsNumpy():
            uses[int(tensor)] = uses.get(int(tensor), 0) + 1
    convs = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        if max(code.BuiltinCode(), code.DeprecatedBuiltinCode()) != schema.BuiltinOperator.CONV_2D:
            continue
        constants = []
        for tensor_index in op.InputsAsNumpy()[1:3]:
            tensor = graph.Tensors(int(tensor_index))
            buffer = model.Buffers(tensor.Buffer())
            if uses[int(tensor_index)] != 1 or tensor.Type() != schema.TensorType.FLOAT32 or buffer.Offset():
                raise RuntimeError(f"convolution {i}: constant {tensor.Name()} is shared, not float32 or external")
            start = buffer._tab.Vector(buffer._tab.Offset(4))  # where the data bytes lie in the file
            values = np.frombuffer(tflite, "<f4", buffer.DataLength() // 4, start)
            constants.append((start, values.reshape(tensor.ShapeAsNumpy())))
        convs.append(constants)
    return convs


def build_patch_map(tflite: bytes, pairs: list[dict]) -> tuple[dict, bytes]:
    """Match every convolution of the Keras network to the converted operator holding its folded constants
    (by value: the converter's fold must give ours to float rounding); returns the map and the skeleton."""
    operators = _conv_constants(tflite)
    if len(operators) != len(pairs):
        raise RuntimeError(f"{len(operators)} convolutions in the .tflite file, {len(pairs)} in the network")
    entries = []
    for pair in pairs:
        matches = [(kernel, bias) for kernel, bias in operators
                   if kernel[1].shape == pair["kernel"].shape and bias[1].shape == pair["bias"].shape
                   and np.allclose(kernel[1], pair["kernel"], rtol=1e-4, atol=1e-6)
                   and np.allclose(bias[1], pair["bias"], rtol=1e-4, atol=1e-6)]
        if len(matches) != 1:
            raise RuntimeError(f"{pair['conv']}: {len(matches)} converted convolutions hold its folded constants")
        (kernel_offset, kernel), (bias_offset, _) = matches[0]
        entries.append({"conv": pair["conv"], "bn": pair["bn"], "conv_index": pair["conv_index"],
                        "bn_index": pair["bn_index"], "epsilon": pair["epsilon"],
                        "kernel_shape": list(kernel.shape), "kernel_offset": kernel_offset,
                        "bias_offset": bias_offset})
    cut = sorted((e["kernel_offset"], int(np.prod(e["kernel_shape"])) * 4) for e in entries)
    cut += sorted((e["bias_offset"], e["kernel_shape"][0] * 4) for e in entries)
    skeleton, end = bytearray(), 0
    for offset, size in sorted(cut):
        if offset < end:
            raise RuntimeError("overlapping constants")
        skeleton += tflite[end:offset]
        end = offset + size
    skeleton += tflite[end:]
    patch_map = {"format": MAP_FORMAT, "file_size": len(tflite), "weighted_layers": 2 * len(entries),
                 "template_id": hashlib.sha256(tflite).hexdigest()[:16], "convolutions": entries}
    return patch_map, bytes(skeleton)


def build_template(folder: Path) -> tuple[Path, Path]:
    """Convert the template network and write its skeleton and map into `folder` (needs TensorFlow)."""
    from .resnet50 import _write_atomically, convert_to_tflite

    model = template_keras_model()
    patch_map, skeleton = build_patch_map(convert_to_tflite(model), conv_bn_pairs(model))
    skeleton_path, map_path = template_files(folder)
    _write_atomically(skeleton_path, skeleton)
    _write_atomically(map_path, json.dumps(patch_map, indent=1).encode())
    return skeleton_path, map_path


def main(argv: list[str] | None = None) -> int:
    """`python -m desktop_app.core.embedders.tflite_patch OUT_DIR`: the template build/build.sh bundles."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m desktop_app.core.embedders.tflite_patch")
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    skeleton, patch_map = build_template(args.out_dir)
    print(f"template for weights files → {skeleton} ({skeleton.stat().st_size} bytes), {patch_map}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
