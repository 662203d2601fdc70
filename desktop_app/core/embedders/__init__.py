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

from ..errors import UserError
from ..weights import Weights, resolve_weights
from .base import Embedder
from .precision import check_precision, resolve_precision


@dataclass(frozen=True)
class Model:
    """One entry of the registry: `make(weights, backend)` builds the embedder (importing its module only
    then); `needs_weights` says whether it runs on a weights file (resolved by create_embedder)."""

    make: Callable[[Weights | None, str | None], Embedder]
    needs_weights: bool = False


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


REGISTRY: dict[str, Model] = {
    "resnet50": Model(_resnet50, needs_weights=True),
    "colour-texture": Model(_weight_free("colour_texture", "ColourTextureEmbedder")),
    "shape-colour": Model(_weight_free("shape_colour", "ShapeColourEmbedder")),
}
MODELS = tuple(REGISTRY)
DEFAULT_MODEL = "resnet50"


class WeightsNeeded(UserError):
    """The model needs a weights file and none was found; the message names the file and where it is looked for.
    The CLI prints it; the window asks the person to choose the file."""


def needs_weights(model: str) -> bool:
    return model in REGISTRY and REGISTRY[model].needs_weights


def create_embedder(model: str = DEFAULT_MODEL, weights: Weights | None = None,
                    backend: str | None = None, precision: str | None = None,
                    catalog: Path | None = None, data_dir: Path | None = None) -> Embedder:
    """The embedder for `model`. A model that needs weights and is given none looks for them
    (weights.resolve_weights: may try a download) and raises WeightsNeeded when there are none.
    `backend` picks how resnet50 runs (see available_backends(); None: FASHIONREC_BACKEND or the fastest).
    `precision` "fp32" | "int8" | None (see precision.py: None picks by the `catalog` folder, whose photos
    int8 calibrates on; `data_dir` is where its stores are, default paths.data_dir())."""
    fp32 = _create_fp32_embedder(model, weights, backend)
    resolved = fp32.weights  # the weights found, when the model has any
    # Only Keras can make the seeded random init: without TensorFlow (the packaged app) int8 needs a file.
    int8_possible = (catalog is not None and resolved is not None
                     and not (resolved.is_random and not has_tensorflow()))
    check_precision(model, precision, backend)
    if precision == "int8" and catalog is not None and not int8_possible:
        raise UserError("int8 of the random init needs TensorFlow to make its weights, which this packaged build "
                        "leaves out: give a weights file, or use --precision fp32.")
    chosen = resolve_precision(model, precision, backend, lambda: _has_store(fp32, catalog, data_dir)
                               if catalog and int8_possible else None)
    if chosen == "fp32":
        return fp32
    if catalog is None or resolved is None:
        raise UserError("int8 calibrates on the catalog's photos: it needs the catalog folder.")
    from .int8 import Int8ResNet50Embedder, catalog_calibration

    root = catalog
    return Int8ResNet50Embedder(resolved, lambda: catalog_calibration(root, data_dir))


def _has_store(embedder: Embedder, catalog: Path, data_dir: Path | None) -> bool:
    from ..catalog_data import Catalog

    return Catalog(catalog, data_dir).has_store(embedder)


def _create_fp32_embedder(model: str, weights: Weights | None, backend: str | None) -> Embedder:
    if model not in REGISTRY:
        raise UserError(f"Unknown model '{model}'. Available: {', '.join(MODELS)}")
    if weights is not None and not needs_weights(model):
        raise UserError(f"--weights and --random-weights are for resnet50; {model} needs no weights.")
    if needs_weights(model) and weights is None:
        try:
            weights = resolve_weights()
        except UserError as err:
            raise WeightsNeeded(str(err)) from None
    return REGISTRY[model].make(weights, backend)
