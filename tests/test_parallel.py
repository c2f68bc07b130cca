from __future__ import annotations

from sentiment.parallel import chunks, cores, ordered_map


def test_ordered_map_keeps_order_with_more_items_than_in_flight():
    items = [f"{'x' * (i % 7)}" for i in range(50)]
    assert [(item, n) for item, n in ordered_map(len, items, workers=2)] == [(s, len(s)) for s in items]
    assert list(chunks(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]] and list(chunks([], 3)) == []


def test_cores_is_one_for_serial_settings_and_capped_by_the_machine():
    assert cores(None) == cores(0) == cores(1) == 1
    assert 1 <= cores(-1) and cores(10_000) == cores(-1)


def test_ordered_map_runs_on_lokys_workers_where_processes_cannot_fork(monkeypatch):
    import sentiment.parallel as parallel

    monkeypatch.setattr(parallel.sys, "platform", "darwin")  # not forked there: loky's fresh workers
    items = [f"{'y' * (i % 5)}" for i in range(20)]
    assert [n for _, n in ordered_map(len, items, workers=2)] == [len(s) for s in items]
