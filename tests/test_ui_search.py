"""The window's query side of issue #14: a region dragged on the query photo with the mouse, the label filter,
the distance limit and similarity tuned to labels — each re-running the shown query."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from desktop_app.ui.filter_box import ANY, TUNED_PREFIX
from support import LABEL_TYPES, side_by_side, write_labels

pytestmark = pytest.mark.gui
TIMEOUT_MS = 60_000
TYPES = LABEL_TYPES


def _index(qtbot, window, folder):
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS):
        window.open_catalog(folder)


def _labelled(make_catalog, n=30):
    return write_labels(make_catalog(n), n)


def _first(window) -> str:
    return window.shown_results()[0].relpath


def _drag(qtbot, window, photo, start: QPointF, end: QPointF) -> None:
    """A real mouse drag on the query photo, from and to points given as fractions of the shown image."""
    image = photo.image_rect()
    at = [QPoint(round(image.x() + p.x() * image.width()), round(image.y() + p.y() * image.height()))
          for p in (start, end)]
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        QTest.mousePress(photo, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at[0])
        for step in range(1, 6):
            QTest.mouseMove(photo, at[0] + (at[1] - at[0]) * step / 5)
        QTest.mouseRelease(photo, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at[1])


def test_a_region_dragged_on_the_photo_finds_its_own_item_then_moves_and_clears(
        qtbot, open_window, make_catalog, counting_embedder, tmp_path):
    folder = make_catalog(20)
    composite = side_by_side(folder, "img004.jpg", "img013.jpg", tmp_path / "two-items.png")
    window = open_window(counting_embedder)
    _index(qtbot, window, folder)
    panel, photo = window.query_panel, window.query_panel.image_label
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.query_image(composite)
    qtbot.waitUntil(lambda: photo.image_rect() is not None, timeout=TIMEOUT_MS)
    whole = [r.relpath for r in window.shown_results()]
    assert not panel.clear_region_button.isVisible()

    _drag(qtbot, window, photo, QPointF(0.02, 0.02), QPointF(0.48, 0.98))  # the left half
    crop = panel.region()
    assert crop.x == pytest.approx(0.02, abs=0.02) and crop.width == pytest.approx(0.46, abs=0.02)
    assert _first(window) == "img004.jpg" and "(region)" in window.results_title.text()
    assert panel.clear_region_button.isVisible() and photo.region_rect().width() > 50

    _drag(qtbot, window, photo, QPointF(0.25, 0.5), QPointF(0.75, 0.5))  # moved onto the right half
    moved = panel.region()
    assert moved.x == pytest.approx(0.52, abs=0.02) and moved.width == pytest.approx(crop.width)
    assert _first(window) == "img013.jpg"

    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):  # double-click: the whole photo again
        QTest.mouseDClick(photo, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                          photo.image_rect().center().toPoint())
    assert panel.region() is None and [r.relpath for r in window.shown_results()] == whole

    _drag(qtbot, window, photo, QPointF(0.9, 0.9), QPointF(0.55, 0.1))  # drawn backwards: the right half
    assert _first(window) == "img013.jpg"
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):  # Esc clears it too
        QTest.keyClick(photo, Qt.Key.Key_Escape)
    assert panel.region() is None and not panel.clear_region_button.isVisible()

    _drag(qtbot, window, photo, QPointF(0.0, 0.0), QPointF(0.5, 1.0))
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):  # a new photo starts without a region
        window.query_image(folder / "img007.jpg")
    assert panel.region() is None and "(region)" not in window.results_title.text()


def test_the_region_is_mapped_through_the_letterboxed_pixmap(qtbot, open_window, make_catalog, counting_embedder):
    folder = make_catalog(3)
    window = open_window(counting_embedder)
    _index(qtbot, window, folder)
    photo = window.query_panel.image_label
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.query_image(folder / "img001.jpg")
    qtbot.waitUntil(lambda: photo.image_rect() is not None, timeout=TIMEOUT_MS)
    image = photo.image_rect()
    shown = photo.pixmap().deviceIndependentSize()
    assert (image.width(), image.height()) == (shown.width(), shown.height())
    assert image.x() >= 0 and image.center().x() == pytest.approx(photo.contentsRect().center().x(), abs=1)
    assert image.x() > 5  # the portrait photo is letterboxed left and right in the label
    # a drag starting in the letterbox beside the photo is clamped to the photo's edge ((0, 0) is QTest's centre)
    QTest.mousePress(photo, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(1, round(image.y())))
    QTest.mouseMove(photo, image.center().toPoint())
    region = photo.region()
    assert region.x == 0 and region.y == pytest.approx(0, abs=0.01)
    assert (region.width, region.height) == (pytest.approx(0.5, abs=0.01), pytest.approx(0.5, abs=0.01))
    QTest.mouseRelease(photo, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, image.center().toPoint())


def test_label_filter_and_distance_limit_rerun_the_query_and_say_when_nothing_is_close(
        qtbot, open_window, make_catalog, counting_embedder):
    folder = _labelled(make_catalog)
    window = open_window(counting_embedder)
    filters = window.search.filters
    _index(qtbot, window, folder)
    qtbot.waitUntil(lambda: filters.field_box.count() == 2, timeout=TIMEOUT_MS)
    assert filters.field_box.isVisible() and filters.value_box.currentText() == ANY
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.query_item("img000.jpg")
    unfiltered = window.shown_results()

    filters.field_box.setCurrentText("articleType")
    assert [filters.value_box.itemText(i) for i in range(filters.value_box.count())] == [
        ANY, "Jeans (10)", "Shirts (10)", "Tshirts (10)"]  # each value with how many items have it
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        filters.value_box.setCurrentText("Jeans (10)")
    jeans = {f"img{i:03d}.jpg" for i in range(30) if TYPES[i % 3] == "Jeans"}
    shown = [r.relpath for r in window.shown_results()]
    assert len(shown) == 5 and set(shown) <= jeans and "articleType = Jeans" in window.results_title.text()
    assert shown != [r.relpath for r in unfiltered]

    limit = window.shown_results()[1].distance
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        filters.distance_box.setValue(limit + 0.005)  # two decimals: just above the second one
    assert [r.relpath for r in window.shown_results()] == shown[:2]

    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        filters.distance_box.setValue(0.01)
    assert window.grid.count() == 0 and not window.notice.isVisible()
    assert window.results_title.text().startswith("No item is close enough to img000.jpg")

    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        filters.distance_box.setValue(0)  # "no limit"
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        filters.value_box.setCurrentText(ANY)
    assert window.shown_results() == unfiltered


def test_without_labels_the_filter_hides_and_the_distance_limit_stays(qtbot, open_window, make_catalog,
                                                                      counting_embedder):
    window = open_window(counting_embedder)
    filters = window.search.filters
    filters.set_labels({"gender": {"Men": 1}})
    _index(qtbot, window, make_catalog(5))
    qtbot.waitUntil(lambda: not filters.field_box.isVisible(), timeout=TIMEOUT_MS)
    assert filters.where() is None and filters.tuned_field() is None and filters.distance_box.isVisible()


def test_tuning_to_a_label_field_reruns_the_query_in_the_tuned_space(qtbot, open_window, make_catalog,
                                                                     counting_embedder):
    from desktop_app.core.query import Query
    from desktop_app.core.session import CatalogSession

    folder = _labelled(make_catalog)
    window = open_window(counting_embedder)
    filters = window.search.filters
    _index(qtbot, window, folder)
    qtbot.waitUntil(lambda: filters.tune_box.count() == 3, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.query_image(folder / "img003.jpg")
    untuned = window.shown_results()
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        filters.tune_box.setCurrentText(TUNED_PREFIX + "articleType")
    assert "tuned to articleType" in window.results_title.text() and window.shown_results() != untuned

    with CatalogSession(folder, counting_embedder) as session:  # the CLI's query --tuned gives the same answer
        expected = session.search(Query(folder / "img003.jpg", k=5, tuned="articleType"))
    assert [(r.relpath, round(r.distance, 4)) for r in window.shown_results()] == \
        [(r.relpath, round(r.distance, 4)) for r in expected]


def test_the_hidden_crop_option_marks_the_region_after_the_scripted_query(qtbot, open_window, make_catalog,
                                                                         counting_embedder, tmp_path):
    from desktop_app.ui.app import Script, build_parser

    folder = make_catalog(20)
    composite = side_by_side(folder, "img004.jpg", "img013.jpg", tmp_path / "two-items.png")
    window = open_window(counting_embedder)
    args = build_parser().parse_args([str(folder), "--query", str(composite), "--crop", "0.5,0,0.5,1"])
    script = Script(window, args)
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        script.start()  # the first grid: the whole composite
    qtbot.waitUntil(lambda: window.query_panel.region() is not None and not window.search.pending,
                    timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: "(region)" in window.results_title.text(), timeout=TIMEOUT_MS)
    assert _first(window) == "img013.jpg"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--crop", "0,0,30,40"])  # pixels: the window's region is in fractions


def test_results_are_captioned_from_the_catalogs_labels_and_an_unusable_labels_file_only_loses_the_captions(
        qtbot, open_window, make_catalog, counting_embedder):
    folder = _labelled(make_catalog, 6)
    window = open_window(counting_embedder)
    _index(qtbot, window, folder)
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.query_image(folder / "img003.jpg")
    captions = {r.relpath: r.label for r in window.shown_results()}
    assert captions["img000.jpg"] == "Shirts" and captions["img004.jpg"] == "Jeans"

    (folder / "labels.csv").write_text("name,articleType\nimg000.jpg,Shirts\n")  # no filename column: read again
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.query_image(folder / "img003.jpg")
    assert len(window.shown_results()) == 5 and {r.label for r in window.shown_results()} == {None}
