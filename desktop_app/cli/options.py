"""Command-line options shared by `fashionrec-cli`'s commands and the window (`fashionrec`): the model and its
weights, how resnet50 runs, counts that must be at least 1, distances, crops and label filters."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ..core.embedders import BUILT_IN_MODEL, DEFAULT_MODEL, MODELS, available_backends, default_model
from ..core.embedders.precision import INT8_MODELS, PRECISIONS, default_precision_text
from ..core.embedders.resnet50 import BACKEND_ENV, DEFAULT_BACKEND
from ..core.images import Crop
from ..core.indexer import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE
from ..core.weights import Weights, check_weights_file, random_weights


class Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line (`fashionrec: …`, exit 2) instead of the usage text."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A value such as `--crop -10,0,50,50` or `--random-weights -1` is a (wrong) value to check and explain,
        # not an unknown option: argparse only takes plain numbers like -10 for values.
        self._negative_number_matcher = re.compile(r"^-\.?\d[\d.,eE+-]*$")

    def error(self, message: str):
        self.exit(2, f"fashionrec: {message} (see {self.prog} --help)\n")


def whole_number(text: str, least: int, most: int | None = None, why_most: str = "") -> int:
    """A whole number from `least` to `most` (None: no upper bound); argparse's error otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
    if most is not None and value > most:
        raise argparse.ArgumentTypeError(f"must be at most {most:,}{why_most}, got {value:,}")
    return value


def count(text: str) -> int:
    """argparse type of a count (results, images, rows): a whole number, at least 1."""
    return whole_number(text, 1)


def batch_size(text: str) -> int:
    """argparse type of --batch-size: 1 to MAX_BATCH_SIZE (memory grows with it; speed stops growing long before)."""
    return whole_number(text, 1, MAX_BATCH_SIZE, " (a batch's photos are all held in memory at once)")


def seed(text: str) -> int:
    """argparse type of a random seed: what numpy accepts, 0 to 2**32 - 1."""
    return whole_number(text, 0, 2**32 - 1)


def add_batch_size_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch-size", type=batch_size, default=DEFAULT_BATCH_SIZE, metavar="N",
                   help=f"photos decoded and embedded together (default %(default)s, at most {MAX_BATCH_SIZE})")


def distance(text: str) -> float:
    """argparse type of a distance: a number ≥ 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number of at least 0, got {text}")
    return value


def crop(text: str) -> Crop:
    try:
        return Crop.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_catalog_to_read(p: argparse.ArgumentParser) -> None:
    """FOLDER and --wait, for commands that bring a catalog's index up to date and then read all of it."""
    p.add_argument("folder", help="the catalog folder (indexed first if needed)")
    p.add_argument("--wait", action="store_true", help="wait if another process is indexing this catalog")


def add_labels_option(p: argparse.ArgumentParser, used_for: str) -> None:
    p.add_argument("--labels", metavar="CSV", help=f"the labels file, with a filename column, for {used_for} "
                   "(default: labels.csv in or beside the catalog folder)")


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--where", metavar="FIELD=VALUE", action="append", default=[],
                   help="only items with this label (labels.csv); repeat it: values of one field are alternatives, "
                        "different fields must all match")


def add_model_options(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """--model, --weights FILE | --random-weights [SEED], and --backend when this installation has a choice.
    Without --model, `default`, or None: choose_default_model decides (ResNet50 or the built-in network)."""
    parser.add_argument("--model", choices=MODELS, default=default,
                        help=f"embedding algorithm (default: {default or _automatic_model_text()})")
    backends = available_backends()
    if len(backends) > 1:  # the packaged app runs LiteRT only: nothing to choose
        parser.add_argument("--backend", choices=backends, default=None,
                            help=f"how resnet50 runs (default: ${BACKEND_ENV} or {DEFAULT_BACKEND}, the fastest)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--weights", metavar="FILE", help="ResNet50 no-top weights file (.h5)")
    group.add_argument("--random-weights", metavar="SEED", type=seed, nargs="?", const=0,
                       help="explicit seeded random init instead of ImageNet weights (demos, tests; labelled)")


def _automatic_model_text() -> str:
    return f"{DEFAULT_MODEL} when its weights file is found, else {BUILT_IN_MODEL}, the built-in network"


def choose_default_model(args: argparse.Namespace) -> None:
    """Sets args.model when --model was left out: ResNet50 when its weights are given or found, else the built-in
    network (core.embedders.default_model). Which one is said by `say_default_model`, once the command is sure
    to run: a mistake in its arguments or folder stays one line."""
    if getattr(args, "model", "") is not None:
        return
    chosen = default_model(weights_from(args))
    args.model = chosen.model
    args.default_model_note = chosen.note(f"For ResNet50 give --weights FILE; --model {BUILT_IN_MODEL} chooses this "
                                          "network without this note.")


def say_default_model(args: argparse.Namespace) -> None:
    """The one `note:` line on stderr saying that the built-in network is used (no --model, no ResNet50 weights);
    nothing when a model was named or ResNet50's weights were found, or when it was said already."""
    note = getattr(args, "default_model_note", "")
    if note:
        print(f"note: {note}", file=sys.stderr)
        args.default_model_note = ""


def weights_from(args: argparse.Namespace) -> Weights | None:
    """The weights asked for on the command line; None leaves finding them to create_embedder (or the window)."""
    if args.random_weights is not None:
        return random_weights(args.random_weights)
    if args.weights:
        return Weights(path=check_weights_file(Path(args.weights)), source="--weights")
    return None


def add_precision_option(parser: argparse.ArgumentParser) -> None:
    """--precision fp32|int8 (commands that embed; the window has it as a setting)."""
    models = sorted(INT8_MODELS)
    defaults = "; ".join(f"{model} {default_precision_text(model)}" for model in models)
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help=f"{' and '.join(models)} in fp32 or int8 (faster to index; docs/models.md \"int8\"). "
                             f"Default: {defaults}")


def precision_from(args: argparse.Namespace) -> str | None:
    return getattr(args, "precision", None)


def backend_from(args: argparse.Namespace) -> str | None:
    return getattr(args, "backend", None)  # no --backend where there is no choice (the packaged app)


def weights_or_found(args: argparse.Namespace) -> Weights:
    """The weights asked for, else the ones found (WeightsNeeded when there are none): for the bench's
    int8 figures, where a silent random init would measure nothing real."""
    from ..core.embedders import weights_or_found as given_or_found

    return given_or_found(weights_from(args))
