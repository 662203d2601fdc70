"""Writes PyTorch checkpoints in the legacy (non-zip) format without torch, for the reader's tests: the five
pickles and the raw storages that torch.save(..., _use_new_zipfile_serialization=False) writes.

The state dict's pickle names torch's globals, which pickle.dumps cannot emit without torch installed, so it
is written opcode by opcode (protocol 2)."""

from __future__ import annotations

import pickle
import struct

import numpy as np

MAGIC, PROTOCOL = 0x1950A86A20F9469CFC6C, 1001
SYS_INFO = {"protocol_version": PROTOCOL, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
STORAGE_NAMES = {np.dtype("float32"): "FloatStorage", np.dtype("int64"): "LongStorage"}


def _text(value: str) -> bytes:
    data = value.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def _ints(values) -> bytes:
    return b"(" + b"".join(_int(v) for v in values) + b"t"


def global_op(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def header() -> bytes:
    return b"".join(pickle.dumps(part, protocol=2) for part in (MAGIC, PROTOCOL, SYS_INFO))


def legacy_checkpoint(arrays: dict[str, np.ndarray], transposed: frozenset[str] = frozenset()) -> bytes:
    """The checkpoint bytes of a state dict; tensors named in `transposed` are stored as the real checkpoint
    stores its TensorFlow-converted weights: the storage holds the reversed-axes array, the tensor reads it with
    permuted strides."""
    state = [b"\x80\x02", global_op("collections", "OrderedDict"), b")R("]
    storages = []
    for i, (name, array) in enumerate(arrays.items()):
        array = np.asarray(array)
        key = str(1000 + i)
        if name in transposed:
            data = np.ascontiguousarray(array.transpose())
            strides = tuple(int(np.prod(array.shape[:axis])) for axis in range(array.ndim))
        else:
            data = np.array(array, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
            strides = tuple(s // array.itemsize for s in data.strides)
        storages.append((key, data))
        persistent = (b"(" + _text("storage") + global_op("torch", STORAGE_NAMES[array.dtype]) + _text(key)
                      + _text("cpu") + _int(data.size) + b"Nt" + b"Q")
        state += [_text(name), global_op("torch._utils", "_rebuild_tensor_v2"), b"(", persistent, _int(0),
                  _ints(array.shape), _ints(strides), b"\x89", global_op("collections", "OrderedDict"), b")R",
                  b"tR"]
    state.append(b"u.")
    raw = b"".join(struct.pack("<q", data.size) + data.tobytes() for _, data in storages)
    return header() + b"".join(state) + pickle.dumps([key for key, _ in storages], protocol=2) + raw


def crafted_checkpoint(state_pickle: bytes) -> bytes:
    """A file that looks like a legacy checkpoint up to its state dict, which is `state_pickle`."""
    return header() + state_pickle + pickle.dumps([], protocol=2)
