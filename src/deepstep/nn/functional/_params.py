"""Parsing of the spatial hyper-parameters shared by convolution and pooling.

``stride``, ``kernel_size``/``pool_size`` and ``padding`` accept the forms users know
from Keras and PyTorch; this module turns them into explicit per-axis integers once,
at the public boundary, so the kernels only ever see validated numbers.
"""

from __future__ import annotations

from typing import Any

from ..._validation import check_choice, check_int, conv_output_size

DATA_FORMATS = ("NHWC", "NCHW")

Pair = tuple[int, int]
Padding4 = tuple[int, int, int, int]  # (top, bottom, left, right)


def as_pair(value: Any, name: str, minimum: int) -> Pair:
    """Turn an int or a pair of ints into ``(height, width)``, each >= ``minimum``."""
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (height, width), got {value!r}")
        return (
            check_int(value[0], f"{name}[0]", minimum),
            check_int(value[1], f"{name}[1]", minimum),
        )
    v = check_int(value, name, minimum)
    return (v, v)


def check_data_format(data_format: Any) -> str:
    """Validate ``data_format`` ("NHWC" or "NCHW")."""
    return check_choice(data_format, "data_format", DATA_FORMATS)


def same_padding(in_size: int, window: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "SAME" padding along one axis.

    ``out = ceil(in / stride)``; total padding
    ``max((out - 1) * stride + window - in, 0)``, split with the extra pixel at the
    end (bottom or right) when the total is odd.
    """
    out = -(-in_size // stride)
    total = max((out - 1) * stride + window - in_size, 0)
    return total // 2, total - total // 2


def resolve_padding(
    padding: Any,
    in_hw: Pair,
    window_hw: Pair,
    stride_hw: Pair,
) -> tuple[Padding4, Pair]:
    """Resolve ``padding`` into explicit pads and the output size.

    Parameters
    ----------
    padding : int, (int, int), "valid" or "same"
        ``int`` pads every side by that much; ``(ph, pw)`` pads top and bottom by
        ``ph`` and left and right by ``pw``; ``"valid"`` is no padding; ``"same"``
        follows TensorFlow (see :func:`same_padding`). Case-insensitive strings.
    in_hw, window_hw, stride_hw : (int, int)
        Input size, window size and stride as ``(height, width)``.

    Returns
    -------
    pads : (top, bottom, left, right)
    out_hw : (out_height, out_width)

    Raises
    ------
    ValueError
        Unknown padding, negative padding or a window that does not fit.
    """
    if isinstance(padding, str):
        mode = padding.lower()
        check_choice(mode, "padding", ("valid", "same"))
        if mode == "valid":
            pads: Padding4 = (0, 0, 0, 0)
        else:
            top, bottom = same_padding(in_hw[0], window_hw[0], stride_hw[0])
            left, right = same_padding(in_hw[1], window_hw[1], stride_hw[1])
            pads = (top, bottom, left, right)
    else:
        ph, pw = as_pair(padding, "padding", 0)
        pads = (ph, ph, pw, pw)
    out_h = conv_output_size(in_hw[0], window_hw[0], stride_hw[0], pads[0] + pads[1], "height")
    out_w = conv_output_size(in_hw[1], window_hw[1], stride_hw[1], pads[2] + pads[3], "width")
    return pads, (out_h, out_w)
