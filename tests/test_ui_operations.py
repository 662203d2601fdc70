"""The window ↔ worker contract: every reply answers the request whose token it carries (issue #13.1)."""

from __future__ import annotations

import pytest

from desktop_app.ui.lanes import BUG_MESSAGE, NO_CATALOG_MESSAGE
from desktop_app.ui.operations import op

INDEX_TIMEOUT_MS = 60_000


def indexed_window(qtbot, open_window, make_catalog, n: int = 8):
    catalog = make_catalog(n)
    window = open_window(model="colour-texture")
    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS):
        window.open_catalog(catalog)
    return window, catalog


def wait_for_replies(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.operations.pending() == 0, timeout=INDEX_TIMEOUT_MS)


@pytest.fixture
def bad(tmp_path):
    """A file named like a photo that is not one."""
    path = tmp_path / "notes.jpg"
    path.write_text("not a photo")
    return path


def test_a_bad_photo_followed_at_once_by_a_good_one_shows_only_the_good_results(qtbot, open_window, make_catalog, bad):
    window, catalog = indexed_window(qtbot, open_window, make_catalog)
    with qtbot.waitSignal(window.grid_ready, timeout=INDEX_TIMEOUT_MS):
        window.query_image(bad)
        window.query_image(catalog / "img003.jpg")  # before the worker answered the first
    wait_for_replies(qtbot, window)  # the bad photo's failure has arrived too, and was dropped

    assert not window.notice.isVisible() and window.notice.text() == ""
    assert window.grid.count() == 5
    assert window.results_title.text() == "The 5 most similar to img003.jpg"


def test_a_good_photo_followed_at_once_by_a_bad_one_shows_only_the_bad_ones_error(qtbot, open_window, make_catalog,
                                                                                 bad):
    window, catalog = indexed_window(qtbot, open_window, make_catalog)
    with qtbot.waitSignal(window.message_shown, timeout=INDEX_TIMEOUT_MS):
        window.query_image(catalog / "img003.jpg")
        window.query_image(bad)
    wait_for_replies(qtbot, window)

    assert "notes.jpg" in window.notice.text() and window.grid.count() == 0
    assert window.results_title.text() == "No results for notes.jpg."


def test_an_operation_is_one_function_answered_on_the_ui_thread(qtbot, open_window, make_catalog):
    window, _ = indexed_window(qtbot, open_window, make_catalog, n=3)
    counts, failures = [], []

    token = op(window, lambda catalog: catalog.session.store.count()).success(counts.append).run()
    op(window, lambda catalog: 1 / 0).success(counts.append).failure(failures.append).run()
    wait_for_replies(qtbot, window)

    assert token > 0 and counts == [3]
    assert failures == [BUG_MESSAGE]  # a bug: one line for the person, the traceback in the log


def test_without_a_failure_callback_the_window_shows_the_message(qtbot, open_window):
    window = open_window()
    with qtbot.waitSignal(window.message_shown, timeout=10_000) as shown:
        op(window, lambda catalog: catalog.session.store.count()).run()
    assert shown.args[0] == NO_CATALOG_MESSAGE and window.notice.text() == NO_CATALOG_MESSAGE


def test_replies_to_an_older_open_request_are_dropped(qtbot, open_window, make_catalog):
    first, second = make_catalog(3, name="first"), make_catalog(4, name="second", start_seed=10)
    window = open_window(model="colour-texture")
    opened = []
    window.catalog_opened.connect(lambda info: opened.append(info.root))
    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS) as finished:
        window.open_catalog(first)
        window.open_catalog(second)  # the window now waits for this one only
    assert opened == [str(second.resolve())] and finished.args[0].indexed == 4
    assert window.status.count_label.text() == "4 items"


def test_an_injected_embedder_indexes_and_both_lanes_close_with_the_window(qtbot, make_catalog):
    from desktop_app.ui.main_window import MainWindow
    from support import CountingEmbedder

    embedder = CountingEmbedder()
    window = MainWindow(embedder=embedder)
    try:
        with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS):
            window.open_catalog(make_catalog(3))
        assert embedder.embedded == 3 and window.catalog.model_name == "tiny"
        writer, reader = window.lanes
        assert type(writer.session).__name__ == "CatalogSession" and type(reader.session).__name__ == "CatalogReader"
    finally:
        window.close()
        window.deleteLater()
    assert not window.lanes.running and writer.session is None and reader.session is None
