"""Command-line options shared by `fashionrec-cli`'s commands and the window (`fashionrec`): the model and its
weights, how resnet50 runs, counts that must be at least 1, distances, crops and label filters."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.embedders import DEFAULT_MODEL, MODELS, available_backends
from ..core.embedders.precision import DEFAULT_FOR_NEW_CATALOGS, PRECISIONS
from ..core.embedders.resnet50 import BACKEND_ENV, DEFAULT_BACKEND
from ..core.images import Crop
from ..core.weights import Weights, check_weights_file, random_weights


class Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line (`fashionrec: …`, exit 2) instead of the usage text."""

    def error(self, message: str):
        self.exit(2, f"fashionrec: {message} (see {self.prog} --help)\n")


def count(text: str) -> int:
    """argparse type of a count (results, batch size, images, rows): a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def distance(text: str) -> float:
    """argparse type of a distance: a number ≥ 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of at least 0, got {text}")
    return value


def crop(text: str) -> Crop:
    try:
        return Crop.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--where", metavar="FIELD=VALUE", action="append", default=[],
                   help="only items with this label (labels.csv); repeat it: values of one field are alternatives, "
                        "different fields must all match")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """--model, --weights FILE | --random-weights [SEED], and --backend when this installation has a choice."""
    parser.add_argument("--model", choices=MODELS, default=DEFAULT_MODEL, help="embedding algorithm")
    backends = available_backends()
    if len(backends) > 1:  # the packaged app runs LiteRT only: nothing to choose
        parser.add_argument("--backend", choices=backends, default=None,
                            help=f"how resnet50 runs (default: ${BACKEND_ENV} or {DEFAULT_BACKEND}, the fastest)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--weights", metavar="FILE", help="ResNet50 no-top weights file (.h5)")
    group.add_argument("--random-weights", metavar="SEED", type=int, nargs="?", const=0,
                       help="explicit seeded random init instead of ImageNet weights (demos, tests; labelled)")


def weights_from(args: argparse.Namespace) -> Weights | None:
    """The weights asked for on the command line; None leaves finding them to create_embedder (or the window)."""
    if args.random_weights is not None:
        return random_weights(args.random_weights)
    if args.weights:
        return Weights(path=check_weights_file(Path(args.weights)), source="--weights")
    return None


def add_precision_option(parser: argparse.ArgumentParser) -> None:
    """--precision fp32|int8 (commands that embed; the window has it as a setting)."""
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help=f"resnet50 in fp32 (the recipe) or int8 (about 4× faster to index, calibrated on the "
                             f"catalog's photos). Default: {DEFAULT_FOR_NEW_CATALOGS} for a new catalog, fp32 for a "
                             "catalog already indexed in fp32")


def precision_from(args: argparse.Namespace) -> str | None:
    return getattr(args, "precision", None)


def backend_from(args: argparse.Namespace) -> str | None:
    return getattr(args, "backend", None)  # no --backend where there is no choice (the packaged app)


def weights_or_found(args: argparse.Namespace) -> Weights:
    """The weights asked for, else the ones found (WeightsNeeded when there are none): for the bench's
    int8 figures, where a silent random init would measure nothing real."""
    from ..core.embedders import WeightsNeeded
    from ..core.errors import UserError
    from ..core.weights import resolve_weights

    weights = weights_from(args)
    if weights is None:
        try:
            weights = resolve_weights()
        except UserError as err:
            raise WeightsNeeded(str(err)) from None
    return weights
