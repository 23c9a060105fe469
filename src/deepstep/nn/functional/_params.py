"""Parsing of the spatial hyper-parameters shared by convolution and pooling.

``stride``, ``kernel_size``/``pool_size`` and ``padding`` accept the forms users know
from Keras and PyTorch; this module turns them into explicit per-axis integers once,
at the public boundary, so the kernels only ever see validated numbers.
"""

from __future__ import annotations

from typing import Any

from ..._limits import check_elements, max_elements
from ..._validation import brief_repr, check_choice, check_int, conv_output_size

DATA_FORMATS = ("NHWC", "NCHW")

Pair = tuple[int, int]
Padding4 = tuple[int, int, int, int]  # (top, bottom, left, right)


def as_pair(value: Any, name: str, minimum: int) -> Pair:
    """Turn an int or a pair of ints into ``(height, width)``, each in ``[minimum, max_elements()]``.

    No array axis can be longer than the size budget (:mod:`deepstep._limits`), so a larger
    stride, window or pad is refused here, before it reaches NumPy (a stride of ``2**63``
    overflows a C long).
    """
    limit = max_elements()
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (height, width), got {brief_repr(value)}")
        return (
            check_int(value[0], f"{name}[0]", minimum, limit),
            check_int(value[1], f"{name}[1]", minimum, limit),
        )
    v = check_int(value, name, minimum, limit)
    return (v, v)


def check_buffers(padding: Any, n: int, channels: int, padded_hw: Pair, out_hw: Pair,
                  window_hw: Pair | None, channels_out: int, dtype: Any) -> None:
    """Check the arrays a convolution or pooling is about to allocate against the size budget.

    The padded input ``(N, H + pads, W + pads, C)``, the output ``(N, oh, ow, C_out)`` and, for a
    convolution (``window_hw`` given), one sample's column buffer ``(oh * ow, kh * kw * C)``.
    A padding of ``10**5`` or a window of ``10**6`` ends here as a ``ValueError`` naming
    ``padding`` rather than a ``MemoryError``.
    """
    what = f"padding={padding!r}"
    check_elements((n, *padded_hw, channels), f"{what}: the padded input (N, H, W, C)", dtype)
    check_elements((n, *out_hw, channels_out), f"{what}: the output (N, oh, ow, C)", dtype)
    if window_hw is not None:
        check_elements((out_hw[0] * out_hw[1], window_hw[0] * window_hw[1] * channels),
                       f"{what}: one sample's windows (oh * ow, kh * kw * C)", dtype)


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
