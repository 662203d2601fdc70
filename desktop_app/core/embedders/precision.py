"""Which precision ResNet50 runs at: "fp32" (the recipe, unchanged vectors) or "int8" (int8.py).

A precision asked for is used. Without one, a catalog that already has fp32 vectors of these weights keeps
fp32 (no silent re-index); a new catalog gets `DEFAULT_FOR_NEW_CATALOGS`; with no catalog at all (a
single image, the self-test) it is fp32, since int8 calibrates on a catalog's photos.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import UserError

PRECISIONS = ("fp32", "int8")
# int8 is opt-in: on test networks trained on the real sample it kept 87–89 % of each top-10 list, less than
# re-saving the photos as JPEG q90 keeps (97 %), so it missed its fidelity goal (README, "int8"). Setting
# this to "int8" makes it the default for new catalogs (catalogs indexed in fp32 keep fp32).
DEFAULT_FOR_NEW_CATALOGS = "fp32"
INT8_MODELS = frozenset({"resnet50"})


def check_precision(model: str, precision: str | None, backend: str | None) -> None:
    if precision is None:
        return
    if precision not in PRECISIONS:
        raise UserError(f"Unknown precision '{precision}'. Available: {', '.join(PRECISIONS)}")
    if precision == "int8" and model not in INT8_MODELS:
        raise UserError(f"--precision int8 is for resnet50; {model} has no precision to choose.")
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
    return DEFAULT_FOR_NEW_CATALOGS if has_fp32_vectors() is False else "fp32"


def precision_note() -> str:
    """One line for `info`: which precision a catalog gets without --precision."""
    other = "fp32" if DEFAULT_FOR_NEW_CATALOGS == "int8" else "int8"
    return (f"precision: new resnet50 catalogs are indexed in {DEFAULT_FOR_NEW_CATALOGS}, catalogs already "
            f"indexed in fp32 stay fp32 (--precision {other} to choose; README \"int8\")")

