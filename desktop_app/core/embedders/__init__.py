"""Embedders: one class per algorithm behind one small interface (`Embedder`, in base.py), made by
`create_embedder`.

Models are listed in `REGISTRY`: adding one is one entry there (and its module).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from ..weights import Weights, missing_weights_message, resolve_weights
from .base import Embedder
from .precision import check_precision, resolve_precision

if TYPE_CHECKING:
    from .int8 import Calibration

Int8Maker = Callable[[Embedder, Path | None, Path | None, "Calibration | None"], Callable[[], Embedder]]


@dataclass(frozen=True)
class Model:
    """One entry of the registry: `make(weights, backend)` builds the embedder (importing its module only
    then); `needs_weights` says whether it runs on a weights file (resolved by create_embedder).
    `int8(fp32 embedder, catalog, data_dir, calibration)`, for a model with an int8 version, gives the function
    that builds it (calibrated on `calibration` when given: a Ray worker rebuilding an embedder, spec.py), or
    raises UserError saying why it cannot be made here. `takes_backend`: whether its fp32 embedder's `backend`
    is a choice (create_embedder's `backend`)."""

    make: Callable[[Weights | None, str | None], Embedder]
    needs_weights: bool = False
    int8: Int8Maker | None = None
    takes_backend: bool = False


def _weight_free(module: str, class_name: str) -> Callable[[Weights | None, str | None], Embedder]:
    """The factory of a model that takes no weights and no backend: `module.class_name()`."""

    def make(weights: Weights | None, backend: str | None) -> Embedder:
        return getattr(importlib.import_module(f"{__name__}.{module}"), class_name)()

    return make


def has_tensorflow() -> bool:
    """False in the packaged app, which runs ResNet50 converted ahead of time on LiteRT."""
    return importlib.util.find_spec("tensorflow") is not None


def available_backends() -> tuple[str, ...]:
    """The ResNet50 backends that work here: resnet50.BACKENDS with TensorFlow, else only LiteRT's runtime."""
    if has_tensorflow():
        from .resnet50 import BACKENDS

        return BACKENDS
    from .litert import RUNTIME

    return (RUNTIME,)


def _resnet50(weights: Weights | None, backend: str | None) -> Embedder:
    assert weights is not None  # create_embedder resolved them: resnet50 needs weights
    if has_tensorflow():
        from .resnet50 import ResNet50Embedder

        return ResNet50Embedder(weights, backend)
    from .litert import RUNTIME, LiteRTResNet50Embedder

    if backend not in (None, RUNTIME):
        raise UserError(f"The '{backend}' backend needs TensorFlow, which this packaged build leaves out; "
                        f"it runs the converted model on LiteRT (leave out --backend).")
    return LiteRTResNet50Embedder(weights)


def _resnet50_int8(fp32: Embedder, catalog: Path | None, data_dir: Path | None,
                   calibration: Calibration | None) -> Callable[[], Embedder]:
    """ResNet50 in int8 calibrates on the catalog's photos, so it needs the catalog; and the seeded random init
    exists only through Keras, so without TensorFlow (the packaged app) it needs a weights file."""
    weights = fp32.weights
    assert weights is not None
    if weights.is_random and not has_tensorflow():
        raise UserError("int8 of the random init needs TensorFlow to make its weights, which this packaged build "
                        "leaves out: give a weights file, or use --precision fp32.")
    if catalog is None and calibration is None:
        raise UserError("int8 calibrates on the catalog's photos: it needs the catalog folder.")

    def make() -> Embedder:
        from ..catalog_data import Catalog
        from .int8 import Int8ResNet50Embedder

        if calibration is not None:
            return Int8ResNet50Embedder(weights, calibration)
        assert catalog is not None
        return Int8ResNet50Embedder(weights, Catalog(catalog, data_dir).int8_calibration)

    return make


def _efficientnet(weights: Weights | None, backend: str | None) -> Embedder:
    from .efficientnet import create

    return create("fp32")


def _efficientnet_int8(fp32: Embedder, catalog: Path | None, data_dir: Path | None,
                       calibration: Calibration | None) -> Callable[[], Embedder]:
    from .efficientnet import create

    return lambda: create("int8")  # calibrated on a generated set: no catalog needed


REGISTRY: dict[str, Model] = {
    "resnet50": Model(_resnet50, needs_weights=True, int8=_resnet50_int8, takes_backend=True),
    "efficientnet-lite0": Model(_efficientnet, int8=_efficientnet_int8),
    "colour-texture": Model(_weight_free("colour_texture", "ColourTextureEmbedder")),
    "shape-colour": Model(_weight_free("shape_colour", "ShapeColourEmbedder")),
}
MODELS = tuple(REGISTRY)
DEFAULT_MODEL = "resnet50"  # whenever its weights are found (default_model)
BUILT_IN_MODEL = "efficientnet-lite0"  # the trained network installed with fashionrec: used when they are not
BUILT_IN_DESCRIPTION = "EfficientNet-Lite0, ImageNet-trained"


class WeightsNeeded(UserError):
    """The model needs a weights file and none was found; the message names the file and where it is looked for.
    The CLI prints it; the window asks the person to choose the file."""


@dataclass(frozen=True)
class DefaultModel:
    """The model used when none is named (default_model)."""

    model: str
    weights: Weights | None = None  # ResNet50's, as found

    @property
    def is_built_in(self) -> bool:
        return self.model == BUILT_IN_MODEL

    def note(self, how_to_choose_resnet50: str) -> str:
        """The one line that says the built-in network is used, and why ("" when it is not)."""
        if not self.is_built_in:
            return ""
        return (f"no ResNet50 weights file was found, so the built-in network is used: {BUILT_IN_MODEL} "
                f"({BUILT_IN_DESCRIPTION}). {how_to_choose_resnet50}")


def default_model(weights: Weights | None = None) -> DefaultModel:
    """ResNet50 whenever its weights are given or found (weights.resolve_weights: FASHIONREC_WEIGHTS, the saved
    choice, a file, the Keras cache, a download), else the built-in network, which needs none. A weights file
    that is named (FASHIONREC_WEIGHTS, the saved choice) but unusable is WeightsNeeded, not a quiet switch."""
    try:
        return DefaultModel(DEFAULT_MODEL, weights_or_found(weights))
    except WeightsNeeded as err:
        if str(err) != missing_weights_message():
            raise
    return DefaultModel(BUILT_IN_MODEL)


def needs_weights(model: str) -> bool:
    return model in REGISTRY and REGISTRY[model].needs_weights


def create_embedder(model: str = DEFAULT_MODEL, weights: Weights | None = None,
                    backend: str | None = None, precision: str | None = None,
                    catalog: Path | None = None, data_dir: Path | None = None,
                    calibration: Calibration | None = None) -> Embedder:
    """The embedder for `model`. A model that needs weights and is given none looks for them
    (weights.resolve_weights: may try a download) and raises WeightsNeeded when there are none.
    `backend` picks how resnet50 runs (see available_backends(); None: FASHIONREC_BACKEND or the fastest).
    `precision` "fp32" | "int8" | None (see precision.py: None picks by the `catalog` folder's stores;
    `data_dir` is where its stores are, default paths.data_dir()); int8 calibrates on `calibration` when given
    (a Ray worker rebuilding the indexing process's embedder: spec.py)."""
    fp32 = _create_fp32_embedder(model, weights, backend)
    check_precision(model, precision, backend)
    make_int8, why_not, int8 = None, "", REGISTRY[model].int8
    if int8 is not None:
        try:
            make_int8 = int8(fp32, catalog, data_dir, calibration)
        except UserError as err:
            why_not = str(err)
    if precision == "int8" and make_int8 is None:
        raise UserError(why_not)
    chosen = resolve_precision(model, precision, backend, lambda: _has_store(fp32, catalog, data_dir)
                               if catalog and make_int8 else None)
    return make_int8() if chosen == "int8" and make_int8 else fp32


def _has_store(embedder: Embedder, catalog: Path, data_dir: Path | None) -> bool:
    from ..catalog_data import Catalog

    return Catalog(catalog, data_dir).has_store(embedder)


def _create_fp32_embedder(model: str, weights: Weights | None, backend: str | None) -> Embedder:
    if model not in REGISTRY:
        raise UserError(f"Unknown model '{model}'. Available: {', '.join(MODELS)}")
    if weights is not None and not needs_weights(model):
        raise UserError(f"--weights and --random-weights are for resnet50; {model} needs no weights.")
    if needs_weights(model):
        weights = weights_or_found(weights)
    return REGISTRY[model].make(weights, backend)


def weights_or_found(weights: Weights | None) -> Weights:
    """ResNet50's weights: those given, else those weights.resolve_weights finds (may try a download);
    WeightsNeeded, saying how to get them, when there are none (never a silent random init)."""
    if weights is not None:
        return weights
    try:
        return resolve_weights()
    except UserError as err:
        raise WeightsNeeded(str(err)) from None
