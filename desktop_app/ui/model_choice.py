"""The window's model box: one entry per model, plus "resnet50 (int8)" — ResNet50 quantized to int8 (issue #15,
core/embedders/int8.py) as a choice beside fp32, remembered with the model. Plain "resnet50" is fp32."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox

from ..core.embedders import MODELS
from ..core.embedders.precision import INT8_MODELS

INT8_SUFFIX = " (int8)"


def choice_name(model: str, precision: str | None) -> str:
    """('resnet50', 'int8') → 'resnet50 (int8)'; any other precision shows the model alone (parse_choice's inverse)."""
    return model + INT8_SUFFIX if precision == "int8" else model


MODEL_CHOICES = [choice for model in MODELS
                 for choice in ([model, choice_name(model, "int8")] if model in INT8_MODELS else [model])]


def parse_choice(choice: str) -> tuple[str, str | None]:
    """'resnet50 (int8)' → ('resnet50', 'int8'); 'colour-texture' → ('colour-texture', None): no precision asked
    for, which runs fp32 (the window gives no catalog to create_embedder for the fp32 models)."""
    if choice.endswith(INT8_SUFFIX):
        return choice[:-len(INT8_SUFFIX)], "int8"
    return choice, None


def model_box(current: str, on_choice: Callable[[str], None]) -> QComboBox:
    """The toolbar's model box showing `current`; `on_choice(choice)` when the person picks another."""
    box = QComboBox()
    box.addItems(MODEL_CHOICES)
    box.setCurrentText(current)
    box.setToolTip("How photos are compared; each model keeps its own index of the catalog")
    box.currentTextChanged.connect(on_choice)
    return box
