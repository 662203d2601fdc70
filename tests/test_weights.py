import pytest

from desktop_app.core import settings, weights
from desktop_app.core.errors import UserError


@pytest.fixture
def no_weights_anywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setattr(weights, "resources_dir", lambda: tmp_path / "resources")
    return tmp_path


def _fake_h5(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    return path


def test_missing_weights_is_a_clear_error_never_random(no_weights_anywhere):
    with pytest.raises(UserError) as err:
        weights.resolve_weights(allow_download=False)
    message = str(err.value)
    assert weights.WEIGHTS_FILENAME in message and "--weights" in message and "--random-weights" in message


def test_resolution_order(no_weights_anywhere, monkeypatch):
    tmp = no_weights_anywhere
    cache = _fake_h5(tmp / "keras-home" / "models" / weights.WEIGHTS_FILENAME)
    assert weights.resolve_weights(allow_download=False).path == cache.resolve()
    bundled = _fake_h5(tmp / "resources" / weights.WEIGHTS_FILENAME)
    assert weights.resolve_weights(allow_download=False).path == bundled.resolve()
    saved = _fake_h5(tmp / "saved.h5")
    settings.put(weights.SETTING_KEY, str(saved))
    assert weights.resolve_weights(allow_download=False).source == "saved setting"
    env = _fake_h5(tmp / "env.h5")
    monkeypatch.setenv("FASHIONREC_WEIGHTS", str(env))
    assert weights.resolve_weights(allow_download=False).path == env.resolve()
    explicit = _fake_h5(tmp / "explicit.h5")
    chosen = weights.resolve_weights(explicit, allow_download=False)
    assert chosen.path == explicit.resolve() and not chosen.is_random


def test_explicit_bad_file_is_reported_not_skipped(no_weights_anywhere):
    _fake_h5(no_weights_anywhere / "keras-home" / "models" / weights.WEIGHTS_FILENAME)
    text = no_weights_anywhere / "notes.h5"
    text.write_text("hello")
    with pytest.raises(UserError, match="Not a Keras HDF5"):
        weights.resolve_weights(text, allow_download=False)
    with pytest.raises(UserError, match="not found"):
        weights.resolve_weights(no_weights_anywhere / "nope.h5", allow_download=False)


def test_random_weights_are_explicit_and_tagged():
    chosen = weights.random_weights(7)
    assert chosen.is_random and chosen.tag() == "random-seed-7" and "random" in chosen.describe()
