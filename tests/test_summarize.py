from __future__ import annotations

import numpy as np
import pytest

from sentiment.summarize import summarize


def onehot(labels, k):
    return np.eye(k)[labels]


def test_shares_sum_to_one_in_group_order_with_intervals_around_them():
    s = summarize(onehot([1, 0, 1, 1], 3), ["a", "b", "c"])
    assert list(s.groups) == ["a", "b", "c"]
    assert [g.n for g in s.groups.values()] == [1, 3, 0]
    assert sum(g.share for g in s.groups.values()) == pytest.approx(1.0)
    for g in s.groups.values():
        assert g.ci[0] <= g.share <= g.ci[1]


def test_without_calibration_the_shares_are_plain_counts():
    s = summarize(onehot([0] * 30 + [1] * 10, 2), ["a", "b"])
    assert s.method == "cc"
    assert s.groups["a"].share == s.groups["a"].raw_share == 0.75


def test_with_calibration_the_shares_are_corrected_and_raw_kept():
    # The model calls 30% of true "b" posts "a", and never the reverse.
    cv_labels = np.array([0] * 100 + [1] * 100)
    cv_pred = np.array([0] * 100 + [0] * 30 + [1] * 70)
    # 100 posts, truly 50/50: the model labels 65 "a" and 35 "b".
    s = summarize(onehot([0] * 65 + [1] * 35, 2), ["a", "b"], cv_proba=onehot(cv_pred, 2), cv_labels=cv_labels)
    assert s.method == "acc"
    assert s.groups["a"].raw_share == pytest.approx(0.65)
    assert s.groups["a"].share == pytest.approx(0.5, abs=0.01)
    assert s.groups["a"].ci[0] < 0.5 < s.groups["a"].ci[1]


def test_no_posts_gives_zero_shares_not_a_crash():
    s = summarize(np.zeros((0, 2)), ["a", "b"])
    assert s.n_posts == 0 and all(g.share == 0 and g.n == 0 for g in s.groups.values())
