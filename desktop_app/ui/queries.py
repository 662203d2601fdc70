"""The photo the window searches with, and the title its results get."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueryPhoto:
    """The photo the window searches with (what it asks is a core.query.Query: the settings `about` this photo)."""

    path: str  # the photo's file
    caption: str  # how the window names it
    relpath: str | None = None  # set when the photo is an item of the open catalog (its stored vector is used)
    more: tuple[str, ...] = ()  # further photos searched together with this one (the mean of their vectors)

    @property
    def paths(self) -> list[str]:
        return [self.path, *self.more]


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
