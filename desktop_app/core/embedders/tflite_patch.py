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
This module is the run-time part (numpy and h5py); litert_build.py makes the template (TensorFlow).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..files import write_atomically
from ..paths import models_cache_dir
from ..weights import WEIGHTS_FILENAME, Weights, weighted_layers

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


def fold(conv: Sequence[np.ndarray], bn: Sequence[np.ndarray], epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """A Keras convolution (HWIO kernel, bias) followed by its inference-mode batch normalisation (gamma, beta,
    moving mean and variance), as one TFLite convolution: OHWI kernel and bias, float32 (computed in float64,
    rounded once)."""
    kernel, bias = conv
    gamma, beta, mean, variance = bn
    scale = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(variance, np.float64) + epsilon)
    folded_kernel = np.asarray(kernel, np.float64) * scale  # scales the output channels (last axis)
    folded_bias = (np.asarray(bias, np.float64) - mean) * scale + beta
    return (np.ascontiguousarray(folded_kernel.transpose(3, 0, 1, 2), dtype="<f4"),
            np.ascontiguousarray(folded_bias, dtype="<f4"))


def _layer_arrays(path: Path, layers, entry: dict, role: str, shapes: list[tuple]) -> list[np.ndarray]:
    index = entry[f"{role}_index"]
    name, datasets = layers[index]
    if [tuple(d.shape) for d in datasets] != shapes:
        raise UserError(
            f"{path} does not fit ResNet50: its weighted layer #{index + 1} '{name}' has arrays of shapes "
            f"{[tuple(d.shape) for d in datasets]}, ResNet50's '{entry[role]}' needs {shapes}. "
            f"Expected the no-top file '{WEIGHTS_FILENAME}'.")
    return [np.asarray(d) for d in datasets]


def patched_constants(path: Path, patch_map: dict) -> list[tuple[int, bytes]]:
    """(offset in the template file, bytes) of every folded kernel and bias computed from the .h5 file."""
    import h5py  # bundled with the app (the weights check uses it); imported late: starting stays fast

    try:
        with h5py.File(path, "r") as f:
            return _folded_constants(path, weighted_layers(f), patch_map)
    except (OSError, KeyError) as err:
        raise UserError(f"Cannot read the weights file {path}: {err}") from None


def _folded_constants(path: Path, layers: list, patch_map: dict) -> list[tuple[int, bytes]]:
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
        kernel, bias = fold(conv, bn, entry["epsilon"])
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
    assert weights.path is not None  # a file, not random weights: LiteRTResNet50Embedder turns those away
    template_id = read_map(folder)["template_id"]
    target = models_cache_dir() / f"resnet50-gmp-{weights.tag()}-template-{template_id}.tflite"
    if not target.is_file():
        data = patch(weights.path, folder)
        try:
            write_atomically(target, data)
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
                                                           statistics, strict=True)))
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layers[i][0].encode() for i in sorted(layers)]
        for name, arrays in (layers[i] for i in sorted(layers)):
            group = f.create_group(name)
            group.attrs["weight_names"] = [f"{name}/{key}".encode() for key in arrays]
            for key, values in arrays.items():
                group.create_dataset(f"{name}/{key}", data=values.astype(np.float32))
    return path


def random_statistics(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Batch-norm gamma, beta, moving mean and variance for `n` channels: random, distinct, sane."""
    return [rng.uniform(0.5, 1.5, n), rng.normal(0, 0.1, n), rng.normal(0, 0.1, n), rng.uniform(0.5, 1.5, n)]
