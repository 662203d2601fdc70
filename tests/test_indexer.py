"""The pipeline with a small real embedder: incremental updates, per-batch commits, cancel, fingerprints."""

import os

import numpy as np

from desktop_app.core.catalog_data import Catalog
from desktop_app.core.images import load_rgb
from desktop_app.core.session import CatalogSession
from support import CountingEmbedder, make_image


def _session(folder, embedder):
    return CatalogSession(folder, embedder)


def test_first_index_embeds_everything_and_second_nothing(make_catalog, counting_embedder):
    folder = make_catalog(20)
    with _session(folder, counting_embedder) as session:
        first = session.index(batch_size=8)
        assert (first.embedded, first.unchanged, first.indexed) == (20, 0, 20)
        assert counting_embedder.batches == 3  # 8 + 8 + 4: batched, never one call per image
        second = session.index(batch_size=8)
    assert (second.embedded, second.unchanged, second.indexed) == (0, 20, 20)
    assert counting_embedder.embedded == 20


def test_changed_new_and_deleted_files_are_picked_up(make_catalog, counting_embedder):
    folder = make_catalog(10)
    with _session(folder, counting_embedder) as session:
        session.index()
        make_image(folder / "img003.jpg", seed=99)  # replaced content
        os.utime(folder / "img003.jpg", ns=(1, 1))  # and a different mtime for sure
        make_image(folder / "new.jpg", seed=100)
        (folder / "img007.jpg").unlink()
        report = session.index()
        relpaths, vectors = session.store.load_vectors()
    assert (report.embedded, report.unchanged, report.removed, report.indexed) == (2, 8, 1, 10)
    assert "img007.jpg" not in relpaths and "new.jpg" in relpaths
    expected = CountingEmbedder().embed(load_rgb(folder / "img003.jpg", (8, 8))[None])[0]
    assert np.allclose(vectors[relpaths.index("img003.jpg")], expected)


def test_broken_files_are_skipped_with_reason_and_not_retried_until_changed(make_catalog, counting_embedder):
    folder = make_catalog(5)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with _session(folder, counting_embedder) as session:
        report = session.index()
        assert report.embedded == 5
        assert [relpath for relpath, _ in report.all_skipped] == ["broken.jpg"]
        assert "corrupt" in report.all_skipped[0][1] or "not an image" in report.all_skipped[0][1]
        again = session.index()
        assert (again.embedded, again.unchanged, len(again.newly_skipped)) == (0, 6, 0)
        make_image(folder / "broken.jpg", seed=1)  # fixed by the person
        fixed = session.index()
    assert (fixed.embedded, fixed.all_skipped, fixed.indexed) == (1, [], 6)


def test_cancel_keeps_finished_batches_and_resumes(make_catalog, counting_embedder):
    folder = make_catalog(30)
    with _session(folder, counting_embedder) as session:
        checks = []

        def cancel_on_second_check():  # the core checks between batches: so two batches finish
            checks.append(1)
            return len(checks) >= 2

        report = session.index(batch_size=5, should_cancel=cancel_on_second_check)
        assert report.cancelled and report.embedded == 10 and session.store.count() == 10
        resumed = session.index(batch_size=5)
    assert (resumed.embedded, resumed.unchanged, resumed.indexed) == (20, 10, 30)
    assert counting_embedder.embedded == 30


def test_progress_reports_reach_the_total(make_catalog, counting_embedder):
    folder = make_catalog(12)
    seen = []
    with _session(folder, counting_embedder) as session:
        session.index(batch_size=5, progress=lambda p: seen.append((p.done, p.total)))
    assert seen[0] == (0, 12) and seen[-1] == (12, 12)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_another_fingerprint_gets_its_own_store(make_catalog):
    folder = make_catalog(4)
    with _session(folder, CountingEmbedder("v1")) as a, _session(folder, CountingEmbedder("v2")) as b:
        a.index()
        assert a.store.path != b.store.path
        assert b.store.count() == 0  # never reuses vectors of another model
        assert b.index().embedded == 4


def test_store_reopens_with_same_vectors_and_no_pickle(make_catalog, counting_embedder):
    folder = make_catalog(6)
    with _session(folder, counting_embedder) as session:
        session.index()
        relpaths, vectors = session.store.load_vectors()
        path = session.store.path
    reopened = Catalog(folder.resolve()).open_store(counting_embedder)
    assert reopened.path == path and reopened.integrity_ok()
    again_paths, again_vectors = reopened.load_vectors()
    assert again_paths == relpaths and np.array_equal(again_vectors, vectors)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_the_eta_waits_for_a_second_batch_and_leaves_the_start_up_out():
    from desktop_app.core.indexer import Progress

    assert Progress(0, 1000, 0, 12.0).eta is None
    first = Progress(16, 1000, 0, 13.0, first_batch=(16, 13.0))  # 13 s of start-up (Ray, the model) in it
    assert first.eta is None
    second = Progress(48, 1000, 0, 15.0, first_batch=(16, 13.0))
    assert second.eta == (1000 - 48) / 16.0  # 32 files in the 2 s since the first batch
    assert second.rate == 48 / 15.0  # the rate shown: so far
