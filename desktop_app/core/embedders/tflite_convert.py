"""The recipe's Keras network converted to a TensorFlow Lite flatbuffer (needs TensorFlow).

The "tflite" backend converts once per weights file, in a child process, into the user cache
(`tflite_cache_path`); `python -m desktop_app.core.embedders.tflite_convert` is that child.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from ..errors import UserError
from ..files import write_atomically
from ..paths import models_cache_dir
from ..versions import library_version
from ..weights import Weights
from .keras_forward import build_keras_model, keras_function
from .recipe import ALGORITHM, PREPROCESSING

CHILD_ERROR = "conversion failed: "  # how the child's stderr marks the reason to show the person


def tflite_cache_path(weights: Weights) -> Path:
    """Where the converted model of these weights lives; library versions are part of the key
    (the random init, the converter and the file format may change with them). Finding it imports
    no TensorFlow: with ai-edge-litert, a cached model runs without TensorFlow ever loading."""
    tensorflow = library_version("tensorflow", "tensorflow-cpu")
    key = f"{weights.tag()}-{PREPROCESSING}-tf{tensorflow}-keras{library_version('keras')}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return models_cache_dir() / f"{ALGORITHM}-{digest}.tflite"


def convert_to_tflite(model) -> bytes:
    """The Keras model as a TFLite flatbuffer, weights frozen in as constants (float32, no quantisation)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    frozen = convert_variables_to_constants_v2(keras_function(model).get_concrete_function())
    return tf.lite.TFLiteConverter.from_concrete_functions([frozen]).convert()


def convert_weights(weights: Weights) -> bytes:
    """The recipe's network with `weights`, as a TFLite flatbuffer."""
    return convert_to_tflite(build_keras_model(weights))


def convert_to_file(weights: Weights, path: Path) -> None:
    try:
        write_atomically(path, convert_weights(weights))
    except OSError as err:
        raise UserError(f"Cannot save the converted model to {path} ({err.strerror or err}). "
                        "Free some disk space, or use --backend keras.") from None


def convert_in_child_process(weights: Weights, path: Path) -> None:
    """Converting needs TensorFlow and peaks near 2 GB, which the allocator keeps afterwards: a child
    process converts, so the process that then indexes stays small (~0.5 GB). A frozen app converts
    in-process (it cannot run `python -m`)."""
    if getattr(sys, "frozen", False):
        convert_to_file(weights, path)
        return
    source = ["--random-seed", str(weights.random_seed)] if weights.is_random else ["--weights", str(weights.path)]
    child = subprocess.run([sys.executable, "-m", __name__, str(path), *source], capture_output=True, text=True)
    if child.returncode != 0 or not path.is_file():
        said = [line for line in child.stderr.splitlines() if line.startswith(CHILD_ERROR)]
        reason = said[-1][len(CHILD_ERROR):] if said else f"exit code {child.returncode}: {child.stderr[-300:]}"
        raise UserError(f"Could not convert the model for the tflite backend: {reason}")


def main(argv: list[str] | None = None) -> int:
    """`python -m desktop_app.core.embedders.tflite_convert OUT.tflite (--random-seed N | --weights FILE)`."""
    import argparse

    parser = argparse.ArgumentParser(description=convert_in_child_process.__doc__)
    parser.add_argument("out", type=Path)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--random-seed", type=int)
    source.add_argument("--weights", type=Path)
    args = parser.parse_args(argv)
    weights = Weights(random_seed=args.random_seed) if args.weights is None else Weights(path=args.weights)
    try:
        convert_to_file(weights, args.out)
    except UserError as err:
        print(f"{CHILD_ERROR}{err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
