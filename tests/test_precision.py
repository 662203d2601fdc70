"""--precision: which embedder each choice gives, fp32's fingerprint unchanged, and the default by catalog."""

import json

import pytest

from desktop_app.cli import program, sessions
from desktop_app.core.embedders import create_embedder, precision
from desktop_app.core.errors import UserError
from desktop_app.core.session import CatalogSession
from desktop_app.core.weights import random_weights

pytestmark = pytest.mark.integration

RECIPE_FIELDS = {"algorithm", "weights", "preprocessing", "dim", "backend"}


def test_fp32_is_the_recipe_with_its_fingerprint_unchanged(make_catalog):
    catalog = make_catalog(2).resolve()
    fp32 = create_embedder("resnet50", random_weights(0), precision="fp32", catalog=catalog)
    assert set(json.loads(fp32.fingerprint)) == RECIPE_FIELDS  # the keys stores were made with before int8
    assert fp32.fingerprint == create_embedder("resnet50", random_weights(0)).fingerprint
    assert fp32.precision == "fp32"


@pytest.mark.parametrize("default", precision.PRECISIONS)
def test_new_catalog_gets_the_default_and_a_catalog_indexed_in_fp32_keeps_fp32(make_catalog, monkeypatch, default):
    monkeypatch.setitem(precision.DEFAULT_FOR_NEW_CATALOGS, "resnet50", default)
    catalog = make_catalog(2).resolve()
    chosen = create_embedder("resnet50", random_weights(0), catalog=catalog)
    assert chosen.precision == default
    fp32 = create_embedder("resnet50", random_weights(0), precision="fp32", catalog=catalog)
    CatalogSession(catalog, fp32).close()  # the catalog now has an fp32 store
    assert create_embedder("resnet50", random_weights(0), catalog=catalog).precision == "fp32"
    other_weights = create_embedder("resnet50", random_weights(1), catalog=catalog)
    assert other_weights.precision == default


def test_the_built_in_network_defaults_to_int8_and_keeps_a_catalog_indexed_in_fp32(make_catalog):
    """Its measured default (docs/models.md "int8"); its int8 calibrates on a generated set, so needs no catalog."""
    assert precision.DEFAULT_FOR_NEW_CATALOGS["efficientnet-lite0"] == "int8"
    catalog = make_catalog(2).resolve()
    assert create_embedder("efficientnet-lite0", catalog=catalog).precision == "int8"
    CatalogSession(catalog, create_embedder("efficientnet-lite0", precision="fp32", catalog=catalog)).close()
    assert create_embedder("efficientnet-lite0", catalog=catalog).precision == "fp32"
    assert create_embedder("efficientnet-lite0", precision="int8").precision == "int8"
    assert create_embedder("efficientnet-lite0").precision == "fp32"  # no catalog (a single image)


def test_without_a_catalog_the_default_is_fp32_and_int8_is_refused():
    assert create_embedder("resnet50", random_weights(0)).precision == "fp32"
    with pytest.raises(UserError, match="int8 calibrates on the catalog's photos"):
        create_embedder("resnet50", random_weights(0), precision="int8")


@pytest.mark.parametrize("model, backend, chosen, message", [
    ("colour-texture", None, "int8", "--precision int8 is for efficientnet-lite0 and resnet50"),
    ("resnet50", "keras", "int8", "--backend keras chooses how fp32 runs"),
    ("resnet50", None, "int4", "Unknown precision 'int4'"),
])
def test_impossible_precision_is_one_clear_line(make_catalog, model, backend, chosen, message):
    weights = random_weights(0) if model == "resnet50" else None
    with pytest.raises(UserError, match=message):
        create_embedder(model, weights, backend, chosen, catalog=make_catalog(1).resolve())


def test_a_backend_or_a_weight_free_model_means_fp32(make_catalog):
    catalog = make_catalog(1).resolve()
    assert create_embedder("resnet50", random_weights(0), "keras", catalog=catalog).precision == "fp32"
    assert create_embedder("colour-texture", catalog=catalog).precision == "fp32"


@pytest.mark.parametrize("command", [["index", "F"], ["query", "x.jpg", "--catalog", "F"], ["eval", "F"],
                                     ["neighbours", "F", "--out", "n.csv"], ["duplicates", "F"]])
def test_cli_precision_reaches_the_embedder(make_catalog, command):
    folder = str(make_catalog(2))
    argv = [folder if a == "F" else a for a in command]
    for chosen in precision.PRECISIONS:
        args = program.build_parser().parse_args([*argv, "--random-weights", "--precision", chosen])
        if args.command == "query":
            args.folder = args.catalog
        assert sessions.embedder_from(args).precision == chosen
