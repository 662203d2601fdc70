"""`bench`: speed figures on this machine (and, instead, the neighbours, duplicates and int8 fidelity benches)."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from ..bench import DEFAULT_N as BENCH_DEFAULT_N
from ..bench.augmented import REAL_ITEMS
from ..bench.photo_sizes import QUALITY, RESAVE_SAFE_QUALITY, SHOP_SIZE, photo_size_argument
from ..core.decoding import NEAREST
from ..core.embedders import BUILT_IN_MODEL, create_embedder
from ..core.embedders.precision import PRECISIONS, default_for_new_catalogs
from ..core.errors import UserError
from ..core.images import RESIZE_FILTERS
from .options import add_batch_size_option, add_model_options, add_precision_option, count, seed, weights_or_found


def jpeg_quality(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise argparse.ArgumentTypeError(f"'{text}' is not a JPEG quality (a whole number from 1 to 100)")
    return int(text)


def resize_filters(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in RESIZE_FILTERS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"'{text}': resize filters are {', '.join(RESIZE_FILTERS)} (comma-separated)")
    return names


def decoding_models(args) -> list:
    """bench --decoding: the weight-free models, and --model when it is another one with weights given (the
    random init's neighbour lists say nothing about a decoding)."""
    from ..bench.big_photos import WEIGHT_FREE
    from ..core.embedders import create_embedder

    given = args.model not in WEIGHT_FREE and (args.model != "resnet50" or args.weights or args.random_weights)
    return [create_embedder(name) for name in WEIGHT_FREE] + ([args.make_embedder(args)] if given else [])


def cmd_bench(args) -> int:
    from ..bench import run_bench

    if args.neighbours:
        from ..bench.neighbours import run_neighbours_bench

        run_neighbours_bench(args.images)
        return 0
    if args.fidelity:
        from ..bench.fidelity import run_fidelity
        from ..bench.inputs import DEFAULT_IMAGES

        weights = weights_or_found(args) if args.model == "resnet50" else None
        run_fidelity(args.images or DEFAULT_IMAGES, args.model, weights, limit=args.n)
        return 0
    if args.decoding:
        from ..bench.decoding import run_decoding_bench
        from ..bench.inputs import DEFAULT_IMAGES

        run_decoding_bench(decoding_models(args), args.images or DEFAULT_IMAGES, args.n, args.photo_size or SHOP_SIZE,
                           resizes=args.resize, quality=args.photo_quality or RESAVE_SAFE_QUALITY)
        return 0
    if args.model == "resnet50" and args.weights is None and args.random_weights is None:
        args.random_weights = 0  # speed does not depend on the weights' values (labelled as random)
    if args.map:
        from ..bench.map_layout import run_map_bench

        run_map_bench(args.make_embedder(args), args.images)
        return 0
    if args.moved:
        from ..bench.moves import run_moves_bench

        run_moves_bench(args.make_embedder(args), args.images, args.n or 2000)
        return 0
    if args.match:
        from ..bench.matching import run_match_bench

        run_match_bench(args.make_embedder(args), args.images, args.seed)
        return 0
    if args.duplicates:
        from ..bench.duplicates import run_duplicates_bench

        embedders = [args.make_embedder(args)]
        if args.model == BUILT_IN_MODEL:  # both precisions, unless one is asked for: the threshold is the model's
            precisions = [args.precision] if args.precision else PRECISIONS
            embedders = [create_embedder(args.model, precision=p) for p in precisions]
        run_duplicates_bench(embedders, args.images, args.sources, args.seed, originals=args.n)
        return 0
    if args.model not in ("resnet50", BUILT_IN_MODEL):
        raise UserError(f"The bench measures a network: --model resnet50 (the seed recipe) or {BUILT_IN_MODEL}.")
    extra_sections, embedder, n = [], None, args.n or BENCH_DEFAULT_N
    if args.model == BUILT_IN_MODEL:  # its default precision unless asked; then both next to ResNet50 fp32
        from ..bench import networks

        embedder = create_embedder(BUILT_IN_MODEL, precision=args.precision or default_for_new_catalogs(args.model))
        extra_sections.append(networks.section)
    elif args.precision == "int8":
        from ..bench import precision

        embedder = precision.int8_embedder(weights_or_found(args), args.images, n)
        extra_sections.append(precision.versus_fp32)
    if args.scale:
        from ..bench import scale

        extra_sections.append(functools.partial(scale.section, items=args.scale_items, real_items=args.scale_real))
    if args.photo_size:
        from ..bench import big_photos

        extra_sections.append(functools.partial(big_photos.section, size=args.photo_size,
                                                quality=args.photo_quality or QUALITY))
    run_bench(embedder or args.make_embedder(args), images=args.images, n=n, batch_size=args.batch_size,
              compare_backends=args.compare_backends, extra_sections=extra_sections)
    return 0


def bench_arguments(p) -> None:
    p.add_argument("--images", metavar="DIR", type=Path,
                   help="photos to index (default: the fashion-2k sample when present, else generated)")
    p.add_argument("-n", type=count,
                   help=f"how many photos (default {BENCH_DEFAULT_N}; with --duplicates or --fidelity all)")
    add_batch_size_option(p)
    p.add_argument("--compare-backends", action="store_true", help="also time the backends not in use")
    extra = p.add_mutually_exclusive_group()
    extra.add_argument("--neighbours", action="store_true", help="instead: time `neighbours` on a synthetic 44k "
                       "store and on the sample (colour-texture)")
    extra.add_argument("--duplicates", action="store_true", help="instead: precision and recall of --model's "
                       "duplicate thresholds on planted copies of the photos")
    extra.add_argument("--decoding", action="store_true", help="instead: whether each model may decode photos "
                       "reduced (JPEG DCT scaling): its neighbour lists and precision@5 against full decoding with "
                       "each --resize filter, at the photos' size and at --photo-size (default 1500x2000); -n photos, "
                       "evenly (default all)")
    extra.add_argument("--fidelity", action="store_true", help="instead: how close int8 vectors are to fp32 "
                       "ones on the photos (-n of them, evenly; default all) for --model (resnet50: the weights "
                       "given or found)")
    extra.add_argument("--match", action="store_true", help="instead: match's goals, the original found as top-1 "
                       "among 3,000 photos (the photos and augmented variants) for 200 re-encoded copies, and the "
                       "time of 1,000 query photos against 44,000 items")
    extra.add_argument("--map", action="store_true", help="instead: the catalog map's layout time and quality at "
                       "44,000 items (vectors mixed from the photos' own) and its cached re-open")
    extra.add_argument("--moved", action="store_true", help="instead: the time of `index` after 1,000 of -n "
                       "photos (default 2,000) are renamed into another subfolder (0 embedded, 1,000 moved)")
    p.add_argument("--sources", type=count, default=100, metavar="N", help="photos copied for --duplicates")
    p.add_argument("--seed", type=seed, default=0, help="picks the photos copied for --duplicates and --match")
    p.add_argument("--scale", action="store_true", help="also the compact index at a million items (needs "
                   "~12 GB of disk in the temp folder and a few minutes)")
    p.add_argument("--scale-real", type=count, default=REAL_ITEMS, metavar="N",
                   help="real vectors the compact index's recall is measured on: the photos and variants of them "
                        "(flipped, cropped, colour-shifted; made in memory), embedded by --model (default %(default)s)")
    p.add_argument("--scale-items", type=count, default=1_000_000, metavar="N",
                   help="items of the synthetic catalog of --scale (default %(default)s)")
    p.add_argument("--photo-size", type=photo_size_argument, metavar="WxH",
                   help="also index the photos enlarged to this size (e.g. 1500x2000, a shop's; 4000x3000, a "
                        "phone's) with every model, beside the photos as they are, and the share of decoding")
    p.add_argument("--photo-quality", type=jpeg_quality, metavar="Q",
                   help=f"JPEG quality of the enlarged copies (default {QUALITY} for --photo-size; "
                        f"{RESAVE_SAFE_QUALITY} for --decoding, so that its q90 re-save changes them)")
    p.add_argument("--resize", type=resize_filters, default=(NEAREST,), metavar="F[,F…]",
                   help=f"--decoding: the resize filters to measure, of {', '.join(RESIZE_FILTERS)} "
                        f"(default {NEAREST}, the recipe's)")
    add_model_options(p, default="resnet50")  # the bench says which weights it measures
    add_precision_option(p)


HANDLERS = {"bench": (bench_arguments, cmd_bench)}
