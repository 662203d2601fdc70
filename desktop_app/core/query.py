"""What a search asks for: one description (`Query`) that the CLI's `query`, the window and the bench give the core,
and the one place that answers it (`search`, called as CatalogSession.search).

A query is a photo file (`image`, or a `crop` region of it; with `more_images`, several photos searched together:
the mean of their vectors, feedback.combine) or a catalog item (`item`: its stored vector is used, no decode and
no model), moved by relevance feedback (`liked`, `disliked` catalog items: feedback.rocchio), and how to search:
`k` results, label filters (`where`), a distance limit (`max_distance`), and a space tuned to a label field
(`tuned`). The window keeps a Query without a photo as its
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
from .feedback import combine, rocchio
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
    more_images: tuple[str | os.PathLike, ...] = ()  # further photos searched together with `image`
    liked: tuple[str, ...] = ()  # catalog items (relpaths) marked "more like this"
    disliked: tuple[str, ...] = ()  # … and "less like this"

    def about(self, image: str | os.PathLike | None, item: str | None = None,
              more_images: tuple[str | os.PathLike, ...] = ()) -> Query:
        """These settings (feedback included) for another photo or catalog item, and `more_images`."""
        return dataclasses.replace(self, image=image, item=item, more_images=more_images)


def search(session: CatalogSession, query: Query, tuning: Tuning | None = None) -> list[Result]:
    """The k catalog items nearest to the query, exact, the query itself left out (if asked). `tuning`: the
    fitted projection of `query.tuned` when the caller has it already (else the session's)."""
    if len(session.searcher) == 0:
        if not has_images(session.root):  # e.g. all its photos were removed: "index it first" would mislead
            raise UserError(no_images_message(session.root))
        raise UserError(f"The catalog {session.root} has no indexed images yet; index it first.")
    vector, selves = _vector_of(session, query)
    if query.liked or query.disliked:
        vector = rocchio(vector, session.item_vectors(query.liked), session.item_vectors(query.disliked))
    searcher = session.searcher
    if query.tuned:
        tuning = tuning or session.tuning(query.tuned)
        searcher = tuning.projected(searcher)
        vector = tuning.projection.apply(vector[np.newaxis])[0]
    allowed = session.allowed(query.where)
    left_out = [i for i in map(session.searcher.position, selves if query.exclude_self else ()) if i is not None]
    if left_out:  # the query photos that are catalog items (the same rows in a tuned searcher)
        allowed = np.ones(len(searcher), bool) if allowed is None else allowed.copy()
        allowed[left_out] = False
    return searcher.search(vector, query.k, allowed=allowed, max_distance=query.max_distance)


def _vector_of(session: CatalogSession, query: Query) -> tuple[np.ndarray, list[str]]:
    """The query's vector, and the catalog items its photos are (none: photos from elsewhere)."""
    if query.item is not None:
        stored = session.searcher.vector_of(query.item) if query.crop is None else None
        if stored is not None and not query.more_images:
            return stored, [query.item]
        image: str | os.PathLike = session.root / query.item  # not indexed (yet), or a region of it
    elif query.image is not None:
        image = query.image
    else:
        raise ValueError("a Query needs an image or an item")
    images = [image, *query.more_images]
    selves = [relpath for relpath in map(session.relpath_in_catalog, images) if relpath is not None]
    vectors = session.embed_files(images, query.crop)
    return (vectors[0] if len(vectors) == 1 else combine(vectors)), selves
