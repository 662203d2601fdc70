"""Labels of catalog images from a CSV with a `filename` column, read into ONE table (`LabelTable`) that every
use asks: `eval` and tuning (one column as the class), the label filters (every column), the window (a short
text under each thumbnail), `neighbours` (label columns beside each row)."""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Generic, TypeVar

from .errors import UserError

LABELS_FILENAME = "labels.csv"
FILENAME_COLUMN = "filename"
DEFAULT_FIELD = "articleType"
LABEL_TEXT_FIELDS = ("articleType", "baseColour")  # shown under thumbnails when the CSV has them


def read_labels_csv(path: str | os.PathLike) -> tuple[list[str], list[dict[str, str]]]:
    """(column names, rows) of a CSV that has a `filename` column; UserError saying what is wrong."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = list(reader.fieldnames or [])
            if FILENAME_COLUMN not in columns:
                raise UserError(f"The labels file {path} has no '{FILENAME_COLUMN}' column "
                                f"(its columns: {', '.join(columns) or 'none'}){_separator_hint(columns)}.")
            rows = [row for row in reader if (row.get(FILENAME_COLUMN) or "").strip()]
    except FileNotFoundError:
        raise UserError(f"Labels file not found: {path}") from None
    except UnicodeDecodeError:
        raise UserError(f"The labels file {path} is not UTF-8 text.") from None
    except csv.Error as err:
        raise UserError(f"The labels file {path} is not a readable CSV ({err}).") from None
    except OSError as err:
        raise UserError(f"Cannot read the labels file {path} ({err.strerror or err}).") from None
    return columns, rows


def _separator_hint(columns: list[str]) -> str:
    """When the header is one column holding ';' or a tab: the file is separated by those, not by commas."""
    if len(columns) == 1:
        for separator, name in ((";", "semicolons"), ("\t", "tabs")):
            if separator in columns[0]:
                return f"; its columns are separated by {name}: save it with commas (a comma-separated CSV)"
    return ""


Label = TypeVar("Label")  # one value (eval's field) or a row of fields (the filters' table)


@dataclass
class LabelMatch(Generic[Label]):
    labels: dict[str, Label]  # catalog relpath → label
    unlabelled: list[str]  # indexed relpaths with no label
    unmatched: list[str]  # CSV filenames that match no indexed relpath


def match_labels(relpaths: list[str], by_filename: dict[str, Label]) -> LabelMatch[Label]:
    """Match CSV filenames to catalog relpaths: by the whole relative path, else by the file's basename
    (when that basename appears only once in the CSV)."""
    basenames = Counter(PurePosixPath(name.replace("\\", "/")).name for name in by_filename)
    by_basename = {PurePosixPath(name.replace("\\", "/")).name: (name, label) for name, label in by_filename.items()}
    labels, unlabelled, used = {}, [], set()
    for relpath in relpaths:
        name = relpath if relpath in by_filename else None
        if name is None:
            basename = PurePosixPath(relpath).name
            if basenames[basename] == 1:
                name = by_basename[basename][0]
        if name is None:
            unlabelled.append(relpath)
        else:
            labels[relpath] = by_filename[name]
            used.add(name)
    return LabelMatch(labels, unlabelled, sorted(set(by_filename) - used))


def file_stamp(path: Path) -> tuple[str, int, int] | None:
    """(path, size, mtime_ns) of a labels file, None when it cannot be seen: a table read from it is stale when
    its stamp has changed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return str(path), st.st_size, st.st_mtime_ns


def find_labels_file(catalog_root: str | os.PathLike) -> Path | None:
    """labels.csv inside the catalog folder, else beside it (in its parent), else None."""
    root = Path(catalog_root)
    for candidate in (root / LABELS_FILENAME, root.parent / LABELS_FILENAME):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class LabelTable:
    """Every label column of the catalog's items: relpath → {field: value} (empty values left out)."""

    path: Path
    fields: tuple[str, ...]
    by_relpath: dict[str, dict[str, str]]
    unmatched: dict[str, dict[str, str]] = field(default_factory=dict)  # CSV rows that match no item, by filename

    def of(self, relpath: str) -> dict[str, str]:
        return self.by_relpath.get(relpath, {})

    def values(self, field_name: str) -> list[str]:
        """The distinct values of one field among the catalog's items, sorted (for a filter box)."""
        return sorted({labels[field_name] for labels in self.by_relpath.values() if field_name in labels})

    def column(self, field_name: str, relpaths: list[str]) -> LabelMatch[str]:
        """One field as the class of each of `relpaths` (eval, tuning); UserError naming the fields when the
        file has no such column."""
        if field_name not in self.fields:
            raise UserError(f"The labels file {self.path} has no '{field_name}' column; "
                            f"choose one of: {', '.join(self.fields)}.")
        labels = {r: self.of(r)[field_name] for r in relpaths if field_name in self.of(r)}
        return LabelMatch(labels, [r for r in relpaths if r not in labels],
                          sorted(name for name, row in self.unmatched.items() if row.get(field_name)))

    def text(self, relpath: str) -> str:
        """A short text of an item's labels for the window (e.g. "Tshirts · Blue"): its articleType and
        baseColour when the file has them, else its first field; "" when it has none."""
        fields = [f for f in LABEL_TEXT_FIELDS if f in self.fields] or list(self.fields[:1])
        return " · ".join(value for value in (self.of(relpath).get(f) for f in fields) if value)


def read_label_table(path: str | os.PathLike, relpaths: Iterable[str]) -> LabelTable:
    """The labels of `relpaths` in the CSV at `path` (matched as `match_labels` does); UserError when the file
    cannot be used."""
    path = Path(path)
    columns, rows = read_labels_csv(path)
    fields = tuple(c for c in columns if c != FILENAME_COLUMN)
    by_filename = {row[FILENAME_COLUMN].strip(): {f: value for f in fields if (value := (row.get(f) or "").strip())}
                   for row in rows}
    match = match_labels(list(relpaths), by_filename)
    return LabelTable(path, fields, match.labels, {name: by_filename[name] for name in match.unmatched})
