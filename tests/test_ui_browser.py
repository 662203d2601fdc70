"""The catalog browser (issue #14.5): lazy thumbnails (only rows in view, bounded cache, requests of rows
scrolled away dropped), the label filter, and "Find similar" from an item."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import QObject, QSize, Signal
from PySide6.QtGui import QImage

from desktop_app.core.filters import CatalogItem
from desktop_app.ui.catalog_grid import CatalogGrid, CatalogModel

pytestmark = pytest.mark.gui

TIMEOUT_MS = 60_000


class RecordingLoader(QObject):
    """A ThumbnailLoader that decodes nothing: it keeps the requests, the test answers them."""

    loaded = Signal(object, QImage)

    def __init__(self):
        super().__init__()
        self.requests: list[tuple] = []  # (key, path, wanted)

    def request(self, key, path, bounds, wanted=None):
        self.requests.append((key, path, wanted))

    def answer(self, key) -> None:
        image = QImage(QSize(9, 12), QImage.Format.Format_RGB32)
        image.fill(0x808080)
        self.loaded.emit(key, image)


def items(n: int) -> list[CatalogItem]:
    return [CatalogItem(f"p{i:05d}.jpg", {}) for i in range(n)]


def test_the_model_asks_only_for_rows_in_view_and_drops_those_scrolled_away(qapp):
    loader = RecordingLoader()
    model = CatalogModel(loader, QSize(9, 12), cache_size=20)
    model.set_items("/catalog", items(44_000))
    assert loader.requests == []  # nothing until the view says what it shows

    model.want(0, 99)
    assert [key[2] for key, _, _ in loader.requests] == [f"p{i:05d}.jpg" for i in range(100)]
    model.want(50, 149)  # scrolled half a page
    assert len(loader.requests) == 150  # rows 50..99 are not asked for twice
    still_wanted = [wanted(key) for key, _, wanted in loader.requests]
    assert still_wanted == [False] * 50 + [True] * 100  # the pool skips the first 50 if not decoded yet

    changed = []
    model.dataChanged.connect(lambda first, last, roles: changed.append(first.row()))
    for key, _, _ in loader.requests:
        loader.answer(key)  # rows 0..49 answered anyway (already decoding when dropped): ignored
    assert changed == list(range(50, 150))
    assert model.cached() == 20 and model.wanted() == frozenset()  # bounded: the 20 used last
    model.want(140, 149)
    assert len(loader.requests) == 150  # the newest rows came from the cache
    model.want(50, 50)
    assert len(loader.requests) == 151  # an old row had left the cache


def test_a_new_item_list_drops_the_old_lists_answers(qapp):
    loader = RecordingLoader()
    model = CatalogModel(loader, QSize(9, 12))
    model.set_items("/catalog", items(10))
    model.want(0, 9)
    model.set_items("/catalog", items(5))
    for key, _, _ in loader.requests:
        loader.answer(key)
    assert model.cached() == 0


def test_the_grid_decodes_the_visible_page_then_the_page_scrolled_to(qtbot, make_catalog, tmp_path):
    photos = sorted(make_catalog(5).iterdir())
    links = tmp_path / "links"
    links.mkdir()
    for i in range(3000):
        (links / f"p{i:05d}.jpg").symlink_to(photos[i % 5])
    from desktop_app.ui.thumbnails import ThumbnailLoader

    loader = ThumbnailLoader()
    grid = CatalogGrid(loader)
    qtbot.addWidget(grid)
    grid.resize(600, 400)
    grid.show()
    qtbot.waitExposed(grid)
    grid.set_items(str(links), items(3000))
    model = grid.catalog_model
    qtbot.waitUntil(lambda: model.requested and model.loaded == model.requested, timeout=TIMEOUT_MS)
    first, last = grid.visible_rows()
    assert first == 0 and model.requested == last + 1 < 100  # one screen and two lines, not 3000
    assert not model.data(model.index(0), 1).isNull()

    grid.scrollToBottom()
    qtbot.waitUntil(lambda: model.data(model.index(2999), 1).cacheKey() != model.data(model.index(0), 1).cacheKey()
                    and model.loaded == model.requested, timeout=TIMEOUT_MS)
    first, last = grid.visible_rows()
    assert last == 2999 and model.requested <= 2 * 100
    loader.shut_down()


@pytest.fixture
def labelled_catalog(make_catalog):
    """12 photos: even ones Shirts, odd ones Jeans; a labels.csv beside them."""
    folder = make_catalog(12)
    with open(folder / "labels.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["filename", "articleType", "gender"])
        for i in range(12):
            writer.writerow([f"img{i:03d}.jpg", "Shirts" if i % 2 == 0 else "Jeans", "Men"])
    return folder


def test_the_browser_filters_by_label_and_starts_a_search_from_an_item(qtbot, open_window, labelled_catalog):
    window = open_window(model="colour-texture")
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS):
        window.open_catalog(labelled_catalog)
    window.tools.browse_action.trigger()
    browser = window.tools.browser
    qtbot.waitUntil(lambda: browser.grid.catalog_model.rowCount() == 12, timeout=TIMEOUT_MS)
    assert browser.count.text() == "12 items"
    assert [browser.field_box.itemText(i) for i in range(browser.field_box.count())] == ["All items", "articleType",
                                                                                         "gender"]
    with qtbot.waitSignal(browser.items_shown, timeout=TIMEOUT_MS) as shown:
        browser.field_box.setCurrentText("articleType")  # the first value (Jeans) is chosen with it
    assert [browser.value_box.itemText(i) for i in range(browser.value_box.count())] == ["Jeans", "Shirts"]
    assert shown.args[0] == 6
    with qtbot.waitSignal(browser.items_shown, timeout=TIMEOUT_MS) as shown:
        browser.value_box.setCurrentText("Shirts")
    model = browser.grid.catalog_model
    assert shown.args[0] == 6 and [model.item(r).relpath for r in range(6)] == [f"img{i:03d}.jpg" for i in
                                                                                   range(0, 12, 2)]
    assert model.data(model.index(1), 3) == "img002.jpg\narticleType: Shirts\ngender: Men"  # the tooltip

    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        browser.grid.activated.emit(model.index(2))  # double-click / Enter on img004
    assert window.results_title.text() == "The 5 most similar to img004.jpg"
    assert "img004.jpg" not in {r.relpath for r in window.shown_results()}

    with qtbot.waitSignal(browser.items_shown, timeout=TIMEOUT_MS) as shown:
        browser.field_box.setCurrentText("All items")
    assert shown.args[0] == 12 and not browser.value_box.isVisible()
