from __future__ import annotations

import pytest

from sentiment.summarize import summarize, wilson_interval


def test_shares_sum_to_one_in_group_order_with_intervals_around_them():
    s = summarize(["b", "a", "b", "b"], ["a", "b", "c"])
    assert list(s.groups) == ["a", "b", "c"]
    assert [g.n for g in s.groups.values()] == [1, 3, 0]
    assert sum(g.share for g in s.groups.values()) == pytest.approx(1.0)
    for g in s.groups.values():
        assert g.ci[0] <= g.share <= g.ci[1]


def test_wilson_interval_matches_the_textbook_value():
    # 40 of 100: the Wilson 95% interval is 0.3094 to 0.4980.
    low, high = wilson_interval(40, 100)
    assert (round(low, 4), round(high, 4)) == (0.3094, 0.4980)


def test_no_posts_gives_zero_shares_not_a_crash():
    s = summarize([], ["a", "b"])
    assert s.n_posts == 0 and all(g.share == 0 for g in s.groups.values())


def test_an_unknown_label_is_an_error():
    with pytest.raises(ValueError, match="outside"):
        summarize(["zzz"], ["a"])
