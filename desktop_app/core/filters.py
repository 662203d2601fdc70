"""Label filters next to similarity: every label column of a catalog's labels.csv, per item, and the
conditions `field=value` (repeatable: values of one field are alternatives, fields must all match).

Cheap for big catalogs: one CSV read, then plain dictionaries and one boolean mask per filter.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .errors import UserError
from .labels import LabelTable

Conditions = dict[str, frozenset[str]]  # field → accepted values
_CHOICES_SHOWN = 30


def parse_conditions(texts: Iterable[str]) -> Conditions:
    """['articleType=Shirts', 'articleType=Tshirts', 'gender=Men'] → {articleType: {Shirts, Tshirts}, gender: {Men}}."""
    conditions: dict[str, set[str]] = {}
    for text in texts:
        field, sep, value = text.partition("=")
        if not sep or not field.strip() or not value.strip():
            raise UserError(f"'{text}' is not a filter: write FIELD=VALUE, e.g. articleType=Shirts.")
        conditions.setdefault(field.strip(), set()).add(value.strip())
    return {field: frozenset(values) for field, values in conditions.items()}


def resolve_conditions(table: LabelTable | None, conditions: Conditions) -> Conditions:
    """The conditions checked against the table: unknown fields or values raise UserError listing the choices;
    a field or value in another case than the labels' (articletype=shirts) is taken as the labels' spelling
    (articleType=Shirts)."""
    if not conditions:
        return {}
    if table is None:
        raise UserError("Filters need labels: put a labels.csv (with a filename column) in or beside the catalog "
                        "folder.")
    resolved: dict[str, frozenset[str]] = {}
    for given, values in conditions.items():
        field = _field_named(table, given)
        known = table.values(field)
        by_lower = {v.lower(): v for v in known}
        chosen = set()
        for value in values:
            match = value if value in known else by_lower.get(value.lower())
            if match is None:
                raise UserError(f"No item has {field}={value}; {_choices(field, value, known)}")
            chosen.add(match)
        resolved[field] = resolved.get(field, frozenset()) | chosen  # articletype= and articleType= are one field
    return resolved


def _field_named(table: LabelTable, given: str) -> str:
    """The table's field that `given` names, whatever its case (articletype → articleType); UserError with the
    fields, and the closest one, when none does."""
    if given in table.fields:
        return given
    by_lower = {f.lower(): f for f in table.fields}
    if given.lower() in by_lower:
        return by_lower[given.lower()]
    close = difflib.get_close_matches(given.lower(), list(by_lower), n=1, cutoff=0.6)
    hint = f"did you mean {by_lower[close[0]]}? " if close else ""
    raise UserError(f"No label field '{given}' in {table.path.name}; {hint}fields: {', '.join(table.fields)}.")


def _choices(field: str, value: str, known: list[str]) -> str:
    close = difflib.get_close_matches(value, known, n=3, cutoff=0.6)
    if close:
        return f"did you mean {' or '.join(close)}? ({len(known)} values of {field})"
    shown = ", ".join(known[:_CHOICES_SHOWN]) + (", …" if len(known) > _CHOICES_SHOWN else "")
    return f"values of {field}: {shown or 'none'}."


def passes(labels: dict[str, str], conditions: Conditions) -> bool:
    return all(labels.get(field) in values for field, values in conditions.items())


def allowed_mask(relpaths: list[str], table: LabelTable | None, conditions: Conditions) -> np.ndarray | None:
    """Per item, whether it passes every condition (None when there are none: every item does)."""
    conditions = resolve_conditions(table, conditions)
    if not conditions or table is None:  # resolve_conditions refuses conditions without a label table
        return None
    return np.fromiter((passes(table.of(r), conditions) for r in relpaths), bool, len(relpaths))


@dataclass(frozen=True)
class CatalogItem:
    relpath: str
    labels: dict[str, str]  # empty when the item has none


def catalog_items(relpaths: list[str], table: LabelTable | None,
                  conditions: Conditions | None = None) -> list[CatalogItem]:
    """The catalog's items in path order with their labels, those passing `conditions` only (the browser's list)."""
    conditions = resolve_conditions(table, conditions or {})
    empty: dict[str, str] = {}
    items = [CatalogItem(r, table.of(r) if table else empty) for r in relpaths]
    return [item for item in items if passes(item.labels, conditions)] if conditions else items
