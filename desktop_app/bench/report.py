"""How the bench shows its figures: one row per figure, printed as soon as it is measured."""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass
class Row:
    label: str
    value: str
    target: str = ""
    met: bool | None = None

    def line(self) -> str:
        verdict = "" if self.met is None else ("  ok" if self.met else "  MISSED")
        target = f"(target {self.target})" if self.target else ""
        return f"  {self.label:<58} {self.value:>24}  {target}{verdict}"


class Bench:
    """Runs the measurements in order, printing each figure as soon as it is known."""

    def __init__(self, out=None, log=None):
        self.out, self.log = out or sys.stdout, log or sys.stderr
        self.rows: list[Row] = []

    def say(self, message: str) -> None:
        print(message, file=self.log, flush=True)

    def add(self, label: str, value: str, target: str = "", met: bool | None = None) -> None:
        row = Row(label, value, target, met)
        self.rows.append(row)
        print(row.line(), file=self.out, flush=True)

    def heading(self, embedder, about_the_model: str = "") -> None:
        """The machine and the model the figures come from (first lines of a bench section's output)."""
        from .machine import machine_description

        print(f"machine  {machine_description()}", file=self.out)
        print(f"model    {embedder.describe()}{about_the_model}", file=self.out)

    def section(self, title: str) -> None:
        print(f"\n{title}", file=self.out, flush=True)


def model_label(embedder) -> str:
    """e.g. "efficientnet-lite0 int8", "resnet50 (random weights)": which network a figure comes from."""
    precision = f" {embedder.precision}" if embedder.precision != "fp32" else ""
    weights = " (random weights)" if embedder.weights is not None and embedder.weights.is_random else ""
    return f"{embedder.name}{precision}{weights}"
