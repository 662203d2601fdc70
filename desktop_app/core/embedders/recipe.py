"""The seed recipe's fixed parts, numpy only: ResNet50 (ImageNet, no top, 224×224) + global max pooling,
caffe preprocessing, L2-normalised 2048-d vectors. Every way of running the network (resnet50.py's
backends, litert.py's converted model) shares them, so their vectors can be compared."""

from __future__ import annotations

import json

import numpy as np

from ..weights import Weights

ALGORITHM = "resnet50-gmp"
# keras.applications.resnet50.preprocess_input ("caffe"): RGB→BGR, minus the ImageNet mean (BGR order).
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
PREPROCESSING = "keras-load_img-nearest-224/caffe-bgr-mean"
INPUT_SHAPE = (224, 224, 3)
INPUT_SIZE = (224, 224)  # width, height
DIM = 2048


def preprocess(batch: np.ndarray) -> np.ndarray:
    """Exactly keras' `preprocess_input` for ResNet50 on a (n, h, w, 3) RGB uint8 batch."""
    return batch[..., ::-1].astype(np.float32) - CAFFE_MEAN_BGR


def fingerprint(weights: Weights, **runs_on: str) -> str:
    """The recipe's fingerprint for `weights`, plus how it runs (e.g. backend="tflite"): runtimes give
    equivalent but not bit-identical vectors, so each has stores of its own."""
    return json.dumps({"algorithm": ALGORITHM, "weights": weights.tag(), "preprocessing": PREPROCESSING,
                       "dim": DIM, **runs_on}, sort_keys=True)
