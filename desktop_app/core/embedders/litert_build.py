"""What build/build.sh bundles for the LiteRT runtime (litert.py), made with TensorFlow at build time:
the recipe's network converted for the seeded random init and for each weights file given, and the template
any other weights file is written into at run time (tflite_patch.py explains it).

`python -m desktop_app.core.embedders.litert_build OUT_DIR [WEIGHTS.h5 ...]`
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..files import write_atomically
from ..weights import Weights, check_weights_file, random_weights
from . import tflite_patch
from .keras_forward import build_keras_model
from .litert import converted_model_name
from .tflite_convert import convert_to_tflite, convert_weights


def convert(weights: Weights, folder: Path) -> Path:
    """Build the Keras network for `weights` and write it as a float32 .tflite file named for litert.py."""
    target = folder / converted_model_name(weights)
    write_atomically(target, convert_weights(weights))
    return target


# -- the template -----------------------------------------------------------------------------------------

def randomise_biases_and_statistics(model, rng: np.random.Generator) -> None:
    """Distinct random convolution biases and batch-norm statistics (a fresh init has zeros and ones)."""
    import keras

    for layer in model.layers[0].layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights(tflite_patch.random_statistics(rng, layer.gamma.shape[0]))
        elif isinstance(layer, keras.layers.Conv2D):
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(0, 0.1, bias.shape)])


def template_keras_model():
    """The recipe's network with its constants all distinct (see the module doc)."""
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
        kernel, bias = tflite_patch.fold(conv.get_weights(), bn.get_weights(), bn.epsilon)
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
    patch_map = {"format": tflite_patch.MAP_FORMAT, "file_size": len(tflite), "weighted_layers": 2 * len(entries),
                 "template_id": hashlib.sha256(tflite).hexdigest()[:16], "convolutions": entries}
    return patch_map, bytes(skeleton)


def build_template(folder: Path) -> tuple[Path, Path]:
    """Convert the template network and write its skeleton and map into `folder` (needs TensorFlow)."""
    model = template_keras_model()
    patch_map, skeleton = build_patch_map(convert_to_tflite(model), conv_bn_pairs(model))
    skeleton_path, map_path = tflite_patch.template_files(folder)
    write_atomically(skeleton_path, skeleton)
    write_atomically(map_path, json.dumps(patch_map, indent=1).encode())
    return skeleton_path, map_path


def main(argv: list[str] | None = None) -> int:
    """Always converts the seeded random init (seed 0, for the self-test and demos), then each weights file
    given, then the template."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m desktop_app.core.embedders.litert_build",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("weights_files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    choices = [random_weights(0)] + [Weights(path=check_weights_file(p), source="build") for p in args.weights_files]
    for weights in choices:
        print(f"converted {weights.describe()} → {convert(weights, args.out_dir)}", flush=True)
    skeleton, patch_map = build_template(args.out_dir)
    print(f"template for weights files → {skeleton} ({skeleton.stat().st_size} bytes), {patch_map}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
