"""Learning-rate schedules: the course's formulas and published values, configs and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from deepstep.optim.schedules import (
    SCHEDULE_NAMES,
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    StepDecay,
    get_schedule,
    schedule_from_config,
)


def test_inverse_time_decay_matches_course_update_lr_expected_output():
    # Course (C2W2, update_lr): learning_rate = 0.5, epoch_num = 2, decay_rate = 1 -> 0.16666666666666666
    schedule = InverseTimeDecay(0.5, decay_rate=1)
    assert schedule(0) == 0.5
    assert schedule(2) == 0.16666666666666666


def test_inverse_time_decay_matches_course_schedule_lr_decay():
    # Course (schedule_lr_decay): lr0 / (1 + decay_rate * np.floor(epoch_num / time_interval)),
    # lr 0.5, decay_rate 0.3, time_interval 100: epoch 10 -> 0.5, epoch 100 -> 0.5 / 1.3 = 0.3846...
    schedule = InverseTimeDecay(0.5, decay_rate=0.3, decay_steps=100)
    assert schedule(10) == 0.5
    assert schedule(100) == pytest.approx(0.38461538461538, rel=1e-13)
    assert schedule(199) == schedule(100)
    assert schedule(200) == pytest.approx(0.5 / 1.6, rel=1e-15)


def test_inverse_time_decay_formula_over_epochs():
    schedule = InverseTimeDecay(0.1, decay_rate=0.5, decay_steps=3)
    for epoch in range(20):
        assert schedule(epoch) == pytest.approx(0.1 / (1 + 0.5 * np.floor(epoch / 3)), rel=1e-15)
    # Piecewise constant over each interval of decay_steps epochs.
    assert schedule(3) == schedule(5) != schedule(6)


def test_step_decay():
    schedule = StepDecay(0.08, drop=0.5, epochs_drop=10)
    assert [schedule(e) for e in (0, 9, 10, 19, 20, 35)] == [0.08, 0.08, 0.04, 0.04, 0.02, 0.01]


def test_exponential_decay_continuous_and_staircase():
    smooth = ExponentialDecay(0.1, decay_rate=0.95, decay_steps=1)
    for epoch in range(10):
        assert smooth(epoch) == pytest.approx(0.95**epoch * 0.1, rel=1e-14)  # the course's 0.95**epoch * lr0
    half = ExponentialDecay(1.0, decay_rate=0.5, decay_steps=4)
    assert half(2) == pytest.approx(0.5**0.5, rel=1e-14)
    stairs = ExponentialDecay(1.0, decay_rate=0.5, decay_steps=4, staircase=True)
    assert [stairs(e) for e in (0, 3, 4, 7, 8)] == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_cosine_decay():
    schedule = CosineDecay(0.2, decay_steps=10, alpha=0.1)
    assert schedule(0) == pytest.approx(0.2, rel=1e-15)
    assert schedule(5) == pytest.approx(0.2 * (0.9 * 0.5 + 0.1), rel=1e-14)
    assert schedule(10) == pytest.approx(0.02, rel=1e-14)
    assert schedule(25) == pytest.approx(0.02, rel=1e-14)
    for e in range(1, 10):
        expected = 0.2 * (0.9 * 0.5 * (1 + math.cos(math.pi * e / 10)) + 0.1)
        assert schedule(e) == pytest.approx(expected, rel=1e-14)
        assert schedule(e) < schedule(e - 1)


@pytest.mark.parametrize(
    "schedule",
    [InverseTimeDecay(0.5, 0.3, 100), StepDecay(0.1, 0.25, 3), ExponentialDecay(0.1, 0.9, 2, True),
     CosineDecay(0.1, 20, 0.05)],
)
def test_config_round_trip(schedule):
    config = schedule.get_config()
    assert config["name"] in SCHEDULE_NAMES
    rebuilt = schedule_from_config(json.loads(json.dumps(config)))
    assert type(rebuilt) is type(schedule) and rebuilt.get_config() == config
    assert [rebuilt(e) for e in range(30)] == [schedule(e) for e in range(30)]
    assert repr(schedule).startswith(type(schedule).__name__ + "(initial_learning_rate=")


def test_get_schedule():
    schedule = get_schedule("inverse_time_decay", initial_learning_rate=0.5, decay_rate=1)
    assert isinstance(schedule, InverseTimeDecay) and schedule(2) == 0.16666666666666666
    assert isinstance(get_schedule("Cosine_Decay", initial_learning_rate=1.0, decay_steps=3), CosineDecay)
    with pytest.raises(ValueError, match="unknown schedule 'linear'; expected one of inverse_time_decay"):
        get_schedule("linear")
    with pytest.raises(ValueError, match=r"unexpected argument\(s\) 'drop' for InverseTimeDecay"):
        get_schedule("inverse_time_decay", initial_learning_rate=0.1, decay_rate=1, drop=0.5)
    with pytest.raises(ValueError, match="InverseTimeDecay: .*missing"):
        get_schedule("inverse_time_decay", initial_learning_rate=0.1)
    with pytest.raises(ValueError, match="config is missing required key 'name'"):
        schedule_from_config({"initial_learning_rate": 0.1})
    with pytest.raises(TypeError, match="config must be a dict"):
        schedule_from_config(["step_decay"])


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: InverseTimeDecay(0.0, 1.0), ValueError, "initial_learning_rate must be > 0"),
        (lambda: InverseTimeDecay(0.1, -1.0), ValueError, "decay_rate must be >= 0"),
        (lambda: InverseTimeDecay(0.1, 1.0, 0), ValueError, "decay_steps must be >= 1"),
        (lambda: InverseTimeDecay(0.1, 1.0, 2.5), TypeError, "decay_steps must be an integer"),
        (lambda: StepDecay(0.1, drop=0.0), ValueError, "drop must be > 0"),
        (lambda: StepDecay(0.1, drop=1.5), ValueError, "drop must be <= 1"),
        (lambda: StepDecay(0.1, epochs_drop=0), ValueError, "epochs_drop must be >= 1"),
        (lambda: ExponentialDecay(0.1, 0.0), ValueError, "decay_rate must be > 0"),
        (lambda: ExponentialDecay(0.1, 0.5, staircase=1), TypeError, "staircase must be a bool"),
        (lambda: CosineDecay(0.1, 0), ValueError, "decay_steps must be >= 1"),
        (lambda: CosineDecay(0.1, 10, alpha=1.5), ValueError, "alpha must be <= 1"),
    ],
)
def test_constructor_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_epoch_must_be_a_non_negative_int():
    schedule = StepDecay(0.1)
    with pytest.raises(ValueError, match="epoch must be >= 0, got -1"):
        schedule(-1)
    with pytest.raises(TypeError, match="epoch must be an integer"):
        schedule(1.5)
    assert schedule(np.int64(10)) == 0.05
