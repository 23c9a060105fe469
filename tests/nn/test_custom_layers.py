"""Custom layers holding layers (issue 16): unique parameter paths by construction, exact round trips."""

from __future__ import annotations

import numpy as np
import pytest

import deepstep
from deepstep.nn import Add, Conv2D, Dense, Flatten, Input, Layer, Model, Parameter, register_layer


@register_layer
class TwoConvBlock(Layer):
    """A residual block as one layer: relu(conv_b(relu(conv_a(x))) + x)."""

    kind = "two_conv_block"

    def __init__(self, filters: int, name: str | None = None) -> None:
        super().__init__(name)
        self.filters = filters
        self.conv_a = Conv2D(filters, 3, padding="same", activation="relu")
        self.conv_b = Conv2D(filters, 3, padding="same")

    def _build(self, input_shape, rng):
        self.conv_a.build(input_shape, rng, self.dtype)
        self.conv_b.build(self.conv_a.output_shape, rng, self.dtype)

    def _forward(self, x, training):
        h, cache_a = self.conv_a.forward(x, training)
        h, cache_b = self.conv_b.forward(h, training)
        out = np.maximum(h + x, 0)
        return out, (cache_a, cache_b, out > 0)

    def _backward(self, dout, cache):
        cache_a, cache_b, positive = cache
        d = dout * positive
        return self.conv_a.backward(self.conv_b.backward(d, cache_b), cache_a) + d

    def _config(self):
        return {"filters": self.filters}


def block_model(seed: int = 0) -> Model:
    x = Input((4, 4, 3))
    y = TwoConvBlock(3, name="block")(x)
    y = TwoConvBlock(3, name="block2")(y)
    return Model(x, Dense(2)(Flatten()(y)), seed=seed, dtype="float64")


def test_nested_parameters_get_full_paths():
    names = [n for n, _ in block_model().named_parameters()]
    assert names[:4] == ["block/conv_a/kernel", "block/conv_a/bias", "block/conv_b/kernel",
                         "block/conv_b/bias"]
    assert len(names) == len(set(names)) == 10


def test_nested_custom_layer_round_trip_keeps_every_weight(tmp_path, rng):
    """0.1 saved 'block/kernel' twice: 10 of 32 arrays came back wrong, silently."""
    model = block_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = rng.standard_normal((6, 4, 4, 3)), rng.integers(0, 2, 6)
    model.fit(x, y, epochs=2, batch_size=3, verbose=0, seed=0)
    model.save(tmp_path / "block.npz")
    loaded = deepstep.load(tmp_path / "block.npz")
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded(x), model(x))
    assert set(loaded.optimizer.state_dict()) == set(model.optimizer.state_dict())


def test_custom_layer_gradients_are_exact(rng):
    from deepstep.gradcheck import numerical_gradients, rel_error

    model = block_model()
    x = rng.standard_normal((2, 4, 4, 3))
    out, cache = model.forward(x)
    dout = rng.standard_normal(out.shape)
    model.zero_grad()
    dx = model.backward(dout, cache)
    params = model.parameters()
    numeric = numerical_gradients(lambda: model(x), [x] + [p.value for p in params], dout)
    for a, n in zip([dx] + [p.grad for p in params], numeric, strict=True):
        assert rel_error(a, n) < 1e-7


class SameNames(Layer):
    """Two parameters of one name, as 0.1-style custom code could produce."""

    def _build(self, input_shape, rng):
        self._params = [Parameter(np.ones(2), "kernel"), Parameter(np.zeros(2), "kernel")]

    def _forward(self, x, training):
        return x, None

    def _backward(self, dout, cache):
        return dout


def test_duplicate_names_are_refused_with_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="already has a parameter named 'kernel'"):
        layer = Conv2D(2, 1)
        layer.build((2, 2, 1))
        layer.add_parameter(np.zeros(2), "kernel")
    x = Input((2,))
    with pytest.raises(ValueError, match="two parameters are named 'same/kernel'"):
        Model(x, Dense(2)(SameNames(name="same")(x)))


def test_save_refuses_duplicate_names(tmp_path):
    x = Input((2,))
    model = Model(x, Add()([Dense(2, name="d")(x), x]))
    model.get_layer("d")._params.append(Parameter(np.zeros(2, np.float32), "kernel"))
    with pytest.raises(ValueError, match="cannot save model 'model': two parameters are named 'd/kernel'"):
        model.save(tmp_path / "dup.npz")
    assert not (tmp_path / "dup.npz").exists()
