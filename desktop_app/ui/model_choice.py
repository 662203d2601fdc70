"""The window's model box: one entry per model, and for a network with an int8 version (core/embedders/int8.py)
one per precision, its default first: "resnet50" (fp32) then "resnet50 (int8)"; "efficientnet-lite0 (int8)"
then "efficientnet-lite0 (fp32)" (not in the packaged app, which carries that network in int8 only). The choice
is remembered with the model."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox

from ..core.embedders import BUILT_IN_MODEL, MODELS
from ..core.embedders.efficientnet import has_checkpoint
from ..core.embedders.precision import INT8_MODELS, PRECISIONS, default_for_new_catalogs


def choice_name(model: str, precision: str | None) -> str:
    """('resnet50', 'int8') → 'resnet50 (int8)'; a model whose default is int8 names either precision
    ('efficientnet-lite0 (fp32)'); plain 'resnet50' is fp32 (parse_choice's inverse)."""
    if model in INT8_MODELS and default_for_new_catalogs(model) != "fp32":
        return f"{model} ({precision or default_for_new_catalogs(model)})"
    return f"{model} (int8)" if precision == "int8" else model


def _choices(model: str) -> list[str]:
    if model not in INT8_MODELS:
        return [model]
    default = default_for_new_catalogs(model)
    if model == BUILT_IN_MODEL and not has_checkpoint():  # the packaged app: int8 only
        return [choice_name(model, "int8")]
    return [choice_name(model, default)] + [choice_name(model, p) for p in PRECISIONS if p != default]


MODEL_CHOICES = [choice for model in MODELS for choice in _choices(model)]
BUILT_IN_CHOICE = choice_name(BUILT_IN_MODEL, None)  # the built-in network at its default precision


def parse_choice(choice: str) -> tuple[str, str | None]:
    """'resnet50 (int8)' → ('resnet50', 'int8'); 'colour-texture' → ('colour-texture', None): no precision asked
    for, which runs fp32 (the window gives no catalog to create_embedder for the fp32 models)."""
    for precision in PRECISIONS:
        if choice.endswith(f" ({precision})"):
            return choice[:-len(f" ({precision})")], precision
    return choice, None


def model_box(current: str, on_choice: Callable[[str], None]) -> QComboBox:
    """The toolbar's model box showing `current`; `on_choice(choice)` when the person picks another."""
    box = QComboBox()
    box.addItems(MODEL_CHOICES)
    box.setCurrentText(current)
    box.setToolTip("How photos are compared; each model keeps its own index of the catalog")
    box.currentTextChanged.connect(on_choice)
    return box
