"""Never a dead end offline: with no --model and no ResNet50 weights to be found, the commands use the built-in
network and say so in one line; ResNet50 stays the default whenever its weights are found; a weights file that
is named but broken is said, not quietly replaced; --model resnet50 without weights still says how to get them."""

import json

import pytest

from desktop_app import cli
from desktop_app.core import embedders
from desktop_app.core.embedders import BUILT_IN_MODEL, WeightsNeeded, default_model
from desktop_app.core.weights import WEIGHTS_FILENAME, random_weights

pytestmark = pytest.mark.integration

NOTE = ("note: no ResNet50 weights file was found, so the built-in network is used: efficientnet-lite0 "
        "(EfficientNet-Lite0, ImageNet-trained).")


@pytest.fixture
def offline_without_weights(monkeypatch, tmp_path):
    """Nothing to find: no setting, no FASHIONREC_WEIGHTS (conftest), an empty Keras cache, no download."""
    monkeypatch.setattr("desktop_app.core.weights.keras_cache_path", lambda: tmp_path / "none" / WEIGHTS_FILENAME)
    monkeypatch.setattr("desktop_app.core.weights._try_download", lambda: None)


def test_without_weights_the_default_is_the_built_in_network(offline_without_weights):
    chosen = default_model()
    assert chosen.model == BUILT_IN_MODEL and chosen.weights is None
    assert chosen.note("How.").endswith("(EfficientNet-Lite0, ImageNet-trained). How.")


def test_resnet50_stays_the_default_whenever_its_weights_are_found(monkeypatch):
    found = random_weights(7)  # stands for a file found by resolve_weights
    monkeypatch.setattr(embedders, "resolve_weights", lambda: found)
    chosen = default_model()
    assert (chosen.model, chosen.weights, chosen.note("How.")) == ("resnet50", found, "")
    assert default_model(random_weights(0)).model == "resnet50"  # weights given: ResNet50's


def test_a_named_but_broken_weights_file_is_said_not_replaced(offline_without_weights, monkeypatch, tmp_path):
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not a weights file")
    monkeypatch.setenv("FASHIONREC_WEIGHTS", str(broken))
    with pytest.raises(WeightsNeeded, match="Not a Keras HDF5 weights file"):
        default_model()


def test_the_cli_says_once_which_network_it_uses(offline_without_weights, make_catalog, capsys):
    folder = make_catalog(3)
    seen = []
    assert cli.main(["index", str(folder), "--precision", "fp32"],
                    make_embedder=lambda args: seen.append(args.model) or embedders.create_embedder("colour-texture")
                    ) == 0
    err = capsys.readouterr().err
    assert seen == [BUILT_IN_MODEL] and err.count("note: ") == 1 and err.startswith(NOTE)


def test_a_mistake_is_one_line_without_the_note(offline_without_weights, make_catalog, tmp_path, capsys):
    """The note is said once the command is sure to run: a wrong folder, photo, output or labels file is the one
    line of the mistake (the note came first, before the folder was even looked at)."""
    folder = make_catalog(3)

    def built_in(args):  # stands for the built-in network (a fast embedder of the name the default chose)
        embedder = embedders.create_embedder("colour-texture")
        assert args.model == BUILT_IN_MODEL
        return embedder

    assert cli.main(["index", str(folder)], make_embedder=built_in) == 0
    assert capsys.readouterr().err.count("note: ") == 1
    mistakes = [["index", str(tmp_path / "nope")],
                ["query", str(tmp_path / "nope.jpg"), "--catalog", str(folder)],
                ["query", str(folder / "img000.jpg"), "--catalog", str(folder), "--like", "nope.jpg"],
                ["neighbours", str(folder), "--out", str(tmp_path / "nope" / "x.csv")],
                ["duplicates", str(tmp_path / "nope"), "--threshold", "0.1"],
                ["eval", str(folder)],
                ["match", str(tmp_path / "nope"), "--catalog", str(folder), "--out", str(tmp_path / "m.csv")]]
    for argv in mistakes:
        assert cli.main(argv, make_embedder=built_in) == 1
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and err.startswith("fashionrec: "), (argv, err)
    assert cli.main(["query", str(folder / "img000.jpg"), "--catalog", str(folder)], make_embedder=built_in) == 0
    assert capsys.readouterr().err.count("note: ") == 1


def test_asking_for_resnet50_without_weights_still_says_how_to_get_them(offline_without_weights, make_catalog, capsys):
    assert cli.main(["index", str(make_catalog(2)), "--model", "resnet50"]) == 1
    err = capsys.readouterr().err
    assert WEIGHTS_FILENAME in err and "--weights FILE" in err and "note:" not in err


@pytest.mark.heavy
def test_offline_with_no_flags_a_folder_is_indexed_and_searched(offline_without_weights, make_catalog, capsys):
    """The goal as a person meets it: the built-in network (int8, its default) indexes and searches."""
    folder = make_catalog(6)
    assert cli.main(["index", str(folder)]) == 0
    index_err = capsys.readouterr().err
    assert index_err.startswith(NOTE) and "model   EfficientNet-Lite0 int8" in index_err
    assert cli.main(["query", str(folder / "img003.jpg"), "--catalog", str(folder), "-k", "2",
                     "--include-self", "--json"]) == 0
    out, err = capsys.readouterr()
    results = json.loads(out)
    assert err.startswith(NOTE) and len(results) == 2 and results[0]["path"].endswith("img003.jpg")
    assert results[0]["distance"] < 1e-3 < results[1]["distance"]
