"""A residual network end to end through the CLI: train, info, gradcheck, visualize."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.models import get_model
from deepstep.optim import Adam

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def signs_folder(tmp_path_factory):
    """Six classes of 64x64 RGB images (4 each): a bright square whose place gives the class."""
    root = tmp_path_factory.mktemp("signs")
    rng = np.random.default_rng(0)
    for k in range(6):
        (root / str(k)).mkdir()
        for i in range(4):
            img = rng.integers(0, 60, (64, 64, 3)).astype(np.uint8)
            r, c = divmod(k, 3)
            img[r * 32:r * 32 + 24, c * 20:c * 20 + 20] = 230
            Image.fromarray(img).save(root / str(k) / f"{i}.png")
    return root


def test_train_info_gradcheck_visualize_a_resnet(signs_folder, tmp_path, capsys):
    from cli_helpers import run_main

    out = tmp_path / "run"
    status, _, err = run_main(capsys, "train", "--model", "resnet_small", "--data", signs_folder,
                              "--epochs", "2",
                              "--batch-size", "8", "--out", out, "--quiet")
    assert status == 0, err
    status, text, err = run_main(capsys, "info", out / "model.npz")
    assert status == 0, err
    assert "stage1_b_add (Add)" in text and "Connected to" in text
    status, text, err = run_main(capsys, "gradcheck", "resnet_mnist", "--entries", "2")
    assert status == 0, (text, err)
    assert "stage2_b_conv2" in text and "PASS" in text
    status, text, err = run_main(capsys, "visualize", out / "model.npz", signs_folder / "0" / "0.png",
                                 "--out", tmp_path / "pics")
    assert status == 0, err
    assert (tmp_path / "pics" / "filters.png").is_file()


def test_resnet_small_learns_a_tiny_problem():
    rng = np.random.default_rng(0)
    x = rng.random((48, 28, 28, 1), dtype=np.float32) * 0.2
    y = np.arange(48) % 10
    for i, k in enumerate(y):
        x[i, 2 * k:2 * k + 6, 4:20, 0] = 1.0
    model = get_model("resnet_mnist", seed=0)
    model.compile(Adam(0.01), "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
