"""Named operations of the search pane: a query (reader lane: it answers from what is indexed so far while the
writer indexes), the label choices of the filter box (reader), similarity tuned to labels (fitted on the writer
lane: the fit is written to the catalog's cache)."""

from __future__ import annotations

from dataclasses import dataclass

from ..filter_box import label_choices
from ..lanes import READER, WRITER, OpenCatalog, ResultItem
from ..queries import Query, QuerySettings, fit_tuning, search
from . import Op, op


@dataclass(frozen=True)
class Answer:
    items: list[ResultItem]
    searched: int  # items the reader searched: what was indexed when it last read the store
    stored: int  # items in the store at the time of the search (more while indexing goes on)


def answer(catalog: OpenCatalog, query: Query, settings: QuerySettings, tuned=None, indexing: bool = False) -> Answer:
    session = catalog.session
    searched = len(session.searcher)
    if searched == 0 and indexing:  # nothing committed yet: not an error, the pane asks again as batches land
        return Answer([], 0, session.stored())
    return Answer(catalog.result_items(search(session, query, settings, tuned)), searched, session.stored())


def find_similar(host, query: Query, settings: QuerySettings, tuned=None, indexing: bool = False) -> Op:
    """The most similar items to `query` (an older query's answer never arrives once this one is asked)."""
    return op(host, lambda catalog: answer(catalog, query, settings, tuned, indexing), READER).newest_only("query")


def tuning(host, field: str) -> Op:
    return op(host, lambda catalog: fit_tuning(catalog.session, field), WRITER).newest_only("tuning")


def labels(host) -> Op:
    """The label fields and values of the catalog's items (None: it has no labels file)."""
    return op(host, lambda catalog: label_choices(catalog.session), READER)
