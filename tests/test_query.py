"""The one query description (core/query.py): a photo or a catalog item, searched plainly, in a region, filtered,
limited or tuned — every caller (CLI, window, bench) asks through CatalogSession.search."""

import pytest

from desktop_app.core.images import Crop
from desktop_app.core.query import Query
from desktop_app.core.session import CatalogSession

pytestmark = pytest.mark.unit


def test_an_item_is_searched_with_its_stored_vector_as_its_file_would_be(make_catalog, counting_embedder):
    folder = make_catalog(8)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        embedded = counting_embedder.embedded
        by_item = session.search(Query(item="img002.jpg", k=3))
        assert counting_embedder.embedded == embedded  # no decode, no model
        assert session.search(Query(folder / "img002.jpg", k=3)) == by_item
        assert "img002.jpg" not in {r.relpath for r in by_item}
        itself = session.search(Query(item="img002.jpg", k=1, exclude_self=False))
        assert itself[0].relpath == "img002.jpg" and itself[0].distance == pytest.approx(0, abs=1e-6)


def test_a_region_of_an_item_is_decoded_and_settings_carry_over_to_another_photo(make_catalog, counting_embedder):
    folder = make_catalog(8)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        settings = Query(k=2, crop=Crop.parse("0,0,0.5,0.5"))
        embedded = counting_embedder.embedded
        region = session.search(settings.about(None, item="img002.jpg"))
        assert counting_embedder.embedded == embedded + 1  # the region, decoded and embedded
        assert region == session.search(settings.about(folder / "img002.jpg"))
        assert region != session.search(Query(item="img002.jpg", k=2))
        with pytest.raises(ValueError, match="needs an image or an item"):
            session.search(Query())
