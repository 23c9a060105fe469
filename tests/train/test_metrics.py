"""Classification metrics: hand-checked cases, scikit-learn cross-checks and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepstep.train import metrics
from deepstep.train.metrics import accuracy, classification_report, confusion_matrix, precision_recall

Y_TRUE = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
Y_PRED = np.array([0, 1, 1, 1, 0, 2, 2, 1, 2])


def test_hand_checked_example():
    assert accuracy(Y_TRUE, Y_PRED) == pytest.approx(6 / 9)
    cm = confusion_matrix(Y_TRUE, Y_PRED)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [1, 2, 0], [0, 1, 3]])  # rows = true class
    assert cm.dtype == np.int64
    precision, recall = precision_recall(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(precision, [1 / 2, 2 / 4, 3 / 3])
    np.testing.assert_allclose(recall, [1 / 2, 2 / 3, 3 / 4])


def test_zero_division_is_zero():
    # Class 2 is never predicted (precision 0/0) and class 3 never occurs (recall 0/0).
    y_true = np.array([0, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 3])
    precision, recall = precision_recall(y_true, y_pred, num_classes=5)
    np.testing.assert_array_equal(precision, [1.0, 0.5, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(recall, [1.0, 1.0, 0.0, 0.0, 0.0])
    assert confusion_matrix(y_true, y_pred, num_classes=5).shape == (5, 5)


def test_lists_and_whole_floats_are_accepted():
    assert accuracy([1, 0, 1], np.array([1.0, 1.0, 1.0])) == pytest.approx(2 / 3)
    assert confusion_matrix([1], [1]).tolist() == [[0, 0], [0, 1]]


@pytest.mark.filterwarnings("ignore:A single label was found")
@given(
    st.integers(1, 6).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=1, max_size=60),
        )
    )
)
def test_against_sklearn(case):
    sk = pytest.importorskip("sklearn.metrics")
    k, pairs = case
    y_true = np.array([a for a, _ in pairs])
    y_pred = np.array([b for _, b in pairs])
    labels = list(range(k))
    assert accuracy(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred), abs=1e-15)
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, k),
                                  sk.confusion_matrix(y_true, y_pred, labels=labels))
    precision, recall = precision_recall(y_true, y_pred, k)
    p_sk, r_sk, _, _ = sk.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    np.testing.assert_allclose(precision, p_sk, rtol=1e-15, atol=0)
    np.testing.assert_allclose(recall, r_sk, rtol=1e-15, atol=0)


def _report_rows(text):
    """Parse the table: class rows and averages end with 4 numbers, the accuracy row with 2."""
    rows = {}
    for line in text.splitlines()[1:]:
        if not line.strip():
            continue
        tokens = line.split()
        count = 2 if tokens[0] == "accuracy" else 4
        rows[" ".join(tokens[:-count])] = [float(t) for t in tokens[-count:]]
    return rows


def test_classification_report_matches_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 300)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 4, 300))
    names = ["cat", "dog", "non-cat", "bird"]
    text = classification_report(y_true, y_pred, class_names=names, digits=4)
    expected = sk.classification_report(y_true, y_pred, target_names=names, output_dict=True, zero_division=0)
    rows = _report_rows(text)
    assert text.splitlines()[0].split() == ["precision", "recall", "f1-score", "support"]
    for key in [*names, "macro avg", "weighted avg"]:
        e = expected[key]
        np.testing.assert_allclose(rows[key], [e["precision"], e["recall"], e["f1-score"], e["support"]],
                                   atol=5e-5)
    assert rows["accuracy"] == pytest.approx([expected["accuracy"], 300], abs=5e-5)


def test_classification_report_defaults_and_errors():
    text = classification_report(Y_TRUE, Y_PRED)
    rows = _report_rows(text)
    assert set(rows) == {"0", "1", "2", "accuracy", "macro avg", "weighted avg"}
    assert rows["2"] == [1.0, 0.75, pytest.approx(0.857, abs=1e-3), 4]
    with pytest.raises(ValueError, match=r"class_names must have one name per class \(3\), got 2"):
        classification_report(Y_TRUE, Y_PRED, class_names=["a", "b"])
    with pytest.raises(TypeError, match="class_names must be a sequence of str"):
        classification_report(Y_TRUE, Y_PRED, class_names="abc")
    with pytest.raises(ValueError, match="digits must be >= 0"):
        classification_report(Y_TRUE, Y_PRED, digits=-1)


@pytest.mark.parametrize("fn", [metrics.accuracy, metrics.confusion_matrix, metrics.precision_recall,
                                metrics.classification_report])
@pytest.mark.parametrize(
    ("y_true", "y_pred", "exc", "match"),
    [
        ([0, 1, 2], [0, 1], ValueError, "y_true and y_pred must have the same length, got 3 and 2"),
        ([], [], ValueError, "at least one sample"),
        ([0, -1], [0, 1], ValueError, "y_true must hold class indices >= 0, got -1"),
        ([0, 1], [0.5, 1.0], ValueError, "y_pred must hold integer class indices, got non-integer value 0.5"),
        ([0, 1], [np.nan, 1.0], ValueError, "y_pred must hold integer class indices"),
        ([[0, 1]], [[0, 1]], ValueError,
         r"y_true must be a 1-D array \(N,\) of class indices, got shape \(1, 2\)"),
        (["a", "b"], [0, 1], TypeError, "y_true must hold real numbers"),
        ([True, False], [0, 1], TypeError, "y_true must hold real numbers"),
    ],
)
def test_bad_labels(fn, y_true, y_pred, exc, match):
    with pytest.raises(exc, match=match):
        fn(y_true, y_pred)


@pytest.mark.parametrize("fn", [metrics.confusion_matrix, metrics.precision_recall,
                                metrics.classification_report])
def test_labels_must_be_below_num_classes(fn):
    with pytest.raises(ValueError, match="y_pred holds class index 3 but num_classes is 3"):
        fn([0, 1, 2], [0, 1, 3], num_classes=3)
    with pytest.raises(ValueError, match="y_true holds class index 5 but num_classes is 2"):
        fn([5, 1], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="num_classes must be >= 1"):
        fn([0], [0], num_classes=0)
    with pytest.raises(TypeError, match="num_classes must be an integer"):
        fn([0], [0], num_classes=2.0)
