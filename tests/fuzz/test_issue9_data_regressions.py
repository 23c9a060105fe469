"""Regression tests for issue 9 (data loaders, size budget, foreign exceptions): one per reported case.

Every hostile file here is a few KB on disk; a test that regressed to allocating what the file
declares would fail with a MemoryError (or the limit error missing), not exhaust the machine:
the declared sizes are far beyond any RAM.
"""

from __future__ import annotations

import os
import signal
import tracemalloc
from contextlib import contextmanager

import h5py
import numpy as np
import pytest
from fuzz_files import assert_names_file, gzip_zeros, h5_declaring, idx_bytes, png_header_only, write_h5
from PIL import Image

from deepstep._files import require_regular_file
from deepstep._limits import (
    ENV_MAX_ELEMENTS,
    MAX_ELEMENTS,
    MAX_IMAGE_PIXELS,
    SizeLimitError,
    check_elements,
    max_elements,
)
from deepstep._validation import check_array, check_int, check_real, dtype_name
from deepstep.data import (
    DataFormatError,
    load_dataset,
    load_h5,
    load_idx,
    load_image,
    load_image_folder,
    one_hot,
    read_idx,
)
from deepstep.data.idx import IMAGES_MAGIC, LABELS_MAGIC
from deepstep.nn import functional as F


@contextmanager
def no_hang(seconds: int = 10):
    """Turn a hang (e.g. opening a FIFO) into a test failure instead of a stuck test run."""
    def fail(signum, frame):
        raise AssertionError(f"hung for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def peak_allocation_below(nbytes: int):
    """Fail if the block allocates more than ``nbytes`` at once (NumPy reports to tracemalloc)."""
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < nbytes, f"peak allocation {peak} bytes >= {nbytes}"


# ---------------------------------------------------------------- the size budget
def test_budget_limit_and_environment_override(monkeypatch):
    assert max_elements() == MAX_ELEMENTS == 2**31
    assert check_elements((2**15, 2**16), "x") == 2**31
    with pytest.raises(SizeLimitError, match=r"x: shape \(2147483649,\) = 2147483649 elements .*limit"):
        check_elements((2**31 + 1,), "x")
    monkeypatch.setenv(ENV_MAX_ELEMENTS, "100")
    with pytest.raises(SizeLimitError, match=r"padding: shape \(1, 101\) = 101 elements \(404 B as float32"):
        check_elements((1, 101), "padding", np.float32)
    monkeypatch.setenv(ENV_MAX_ELEMENTS, "lots")
    with pytest.raises(ValueError, match="DEEPSTEP_MAX_ELEMENTS must be a positive integer, got 'lots'"):
        check_elements(1, "x")
    with pytest.raises(ValueError, match="got 'lots'"):  # refused at every call, not only the first
        max_elements()
    # the parsed value is remembered per setting: a change, or going back, is seen at the next call
    monkeypatch.setenv(ENV_MAX_ELEMENTS, "100")
    assert max_elements() == 100
    monkeypatch.delenv(ENV_MAX_ELEMENTS)
    assert max_elements() == MAX_ELEMENTS and check_elements((2**15, 2**16), "x") == 2**31


def test_shapes_of_plain_ints_and_of_other_integers_are_checked_alike():
    assert check_elements((2, 3), "x") == check_elements((np.int64(2), 3), "x") == check_elements(6, "x") == 6
    for bad in ((2, True), (2, 3.0), (np.float64(2), 3)):
        with pytest.raises(SizeLimitError, match="sizes must be integers"):
            check_elements(bad, "x")
    with pytest.raises(SizeLimitError, match="sizes must be >= 0, got -1"):
        check_elements((2, -1), "x")


def test_budget_messages_for_absurd_sizes():
    with pytest.raises(SizeLimitError, match=r"units: shape \(~10\^400, ~10\^80\) = about 10\^480 elements "
                                             r"\(more than 1024 EiB as float64\) exceeds the limit"):
        check_elements((10**400, 10**80), "units", np.float64)
    with pytest.raises(SizeLimitError, match=r"sizes must be >= 0, got -1"):
        check_elements((3, -1), "kernel")
    with pytest.raises(DataFormatError, match="f.npz: sizes must be integers"):
        check_elements((3, 2.5), "f.npz", error=DataFormatError)


# ---------------------------------------------------------------- HDF5
def test_h5_declaring_24_tib_is_refused_from_its_header(tmp_path):
    path = h5_declaring(tmp_path / "huge.h5", (2**31, 64, 64, 3))
    assert path.stat().st_size < 100_000
    with peak_allocation_below(2**20), pytest.raises(DataFormatError) as info:
        load_h5(path)
    assert_names_file(info.value, path)
    assert "dataset 'train_set_x'" in str(info.value) and "24 TiB as uint8" in str(info.value)
    with pytest.raises(DataFormatError, match="exceeds the limit"):
        load_dataset(path)


def test_h5_with_zero_images(tmp_path):
    path = write_h5(tmp_path / "empty.h5", np.zeros((0, 64, 64, 3), np.uint8), np.zeros(0, np.int64))
    with pytest.raises(DataFormatError, match=r"empty\.h5: 'train_set_x' holds no images \(shape \(0,"):
        load_h5(path)


def test_h5_label_beyond_the_class_limit_builds_no_huge_class_list(tmp_path):
    path = write_h5(tmp_path / "y.h5", np.zeros((1, 2, 2, 3), np.uint8), np.array([2**40]))
    with peak_allocation_below(2**20), pytest.raises(DataFormatError, match=r"must lie in 0\.\.1048575"):
        load_h5(path)


def test_h5_with_data_outside_the_file_is_refused(tmp_path):
    outside = tmp_path / "raw.bin"
    outside.write_bytes(bytes(12))
    path = tmp_path / "external.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("train_set_x", shape=(1, 2, 2, 3), dtype="u1", external=[(str(outside), 0, 12)])
        f["train_set_y"] = np.array([0])
    with pytest.raises(DataFormatError, match="keeps its data outside the file"):
        load_h5(path)


def test_h5_with_a_group_where_a_dataset_belongs(tmp_path):
    path = tmp_path / "group.h5"
    with h5py.File(path, "w") as f:
        f.create_group("train_set_x")
        f["train_set_y"] = np.array([0])
    with pytest.raises(DataFormatError, match="'train_set_x' must be a dataset, got Group"):
        load_h5(path)


# ---------------------------------------------------------------- FIFOs and odd entries
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "data.h5"
    os.mkfifo(fifo)
    with no_hang():
        for load in (load_h5, lambda p: read_idx(p, IMAGES_MAGIC), load_image, load_dataset):
            with pytest.raises(DataFormatError, match="not a regular file \\(a FIFO\\)"):
                load(fifo)
        with pytest.raises(ValueError, match="data.h5: not a regular file"):
            require_regular_file(fifo, "model file")
    (tmp_path / "cls").mkdir()
    os.mkfifo(tmp_path / "cls" / "a.png")
    with no_hang(), pytest.raises(DataFormatError, match=r"a\.png: not a regular file"):
        load_image_folder(tmp_path, 4)


def test_require_regular_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="model file not found"):
        require_regular_file(tmp_path / "none.npz", "model file")
    with pytest.raises(IsADirectoryError, match="model file is a folder"):
        require_regular_file(tmp_path, "model file")
    with pytest.raises(ValueError, match="NUL byte"):
        require_regular_file("a\0b", "model file")
    with pytest.raises(TypeError, match="path must be a str or path-like, got int"):
        require_regular_file(3, "model file")
    (tmp_path / "f").write_bytes(b"x")
    assert require_regular_file(str(tmp_path / "f")) == tmp_path / "f"


def test_image_folder_reports_odd_entries(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "dog").mkdir()
    Image.new("RGB", (3, 3)).save(tmp_path / "cat" / "a.png")
    with pytest.raises(DataFormatError, match=r"class sub-folder\(s\) 'dog' hold no .png/.jpg/.jpeg images"):
        load_image_folder(tmp_path, 4)
    Image.new("RGB", (3, 3)).save(tmp_path / "dog" / "b.png")
    (tmp_path / "dog" / "c.png").symlink_to(tmp_path / "missing.png")
    with pytest.raises(DataFormatError, match=r"c\.png: .*dangling"):
        load_image_folder(tmp_path, 4)


# ---------------------------------------------------------------- images
def test_png_declaring_100000_by_100000_pixels(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(100_000, 100_000))
    with pytest.raises(DataFormatError) as info:
        load_image(path)
    assert_names_file(info.value, path)
    (tmp_path / "cls").mkdir()
    path.rename(tmp_path / "cls" / "bomb.png")
    with pytest.raises(DataFormatError, match="bomb.png"):
        load_dataset(tmp_path)


def test_image_over_the_pixel_limit_is_refused_before_decoding(tmp_path):
    side = int(MAX_IMAGE_PIXELS**0.5) + 1  # over our limit, under Pillow's own error threshold
    path = tmp_path / "big.png"
    path.write_bytes(png_header_only(side, side))
    with peak_allocation_below(2**20), pytest.raises(DataFormatError, match=rf"{side} x {side} pixels"):
        load_image(path)


def _saved(img: Image.Image, path, fmt: str | None = None):
    img.save(path, format=fmt)
    return path


RAMP16 = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1040)  # 0 .. 65520


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    path = _saved(Image.fromarray(RAMP16), tmp_path / "g16.png")
    with Image.open(path) as img:
        assert img.mode == "I;16"
    want = np.rint(RAMP16 * (255 / 65535)).astype(np.uint8)
    np.testing.assert_array_equal(load_image(path, channels=1)[..., 0], want)
    np.testing.assert_array_equal(load_image(path, channels=3), np.repeat(want[..., None], 3, axis=2))


@pytest.mark.parametrize(("mode", "opened_as"), [("I;16B", "I;16B"), ("I;16L", "I;16")])
def test_16_bit_tiff_in_both_byte_orders(tmp_path, mode, opened_as):
    # Image.convert("I;16B") itself clips at 255 (Pillow 13), so the image is built from raw bytes.
    dtype = ">u2" if mode == "I;16B" else "<u2"
    path = _saved(Image.frombytes(mode, (8, 8), RAMP16.astype(dtype).tobytes()), tmp_path / "g16.tif")
    with Image.open(path) as img:
        assert img.mode == opened_as
    want = np.rint(RAMP16 * (255 / 65535)).astype(np.uint8)
    np.testing.assert_array_equal(load_image(path, channels=1)[..., 0], want)


def test_16_bit_native_order_in_memory():
    """I;16N cannot be saved to a file by Pillow; the conversion itself is checked."""
    from deepstep.data.images import _to_8bit

    img = Image.frombytes("I;16N", (8, 8), RAMP16.astype("=u2").tobytes())
    got = np.asarray(_to_8bit(img, Image, "mem"))
    np.testing.assert_array_equal(got, np.rint(RAMP16 * (255 / 65535)).astype(np.uint8))


def test_32_bit_integer_images(tmp_path):
    small = RAMP16.astype(np.int32)  # 16-bit samples in a 32-bit container
    path = _saved(Image.fromarray(small, "I"), tmp_path / "i16.tif")
    np.testing.assert_array_equal(load_image(path, channels=1)[..., 0], np.rint(small * (255 / 65535)))
    full = np.linspace(-2**31, 2**31 - 1, 64).astype(np.int64).astype(np.int32).reshape(8, 8)
    path = _saved(Image.fromarray(full, "I"), tmp_path / "i32.tif")
    want = np.rint((full.astype(np.float64) + 2**31) * (255 / (2**32 - 1)))
    np.testing.assert_array_equal(load_image(path, channels=1)[..., 0], want)
    assert load_image(path, channels=1).max() == 255


def test_float_images(tmp_path):
    unit = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    path = _saved(Image.fromarray(unit, "F"), tmp_path / "f.tif")
    np.testing.assert_array_equal(load_image(path, channels=1)[..., 0], np.rint(unit * 255))
    path = _saved(Image.fromarray(unit * 255, "F"), tmp_path / "f255.tif")
    np.testing.assert_array_equal(load_image(path, channels=1)[..., 0], np.rint(unit * 255))
    path = _saved(Image.fromarray(unit * 1000, "F"), tmp_path / "f1000.tif")
    with pytest.raises(DataFormatError, match=r"f1000\.tif: floating-point image values must lie in 0\.\.1"):
        load_image(path)
    bad = unit.copy()
    bad[0, 0] = np.nan
    path = _saved(Image.fromarray(bad, "F"), tmp_path / "nan.tif")
    with pytest.raises(DataFormatError, match=r"nan\.tif: floating-point image holds NaN"):
        load_image(path)


# Four flat 8 x 8 quadrants: JPEG encodes flat blocks almost exactly.
GREY = np.kron(np.array([[0, 64], [128, 255]], dtype=np.uint8), np.ones((8, 8), np.uint8))


@pytest.mark.parametrize(("mode", "fmt"), [
    ("1", "PNG"), ("L", "PNG"), ("P", "PNG"), ("RGB", "PNG"), ("RGBA", "PNG"), ("LA", "PNG"),
    ("CMYK", "TIFF"), ("YCbCr", "JPEG"), ("LAB", "TIFF"), ("I", "TIFF"), ("F", "TIFF"), ("I;16", "PNG"),
])
def test_every_mode_gives_the_grey_levels(tmp_path, mode, fmt):
    """A grey ramp saved in each mode loads as (nearly) the same grey levels, never saturated."""
    rgb = Image.fromarray(np.repeat(GREY[..., None], 3, axis=2), "RGB")
    if mode in ("I", "I;16"):
        img = Image.fromarray(GREY.astype(np.uint16) * 257).convert(mode) if mode == "I" else \
            Image.fromarray(GREY.astype(np.uint16) * 257)
    elif mode == "F":
        img = Image.fromarray(GREY.astype(np.float32) / 255, "F")
    elif mode == "1":
        img = Image.fromarray(GREY >= 128)
    elif mode == "P":
        img = Image.fromarray(GREY, "P")
        img.putpalette([v for level in range(256) for v in (level, level, level)])
    else:
        img = rgb.convert(mode)
    path = tmp_path / f"img.{fmt.lower()}"
    img.save(path, format=fmt, **({"quality": 100, "subsampling": 0} if fmt == "JPEG" else {}))
    got = load_image(path, channels=1)[..., 0].astype(int)
    want = (GREY >= 128) * 255 if mode == "1" else GREY
    tolerance = 4 if fmt in ("JPEG",) or mode in ("CMYK", "LAB") else 1
    assert np.abs(got - want).max() <= tolerance, (mode, got)
    assert load_image(path, channels=3).shape == (16, 16, 3)


# ---------------------------------------------------------------- IDX
def test_gzip_idx_bomb_is_never_inflated_beyond_its_header(tmp_path):
    """Scaled-down issue case (4 MB gzip -> 4 GiB): 64 KiB of gzip expanding to 64 MiB."""
    header = idx_bytes(IMAGES_MAGIC, (10, 28, 28), b"")
    path = gzip_zeros(tmp_path / "t10k-images-idx3-ubyte.gz", header, 64 * 2**20)
    assert path.stat().st_size < 200_000
    with peak_allocation_below(4 * 2**20), pytest.raises(DataFormatError, match="IDX data too long") as info:
        read_idx(path, IMAGES_MAGIC)
    assert_names_file(info.value, path)


def test_idx_header_claiming_terabytes(tmp_path):
    import gzip

    path = tmp_path / "x-idx3.gz"
    path.write_bytes(gzip.compress(idx_bytes(IMAGES_MAGIC, (60000, 65536, 65536), b"\x00" * 16)))
    with peak_allocation_below(2**20), pytest.raises(DataFormatError, match="IDX header: shape .* exceeds"):
        read_idx(path, IMAGES_MAGIC)
    raw = tmp_path / "y-idx1"
    raw.write_bytes(idx_bytes(LABELS_MAGIC, (0,), b""))
    with pytest.raises(DataFormatError, match=r"declares an empty array, shape \(0,\)"):
        read_idx(raw, LABELS_MAGIC)


def test_idx_pair_and_bad_magic_argument(tmp_path):
    images = tmp_path / "i"
    labels = tmp_path / "l"
    images.write_bytes(idx_bytes(IMAGES_MAGIC, (2, 3, 3)))
    labels.write_bytes(idx_bytes(LABELS_MAGIC, (2,)))
    x, y = load_idx(images, labels)
    assert x.shape == (2, 3, 3) and y.tolist() == [0, 1]
    with pytest.raises(ValueError, match="magic must be 2051"):
        read_idx(images, 7)


# ---------------------------------------------------------------- foreign exceptions from the API
HUGE = 10**400


def test_huge_integers_for_real_arguments_are_value_errors():
    from deepstep import nn, optim

    cases = {
        "learning_rate": lambda: optim.SGD(learning_rate=HUGE),
        "weight_decay": lambda: optim.AdamW(weight_decay=HUGE),
        "rate": lambda: nn.layers.Dropout(HUGE),
        "alpha": lambda: nn.layers.LeakyReLU(alpha=HUGE),
    }
    for name, make in cases.items():
        with pytest.raises(ValueError, match=f"{name} must be a finite real number, got an integer of 401"):
            make()
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="alpha must be a finite real number"):
        F.leaky_relu(x, HUGE)
    with pytest.raises(ValueError, match="rate must be a finite real number"):
        F.dropout(x, -HUGE, np.random.default_rng(0))
    with pytest.raises(ValueError, match="must be <= 5, got an integer of 401 digits"):
        check_int(HUGE, "n", maximum=5)
    with pytest.raises(ValueError, match="epsilon must be a finite real number"):
        check_real(HUGE, "epsilon")


def test_huge_validation_split_and_weight_decay_in_training():
    from deepstep import nn

    model = nn.Sequential([nn.layers.Dense(2)], input_shape=(3,))
    with pytest.raises(ValueError, match="weight_decay must be a finite real number"):
        model.compile("sgd", weight_decay=HUGE)
    model.compile("sgd")
    x, y = np.zeros((4, 3), np.float32), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="validation_split must be a finite real number"):
        model.fit(x, y, validation_split=HUGE, verbose=0)


@pytest.mark.parametrize("op", ["conv2d", "pool2d"])
def test_stride_2_pow_63(op):
    x = np.zeros((1, 4, 4, 1), np.float32)
    call = (lambda s: F.conv2d(x, np.zeros((2, 2, 1, 1), np.float32), stride=s)) if op == "conv2d" else \
        (lambda s: F.pool2d(x, 2, stride=s))
    with pytest.raises(ValueError, match=r"stride must be <= 2147483648, got 9223372036854775808"):
        call(2**63)
    with pytest.raises(ValueError, match=r"stride\[1\] must be <= 2147483648"):
        call((1, 2**63))


@pytest.mark.parametrize("pad", [10**5, 10**6, 10**8, 10**9, 10**12])
def test_huge_pads_name_padding_before_allocating(pad):
    x = np.zeros((1, 4, 4, 1), np.float32)
    with peak_allocation_below(2**20), pytest.raises(ValueError, match="padding") as info:
        F.conv2d(x, np.zeros((3, 3, 1, 1), np.float32), padding=pad)
    assert not isinstance(info.value, MemoryError)
    with peak_allocation_below(2**20), pytest.raises(ValueError, match="padding"):
        F.pool2d(x, pool_size=min(2 * pad + 1, 2**31), padding=pad)
    with peak_allocation_below(2**20), pytest.raises(ValueError, match="padding"):
        F.pool2d(x, pool_size=2**31, padding="same")


def test_batch_norm_without_beta_names_it():
    x, gamma = np.ones((2, 3), np.float32), np.ones(3, np.float32)
    with pytest.raises(TypeError, match=r"beta must be a float32 or float64 array of shape \(3,\), got None"):
        F.batch_norm(x, gamma, None)
    with pytest.raises(TypeError, match="gamma must be"):
        F.batch_norm(x, None, gamma)
    with pytest.raises(TypeError, match="cache must be the dict returned as cache by batch_norm"):
        F.batch_norm_backward(x, {"x": 1})
    with pytest.raises(TypeError, match="cache must be the mask returned as cache by dropout"):
        F.dropout_backward(x, None)


def test_one_hot_and_image_size_beyond_the_budget():
    with peak_allocation_below(2**20), pytest.raises(ValueError, match="num_classes"):
        one_hot(np.array([0, 1]), 10**12)
    with pytest.raises(ValueError, match=r"image_size: shape \(1000000, 1000000, 3\)"):
        load_image("unused.png", image_size=10**6)
    with pytest.raises(TypeError, match=r"image_size must be an int or \(height, width\), got '64'"):
        load_image("unused.png", image_size="64")
    with pytest.raises(TypeError, match=r"image_size\[0\] must be an integer, got 64.5"):
        load_image("unused.png", image_size=(64.5, 64))
    with pytest.raises(ValueError, match="channels must be 1 or 3, got True"):
        load_image("unused.png", channels=True)


def test_real_arrays_integer_arguments_and_dtype_names_as_numpy_defines_them():
    for dtype in (np.int8, np.uint64, np.float16, np.float32, np.float64, np.longdouble):
        assert check_array(np.zeros(2, dtype), "x").dtype == dtype
    for dtype in (np.bool_, np.complex64, np.object_, np.str_, "datetime64[s]", "timedelta64[s]"):
        with pytest.raises(TypeError, match="x must hold real numbers"):
            check_array(np.zeros(2, dtype), "x")
    assert check_int(np.int64(3), "n", 1) == 3 and type(check_int(np.int64(3), "n")) is int
    for bad in (True, 2.0, "2"):
        with pytest.raises(TypeError, match="n must be an integer"):
            check_int(bad, "n")
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        check_int(0, "n", 1)
    for dtype in (np.float32, np.dtype(np.float64), np.dtype(">f4"), np.int16):
        assert dtype_name(dtype) == np.dtype(dtype).name
