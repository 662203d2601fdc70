"""The row above the results: a label filter (field + value, fed by the catalog's labels), similarity tuned to a
label field, and a maximum distance. The label parts show only when the catalog has labels; any change
emits `changed` and the search pane re-runs the shown query with the new settings.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

from ..core.filters import Conditions

ANY = "any"
PLAIN = "Plain similarity"
TUNED_PREFIX = "Tune to labels: "
NO_LIMIT = "no limit"

LabelChoices = dict[str, list[str]]  # field → its values among the indexed items


def label_choices(session) -> LabelChoices | None:
    """The catalog's label fields and values (on the worker thread); None when it has no labels file."""
    table = session.labels
    return None if table is None else {field: table.values(field) for field in table.fields}


class FilterBox(QWidget):
    changed = Signal()

    def __init__(self):
        super().__init__()
        self._choices: LabelChoices = {}
        self.field_box = QComboBox()
        self.field_box.setToolTip("Keep to items with this label…")
        self.value_box = QComboBox()
        self.value_box.setToolTip("…equal to this value (any: no filter)")
        self.value_box.setMinimumContentsLength(12)
        self.tune_box = QComboBox()
        self.tune_box.setToolTip("Compare photos the way a label field groups them (a projection learnt from the "
                                 "catalog's labels; fitted once, then cached)")
        self.distance_box = QDoubleSpinBox()
        self.distance_box.setRange(0.0, 4.0)
        self.distance_box.setSingleStep(0.05)
        self.distance_box.setDecimals(2)
        self.distance_box.setSpecialValueText(NO_LIMIT)  # shown at 0: no maximum distance
        self.distance_box.setToolTip("Show only items at most this far from the query (no limit: the k nearest)")
        self._labels_row = [QLabel("Filter:"), self.field_box, QLabel("="), self.value_box, self.tune_box]
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in self._labels_row:
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(QLabel("Max distance:"))
        row.addWidget(self.distance_box)
        self.field_box.currentTextChanged.connect(self._fill_values)
        for box in (self.value_box, self.tune_box):
            box.currentTextChanged.connect(self._emit_if_changed)
        self.distance_box.valueChanged.connect(self._emit_if_changed)
        self._state = self._current()
        self.set_labels(None)

    # -- settings -------------------------------------------------------------------------------------
    def where(self) -> Conditions | None:
        field, value = self.field_box.currentText(), self.value_box.currentText()
        return {field: frozenset({value})} if field and value and value != ANY else None

    def max_distance(self) -> float | None:
        value = self.distance_box.value()
        return value if value > 0 else None

    def tuned_field(self) -> str | None:
        text = self.tune_box.currentText()
        return text[len(TUNED_PREFIX):] if text.startswith(TUNED_PREFIX) else None

    def describe_where(self) -> str:
        """The label filter as text ('articleType = Tshirts'; '' when none)."""
        return ", ".join(f"{field} = {next(iter(values))}" for field, values in (self.where() or {}).items())

    def describe(self) -> str:
        """The settings that narrow the results, for the results title ('' when none)."""
        parts = [self.describe_where()] if self.where() else []
        if self.max_distance() is not None:
            parts.append(f"within distance {self.max_distance():.2f}")
        if self.tuned_field():
            parts.append(f"tuned to {self.tuned_field()}")
        return ", ".join(parts)

    def set_labels(self, choices: LabelChoices | None) -> None:
        """The open catalog's label fields and values (None: no labels, the label parts hide); the field, value
        and tuning chosen stay when the new catalog has them too."""
        self._choices = dict(choices or {})
        field, value, tuned = self.field_box.currentText(), self.value_box.currentText(), self.tuned_field()
        for box in (self.field_box, self.tune_box):
            box.blockSignals(True)
        self.field_box.clear()
        self.field_box.addItems(list(self._choices))
        self.tune_box.clear()
        self.tune_box.addItems([PLAIN] + [TUNED_PREFIX + f for f in self._choices])
        if field in self._choices:
            self.field_box.setCurrentText(field)
        if tuned in self._choices:
            self.tune_box.setCurrentText(TUNED_PREFIX + tuned)
        for box in (self.field_box, self.tune_box):
            box.blockSignals(False)
        self._fill_values(self.field_box.currentText(), keep=value)
        for widget in self._labels_row:
            widget.setVisible(bool(self._choices))

    # -- internals ------------------------------------------------------------------------------------
    def _fill_values(self, field: str, keep: str = ANY) -> None:
        self.value_box.blockSignals(True)
        self.value_box.clear()
        values = self._choices.get(field, [])
        self.value_box.addItems([ANY] + values)
        self.value_box.setCurrentText(keep if keep in values else ANY)
        self.value_box.blockSignals(False)
        self._emit_if_changed()

    def _current(self) -> tuple:
        return self.where(), self.max_distance(), self.tuned_field()

    def _emit_if_changed(self, *_) -> None:
        state = self._current()
        if state != self._state:
            self._state = state
            self.changed.emit()
