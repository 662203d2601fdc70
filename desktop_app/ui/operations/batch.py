"""Named operations of many photos at once: matching a folder against the catalog (reader lane: it only reads the
vectors, so it answers while indexing goes on) and the catalog map (writer lane: its layout is cached beside the
store)."""

from __future__ import annotations

from ...core.filters import Conditions
from ..lanes import READER, WRITER
from . import Op, op


def match_folder(host, folder: str, k: int, where: Conditions | None, max_distance: float | None, on_progress) -> Op:
    """(core.matching.Matches of every photo in `folder`, the catalog's label table or None); cancelling keeps the
    photos matched so far (matches.cancelled). on_progress(photos done, photos)."""
    def work(catalog, task):
        from ...core.matching import match_folder as match

        matches = match(catalog.session, folder, k, where, max_distance,
                        progress=lambda p: task.report(p.done, p.total), should_cancel=task.should_cancel)
        return matches, catalog.session.labels

    return op(host, work, READER).with_progress(on_progress)


def write_matches(host, matches, path: str) -> Op:
    """How many rows were written to `path` (.csv or .jsonl, with the items' label columns)."""
    def work(catalog):
        from ...core.matching import write_matches as write

        return write(path, matches, catalog.session.labels)

    return op(host, work, READER)


def write_selection(host, relpaths: list[str], path: str) -> Op:
    """How many of the picked items were written to `path` (.txt paths, or .csv with their labels)."""
    def work(catalog):
        from ...core.catalog_map import write_selection as write

        return write(path, catalog.session.root, relpaths, catalog.session.labels)

    return op(host, work, READER)


def catalog_map(host, on_progress) -> Op:
    """(catalog root, core.catalog_map.CatalogMap or None when cancelled, the label table or None);
    on_progress(phase text) as each phase of the layout starts, on_progress(done, total) during its iterations."""
    def work(catalog, task):
        from ...core.catalog_map import catalog_map as laid_out

        session = catalog.session
        return str(session.root), laid_out(session, task.report, task.should_cancel, phase=task.report), \
            session.labels

    return op(host, work, WRITER).with_progress(on_progress)
