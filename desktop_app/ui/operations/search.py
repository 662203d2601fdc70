"""Named operations of the search pane: a query (reader lane: it answers from what is indexed so far while the
writer indexes), the label choices of the filter box (reader), similarity tuned to labels (fitted on the writer
lane: the fit is written to the catalog's cache)."""

from __future__ import annotations

from dataclasses import dataclass

from ...core.query import Query
from ..filter_box import label_choices
from ..lanes import READER, WRITER, OpenCatalog, ResultItem
from ..queries import QueryPhoto
from . import Op, op


@dataclass(frozen=True)
class Answer:
    items: list[ResultItem]
    searched: int  # items the reader searched: what was indexed when it last read the store
    stored: int  # items in the store at the time of the search (more while indexing goes on)


def answer(catalog: OpenCatalog, photo: QueryPhoto, settings: Query, tuned=None, indexing: bool = False) -> Answer:
    session = catalog.session
    searched = len(session.searcher)
    if searched == 0 and indexing:  # nothing committed yet: not an error, the pane asks again as batches land
        return Answer([], 0, session.stored())
    results = session.search(settings.about(photo.path, photo.relpath, photo.more), tuned)
    return Answer(catalog.result_items(results), searched, session.stored())


def find_similar(host, photo: QueryPhoto, settings: Query, tuned=None, indexing: bool = False) -> Op:
    """The items most similar to `photo` (an older query's answer never arrives once this one is asked)."""
    return op(host, lambda catalog: answer(catalog, photo, settings, tuned, indexing), READER).newest_only("query")


def tuning(host, field: str) -> Op:
    return op(host, lambda catalog: catalog.session.tuning(field), WRITER).newest_only("tuning")


def labels(host) -> Op:
    """The label fields and values of the catalog's items (None: it has no labels file)."""
    return op(host, lambda catalog: label_choices(catalog.session), READER)
