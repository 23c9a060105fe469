"""Top-k accuracy, precision/recall/F1 averages, binary AUC and the streaming metric objects.

Cross-checked against scikit-learn; the streaming objects against the whole-set functions.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepstep.train import metric_objects as MO
from deepstep.train.metrics import f1_score, precision_score, recall_score, roc_auc, top_k_accuracy

skm = pytest.importorskip("sklearn.metrics")


@st.composite
def labelled(draw, min_classes=2, max_classes=6):
    k = draw(st.integers(min_classes, max_classes))
    n = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    return k, rng.integers(0, k, n), rng.integers(0, k, n), rng


@given(labelled(), st.sampled_from(["macro", "micro", "weighted", None]), st.booleans())
def test_precision_recall_f1_match_scikit_learn(problem, average, weighted):
    k, t, p, rng = problem
    w = rng.uniform(0.1, 2.0, t.shape[0]) if weighted else None
    labels = list(range(k))
    for ours, theirs in ((precision_score, skm.precision_score), (recall_score, skm.recall_score),
                         (f1_score, skm.f1_score)):
        got = ours(t, p, average=average, num_classes=k, sample_weight=w)
        want = theirs(t, p, average=average, labels=labels, zero_division=0, sample_weight=w)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@given(labelled(2, 2))
def test_binary_average_matches_scikit_learn(problem):
    _, t, p, _ = problem
    for ours, theirs in ((precision_score, skm.precision_score), (recall_score, skm.recall_score),
                         (f1_score, skm.f1_score)):
        assert ours(t, p, average="binary") == pytest.approx(theirs(t, p, zero_division=0), abs=1e-12)


def test_binary_average_needs_two_classes():
    with pytest.raises(ValueError, match="binary"):
        precision_score([0, 1, 2], [0, 1, 2], average="binary")
    with pytest.raises(ValueError, match="average"):
        f1_score([0, 1], [0, 1], average="samples")


@given(st.integers(3, 7), st.integers(1, 40), st.integers(1, 8), st.integers(0, 2**16), st.booleans())
def test_top_k_accuracy_matches_scikit_learn_without_ties(k, n, top, seed, weighted):
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((n, k))  # continuous: no ties
    t = rng.integers(0, k, n)
    w = rng.uniform(0.1, 2.0, n) if weighted else None
    top = min(top, k - 1)  # scikit-learn warns for k >= K (always 1; checked below)
    want = skm.top_k_accuracy_score(t, scores, k=top, labels=list(range(k)), sample_weight=w)
    assert top_k_accuracy(t, scores, k=top, sample_weight=w) == pytest.approx(want, abs=1e-12)
    assert top_k_accuracy(t, scores, k=k) == 1.0


def test_top_k_accuracy_counts_ties_at_the_boundary_as_in_the_top_k():
    scores = np.array([[0.5, 0.5, 0.0], [0.2, 0.4, 0.4]])
    assert top_k_accuracy([1, 0], scores, k=1) == 0.5  # sample 0: class 1 tied for first counts
    assert top_k_accuracy([0, 0], scores, k=2) == 0.5


@given(st.integers(2, 60), st.integers(0, 2**16), st.booleans(), st.booleans())
def test_roc_auc_matches_scikit_learn_with_ties(n, seed, ties, weighted):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    t[:2] = [0, 1]
    s = rng.integers(0, 4, n).astype(float) if ties else rng.standard_normal(n)
    w = rng.uniform(0.1, 2.0, n) if weighted else None
    assert roc_auc(t, s, w) == pytest.approx(skm.roc_auc_score(t, s, sample_weight=w), abs=1e-12)


def test_roc_auc_hand_checked_and_single_class_rejected():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert roc_auc([0, 1], [0.3, 0.3]) == 0.5
    with pytest.raises(ValueError, match="both classes"):
        roc_auc([1, 1], [0.2, 0.9])
    with pytest.raises(ValueError, match="y_true"):
        roc_auc([0, 2], [0.2, 0.9])


# --------------------------------------------------------------------------- streaming objects
def _batches(n, size):
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


@given(st.integers(2, 6), st.integers(2, 50), st.integers(1, 9), st.integers(0, 2**16), st.booleans())
def test_streaming_metrics_equal_the_whole_set_functions(k, n, batch, seed, weighted):
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((n, k))
    t = rng.integers(0, k, n)
    w = rng.uniform(0.1, 2.0, n) if weighted else None
    p = scores.argmax(axis=1)
    objects = [MO.Accuracy(), MO.TopKCategoricalAccuracy(k=2), MO.Precision("macro", num_classes=k),
               MO.Recall("weighted", num_classes=k), MO.F1Score("macro", num_classes=k)]
    for part in _batches(n, batch):
        for m in objects:
            m.update_state(t[part], scores[part], None if w is None else w[part])
    want = [skm.accuracy_score(t, p, sample_weight=w), top_k_accuracy(t, scores, 2, w),
            precision_score(t, p, "macro", k, sample_weight=w),
            recall_score(t, p, "weighted", k, sample_weight=w),
            f1_score(t, p, "macro", k, sample_weight=w)]
    for m, value in zip(objects, want, strict=True):
        assert m.result() == pytest.approx(value, abs=1e-12), m.name
        m.reset_state()
        assert m.result() == 0.0


def test_streaming_binary_metrics_on_a_single_unit_output_and_on_logits():
    rng = np.random.default_rng(1)
    t = rng.integers(0, 2, 30)
    t[:2] = [0, 1]
    logits = rng.standard_normal(30)
    prob = 1 / (1 + np.exp(-logits))
    auc, auc2 = MO.AUC(), MO.AUC()
    prec = MO.Precision()  # auto: binary for a single unit
    rec_logits = MO.Recall(from_logits=True)
    for part in _batches(30, 7):
        auc.update_state(t[part], prob[part, None])
        auc2.update_state(t[part], np.stack([-logits[part], logits[part]], axis=1))  # two-column logits
        prec.update_state(t[part], prob[part])
        rec_logits.update_state(t[part], logits[part])
    assert auc.result() == pytest.approx(skm.roc_auc_score(t, prob), abs=1e-12)
    assert auc2.result() == pytest.approx(auc.result(), abs=1e-12)
    assert prec.result() == pytest.approx(skm.precision_score(t, prob > 0.5), abs=1e-12)
    assert rec_logits.result() == pytest.approx(skm.recall_score(t, logits > 0), abs=1e-12)


def test_one_hot_labels_are_accepted():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    m = MO.Accuracy()
    m.update_state(np.eye(2)[[1, 1, 1]], scores)
    assert m.result() == pytest.approx(2 / 3)


def test_get_metric_knows_the_keras_names():
    for name in MO.METRIC_NAMES:
        metric = MO.get_metric(name)
        assert isinstance(metric, MO.Metric) and metric.name == name
    assert MO.get_metric("F1").name == "f1"
    custom = MO.TopKCategoricalAccuracy(k=3, name="top3")
    assert MO.get_metric(custom) is custom
    with pytest.raises(ValueError, match="metric"):
        MO.get_metric("mean_iou")
    with pytest.raises(TypeError, match="metric"):
        MO.get_metric(3)


def test_streaming_errors_name_the_problem():
    with pytest.raises(ValueError, match="same number of samples"):
        MO.Accuracy().update_state([0, 1], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="binary"):
        MO.AUC().update_state([0, 1], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="num_classes"):
        MO.Precision(num_classes=2).update_state([0, 2], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="average"):
        MO.Recall(average="samples")
