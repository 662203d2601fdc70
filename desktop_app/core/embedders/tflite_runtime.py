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
    """Preprocessed float32 batch → raw pooled features, with TFLite interpreters (XNNPACK).

    An interpreter is not thread-safe, so each forward pass takes an idle one from a pool — one allocated for its
    batch size if there is one — and makes another when all are busy: two threads never share one, and the
    window's two lanes (index batches, one-photo queries) hold two, as one thread held before (one for queries,
    one per indexing batch size). ResNet50 with XNNPACK: ~200 MB at batch 1, ~300 MB at 16 (RSS, measured).
    An interpreter is resized to each batch's size (~0.1 ms; the vectors are bit-identical at any size, measured).
    Not threading.local: a QThread's Python thread state, and its locals with it, goes after every slot call.
    """

    def __init__(self, model_path: Path, threads: int | None = None, interpreter=None):
        self.model_path = model_path
        self.threads = threads or os.cpu_count() or 1
        self._interpreter_class = interpreter or interpreter_class()
        self._idle: list[_Sized] = []
        self._pool_lock = threading.Lock()

    @contextlib.contextmanager
    def _interpreter(self, batch_size: int):
        with self._pool_lock:
            sized = next((s for s in self._idle if s.batch_size == batch_size), self._idle[-1] if self._idle else None)
            if sized is not None:
                self._idle.remove(sized)
        if sized is None:
            with without_notice():  # the notice comes with the first allocation
                sized = _Sized(self._interpreter_class(model_path=str(self.model_path), num_threads=self.threads))
                sized.allocate(batch_size)
        try:
            sized.allocate(batch_size)  # when it last ran another size
            yield sized.interpreter
        finally:
            with self._pool_lock:
                self._idle.append(sized)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        with self._interpreter(max(len(batch), 1)) as interpreter:
            if len(batch) == 0:
                return np.zeros((0, int(interpreter.get_output_details()[0]["shape"][-1])), np.float32)
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], batch)
            interpreter.invoke()
            return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])  # a copy


class _Sized:
    """An interpreter and the batch size its tensors are allocated for."""

    def __init__(self, interpreter):
        self.interpreter = interpreter
        self.batch_size = 0

    def allocate(self, batch_size: int) -> None:
        if batch_size != self.batch_size:
            index = self.interpreter.get_input_details()[0]["index"]
            self.interpreter.resize_tensor_input(index, [batch_size, *INPUT_SHAPE])
            self.interpreter.allocate_tensors()
            self.batch_size = batch_size
