"""deepstep.course.check: deepstep.course itself passes, and every catalogued mistake is recognised."""

from __future__ import annotations

import numpy as np
import pytest

import deepstep.course
from deepstep.course import check
from deepstep.course.check import FUNCTIONS, MUTANTS, PASS
from deepstep.course.check.cases import CASES, ORACLES


@pytest.fixture(scope="module")
def course_report():
    return check(deepstep.course)


def test_deepstep_course_itself_passes_every_case(course_report):
    assert [r.name for r in course_report.results] == list(FUNCTIONS)
    failing = {r.name: r.failure for r in course_report.results if r.status != PASS}
    assert failing == {}
    assert course_report.passed and course_report.exit_status == 0
    for r in course_report.results:
        assert r.passed == r.total == len(CASES[r.name]) - sum("skipped" in n for n in r.notes)


def test_the_catalogue_covers_the_issue_s_mistakes():
    names = {m.name for m in MUTANTS}
    for expected in (
        "conv_backward_unpads_with_negative_slice",
        "conv_single_step_float_of_array",
        "conv_forward_int_truncates",
        "pool_backward_overwrites_overlaps",
        "conv_backward_loops_over_input",
        "random_mini_batches_drops_last",
        "update_parameters_with_adam_no_bias_correction",
    ):
        assert expected in names
    assert len(names) == len(MUTANTS)  # unique names


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_each_mutant_fails_with_its_named_diagnosis(mutant):
    report = getattr(check, mutant.target)(mutant.fn)
    result = report[mutant.target]
    if mutant.advisory:  # int() vs //: differs only where no output is valid; a note, not a failure
        assert result.status == "PASS"
        assert any(
            note.startswith(f"[{mutant.name}]") and mutant.explanation in note for note in result.notes
        )
        return
    assert result.status == "FAIL", f"{mutant.name} passes every case: no case can see this mistake"
    assert result.failure.diagnosis is not None, result.failure
    assert result.failure.diagnosis["name"] == mutant.name
    assert result.failure.diagnosis["explanation"] == mutant.explanation
    assert not report.passed and report.exit_status == 1


def test_a_failure_names_the_case_the_arguments_the_index_and_the_values():
    from deepstep.course.check.mutants import pool_backward_overwrites_overlaps

    result = check.pool_backward(pool_backward_overwrites_overlaps)["pool_backward"]
    f = result.failure
    assert f.kind == "published" and "mode max" in f.case
    assert f.call.startswith("pool_backward(dA=array(5, 4, 2, 2), cache=(array(5, 5, 3, 2)")
    assert f.index is not None and f.got is not None and f.expected is not None
    assert "use +=" in f.diagnosis["explanation"]
    text = str(check.pool_backward(pool_backward_overwrites_overlaps))
    assert "FAIL" in text and "likely cause [pool_backward_overwrites_overlaps]" in text


def test_the_oracle_is_called_at_grading_time(monkeypatch):
    calls = []
    real = ORACLES["relu"]

    def spy(Z):
        calls.append(Z.shape)
        return real(Z)

    monkeypatch.setitem(ORACLES, "relu", spy)
    assert check.relu(real).passed
    assert calls == [(3, 4)]


def test_a_zero_d_array_and_a_float_are_the_same_cost():
    def cost_as_0d_array(AL, Y):
        return np.asarray(deepstep.course.dnn.compute_cost(AL, Y))

    assert check.compute_cost(cost_as_0d_array).passed


def test_a_cache_that_the_backward_cannot_use_is_named():
    def conv_forward_without_hparameters(A_prev, W, b, hparameters):
        Z, cache = deepstep.course.cnn.conv_forward(A_prev, W, b, hparameters)
        return Z, cache[:3]

    f = check.conv_forward(conv_forward_without_hparameters)["conv_forward"].failure
    assert f.where == "cache" and "cache has 3 items, expected 4" in f.message
    assert "conv_backward reads" in f.message


def test_an_infinite_loop_in_process_is_stopped_by_the_timer():
    def relu(Z):
        while True:
            pass

    result = check.relu(relu, time_limit=0.3)["relu"]
    assert result.status == "FAIL" and result.failure.problem == "timeout"


def test_an_exception_shows_only_the_learner_s_lines():
    def sigmoid(Z):
        return 1 / (1 + np.exp(-Z)) + undefined_name  # noqa: F821 - the learner's bug

    f = check.sigmoid(sigmoid)["sigmoid"].failure
    assert f.problem == "exception" and f.message == "raised NameError: name 'undefined_name' is not defined"
    assert f.traceback[0].startswith(f'File "{__file__}"') and "in sigmoid" in f.traceback[0]
    assert all("deepstep/course/check" not in line for line in f.traceback)


def test_a_namespace_dict_is_graded_and_missing_functions_are_listed():
    report = check({"relu": deepstep.course.dnn.relu, "zero_pad": 3, "unrelated": len})
    assert report["relu"].status == "PASS"
    assert report["zero_pad"].status == "MISSING"  # not callable
    assert report.passed and len(report.found) == 1
    text = str(report)
    assert "MISSING  dnn     sigmoid" in text
    assert "(no function of app, cnn, cs231n, optim found)" in text


def test_bad_arguments_of_the_python_api():
    with pytest.raises(ValueError, match="not course functions: conv_fwd"):
        check(deepstep.course, only=["conv_fwd"])
    with pytest.raises(TypeError, match="namespace"):
        check(42)
    with pytest.raises(FileNotFoundError, match="PATH not found"):
        check("no_such_file.py")
    with pytest.raises(AttributeError):
        _ = check.not_a_course_function
