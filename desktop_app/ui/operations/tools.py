"""Named operations of the whole-catalog tools: the browser's items (reader lane), near-duplicates (reader, with
progress and cancel), the export of every item's similar items (writer: it writes a file)."""

from __future__ import annotations

from ...core.filters import Conditions
from ..lanes import READER
from . import Op, op


def _labels_and_items(catalog, where: Conditions | None) -> tuple[str, dict[str, list[str]], list]:
    session = catalog.session
    labels = session.labels
    values = {field: labels.values(field) for field in labels.fields} if labels else {}
    return str(session.root), values, session.items(where)


def labels_and_items(host, where: Conditions | None = None) -> Op:
    """(catalog root, every label field's values, the items passing `where`)."""
    return op(host, lambda catalog: _labels_and_items(catalog, where), READER)


def items(host, where: Conditions | None) -> Op:
    """(catalog root, the items passing `where`); only the newest request of the browser answers."""
    return op(host, lambda catalog: (str(catalog.session.root), catalog.session.items(where)), READER) \
        .newest_only("browse")


def near_duplicates(host, threshold: float, on_progress) -> Op:
    """(catalog root, groups of items at most `threshold` apart, largest first, or None when cancelled)."""
    return op(host, lambda catalog, task: (str(catalog.session.root), catalog.session.duplicates(
        threshold, task.report, task.should_cancel)), READER).with_progress(on_progress)


def export_similar(host, path: str, k: int, where: Conditions | None, tuned_field: str | None, on_progress) -> Op:
    """core.export's report of writing the k most similar items of every item (tuned to `tuned_field` when
    given) to `path`; on_progress(done, total) while searching, on_progress(done, total, True) while writing;
    cancelling (in either phase) writes no file."""
    def work(catalog, task):
        from ...core.export import export_neighbours
        tuned = catalog.session.tuning(tuned_field) if tuned_field else None
        return export_neighbours(catalog.session, path, k, where, progress=task.report,
                                 should_cancel=task.should_cancel, tuning=tuned,
                                 write_progress=lambda done, total: task.report(done, total, True))

    return op(host, work).with_progress(on_progress)
