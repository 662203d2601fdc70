"""Running a converted .tflite model of the recipe: numpy and a TFLite interpreter, no TensorFlow needed.

Used by the "tflite" backend (resnet50.py) and by the packaged app's LiteRT runtime (litert.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .recipe import INPUT_SHAPE

# Printed by the C++ runtime on every interpreter's first allocation; it has no setting to turn it off.
XNNPACK_NOTICE = "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
# TensorFlow 2.21 logs info lines (its oneDNN notice) through absl when imported, whatever
# TF_CPP_MIN_LOG_LEVEL says: "I0000 00:00:1795474443.972770    4808 port.cc:153] oneDNN custom operations …",
# each time after absl's note that it logs to stderr.
TENSORFLOW_INFO = re.compile(rb"I\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] ")
ABSL_PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_stderr_lock = threading.Lock()


def is_xnnpack_notice(line: bytes) -> bool:
    return line == XNNPACK_NOTICE.encode()


def is_tensorflow_info(line: bytes) -> bool:
    return line == ABSL_PREAMBLE or TENSORFLOW_INFO.match(line) is not None


def interpreter_class():
    """The TFLite interpreter: ai-edge-litert's when installed (the maintained one, a newer XNNPACK, about
    7 % faster here), else the one inside TensorFlow (deprecated, still shipped in 2.21). Both give
    bit-identical vectors from the same .tflite file (tested), so the choice is not in the fingerprint."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        warnings.filterwarnings("ignore", message=r"\s*Warning: tf.lite.Interpreter is deprecated")
        Interpreter = tf.lite.Interpreter
    return Interpreter


@contextlib.contextmanager
def without_notice(is_notice: Callable[[bytes], bool] = is_xnnpack_notice):
    """Native code's writes to stderr (fd 2) go through a temporary file meanwhile, and all lines but the
    notices are passed on afterwards: real errors and warnings still reach the person."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no stderr at all (some windowed apps): nothing to hide
        yield
        return
    with _stderr_lock, tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().splitlines(keepends=True)
                    if not is_notice(line.rstrip(b"\r\n"))]
            if kept:
                os.write(2, b"".join(kept))


class TFLiteForward:
    """Preprocessed float32 batch → raw pooled features, with the TFLite interpreter (XNNPACK).

    An interpreter has a fixed batch size; we keep one for single images (queries) and one for the
    indexing batch size. A smaller last batch runs image by image instead of building a third.
    """

    def __init__(self, model_path: Path, threads: int | None = None, interpreter=None):
        self.model_path = model_path
        self.threads = threads or os.cpu_count() or 1
        self._interpreter_class = interpreter or interpreter_class()
        self._interpreters: dict[int, object] = {}
        self._batch_size = 1

    def _interpreter(self, batch_size: int):
        interpreter = self._interpreters.get(batch_size)
        if interpreter is None:
            with without_notice():
                interpreter = self._interpreter_class(model_path=str(self.model_path), num_threads=self.threads)
                index = interpreter.get_input_details()[0]["index"]
                interpreter.resize_tensor_input(index, [batch_size, *INPUT_SHAPE])
                interpreter.allocate_tensors()
            self._interpreters[batch_size] = interpreter
        return interpreter

    def _output_dim(self) -> int:
        return int(self._interpreter(1).get_output_details()[0]["shape"][-1])

    def _run(self, batch: np.ndarray) -> np.ndarray:
        interpreter = self._interpreter(len(batch))
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], batch)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        n = len(batch)
        if n == 0:
            return np.zeros((0, self._output_dim()), np.float32)
        if n in (1, self._batch_size):
            return self._run(batch)
        if n > self._batch_size:  # a new indexing batch size: it replaces the previous one
            if self._batch_size != 1:
                del self._interpreters[self._batch_size]
            self._batch_size = n
            return self._run(batch)
        return np.concatenate([self._run(batch[i : i + 1]) for i in range(n)])
