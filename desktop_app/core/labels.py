"""Labels of catalog images from a CSV with a `filename` column: for `eval` (one column as the class) and
for the window (a short text under each thumbnail)."""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass
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
                                f"(its columns: {', '.join(columns) or 'none'}).")
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


def load_labels(path: str | os.PathLike, field_name: str = DEFAULT_FIELD) -> dict[str, str]:
    """filename (as written in the CSV) → value of `field_name`; rows with an empty value are left out."""
    columns, rows = read_labels_csv(path)
    if field_name not in columns:
        raise UserError(f"The labels file {path} has no '{field_name}' column; "
                        f"choose one of: {', '.join(c for c in columns if c != FILENAME_COLUMN)}.")
    return {row[FILENAME_COLUMN].strip(): (row[field_name] or "").strip()
            for row in rows if (row[field_name] or "").strip()}


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


def find_labels_file(catalog_root: str | os.PathLike) -> Path | None:
    """labels.csv inside the catalog folder, else beside it (in its parent), else None."""
    root = Path(catalog_root)
    for candidate in (root / LABELS_FILENAME, root.parent / LABELS_FILENAME):
        if candidate.is_file():
            return candidate
    return None


def label_texts(catalog_root: str | os.PathLike, relpaths: list[str]) -> dict[str, str]:
    """For the window: relpath → label text (e.g. "Tshirts · Blue") of the given catalog images, from a
    labels.csv in or beside the folder; empty when there is none or it cannot be used.

    The text joins the CSV's articleType and baseColour columns when present, else its first column
    after `filename`. `relpaths` are the ones the caller already has (the store's), so the folder is
    not scanned again.
    """
    path = find_labels_file(catalog_root)
    if path is None:
        return {}
    try:
        columns, rows = read_labels_csv(path)
    except UserError:
        return {}
    fields = [c for c in LABEL_TEXT_FIELDS if c in columns] or [c for c in columns if c != FILENAME_COLUMN][:1]
    texts = {}
    for row in rows:
        text = " · ".join(v for v in ((row.get(f) or "").strip() for f in fields) if v)
        if text:
            texts[row[FILENAME_COLUMN].strip()] = text
    return match_labels(relpaths, texts).labels
