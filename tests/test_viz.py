"""deepstep.viz writes valid PNG pictures of sane size, and rejects bad input."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

from deepstep import viz  # noqa: E402


def _png_size(path):
    with Image.open(path) as img:
        assert img.format == "PNG"
        img.load()
        return img.size


def _assert_sane(path, min_side=250, max_side=2500):
    w, h = _png_size(path)
    assert min_side <= w <= max_side and min_side <= h <= max_side, (w, h)
    assert not list(path.parent.glob(".*.tmp")), "temporary file left behind"


def test_plot_history(tmp_path):
    history = {"loss": [1.0, 0.5, 0.3], "accuracy": [0.5, 0.8, 0.9], "val_loss": [1.1, 0.7, 0.6],
               "val_accuracy": [0.4, 0.7, 0.85]}
    path = viz.plot_history(history, tmp_path / "sub" / "h.png")
    assert path == tmp_path / "sub" / "h.png"
    _assert_sane(path)
    assert _png_size(path) == (1000, 400)


def test_plot_history_accepts_history_object_and_loss_only(tmp_path):
    class History:
        history = {"loss": [0.3]}

    _assert_sane(viz.plot_history(History(), tmp_path / "h.png"))
    with pytest.raises(ValueError, match="history must hold a 'loss' list"):
        viz.plot_history({"acc": [1]}, tmp_path / "x.png")
    with pytest.raises(TypeError, match="history must be a History or a dict"):
        viz.plot_history([1, 2], tmp_path / "x.png")


def test_plot_confusion_matrix(tmp_path, rng):
    cm = rng.integers(0, 20, (4, 4))
    _assert_sane(viz.plot_confusion_matrix(cm, ["a", "b", "c", "d"], tmp_path / "cm.png"))
    with pytest.raises(ValueError, match=r"cm must have shape \(3, 3\) for 3 classes, got \(4, 4\)"):
        viz.plot_confusion_matrix(cm, ["a", "b", "c"], tmp_path / "cm.png")
    with pytest.raises(ValueError, match="cm must hold counts >= 0, got -1"):
        viz.plot_confusion_matrix(-np.ones((2, 2)), ["a", "b"], tmp_path / "cm.png")
    with pytest.raises(ValueError, match="cm must hold counts >= 0, got nan"):
        viz.plot_confusion_matrix(np.full((2, 2), np.nan), ["a", "b"], tmp_path / "cm.png")


def test_plot_misclassified(tmp_path, rng):
    x = rng.random((20, 8, 8, 1))
    y = np.arange(20) % 3
    pred = y.copy()
    pred[:5] = (pred[:5] + 1) % 3
    _assert_sane(viz.plot_misclassified(x, y, pred, ["a", "b", "c"], tmp_path / "m.png"), min_side=200)
    none_wrong = viz.plot_misclassified(rng.random((3, 16)), y[:3], y[:3], ["a", "b", "c"], tmp_path / "n")
    _assert_sane(none_wrong, min_side=150)
    flat_rgb = viz.plot_misclassified(rng.random((2, 48)), np.array([0, 1]), np.array([1, 0]), ["a", "b"],
                                      tmp_path / "f.png")
    _assert_sane(flat_rgb, min_side=150)
    with pytest.raises(ValueError, match="same length"):
        viz.plot_misclassified(x, y[:3], y, ["a", "b", "c"], tmp_path / "m.png")
    with pytest.raises(ValueError, match=r"y_pred must hold class indices in 0\.\.1"):
        viz.plot_misclassified(x, y % 2, y, ["a", "b"], tmp_path / "m.png")
    with pytest.raises(ValueError, match="y_pred must hold integer class indices, got non-integer value 0.5"):
        viz.plot_misclassified(x, y, y + 0.5, ["a", "b", "c"], tmp_path / "m.png")


def test_plot_filters_and_feature_maps(tmp_path, rng):
    _assert_sane(viz.plot_filters(rng.standard_normal((3, 3, 1, 16)), tmp_path / "f.png"))
    _assert_sane(viz.plot_filters(rng.standard_normal((5, 5, 3, 6)), tmp_path / "f3.png"))
    _assert_sane(viz.plot_feature_maps(rng.standard_normal((8, 8, 70)), tmp_path / "m.png", "conv"))
    with pytest.raises(ValueError, match=r"kernel must be a 4-D array \(kh, kw, Cin, Cout\)"):
        viz.plot_filters(np.zeros((3, 3, 4)), tmp_path / "f.png")
    with pytest.raises(ValueError, match=r"maps must be a 3-D array \(H, W, C\)"):
        viz.plot_feature_maps(np.zeros((1, 3, 3, 4)), tmp_path / "m.png")
    with pytest.raises(ValueError, match=r"maps must have every dimension >= 1 .*, got shape \(3, 3, 0"):
        viz.plot_feature_maps(np.zeros((3, 3, 0)), tmp_path / "m.png")
    with pytest.raises(ValueError, match=r"kernel must have every dimension >= 1 .*, got shape \(3, 3, 1, 0"):
        viz.plot_filters(np.zeros((3, 3, 1, 0)), tmp_path / "f.png")


def test_overwrite_is_atomic(tmp_path):
    path = tmp_path / "h.png"
    path.write_bytes(b"old")
    viz.plot_history({"loss": [1.0, 0.5]}, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.png"]


def test_plot_misclassified_shows_every_error_with_names(tmp_path, rng):
    x = rng.random((40, 8, 8, 1))
    y = np.zeros(40, dtype=np.int64)
    pred = np.ones(40, dtype=np.int64)  # 40 errors: more than the old 16
    names = [f"class/img_{i:03d}.png" for i in range(40)]
    path = viz.plot_misclassified(x, y, pred, ["a", "b"], tmp_path / "m.png", names=names)
    _assert_sane(path, min_side=400)
    with pytest.raises(ValueError, match=r"names must hold one name per image \(40\), got 2"):
        viz.plot_misclassified(x, y, pred, ["a", "b"], tmp_path / "m.png", names=["a", "b"])


def test_plot_feature_maps_with_the_input_and_a_long_title(tmp_path, rng):
    title = "Feature maps of conv2d_1 for held-out test image sign-digits/7/IMG_5678_a_long_file_name.jpg"
    path = viz.plot_feature_maps(rng.random((8, 8, 4)), tmp_path / "m.png", title,
                                 image=rng.random((16, 16, 3)))
    _assert_sane(path, min_side=150)
