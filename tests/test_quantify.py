"""Share correction on synthetic populations with a known confusion matrix."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment.quantify import estimate_shares

# Column j: how the model labels posts of true group j (rows: predicted group).
CONFUSION = np.array([[0.85, 0.10, 0.15],
                      [0.05, 0.80, 0.05],
                      [0.10, 0.10, 0.80]])


def labeled(rng, n_per_group):
    labels = np.repeat(np.arange(3), n_per_group)
    predicted = np.array([rng.choice(3, p=CONFUSION[:, j]) for j in labels])
    return np.eye(3)[predicted], labels


def population(rng, mix, n):
    truth = rng.choice(3, size=n, p=mix)
    predicted = np.array([rng.choice(3, p=CONFUSION[:, j]) for j in truth])
    return np.eye(3)[predicted], np.bincount(truth, minlength=3) / n


@pytest.mark.parametrize("mix", [(0.2, 0.6, 0.2), (0.7, 0.1, 0.2), (0.1, 0.2, 0.7)])
def test_acc_recovers_known_shares_that_classify_and_count_misses(mix):
    rng = np.random.default_rng(7)
    cv_proba, cv_labels = labeled(rng, 600)
    proba, truth = population(rng, mix, 5000)
    acc = estimate_shares(proba, cv_proba, cv_labels, method="acc", n_boot=200)
    cc = estimate_shares(proba, cv_proba, cv_labels, method="cc", n_boot=200)
    assert np.abs(acc.shares - truth).max() < 0.02
    assert np.abs(cc.shares - truth).max() > 0.04
    assert np.all(acc.low <= truth) and np.all(truth <= acc.high)
    assert acc.shares.sum() == pytest.approx(1.0) and np.all(acc.shares >= 0)


def test_intervals_cover_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    hits = []
    for trial in range(60):
        cv_proba, cv_labels = labeled(rng, 150)  # a small labeled set: its uncertainty matters
        proba, truth = population(rng, (0.2, 0.6, 0.2), 400)
        est = estimate_shares(proba, cv_proba, cv_labels, method="acc", n_boot=200, seed=trial)
        hits.extend((est.low <= truth) & (truth <= est.high))
    assert np.mean(hits) >= 0.88


def test_the_interval_widens_when_the_error_rates_are_less_certain():
    rng = np.random.default_rng(3)
    proba, _ = population(rng, (0.3, 0.4, 0.3), 3000)
    small = estimate_shares(proba, *labeled(rng, 40), n_boot=300)
    large = estimate_shares(proba, *labeled(rng, 2000), n_boot=300)
    assert (small.high - small.low).mean() > 1.5 * (large.high - large.low).mean()


def test_shares_and_intervals_are_stable_between_a_sample_and_a_larger_one_of_the_same_mix():
    rng = np.random.default_rng(5)
    cv = labeled(rng, 300)
    proba, _ = population(rng, (0.3, 0.4, 0.3), 30_000)
    big = estimate_shares(proba, *cv, n_boot=300)
    exact = estimate_shares(proba[:20_000], *cv, n_boot=300)
    assert np.abs(big.shares - exact.shares).max() < 0.02
    assert np.abs((big.high - big.low) - (exact.high - exact.low)).max() < 0.02


def test_same_seed_same_answer_and_empty_input():
    rng = np.random.default_rng(1)
    cv = labeled(rng, 100)
    proba, _ = population(rng, (0.3, 0.4, 0.3), 300)
    a, b = estimate_shares(proba, *cv, seed=4, n_boot=100), estimate_shares(proba, *cv, seed=4, n_boot=100)
    assert np.array_equal(a.low, b.low)
    assert estimate_shares(np.zeros((0, 3)), *cv).n == 0
    with pytest.raises(ValueError, match="method"):
        estimate_shares(proba, *cv, method="magic")


def test_totals_of_parts_add_up_to_the_totals_of_the_whole_and_give_the_same_shares():
    from sentiment.quantify import PostTotals, estimate_shares_from_totals

    rng = np.random.default_rng(5)
    proba = rng.dirichlet([1, 1, 1], size=1000)
    cv_labels = rng.integers(0, 3, 300)
    cv_proba = np.eye(3)[cv_labels] * 0.7 + 0.1
    parts = [PostTotals.of(proba[i:i + 137]) for i in range(0, 1000, 137)]
    whole = sum(parts[1:], parts[0])
    assert whole.n == 1000 and whole.label_counts.tolist() == PostTotals.of(proba).label_counts.tolist()
    np.testing.assert_allclose(whole.proba_outer_sum, proba.T @ proba)
    for method in ("acc", "cc"):
        a = estimate_shares(proba, cv_proba, cv_labels, method=method, n_boot=100)
        b = estimate_shares_from_totals(whole, cv_proba, cv_labels, method=method, n_boot=100)
        assert a.shares.tolist() == b.shares.tolist() and a.low.tolist() == b.low.tolist()
    less = whole - parts[0]
    assert less.n == 1000 - 137 and less.label_counts.sum() == 1000 - 137
