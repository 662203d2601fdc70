"""How a network embedder is shared between threads: its runtime (an ONNX Runtime session, a TFLiteForward, a
Keras function) is made once, by the first thread that needs it while any other waits, and forward passes then
run WITHOUT a lock. So a query on the window's reader lane never queues behind the batch the writer lane is
indexing (it did, for a whole batch: 0.8–5.9 s behind ResNet50 batches of 16 on a loaded machine).

Every runtime here allows concurrent forward passes (measured, notes/lanes2.md; tests/test_concurrent_forward.py):
- ONNX Runtime: InferenceSession.run is thread-safe; concurrent runs share the session's intra-op threads.
- TFLite / LiteRT: an interpreter is not thread-safe, so TFLiteForward gives each thread its own
  (tflite_runtime.py).
- Keras: a tf.function traced once (a fixed input signature) may be called from several threads at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedRuntime(Generic[T]):
    """`get()` → the runtime, made by `make()` on first use under `lock` (the embedder's own, which may guard
    more of its lazy state); once made, `get()` takes no lock."""

    def __init__(self, make: Callable[[], T], lock: threading.RLock | None = None):
        self._make = make
        self._lock = lock or threading.RLock()
        self._runtime: T | None = None

    @property
    def loaded(self) -> bool:
        return self._runtime is not None

    def get(self) -> T:
        runtime = self._runtime
        if runtime is None:
            with self._lock:
                if self._runtime is None:
                    self._runtime = self._make()
                runtime = self._runtime
        return runtime

    def use(self, runtime: T) -> None:
        """Run this one from now on (made elsewhere, e.g. from model bytes sent to a worker)."""
        with self._lock:
            self._runtime = runtime
