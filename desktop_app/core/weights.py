"""Finding the ResNet50 ImageNet weights, explicitly; never a silent fallback to random weights.

Order: an explicit path (--weights, the GUI's choice) → FASHIONREC_WEIGHTS → the saved setting →
a file bundled in resources/ → the Keras cache → a Keras download when online.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from . import settings
from .errors import UserError
from .paths import resources_dir

WEIGHTS_FILENAME = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/" + WEIGHTS_FILENAME
WEIGHTS_MD5 = "4d473c1dd8becc155b73f8504c6f6626"  # what Keras checks after downloading
SETTING_KEY = "weights_path"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_RESNET50_WEIGHTED_LAYERS = 106  # 53 convolutions + 53 batch normalisations
_CLASSIFIER_NAMES = ("predictions", "fc1000", "probs")  # the top layer's name in Keras versions over time


@dataclass(frozen=True)
class Weights:
    """Either a weights file, or an explicit seeded random init (tests, demos, benchmarks)."""

    path: Path | None = None
    random_seed: int | None = None
    source: str = ""

    @property
    def is_random(self) -> bool:
        return self.path is None

    def tag(self) -> str:
        """Identifies the weights in a store fingerprint."""
        if self.path is None:
            return f"random-seed-{self.random_seed}"
        return "sha256-" + file_sha256(self.path)[:16]

    def describe(self) -> str:
        if self.path is None:
            return f"random weights (seed {self.random_seed}) — demo only, results are not meaningful"
        return f"weights from {self.path} ({self.source})"


def random_weights(seed: int = 0) -> Weights:
    return Weights(random_seed=seed, source="--random-weights")


def file_sha256(path: Path) -> str:
    st = os.stat(path)
    return _sha256_cached(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:  # size/mtime: part of the cache key
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def missing_weights_message() -> str:
    return (
        f"The ResNet50 ImageNet weights file '{WEIGHTS_FILENAME}' (94 MB) was not found and could not be "
        f"downloaded. Get it from {WEIGHTS_URL} and either pass it with --weights FILE, set "
        f"FASHIONREC_WEIGHTS=FILE, choose it in the app, or put it in {keras_cache_path().parent}/ or "
        f"{resources_dir()}/. (For a demo without weights use --random-weights.)"
    )


def keras_cache_path() -> Path:
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(keras_home) / "models" / WEIGHTS_FILENAME


def check_weights_file(path: Path) -> Path:
    """A quick sanity check before TensorFlow ever sees the file."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"Weights file not found: {path}")
    with open(path, "rb") as f:
        if f.read(8) != _HDF5_MAGIC:
            raise UserError(
                f"Not a Keras HDF5 weights file: {path}. Expected '{WEIGHTS_FILENAME}'."
            )
    _check_layers(path)
    return path.resolve()


def _check_layers(path: Path) -> None:
    """The common wrong files, told apart in milliseconds instead of after TensorFlow has loaded.

    Keras' legacy loader matches layers by order, so the count of layers holding weights is what must
    fit. Files h5py cannot open for other reasons are left to Keras, which reports them when loading.
    """
    import h5py  # comes with Keras; imported here so that starting the app stays fast

    try:
        with h5py.File(path, "r") as f:
            weighted = [name for name, _ in weighted_layers(f)]
    except OSError as err:
        if "truncated" in str(err):
            raise UserError(f"The weights file {path} is incomplete (truncated, e.g. an interrupted download): "
                            f"{err}. Download '{WEIGHTS_FILENAME}' again.") from None
        return
    except KeyError as err:  # a layer names a weight the file does not hold
        raise UserError(f"{path} is a damaged Keras weights file ({err}). Expected '{WEIGHTS_FILENAME}'.") from None
    if not weighted:
        raise UserError(f"{path} is an HDF5 file but holds no Keras layer weights. Expected '{WEIGHTS_FILENAME}'.")
    if len(weighted) == _RESNET50_WEIGHTED_LAYERS + 1 and weighted[-1] in _CLASSIFIER_NAMES:
        raise UserError(f"{path} holds the ResNet50 weights WITH the ImageNet classification top "
                        f"(layer '{weighted[-1]}'); fashionrec needs the no-top file '{WEIGHTS_FILENAME}'.")
    if len(weighted) != _RESNET50_WEIGHTED_LAYERS:
        raise UserError(f"{path} holds the weights of another network ({len(weighted)} layers with weights; "
                        f"ResNet50 without top has {_RESNET50_WEIGHTED_LAYERS}). Expected '{WEIGHTS_FILENAME}'.")


def weighted_layers(h5file) -> list[tuple[str, list]]:
    """(layer name, its weight datasets) of each layer holding weights in an open Keras HDF5 weights file,
    in file order: the order Keras' legacy loader matches them to the network's layers by. The datasets
    are read only when used (np.asarray), while the file is open."""
    group = h5file["model_weights"] if "layer_names" not in h5file.attrs and "model_weights" in h5file else h5file
    layers = []
    for name in (_text(raw) for raw in group.attrs.get("layer_names", [])):
        weight_names = group[name].attrs.get("weight_names", []) if name in group else []
        if len(weight_names):
            layers.append((name, [group[name][_text(weight)] for weight in weight_names]))
    return layers


def _text(name) -> str:
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)


def _candidates(explicit: str | os.PathLike | None):
    if explicit:
        yield Path(explicit), "given explicitly"
    if os.environ.get("FASHIONREC_WEIGHTS"):
        yield Path(os.environ["FASHIONREC_WEIGHTS"]), "FASHIONREC_WEIGHTS"
    saved = settings.get(SETTING_KEY)
    if saved:
        yield Path(saved), "saved setting"
    yield resources_dir() / WEIGHTS_FILENAME, "bundled with the app"
    yield keras_cache_path(), "Keras cache"


def resolve_weights(explicit: str | os.PathLike | None = None, allow_download: bool = True) -> Weights:
    """The first usable weights file; raises UserError with instructions if there is none.

    A path given explicitly (argument or environment) that is broken is an error, not skipped:
    the person asked for that file and should hear what is wrong with it.
    """
    for path, source in _candidates(explicit):
        if source in ("given explicitly", "FASHIONREC_WEIGHTS"):
            return Weights(path=check_weights_file(path), source=source)
        if path.is_file():
            return Weights(path=check_weights_file(path), source=source)
    if allow_download:
        downloaded = _try_download()
        if downloaded:
            return Weights(path=downloaded, source="downloaded by Keras")
    raise UserError(missing_weights_message())


def _try_download() -> Path | None:
    """Keras' own download into its cache; None when offline."""
    import socket

    try:  # fail fast when there is no network instead of hanging on DNS or connect
        socket.create_connection(("storage.googleapis.com", 443), timeout=3).close()
    except OSError:
        return None
    try:
        from keras.utils import get_file

        return Path(get_file(WEIGHTS_FILENAME, WEIGHTS_URL, cache_subdir="models", file_hash=WEIGHTS_MD5))
    except Exception:  # noqa: BLE001 - any download failure means "not available"
        return None
