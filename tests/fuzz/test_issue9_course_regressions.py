"""Issue 9 in deepstep.course.cnn: huge pads and strides end in a ValueError naming the argument,
checked before NumPy allocates (it raised MemoryError "596 GiB" or "array is too big")."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.course import cnn

X = np.zeros((2, 3, 3, 1))
W, B = np.zeros((2, 2, 1, 1)), np.zeros((1, 1, 1, 1))


@pytest.mark.parametrize("pad", [10**5, 10**6, 10**9, 10**12, 2**70])
def test_zero_pad_beyond_the_budget_names_pad(pad):
    with pytest.raises(ValueError, match=r"^pad"):
        cnn.zero_pad(X, pad)


@pytest.mark.parametrize("pad", [10**5, 10**12])
def test_conv_forward_with_a_huge_pad_names_it(pad):
    with pytest.raises(ValueError, match=r"hparameters\['pad'\]"):
        cnn.conv_forward(X, W, B, {"stride": 1, "pad": pad})


def test_huge_strides_and_windows_name_their_key():
    with pytest.raises(ValueError, match=r"hparameters\['stride'\] must be <="):
        cnn.conv_forward(X, W, B, {"stride": 2**70, "pad": 0})
    with pytest.raises(ValueError, match=r"hparameters\['stride'\] must be <="):
        cnn.pool_forward(X, {"f": 2, "stride": 2**70})
    with pytest.raises(ValueError, match=r"hparameters\['f'\] must be <="):
        cnn.pool_forward(X, {"f": 2**70, "stride": 1})


def test_small_pads_are_unchanged():
    out = cnn.zero_pad(np.ones((1, 2, 2, 1), np.float32), 1)
    assert out.shape == (1, 4, 4, 1) and out.dtype == np.float32 and out.sum() == 4
