"""The torch-free checkpoint reader: legacy-format state dicts become numpy arrays (strided ones too), and a file
naming anything but the legacy format's few globals is refused with nothing of it run."""

import pickle

import numpy as np
import pytest

from desktop_app.core.embedders.torch_checkpoint import CheckpointRefused, read_legacy_checkpoint
from desktop_app.core.errors import UserError
from legacy_torch import crafted_checkpoint, global_op, legacy_checkpoint

pytestmark = pytest.mark.unit


def write(tmp_path, data: bytes):
    path = tmp_path / "model.pth"
    path.write_bytes(data)
    return path


def test_state_dict_round_trip_with_strided_tensors(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"conv.weight": rng.normal(size=(4, 3, 3, 3)).astype(np.float32),
              "fc.weight": rng.normal(size=(5, 7)).astype(np.float32),
              "bn.num_batches_tracked": np.array(12, np.int64),
              "bias": np.arange(4, dtype=np.float32)}
    read = read_legacy_checkpoint(write(tmp_path, legacy_checkpoint(arrays, frozenset({"conv.weight", "fc.weight"}))))
    assert list(read) == list(arrays)
    for name, array in arrays.items():
        assert read[name].dtype == array.dtype and read[name].flags.c_contiguous
        np.testing.assert_array_equal(read[name], array)


class RunsACommand:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        import os

        return os.system, (self.command,)


@pytest.mark.parametrize("how", ["os.system by GLOBAL", "os.system by __reduce__", "builtins.eval",
                                 "inside a tensor", "in the header"])
def test_a_crafted_checkpoint_is_refused_and_runs_nothing(tmp_path, how):
    marker = tmp_path / "ran"
    command = f"touch {marker}"
    if how == "os.system by GLOBAL":
        data = crafted_checkpoint(b"\x80\x02" + global_op("os", "system") + b"(X" + len(command).to_bytes(4, "little")
                                  + command.encode() + b"tR.")
    elif how == "os.system by __reduce__":
        data = crafted_checkpoint(pickle.dumps({"weight": RunsACommand(command)}, protocol=2))
    elif how == "builtins.eval":
        data = crafted_checkpoint(pickle.dumps({"weight": _Eval(f"__import__('os').system('{command}')")},
                                               protocol=2))
    elif how == "inside a tensor":
        good = legacy_checkpoint({"w": np.zeros(3, np.float32)})
        data = good.replace(global_op("torch._utils", "_rebuild_tensor_v2"), global_op("posix", "system"))
    else:
        data = pickle.dumps(RunsACommand(command), protocol=2) + legacy_checkpoint({"w": np.zeros(1, np.float32)})
    with pytest.raises(CheckpointRefused, match=r"refused: it asks to call (posix|os|__builtin__)\.(system|eval)"):
        read_legacy_checkpoint(write(tmp_path, data))
    assert not marker.exists()


class _Eval:
    def __init__(self, code: str):
        self.code = code

    def __reduce__(self):
        return eval, (self.code,)


def test_the_real_checkpoint_reads_as_efficientnet_lite0():
    from desktop_app.core.embedders import efficientnet
    from desktop_app.core.embedders.efficientnet_graph import check_arrays, expected_shapes

    arrays = read_legacy_checkpoint(efficientnet.checked_checkpoint())
    check_arrays(arrays, "the checkpoint")
    trained = [name for name in expected_shapes() if "running_" not in name]
    assert sum(arrays[name].size for name in trained) == 4_652_008  # "about 4.65 M parameters"
    # the stem's kernel is stored with permuted strides: read through them, its values are not a reshape
    assert not np.array_equal(arrays["_conv_stem.weight"].ravel(),
                              arrays["_conv_stem.weight"].transpose(2, 3, 1, 0).ravel())


@pytest.mark.parametrize("spoil, message", [
    (lambda data: data[:-10], "truncated"),
    (lambda data: data + b"\0" * 8, "bytes after the last storage"),
    (lambda data: b"PK\x03\x04" + data, "zip format"),
    (lambda data: data[:5], "not a readable legacy PyTorch checkpoint"),
    (lambda data: pickle.dumps(7, protocol=2) + data, "no magic number"),
])
def test_damaged_files_are_one_clear_error(tmp_path, spoil, message):
    data = legacy_checkpoint({"w": np.arange(6, dtype=np.float32).reshape(2, 3)})
    with pytest.raises(UserError, match=message):
        read_legacy_checkpoint(write(tmp_path, spoil(data)))


def test_a_tensor_reaching_past_its_storage_is_refused(tmp_path):
    data = legacy_checkpoint({"w": np.zeros((2, 3), np.float32)})
    # the shape (2, 3) with strides (3, 1) becomes shape (3, 3): element 8 of a storage of 6
    data = data.replace(b"(J\x02\x00\x00\x00J\x03\x00\x00\x00t", b"(J\x03\x00\x00\x00J\x03\x00\x00\x00t", 1)
    with pytest.raises(UserError, match="addresses element 8 of a storage of 6"):
        read_legacy_checkpoint(write(tmp_path, data))
