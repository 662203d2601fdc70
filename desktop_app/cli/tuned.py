"""The --tuned option (query, eval): the cached projection with its stderr lines, and eval's cross-fitting."""

from __future__ import annotations

import sys

from ..core import labels, tuning
from ..core.errors import UserError
from ..core.session import CatalogSession


def add_tuned_option(p, help_text: str) -> None:
    p.add_argument("--tuned", metavar="FIELD", help=help_text)


def tuning_of(session: CatalogSession, field_name: str) -> tuning.Tuning:
    """The catalog's projection tuned to `field_name` (cached; fitted now, with a line on stderr, if not)."""
    if session.labels is None:
        raise UserError(f"No {labels.LABELS_FILENAME} in or beside {session.root} to tune to; pass --labels FILE.")
    return session.tuning(field_name, progress=lambda done, total: print(
        f"tuning to '{field_name}': {'fitting' if done < total else 'fitted and cached'}", file=sys.stderr))


def cross_fitted(vectors, item_labels, k):
    """eval --tuned's ranker: neighbours in projections fitted without the queries' fold, with progress."""

    def say(done, total):
        print(f"cross-fitting: fold {done}/{total}", file=sys.stderr)
    return tuning.cross_fitted_neighbours(vectors, item_labels, k, progress=say)
