"""CLI misuse with hostile data files: one line on stderr, exit status 2, the file named, no hang.

The commands that read data (``evaluate --data``, ``predict``, ``visualize``) are run in-process
on the generated files of :mod:`fuzz_files`; issue 9 reported exit status 1 without the file's name
for a corrupt HDF5 file and a Pillow traceback for a PNG declaring 100000 x 100000 pixels.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from fuzz_files import gzip_zeros, h5_declaring, idx_bytes, png_header_only, small_h5_bytes, write_h5
from PIL import Image

from cli_helpers import assert_one_line_error, run_main
from deepstep import nn
from deepstep.data.idx import IMAGES_MAGIC, LABELS_MAGIC


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A tiny convolutional model of 8 x 8 RGB images, two classes, saved as the CLI expects."""
    layers = [nn.layers.Conv2D(2, 3), nn.layers.Flatten(), nn.layers.Dense(2)]
    model = nn.Sequential(layers, input_shape=(8, 8, 3))
    model.compile("sgd")
    path = tmp_path_factory.mktemp("model") / "model.npz"
    model.save(path)
    return path


def _bomb(path):
    path.write_bytes(png_header_only(100_000, 100_000))
    return path


def test_predict_and_visualize_a_png_bomb(model_file, tmp_path, capsys):
    bomb = _bomb(tmp_path / "bomb.png")
    for command in (["predict", model_file, bomb], ["visualize", model_file, bomb, "--out", tmp_path / "o"]):
        status, _, err = run_main(capsys, *command)
        assert_one_line_error(status, err, "bomb.png")


def test_predict_a_16_bit_png(model_file, tmp_path, capsys):
    path = tmp_path / "g16.png"
    Image.fromarray(np.full((8, 8), 65535, np.uint16)).save(path)
    status, out, err = run_main(capsys, "predict", model_file, path)
    assert status == 0, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_predict_and_evaluate_a_fifo(model_file, tmp_path, capsys):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    status, _, err = run_main(capsys, "predict", model_file, fifo)
    assert_one_line_error(status, err, "pipe.png", "not a regular file")
    status, _, err = run_main(capsys, "evaluate", model_file, "--data", fifo)
    assert_one_line_error(status, err, "pipe.png", "not a regular file")


def test_evaluate_hostile_hdf5_files(model_file, tmp_path, capsys):
    huge = h5_declaring(tmp_path / "huge.h5", (2**31, 8, 8, 3))
    empty = write_h5(tmp_path / "empty.h5", np.zeros((0, 8, 8, 3), np.uint8), np.zeros(0, np.int64))
    corrupt = bytearray(small_h5_bytes(tmp_path))
    corrupt[16] ^= 0xFF  # h5py raised RuntimeError: exit status 1, no file named
    (tmp_path / "corrupt.h5").write_bytes(bytes(corrupt))
    cases = ((huge, "exceeds the limit"), (empty, "holds no images"), (tmp_path / "corrupt.h5", ""))
    for path, fragment in cases:
        status, _, err = run_main(capsys, "evaluate", model_file, "--data", path)
        assert_one_line_error(status, err, path.name, fragment)


def test_evaluate_an_image_folder_with_a_bomb(model_file, tmp_path, capsys):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.new("RGB", (8, 8)).save(tmp_path / name / "ok.png")
    _bomb(tmp_path / "b" / "bomb.png")
    status, _, err = run_main(capsys, "evaluate", model_file, "--data", tmp_path)
    assert_one_line_error(status, err, "bomb.png")


def test_evaluate_an_mnist_folder_with_a_gzip_bomb(model_file, tmp_path, capsys):
    header = idx_bytes(IMAGES_MAGIC, (2, 8, 8), b"")
    gzip_zeros(tmp_path / "t10k-images-idx3-ubyte.gz", header, 16 * 2**20)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(LABELS_MAGIC, (2,)))
    status, _, err = run_main(capsys, "evaluate", model_file, "--data", tmp_path)
    assert_one_line_error(status, err, "t10k-images-idx3-ubyte.gz", "too long")
