"""What a search asks for: one description (`Query`) that the CLI's `query`, the window and the bench give the core,
and the one place that answers it (`search`, called as CatalogSession.search).

A query is a photo file (`image`, or a `crop` region of it) or a catalog item (`item`: its stored vector is used,
no decode and no model), and how to search: `k` results, label filters (`where`), a distance limit
(`max_distance`), and a space tuned to a label field (`tuned`). The window keeps a Query without a photo as its
settings and adds the photo shown (`about`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .catalog import has_images, no_images_message
from .errors import UserError
from .filters import Conditions
from .images import Crop
from .search import DEFAULT_K, Result

if TYPE_CHECKING:
    from .session import CatalogSession
    from .tuning import Tuning


@dataclass(frozen=True)
class Query:
    image: str | os.PathLike | None = None  # a photo file (any, in the catalog or not)
    item: str | None = None  # a catalog item (relpath): its stored vector, unless `crop` asks for a region
    k: int = DEFAULT_K
    crop: Crop | None = None  # search with this region of the photo only
    where: Conditions | None = None  # only items with these labels
    max_distance: float | None = None  # leave out results farther than this
    tuned: str | None = None  # search in the space tuned to this label field (tuning.py)
    exclude_self: bool = True  # leave out the query photo itself when it is a catalog item

    def about(self, image: str | os.PathLike | None, item: str | None = None) -> Query:
        """These settings for another photo (or catalog item)."""
        return dataclasses.replace(self, image=image, item=item)


def search(session: CatalogSession, query: Query, tuning: Tuning | None = None) -> list[Result]:
    """The k catalog items nearest to the query, exact, the query itself left out (if asked). `tuning`: the
    fitted projection of `query.tuned` when the caller has it already (else the session's)."""
    if len(session.searcher) == 0:
        if not has_images(session.root):  # e.g. all its photos were removed: "index it first" would mislead
            raise UserError(no_images_message(session.root))
        raise UserError(f"The catalog {session.root} has no indexed images yet; index it first.")
    vector, itself = _vector_of(session, query)
    searcher = session.searcher
    if query.tuned:
        tuning = tuning or session.tuning(query.tuned)
        searcher = tuning.projected(searcher)
        vector = tuning.projection.apply(vector[np.newaxis])[0]
    return searcher.search(vector, query.k, exclude=itself if query.exclude_self else None,
                           allowed=session.allowed(query.where), max_distance=query.max_distance)


def _vector_of(session: CatalogSession, query: Query) -> tuple[np.ndarray, str | None]:
    """The query's vector, and the catalog item it is (None: a photo from elsewhere)."""
    if query.item is not None:
        stored = session.searcher.vector_of(query.item) if query.crop is None else None
        if stored is not None:
            return stored, query.item
        image: str | os.PathLike = session.root / query.item  # not indexed (yet), or a region of it
    elif query.image is not None:
        image = query.image
    else:
        raise ValueError("a Query needs an image or an item")
    return session.embed_file(image, query.crop), session.relpath_in_catalog(image)
