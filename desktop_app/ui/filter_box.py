"""The row above the results: a label filter (field + value with its count, fed by the catalog's labels),
similarity tuned to a label field, and a maximum distance. The label parts show only when the catalog has
labels; any change emits `changed` and the search pane re-runs the shown query with the new settings.

Distances are not on one scale: plain vectors are L2-normalised (at most 2 apart), tuned ones are projections
(~10 apart on fashion-2k). So the distance box's range follows the space, and a switch of space resets it.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..core.filters import Conditions

ANY = "any"
PLAIN = "Plain similarity"
TUNED_PREFIX = "Tune to labels: "
NO_LIMIT = "no limit"
PREFERRED_FIELD = "articleType"  # the filter's first field when the catalog has it (else its first column)
PLAIN_RANGE, TUNED_RANGE = (2.0, 0.05), (1000.0, 0.5)  # (maximum, step) of the distance box in each space

LabelChoices = dict[str, dict[str, int]]  # field → {value: items with it}, values sorted


def label_choices(session) -> LabelChoices | None:
    """The catalog's label fields and values with their counts (on a lane's thread); None without a labels file."""
    table = session.labels
    if table is None:
        return None
    choices = {}
    for field in table.fields:
        counts = Counter(labels[field] for labels in table.by_relpath.values() if field in labels)
        choices[field] = dict(sorted(counts.items()))
    return choices


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
        self.tune_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.distance_box = QDoubleSpinBox()
        self.distance_box.setDecimals(2)
        self._set_space(tuned=False)
        self.distance_box.setSpecialValueText(NO_LIMIT)  # shown at 0: no maximum distance
        self.distance_box.setToolTip("Show only items at most this far from the query (no limit: the k nearest)")
        self._labels_row = [QLabel("Filter:"), self.field_box, QLabel("="), self.value_box, self.tune_box]
        self._limit = [QLabel("Max distance:"), self.distance_box]
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        self._rows = [QHBoxLayout(), QHBoxLayout()]  # the second holds tuning and the limit when one is too narrow
        for row in self._rows:
            rows.addLayout(row)
        for widget in self._labels_row[:4]:
            self._rows[0].addWidget(widget)
        self._one_row: bool | None = None
        self._reflow(one_row=True)
        self.field_box.currentTextChanged.connect(self._fill_values)
        self.value_box.currentTextChanged.connect(self._emit_if_changed)
        self.tune_box.currentTextChanged.connect(self._tuning_chosen)
        self.distance_box.valueChanged.connect(self._emit_if_changed)
        self._state = self._current()
        self.set_labels(None)

    # -- settings -------------------------------------------------------------------------------------
    def where(self) -> Conditions | None:
        field, value = self.field_box.currentText(), self.value_box.currentData()
        return {field: frozenset({value})} if field and value else None

    def clear_where(self) -> None:
        """No label filter (the other settings stay); emits `changed` when there was one."""
        self.value_box.setCurrentIndex(0)

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

    def choosing(self) -> bool:
        """One of its lists is open (refilling it now would close it under the person's pointer)."""
        return any(box.view().isVisible() for box in (self.field_box, self.value_box, self.tune_box))

    def set_labels(self, choices: LabelChoices | None) -> None:
        """The open catalog's label fields and values (None: no labels, the label parts hide); the field, value
        and tuning chosen stay when the new catalog has them too."""
        self._choices = dict(choices or {})
        field, value, tuned = self.field_box.currentText(), self.value_box.currentData(), self.tuned_field()
        for box in (self.field_box, self.tune_box):
            box.blockSignals(True)
        self.field_box.clear()
        self.field_box.addItems(list(self._choices))
        self.tune_box.clear()
        self.tune_box.addItems([PLAIN] + [TUNED_PREFIX + f for f in self._choices])
        if field in self._choices or PREFERRED_FIELD in self._choices:
            self.field_box.setCurrentText(field if field in self._choices else PREFERRED_FIELD)
        if tuned in self._choices:
            self.tune_box.setCurrentText(TUNED_PREFIX + tuned)
        self._set_space(tuned=self.tuned_field() is not None)
        for box in (self.field_box, self.tune_box):
            box.blockSignals(False)
        self._fill_values(self.field_box.currentText(), keep=value)
        for widget in self._labels_row:
            widget.setVisible(bool(self._choices))
        self.resizeEvent(QResizeEvent(self.size(), self.size()))  # the row's width needed changed

    # -- internals ------------------------------------------------------------------------------------
    def resizeEvent(self, event):
        super().resizeEvent(event)
        visible = [w for w in self._labels_row + self._limit if not w.isHidden()]
        needed = sum(w.minimumSizeHint().width() for w in visible) + 8 * len(visible) + 40
        self._reflow(one_row=event.size().width() >= needed)

    def _reflow(self, one_row: bool) -> None:
        """Tuning and the distance limit beside the filter, or below it when the row would cut them off."""
        if one_row == self._one_row:
            return
        self._one_row = one_row
        row = self._rows[0 if one_row else 1]
        for layout in self._rows:
            for widget in [self.tune_box, *self._limit]:
                layout.removeWidget(widget)
            stretch = layout.itemAt(layout.count() - 1) if layout.count() else None
            if stretch is not None and stretch.spacerItem() is not None:
                layout.removeItem(stretch)
        row.addWidget(self.tune_box)
        row.addStretch(1)
        for widget in self._limit:
            row.addWidget(widget)
        if not one_row:
            self._rows[0].addStretch(1)
    def _fill_values(self, field: str, keep: str | None = None) -> None:
        self.value_box.blockSignals(True)
        self.value_box.clear()
        self.value_box.addItem(ANY, None)
        for value, count in self._choices.get(field, {}).items():
            self.value_box.addItem(f"{value} ({count:,})", value)
        self.value_box.setCurrentIndex(max(0, self.value_box.findData(keep)) if keep else 0)
        self.value_box.blockSignals(False)
        self._emit_if_changed()

    def _tuning_chosen(self, _text: str) -> None:
        self._set_space(tuned=self.tuned_field() is not None)
        self._emit_if_changed()

    def _set_space(self, tuned: bool) -> None:
        """The distance box's range and step for plain or tuned distances; a limit of the other space is dropped."""
        maximum, step = TUNED_RANGE if tuned else PLAIN_RANGE
        if self.distance_box.maximum() != maximum:
            self.distance_box.blockSignals(True)
            self.distance_box.setRange(0.0, maximum)
            self.distance_box.setSingleStep(step)
            self.distance_box.setValue(0.0)
            self.distance_box.blockSignals(False)

    def _current(self) -> tuple:
        return self.where(), self.max_distance(), self.tuned_field()

    def _emit_if_changed(self, *_) -> None:
        state = self._current()
        if state != self._state:
            self._state = state
            self.changed.emit()
