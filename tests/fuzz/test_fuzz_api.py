"""Fuzz: any value for any argument of the public API ends in a result, a ValueError or a TypeError.

Each test replaces one argument of a valid call by an arbitrary value (None, bools, huge and
negative integers, NaN, strings, nested lists, arrays of the wrong dtype or rank). Nothing else may
escape: no OverflowError, AttributeError, IndexError, KeyError, ZeroDivisionError, MemoryError or
NumPy error. The size budget is lowered to 2**22 elements for these tests (``DEEPSTEP_MAX_ELEMENTS``)
so that an accepted argument can never make deepstep allocate more than a few MB.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepstep import optim
from deepstep.data import iterate_batches, load_image, normalize, one_hot, train_val_split
from deepstep.nn import functional as F

SMALL_BUDGET = 2**22


@pytest.fixture(autouse=True)
def small_budget(monkeypatch):
    monkeypatch.setenv("DEEPSTEP_MAX_ELEMENTS", str(SMALL_BUDGET))


def arrays(dtypes=(np.float32, np.float64, np.int64, np.bool_, np.complex64)) -> st.SearchStrategy:
    return st.builds(
        lambda dtype, shape: np.ones(shape, dtype=dtype),
        st.sampled_from(dtypes),
        st.lists(st.integers(0, 4), max_size=5).map(tuple),
    )


huge_ints = st.sampled_from([2**31, 2**31 + 1, 2**63, 2**64, 10**12, 10**400, -(10**400), -(2**63)])
anything = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 6), huge_ints,
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4),
    st.lists(st.integers(-2, 5), max_size=3), st.lists(st.integers(-2, 5), max_size=3).map(tuple),
    st.tuples(huge_ints, st.integers(1, 3)), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    arrays(), st.just(object()), st.just(np.random.default_rng(0)),
)


def outcome_is_clean(call: Callable[[], Any]) -> None:
    """Run ``call``; a ValueError or TypeError with a message is fine, anything else fails."""
    try:
        call()
    except (ValueError, TypeError) as exc:
        assert str(exc), f"{type(exc).__name__} without a message"
        assert len(str(exc)) < 2000, f"an unreadable message of {len(str(exc))} characters"


X4 = np.ones((2, 5, 5, 3), np.float32)
X2 = np.ones((4, 3), np.float32)
VALID: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "conv2d": (F.conv2d, dict(x=X4, w=np.ones((2, 2, 3, 4), np.float32), b=np.ones(4, np.float32),
                              stride=1, padding=0, data_format="NHWC", need_dx=True, workspace_bytes=None)),
    "pool2d": (F.pool2d, dict(x=X4, pool_size=2, stride=None, padding="valid", mode="max",
                              data_format="NHWC")),
    "dense": (F.dense, dict(x=X2, w=np.ones((3, 2), np.float32), b=np.ones(2, np.float32), need_dx=True)),
    "batch_norm": (F.batch_norm, dict(x=X2, gamma=np.ones(3, np.float32), beta=np.ones(3, np.float32),
                                      axis=-1, epsilon=1e-3, mean=None, var=None)),
    "dropout": (F.dropout, dict(x=X2, rate=0.5, rng=np.random.default_rng(0))),
    "leaky_relu": (F.leaky_relu, dict(x=X2, alpha=0.1)),
    "relu": (F.relu, dict(x=X2, overwrite_x=False)),
    "sigmoid": (F.sigmoid, dict(x=X2)),
    "tanh": (F.tanh, dict(x=X2)),
    "softmax": (F.softmax, dict(x=X2, axis=-1)),
    "softmax_cross_entropy": (F.softmax_cross_entropy, dict(logits=X2, labels=np.array([0, 1, 2, 0]))),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits,
                                         dict(logits=X2[:, :1], labels=np.ones((4, 1), np.float32))),
    "mean_squared_error": (F.mean_squared_error, dict(pred=X2, target=np.ones((4, 3), np.float32))),
    "normalize": (normalize, dict(x=X2, scale=255.0, dtype="float32")),
    "one_hot": (one_hot, dict(y=np.array([0, 1]), num_classes=3)),
    "train_val_split": (train_val_split, dict(x=X2, y=np.array([0, 1, 0, 1]), val_fraction=0.5, seed=0,
                                              stratify=False)),
    "iterate_batches": (lambda **kw: list(iterate_batches(**kw)),
                        dict(x=X2, y=np.array([0, 1, 0, 1]), batch_size=2, shuffle=True, seed=0)),
    "SGD": (optim.SGD, dict(learning_rate=0.1, momentum=0.9, nesterov=False)),
    "RMSprop": (optim.RMSprop, dict(learning_rate=0.1, rho=0.9, epsilon=1e-7)),
    "Adam": (optim.Adam, dict(learning_rate=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7)),
    "AdamW": (optim.AdamW, dict(learning_rate=0.1, weight_decay=0.01)),
}


def test_every_valid_call_succeeds():
    """The calls the fuzz tests corrupt are valid (else every corruption would be vacuous)."""
    for fn, kwargs in VALID.values():
        fn(**kwargs)


@pytest.mark.parametrize("name", sorted(VALID))
@given(data=st.data())
def test_one_bad_argument(name, data):
    fn, kwargs = VALID[name]
    key = data.draw(st.sampled_from(sorted(kwargs)), label="argument")
    value = data.draw(anything, label="value")
    outcome_is_clean(lambda: fn(**{**kwargs, key: value}))


@given(st.sampled_from(["conv2d", "pool2d"]), st.data())
def test_spatial_arguments(name, data):
    """Strides, windows and pads from tiny to absurd, alone and together."""
    fn, kwargs = VALID[name]
    sizes = st.one_of(st.integers(-1, 9), huge_ints, st.tuples(st.integers(0, 9), huge_ints),
                      st.sampled_from(["same", "valid", "SAME", "full", ""]))
    changes = {"stride": data.draw(st.one_of(st.none(), sizes) if name == "pool2d" else sizes),
               "padding": data.draw(sizes)}
    if name == "pool2d":
        changes["pool_size"] = data.draw(sizes)
    outcome_is_clean(lambda: fn(**{**kwargs, **changes}))


@given(st.one_of(anything, st.tuples(st.integers(-2, 10**6), st.integers(-2, 10**6))),
       st.sampled_from([None, 0, 1, 3, True, 3.0]))
def test_load_image_arguments(tmp_path_factory, image_size, channels):
    from PIL import Image

    path = tmp_path_factory.getbasetemp() / "fuzz-image.png"
    if not path.exists():
        Image.new("RGB", (4, 3)).save(path)
    outcome_is_clean(lambda: load_image(path, image_size=image_size, channels=channels))
