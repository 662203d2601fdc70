"""The seed recipe: Keras ResNet50 (ImageNet, no top, 224×224) + global max pooling, caffe preprocessing."""

from __future__ import annotations

import json
import os
import threading

import numpy as np

from ..errors import UserError
from ..weights import WEIGHTS_FILENAME, Weights
from . import l2_normalise

# keras.applications.resnet50.preprocess_input ("caffe"): RGB→BGR, minus the ImageNet mean (BGR order).
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
PREPROCESSING = "keras-load_img-nearest-224/caffe-bgr-mean"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported: no C++ info spam


def preprocess(batch: np.ndarray) -> np.ndarray:
    """Exactly keras' `preprocess_input` for ResNet50 on a (n, h, w, 3) RGB uint8 batch."""
    return batch[..., ::-1].astype(np.float32) - CAFFE_MEAN_BGR


def build_keras_model(weights: Weights):
    """ResNet50(include_top=False, 224×224×3) + GlobalMaxPooling2D, with the given weights."""
    import keras

    if weights.is_random:
        keras.utils.set_random_seed(weights.random_seed)  # deterministic random init
    try:
        base = keras.applications.ResNet50(
            weights=None if weights.is_random else str(weights.path),
            include_top=False,
            input_shape=(224, 224, 3),
        )
    except Exception as err:  # noqa: BLE001 - any failure to load is a bad file for the person
        raise UserError(
            f"Could not load ResNet50 weights from {weights.path}: it is not the no-top ResNet50 "
            f"weights file '{WEIGHTS_FILENAME}' ({type(err).__name__}: {str(err)[:200]})"
        ) from err
    return keras.Sequential([base, keras.layers.GlobalMaxPooling2D()], name="resnet50_gmp")


class ResNet50Embedder:
    name = "resnet50"
    dim = 2048
    input_size = (224, 224)

    def __init__(self, weights: Weights):
        self.weights = weights
        self._model = None
        self._forward = None
        self._lock = threading.Lock()

    @property
    def fingerprint(self) -> str:
        return json.dumps(
            {"algorithm": "resnet50-gmp", "weights": self.weights.tag(), "preprocessing": PREPROCESSING,
             "dim": self.dim},
            sort_keys=True,
        )

    def describe(self) -> str:
        return f"ResNet50 · {self.weights.describe()}"

    def load(self) -> None:
        """Import TensorFlow and build the network (seconds); later calls return at once."""
        with self._lock:
            if self._model is not None:
                return
            import tensorflow as tf

            model = build_keras_model(self.weights)
            self._forward = tf.function(
                lambda x: model(x, training=False),
                input_signature=[tf.TensorSpec([None, 224, 224, 3], tf.float32)],
            )
            self._model = model

    def embed(self, batch: np.ndarray) -> np.ndarray:
        self.load()
        features = self._forward(preprocess(batch)).numpy()
        return l2_normalise(features)
