"""Versions of the libraries in use, for cache keys and the bench header."""

from __future__ import annotations

import contextlib
import importlib.metadata


def library_version(*distributions: str) -> str:
    """The installed version of the first of these packages found, read without importing it ("none"
    when none is installed). The packaged app carries the metadata of the libraries it bundles
    (fashionrec.spec: copy_metadata), so it reads them the same way."""
    for name in distributions:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            return importlib.metadata.version(name)
    return "none"
