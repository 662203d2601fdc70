"""The recipe's network in Keras (needs TensorFlow, imported only when a model is built): the reference
the other runtimes are checked against, the "keras" and "keras-xla" backends, and the source of every
converted model."""

from __future__ import annotations

import os

import numpy as np

from ..errors import UserError
from ..weights import WEIGHTS_FILENAME, Weights
from .recipe import INPUT_SHAPE
from .tflite_runtime import is_tensorflow_info, without_notice

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported: no C++ info spam


def import_keras():
    """Keras (and TensorFlow under it), imported without TensorFlow's info lines on stderr."""
    with without_notice(is_tensorflow_info):
        import keras
    return keras


def build_keras_model(weights: Weights):
    """ResNet50(include_top=False, 224×224×3) + GlobalMaxPooling2D, with the given weights."""
    keras = import_keras()

    if weights.is_random:
        keras.utils.set_random_seed(weights.random_seed)  # deterministic random init
    try:
        base = keras.applications.ResNet50(
            weights=None if weights.is_random else str(weights.path),
            include_top=False,
            input_shape=INPUT_SHAPE,
        )
    except Exception as err:  # noqa: BLE001 - any failure to load is a bad file for the person
        raise UserError(
            f"Could not load ResNet50 weights from {weights.path}: it is not the no-top ResNet50 "
            f"weights file '{WEIGHTS_FILENAME}' ({type(err).__name__}: {str(err)[:200]})"
        ) from err
    return keras.Sequential([base, keras.layers.GlobalMaxPooling2D()], name="resnet50_gmp")


def keras_function(model, jit_compile: bool = False):
    """The model as a tf.function over float32 batches of any size, traced once."""
    import_keras()
    import tensorflow as tf

    return tf.function(
        lambda x: model(x, training=False),
        input_signature=[tf.TensorSpec((None, *INPUT_SHAPE), tf.float32)],
        jit_compile=jit_compile,
    )


class KerasForward:
    """Preprocessed float32 batch → raw pooled features, with Keras/TensorFlow."""

    def __init__(self, model, jit_compile: bool = False):
        self._function = keras_function(model, jit_compile)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self._function(batch).numpy()
