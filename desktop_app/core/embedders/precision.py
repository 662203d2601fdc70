"""Which precision a network runs at: "fp32" or "int8" (int8.py), for the models that have the choice.

A precision asked for is used. Without one, a catalog that already has fp32 vectors of this model keeps fp32
(no silent re-index); a new catalog gets the model's `DEFAULT_FOR_NEW_CATALOGS`; with no catalog at all (a
single image, the self-test) it is fp32.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import UserError

PRECISIONS = ("fp32", "int8")
# Set by measurement against each model's fidelity goal (docs/models.md, "int8"): int8 becomes a model's
# default where it keeps precision@5 within 0.01 of fp32.
# - resnet50: opt-in. On test networks trained on the real sample it kept 87–89 % of each top-10 list, less than
#   re-saving the photos as JPEG q90 keeps (97 %), and its ImageNet weights could not be measured here.
# - efficientnet-lite0: int8. On the 2,000-photo sample its precision@5 is 0.748 against fp32's 0.746.
DEFAULT_FOR_NEW_CATALOGS = {"resnet50": "fp32", "efficientnet-lite0": "int8"}
INT8_MODELS = frozenset(DEFAULT_FOR_NEW_CATALOGS)


def default_for_new_catalogs(model: str) -> str:
    return DEFAULT_FOR_NEW_CATALOGS.get(model, "fp32")


def check_precision(model: str, precision: str | None, backend: str | None) -> None:
    if precision is None:
        return
    if precision not in PRECISIONS:
        raise UserError(f"Unknown precision '{precision}'. Available: {', '.join(PRECISIONS)}")
    if precision == "int8" and model not in INT8_MODELS:
        raise UserError(f"--precision int8 is for {' and '.join(sorted(INT8_MODELS))}; {model} has no precision "
                        "to choose.")
    if precision == "int8" and backend is not None:
        raise UserError(f"--backend {backend} chooses how fp32 runs; int8 always runs on ONNX Runtime "
                        "(leave out --backend, or use --precision fp32).")


def resolve_precision(model: str, precision: str | None, backend: str | None,
                      has_fp32_vectors: Callable[[], bool | None]) -> str:
    """The precision to run: as asked, else by the rule in the module doc. `has_fp32_vectors()` tells
    whether the catalog already has fp32 vectors (None: no catalog, or int8 cannot be made here)."""
    check_precision(model, precision, backend)
    if precision is not None:
        return precision
    if model not in INT8_MODELS or backend is not None:
        return "fp32"
    return default_for_new_catalogs(model) if has_fp32_vectors() is False else "fp32"


def default_precision_text(model: str) -> str:
    """A model's precision without --precision, in words."""
    default = default_for_new_catalogs(model)
    if default == "fp32":
        return "fp32"
    return f"{default} for a new catalog, fp32 for a catalog already indexed in fp32"


def precision_note() -> str:
    """One line for `info`: which precision a catalog gets without --precision."""
    rules = "; ".join(f"{model}: {default_precision_text(model)}" for model in sorted(INT8_MODELS))
    return f"precision without --precision: {rules} (--precision fp32|int8 to choose; docs/models.md \"int8\")"
