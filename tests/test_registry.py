"""The model registry and the interface every embedder shares (what the CLI, the window and the bench call)."""

import numpy as np
import pytest

from desktop_app.core.embedders import MODELS, REGISTRY, WeightsNeeded, create_embedder, needs_weights
from desktop_app.core.embedders.litert import LiteRTResNet50Embedder
from desktop_app.core.errors import UserError
from desktop_app.core.weights import random_weights


@pytest.mark.parametrize("model", MODELS)
def test_every_model_has_the_shared_interface(model):
    embedder = create_embedder(model, random_weights(0) if needs_weights(model) else None)
    assert embedder.name == model
    assert isinstance(embedder.load_report, str) and callable(embedder.load)
    assert embedder.dim > 0 and len(embedder.input_size) == 2 and embedder.fingerprint and embedder.describe()


def test_the_litert_embedder_has_it_too():
    embedder = LiteRTResNet50Embedder(random_weights(0))
    assert embedder.load_report == "" and callable(embedder.load) and embedder.backend == "litert"


def test_a_weight_free_model_loads_at_once_and_says_so():
    embedder = create_embedder("colour-texture")
    embedder.load()
    assert embedder.load_report
    assert embedder.embed(np.zeros((1, 80, 64, 3), np.uint8)).shape == (1, embedder.dim)


def test_models_are_the_registry_names():
    assert tuple(REGISTRY) == MODELS and "resnet50" in MODELS and "colour-texture" in MODELS
    assert needs_weights("resnet50") and not needs_weights("colour-texture") and not needs_weights("nope")


def test_unknown_model_and_weights_for_a_weight_free_model_are_user_errors():
    with pytest.raises(UserError, match="Unknown model 'nope'. Available: resnet50, efficientnet-lite0, colour-"):
        create_embedder("nope")
    with pytest.raises(UserError, match="colour-texture needs no weights"):
        create_embedder("colour-texture", random_weights(0))


def test_a_model_needing_weights_without_any_raises_weights_needed(monkeypatch):
    import desktop_app.core.embedders as embedders

    def none_found(*args, **kwargs):
        raise UserError("no weights here")

    monkeypatch.setattr(embedders, "resolve_weights", none_found)
    with pytest.raises(WeightsNeeded, match="no weights here"):
        create_embedder("resnet50")
