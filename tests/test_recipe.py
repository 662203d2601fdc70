"""The seed recipe is kept: our batched, overlapped pipeline gives the per-image Keras path's vectors."""

import numpy as np
import pytest

from desktop_app.core.session import CatalogSession
from support import make_image

pytestmark = pytest.mark.heavy


def _seed_vector(model, path):
    """The original project's per-image code, verbatim in spirit."""
    from keras.applications.resnet50 import preprocess_input
    from keras.utils import img_to_array, load_img

    img = load_img(path, target_size=(224, 224))
    x = preprocess_input(np.expand_dims(img_to_array(img), axis=0))
    features = model.predict(x, verbose=0).flatten()
    return features / np.linalg.norm(features)


def test_batched_vectors_match_seed_per_image_path(tmp_path, random_embedder):
    folder = tmp_path / "catalog"
    sizes = [(60, 80)] * 5 + [(300, 400), (224, 224)]
    for i, size in enumerate(sizes):
        make_image(folder / f"p{i}.jpg", seed=i, size=size)

    with CatalogSession(folder, random_embedder) as session:
        report = session.index(batch_size=4)
        relpaths, vectors = session.store.load_vectors()

    assert report.embedded == len(sizes)
    for relpath, ours in zip(relpaths, vectors, strict=True):
        seed = _seed_vector(random_embedder._model, folder / relpath)
        assert ours.shape == (2048,) and ours.dtype == np.float32
        assert float(np.dot(ours, seed)) >= 0.9999, relpath


def test_query_returns_five_nearest_with_self_excluded(tmp_path, random_embedder):
    folder = tmp_path / "catalog"
    for i in range(8):
        make_image(folder / f"p{i}.jpg", seed=i)
    with CatalogSession(folder, random_embedder) as session:
        session.index()
        results = session.query(folder / "p3.jpg", k=5)
        outside = make_image(tmp_path / "query.jpg", seed=3)  # same pixels, outside the catalog
        from_outside = session.query(outside, k=5)
    assert len(results) == 5 and "p3.jpg" not in [r.relpath for r in results]
    assert from_outside[0].relpath == "p3.jpg" and from_outside[0].distance < 1e-3
    assert [r.relpath for r in from_outside[1:]] == [r.relpath for r in results[:4]]
