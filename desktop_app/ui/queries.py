"""What one query of the window asks the core for (run on the worker thread), and the results title it gets."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import UserError
from ..core.filters import Conditions
from ..core.images import Crop
from ..core.search import Result


@dataclass(frozen=True)
class Query:
    path: str  # the photo's file
    caption: str  # how the window names it
    relpath: str | None = None  # set when the photo is an item of the open catalog (its stored vector is used)


@dataclass(frozen=True)
class QuerySettings:
    k: int
    crop: Crop | None = None  # a region of the photo, as fractions
    where: Conditions | None = None
    max_distance: float | None = None
    tuned: str | None = None  # the label field the similarity is tuned to


def fit_tuning(session, field: str):
    """core.tuning.Tuning of the session's catalog to the label field `field`: read from its cache, or fitted now
    (and cached: the writer lane's work)."""
    from ..core import tuning  # numpy only, but not needed until a person asks for it

    table = session.labels
    if table is None:
        raise UserError("Tuning needs labels: put a labels.csv (with a filename column) in or beside the catalog "
                        "folder.")
    return tuning.tuned_projection(session.store, table, field)


def search(session, query: Query, settings: QuerySettings, tuned=None) -> list[Result]:
    """The core's answer to `query` with `settings` (a CatalogSession or CatalogReader, on a lane's thread);
    `tuned`: the fitted core.tuning.Tuning when settings.tuned (fitted here when not given)."""
    s = settings
    if s.tuned:
        from ..core import tuning

        tuned = tuned or fit_tuning(session, s.tuned)
        return tuning.tuned_query(session, tuned, query.path, s.k, crop=s.crop, where=s.where,
                                  max_distance=s.max_distance)
    if query.relpath is not None and s.crop is None:
        return session.query_item(query.relpath, s.k, where=s.where, max_distance=s.max_distance)
    return session.query(query.path, s.k, crop=s.crop, where=s.where, max_distance=s.max_distance)


def results_title(count: int, caption: str, narrowing: str, max_distance: float | None) -> str:
    """'The 5 most similar to x.jpg (articleType = Shirts)', or why there are none, plainly."""
    detail = f" ({narrowing})" if narrowing else ""
    if count:
        return f"The {count} most similar to {caption}{detail}"
    if max_distance is not None:
        return f"No item is close enough to {caption}{detail}: none within distance {max_distance:.2f}."
    if narrowing:
        return f"No item passes the filter for {caption}{detail}."
    return f"No similar items for {caption}."
