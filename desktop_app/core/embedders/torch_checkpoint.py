"""Reads a PyTorch checkpoint in the legacy (non-zip) format into numpy arrays, without torch and without
running anything the file names.

The legacy format is five pickles in a row — a magic number, the protocol version (1001), a small dict
about the saving machine, the state dict, and the list of storage keys — followed by each storage's raw
bytes (an int64 element count, then the elements) in that list's order. The state dict is an
`OrderedDict` of tensors; each tensor is `torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, backward_hooks)`, its storage a persistent id `('storage', torch.FloatStorage, key, location,
count, None)`.

Unpickling calls whatever global a file names, so these pickles are read by an unpickler that knows only
those few names (ALLOWED_GLOBALS) and answers them with harmless stand-ins: records for tensors and
storage types, a plain OrderedDict. Any other global (os.system, builtins.eval, …) is refused before it
is even looked up, and so nothing it names runs. The records become numpy arrays only after every bound
(offset, sizes, strides against the storage's length) has been checked.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True, slots=True)
class StorageType:
    """Stands in for torch.FloatStorage & co: only names the element type."""

    name: str
    dtype: np.dtype


STORAGE_TYPES = {name: StorageType(name, np.dtype(dtype)) for name, dtype in (
    ("FloatStorage", "<f4"), ("DoubleStorage", "<f8"), ("HalfStorage", "<f2"), ("LongStorage", "<i8"),
    ("IntStorage", "<i4"), ("ShortStorage", "<i2"), ("CharStorage", "i1"), ("ByteStorage", "u1"),
    ("BoolStorage", "?"))}


@dataclass(frozen=True, slots=True)
class _Storage:
    dtype: np.dtype
    key: str
    count: int


@dataclass(frozen=True, slots=True)
class _Tensor:
    storage: Any
    offset: Any
    size: Any
    stride: Any


def _rebuild_tensor(storage, offset, size, stride, *_ignored) -> _Tensor:
    """Stands in for torch._utils._rebuild_tensor_v2: records its arguments (checked later), builds nothing.
    requires_grad, backward hooks and metadata do not matter to inference."""
    return _Tensor(storage, offset, size, stride)


ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    **{("torch", name): storage_type for name, storage_type in STORAGE_TYPES.items()},
}


class CheckpointRefused(UserError):
    """The file names something a legacy checkpoint of tensors never needs; nothing of it was run."""


class _AllowListUnpickler(pickle.Unpickler):
    def __init__(self, file, source: str, allowed: dict[tuple[str, str], Any]):
        super().__init__(file)
        self.source = source
        self.allowed = allowed

    def find_class(self, module: str, name: str):
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise CheckpointRefused(f"{self.source} is refused: it asks to call {module}.{name}, which a checkpoint "
                                    "of weights never needs (nothing of it was run).") from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {str(pid)[:80]}")
        _, storage_type, key, _location, count, view = pid
        if not isinstance(storage_type, StorageType) or not isinstance(key, str) or type(count) is not int \
                or view is not None:
            raise pickle.UnpicklingError(f"unexpected storage {str(pid)[:80]}")
        return _Storage(storage_type.dtype, key, count)


def _load(stream: io.BytesIO, source: str, allowed: dict[tuple[str, str], Any]):
    return _AllowListUnpickler(stream, source, allowed).load()


def read_legacy_checkpoint(path: Path) -> dict[str, np.ndarray]:
    """{name: array} of a legacy-format state dict; UserError (CheckpointRefused for a foreign global) when the
    file is not one."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise UserError(f"Cannot read the checkpoint {path}: {err.strerror or err}") from None
    if data.startswith(_ZIP_MAGIC):
        raise UserError(f"{path} is a checkpoint in PyTorch's zip format; only the legacy format is read here.")
    try:
        return _parse(data, str(path))
    except UserError:
        raise
    except Exception as err:  # noqa: BLE001 - whatever a malformed pickle raises, the file is unusable
        raise UserError(f"{path} is not a readable legacy PyTorch checkpoint ({type(err).__name__}: "
                        f"{str(err)[:160]}).") from None


def _parse(data: bytes, source: str) -> dict[str, np.ndarray]:
    stream = io.BytesIO(data)
    if _load(stream, source, {}) != LEGACY_MAGIC:
        raise UserError(f"{source} is not a legacy PyTorch checkpoint (no magic number).")
    protocol = _load(stream, source, {})
    if protocol != LEGACY_PROTOCOL:
        raise UserError(f"{source}: legacy checkpoint protocol {protocol} is not supported.")
    _load(stream, source, {})  # the saving machine's byte order and type sizes: data is little-endian anyway
    state = _load(stream, source, ALLOWED_GLOBALS)
    keys = _load(stream, source, {})
    if not isinstance(state, dict) or not isinstance(keys, list):
        raise UserError(f"{source} holds no state dict of tensors.")
    buffers = _read_storages(stream, keys, _storages_of(state, source), source)
    return {name: _materialise(name, tensor, buffers) for name, tensor in state.items()}


def _storages_of(state: dict, source: str) -> dict[str, _Storage]:
    storages: dict[str, _Storage] = {}
    for name, tensor in state.items():
        if not isinstance(name, str) or not isinstance(tensor, _Tensor) or not isinstance(tensor.storage, _Storage):
            raise UserError(f"{source}: entry {str(name)[:60]} is not a tensor.")
        known = storages.setdefault(tensor.storage.key, tensor.storage)
        if known != tensor.storage:
            raise UserError(f"{source}: storage {tensor.storage.key} is described two ways.")
    return storages


def _read_storages(stream: io.BytesIO, keys: list, storages: dict[str, _Storage],
                   source: str) -> dict[str, np.ndarray]:
    if sorted(map(str, keys)) != sorted(storages) or len(keys) != len(storages):
        raise UserError(f"{source}: its list of storages does not match its tensors.")
    buffers = {}
    data = stream.getbuffer()
    position = stream.tell()
    for key in keys:
        storage = storages[key]
        (count,) = struct.unpack_from("<q", data, position)
        end = position + 8 + count * storage.dtype.itemsize
        if count != storage.count or end > len(data):
            raise UserError(f"{source}: storage {key} is truncated or its length differs from its description.")
        buffers[key] = np.frombuffer(data, storage.dtype, count, position + 8).copy()
        position = end
    if position != len(data):
        raise UserError(f"{source}: {len(data) - position} bytes after the last storage.")
    return buffers


def _materialise(name: str, tensor: _Tensor, buffers: dict[str, np.ndarray]) -> np.ndarray:
    """The tensor as a C-contiguous array, after checking that every element it addresses is in its storage."""
    storage = buffers[tensor.storage.key]
    offset, size, stride = tensor.offset, tensor.size, tensor.stride
    if not (_is_int(offset) and isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride)
            and all(map(_is_int, size + stride)) and offset >= 0 and min(size + stride, default=0) >= 0):
        raise UserError(f"tensor {name}: malformed offset, size or stride.")
    if 0 in size:
        return np.zeros(size, storage.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if last >= len(storage):
        raise UserError(f"tensor {name}: addresses element {last} of a storage of {len(storage)}.")
    itemsize = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], size, tuple(s * itemsize for s in stride),
                                           writeable=False)
    return np.ascontiguousarray(view)


def _is_int(value) -> bool:
    return type(value) is int
