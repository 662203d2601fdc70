"""Indexing on Ray (core/ray_engine.py), on a local 2-CPU Ray: the same vectors as local indexing for every model and
precision, only new or changed files embedded, a worker killed mid-run loses nothing, a wrong address is one line.
Skipped when Ray Data is not installed (CI installs it: it is in the test extra)."""

import functools
import os
import socket
import sys
import threading
import time

import numpy as np
import pytest

from desktop_app import cli
from desktop_app.core.embedders import create_embedder
from desktop_app.core.errors import UserError
from desktop_app.core.ray_cluster import INSTALL_HINT, import_ray
from desktop_app.core.ray_engine import RayEngine
from desktop_app.core.session import CatalogSession

BATCH = 4

pytestmark = pytest.mark.integration  # stores on disk, a local Ray cluster


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import the tests
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


class _DiesOnce:
    """colour-texture, but the worker process exits abruptly on its second batch the first time (a marker
    file remembers it across the restarted process), as a node lost mid-run."""

    weights, precision = None, "fp32"

    def __init__(self, marker: str):
        self.inner, self.marker, self.batches = create_embedder("colour-texture"), marker, 0
        self.name, self.dim, self.input_size = self.inner.name, self.inner.dim, self.inner.input_size
        self.fingerprint = self.inner.fingerprint

    def embed(self, batch):
        self.batches += 1
        if self.batches == 2 and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os._exit(1)
        return self.inner.embed(batch)


class _DiesOnMagenta:
    """colour-texture, but the worker process exits abruptly on every batch holding the all-magenta photo: a
    photo that crashes the decoder or the model (native code) on every node, every time."""

    weights, precision = None, "fp32"

    def __init__(self):
        self.inner = create_embedder("colour-texture")
        self.name, self.dim, self.input_size = self.inner.name, self.inner.dim, self.inner.input_size
        self.fingerprint = self.inner.fingerprint

    def embed(self, batch):
        means = batch.reshape(len(batch), -1, 3).mean(axis=1)
        if (np.abs(means - (255, 0, 255)) < 8).all(axis=1).any():
            os._exit(1)
        return self.inner.embed(batch)


def ray_index(session, build=None):
    """Index on the local Ray; the workers build the session's embedder from its spec, or call `build`."""
    return session.index(engine=RayEngine(build=build), batch_size=BATCH)


def local_vectors(folder, data_dir, monkeypatch):
    monkeypatch.setenv("FASHIONREC_DATA_DIR", str(data_dir / "local"))
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        session.index()
        return session.store.load_vectors()


@pytest.mark.usefixtures("local_ray")
def test_ray_vectors_equal_local_indexing_and_only_changes_are_embedded(make_catalog, data_dir, monkeypatch):
    folder = make_catalog(14)
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        report = ray_index(session)
        assert (report.embedded, report.indexed) == (14, 14)
        assert [relpath for relpath, _ in report.newly_skipped] == ["broken.jpg"]
        relpaths, vectors = session.store.load_vectors()
        assert ray_index(session).embedded == 0  # nothing new
        (folder / "img003.jpg").write_bytes((folder / "img004.jpg").read_bytes())
        changed = ray_index(session)
        assert (changed.embedded, changed.unchanged) == (1, 14)
    local_relpaths, local = local_vectors(folder, data_dir, monkeypatch)
    assert local_relpaths == relpaths
    before_change = np.einsum("ij,ij->i", vectors, local)
    assert before_change[relpaths.index("img004.jpg")] >= 0.9999
    assert np.delete(before_change, relpaths.index("img003.jpg")).min() >= 0.9999


@pytest.mark.usefixtures("local_ray")
def test_a_worker_killed_mid_run_loses_nothing(make_catalog, data_dir, monkeypatch, tmp_path):
    folder = make_catalog(16)
    marker = tmp_path / "worker-died"
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        report = ray_index(session, functools.partial(_DiesOnce, str(marker)))
        assert marker.exists()  # a worker did die
        assert (report.embedded, report.indexed) == (16, 16)
        relpaths, vectors = session.store.load_vectors()
    assert np.einsum("ij,ij->i", vectors, local_vectors(folder, data_dir, monkeypatch)[1]).min() >= 0.9999


@pytest.mark.usefixtures("local_ray")
def test_a_photo_that_kills_every_worker_ends_the_run_with_a_message_and_keeps_the_rest(make_catalog):
    from PIL import Image

    folder = make_catalog(48)  # three blocks of 16 (four batches each) go to Ray; the photo is in the last
    Image.new("RGB", (60, 80), (255, 0, 255)).save(folder / "poison.png")
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        with pytest.raises(UserError, match=r"died 4 times on the same batch") as raised:
            ray_index(session, _DiesOnMagenta)
        kept = session.store.count()
    assert f"{49 - kept} photos are not indexed yet" in str(raised.value)
    assert 0 < kept < 49  # what came back before the photo's block was committed


@pytest.mark.usefixtures("local_ray")
def test_workers_with_another_model_are_refused(make_catalog):
    from desktop_app.core.embedders.colour_texture import ColourTextureEmbedder

    class Other(ColourTextureEmbedder):
        fingerprint = "another model"

    with CatalogSession(make_catalog(3), create_embedder("colour-texture")) as session:
        with pytest.raises(UserError, match="another model"):
            ray_index(session, Other)
        assert session.store.count() == 0


@pytest.mark.usefixtures("local_ray")
def test_cli_index_with_the_ray_engine_then_query(make_catalog, capsys):
    import ray

    folder = make_catalog(6)
    address = ray.get_runtime_context().gcs_address  # the running cluster passes the address check
    assert cli.main(["index", str(folder), "--engine", "ray", "--address", address, "--model", "colour-texture"]) == 0
    captured = capsys.readouterr()
    assert "6 embedded" in captured.out
    assert [line for line in captured.err.splitlines() if not line.startswith(("catalog ", "model ", "indexing "))] \
        == []  # nothing from Ray itself (its start-up output goes to the log file)
    assert cli.main(["query", str(folder / "img002.jpg"), "--catalog", str(folder), "--model", "colour-texture",
                     "--include-self", "-k", "1"]) == 0
    assert capsys.readouterr().out.strip().endswith("img002.jpg")


def test_without_ray_the_option_says_how_to_install_it(monkeypatch, make_catalog, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(UserError, match=r"pip install -e '\.\[cluster\]'"):
        import_ray()
    assert cli.main(["index", str(make_catalog(2)), "--engine", "ray", "--model", "colour-texture"]) == 1
    assert capsys.readouterr().err.strip() == f"fashionrec: {INSTALL_HINT}"
    assert cli.main(["index", str(make_catalog(2)), "--address", "head:6379", "--model", "colour-texture"]) == 1
    assert "use it with --engine ray" in capsys.readouterr().err


def _models_and_precisions():
    """Every registered model at every precision it has; the neural ones are heavy (real forward passes)."""
    from desktop_app.core.embedders import MODELS, needs_weights
    from desktop_app.core.embedders.precision import INT8_MODELS

    for model in MODELS:
        for precision in ("fp32", "int8") if model in INT8_MODELS else ("fp32",):
            neural = needs_weights(model) or precision == "int8" or model.startswith("efficientnet")
            yield pytest.param(model, precision, marks=[pytest.mark.heavy] if neural else [],
                               id=f"{model}-{precision}")


@pytest.mark.usefixtures("local_ray")
@pytest.mark.parametrize(("model", "precision"), list(_models_and_precisions()))
def test_every_model_and_precision_gives_on_ray_the_vectors_of_local_indexing(model, precision, make_catalog,
                                                                               data_dir, monkeypatch):
    from desktop_app.core.embedders import needs_weights
    from desktop_app.core.weights import random_weights

    folder = make_catalog(6).resolve()
    weights = random_weights(0) if needs_weights(model) else None  # resnet50: the explicit seeded init

    def session():
        return CatalogSession(folder, create_embedder(model, weights, precision=precision, catalog=folder))

    with session() as on_ray:
        assert ray_index(on_ray).embedded == 6
        fingerprint, (relpaths, vectors) = on_ray.store.fingerprint, on_ray.store.load_vectors()
    monkeypatch.setenv("FASHIONREC_DATA_DIR", str(data_dir / "local"))
    with session() as local:
        local.index()
        assert local.store.fingerprint == fingerprint and local.embedder.precision == precision
        local_relpaths, local_vectors = local.store.load_vectors()
    assert local_relpaths == relpaths
    assert np.abs(vectors - local_vectors).max() <= 1e-5


def test_a_wrong_cluster_address_is_one_line_within_seconds(make_catalog, capsys):
    pytest.importorskip("ray.data")
    folder = make_catalog(2)
    started = time.monotonic()
    assert cli.main(["index", str(folder), "--engine", "ray", "--address", "127.0.0.1:1",
                     "--model", "colour-texture"]) == 1
    assert time.monotonic() - started < 30  # Ray itself retried for many minutes
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fashionrec: No Ray cluster answers at 127.0.0.1:1 (")


def test_the_address_check_tells_a_silent_or_foreign_server_from_a_cluster():
    from desktop_app.core.ray_cluster import check_reachable

    def serve(answer: bytes | None):
        listener = socket.create_server(("127.0.0.1", 0))

        def run():
            connection, _ = listener.accept()
            if answer is not None:
                connection.sendall(answer)
                connection.close()
            else:
                time.sleep(3)  # accepts, says nothing
        threading.Thread(target=run, daemon=True).start()
        return f"127.0.0.1:{listener.getsockname()[1]}"

    with pytest.raises(UserError, match="something answers there, but not a Ray cluster"):
        check_reachable(serve(b"HTTP/1.1 400 Bad Request\r\n\r\n"), timeout=5)
    with pytest.raises(UserError, match="no answer within 1 s"):
        check_reachable(serve(None), timeout=1)
    with pytest.raises(UserError, match="is not a Ray cluster address: write host:port"):
        check_reachable("head")
