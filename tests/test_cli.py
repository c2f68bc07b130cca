"""The command line, end to end through click's runner, on real files."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from sentiment.cli import main
from sentiment.store import Store

from conftest import write_jsonl


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str, code: int = 0):
    result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_every_command_has_help(runner):
    top = invoke(runner, "--help").output
    for command in ("import", "export", "classify", "report", "run"):
        assert command in top
        assert "Usage:" in invoke(runner, command, "--help").output


def test_import_reports_new_updated_rejected(runner, tmp_path):
    store = tmp_path / "s.sqlite"
    path = write_jsonl(tmp_path / "p.jsonl", [{"id": "1", "text": "a"}, {"id": "zz", "text": "b"}])
    result = invoke(runner, "import", path, "--store", store)
    assert "1 new, 0 updated, 0 unchanged, 1 rejected" in result.output
    assert "line 2" in result.stderr and "digits" in result.stderr
    again = invoke(runner, "import", path, "--store", store)
    assert "0 new, 0 updated, 1 unchanged" in again.output


def test_import_of_a_bad_file_exits_1_with_one_line(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,body\n1,x\n")
    result = invoke(runner, "import", path, "--store", tmp_path / "s.sqlite", code=1)
    assert result.stderr.strip().count("\n") == 0
    assert "bad.csv, line 1" in result.stderr and "'text'" in result.stderr


def test_store_comes_from_the_environment(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_STORE", str(tmp_path / "env.sqlite"))
    invoke(runner, "import", write_jsonl(tmp_path / "p.jsonl", [{"id": "1", "text": "a"}]))
    assert Store(tmp_path / "env.sqlite").count() == 1


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_export_writes_every_post_once_and_round_trips(runner, tmp_path, suffix):
    store = tmp_path / "s.sqlite"
    rows = [{"id": str(i), "text": f"t{i}, \"quoted\"\nline", "author_username": "u", "like_count": i,
             "created_at": f"2026-01-0{5 + i % 3}T10:00:00Z", "is_quote": i % 2 == 0} for i in range(1, 7)]
    invoke(runner, "import", write_jsonl(tmp_path / "p.jsonl", rows), "--store", store)
    out = tmp_path / f"out{suffix}"
    assert "exported 6 posts" in invoke(runner, "export", "--output", out, "--store", store).output
    other = tmp_path / "other.sqlite"
    invoke(runner, "import", out, "--store", other)
    original = {p.id: p for p in Store(store).posts()}
    copied = {p.id: p for p in Store(other).posts()}
    assert copied == original
    invoke(runner, "export", "-o", tmp_path / f"w{suffix}", "--store", store, "--since", "2026-01-06T00:00:00Z",
           "--until", "2026-01-07T00:00:00Z")
    window = tmp_path / "window.sqlite"
    invoke(runner, "import", tmp_path / f"w{suffix}", "--store", window)
    assert sorted(p.id for p in Store(window).posts()) == ["1", "4"]


def test_naive_times_are_a_usage_error(runner, tmp_path):
    result = invoke(runner, "export", "-o", tmp_path / "x.jsonl", "--since", "2026-01-06", code=2)
    assert "timezone" in result.output + result.stderr


def test_export_to_an_unknown_format_fails_without_writing(runner, tmp_path):
    result = invoke(runner, "export", "-o", tmp_path / "x.xml", "--store", tmp_path / "s.sqlite", code=1)
    assert ".jsonl, .csv or .parquet" in result.stderr
    assert not (tmp_path / "x.xml").exists()


def test_classify_writes_id_label_confidence_and_group_probabilities(runner, tmp_path):
    rows = [{"id": "1", "text": "Historic day, real security guarantees at last 🇺🇦"},
            {"id": "2", "text": "Another photo op, another worthless paper. Nobody will send troops."},
            {"id": "3", "text": "Leaders signed the declaration in Paris on Tuesday, officials said.", "lang": "en"}]
    out = tmp_path / "out.csv"
    result = invoke(runner, "classify", write_jsonl(tmp_path / "in.jsonl", rows), "--output", out)
    assert "classified 3 posts" in result.output
    with out.open() as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == ["id", "label", "confidence", "p_neutral", "p_pro_ukraine", "p_skeptic", "sentiment"]
    assert [r["id"] for r in table] == ["1", "2", "3"]
    assert float(table[0]["sentiment"]) > 0 > float(table[1]["sentiment"])  # VADER compound, English posts
    for r in table:
        probs = [float(r[k]) for k in r if k.startswith("p_")]
        assert sum(probs) == pytest.approx(1.0, abs=1e-3) and float(r["confidence"]) == max(probs)


def test_classify_with_an_engine_reads_a_parquet_dataset_and_prints_shares(runner, tmp_path, tiny_topic_dir):
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = ["build the bridge now", "scrap the bridge", "yes to the bridge", "no toll!"] * 5
    dataset = tmp_path / "posts"
    dataset.mkdir()
    for part in range(2):
        pq.write_table(pa.table({"id": [str(part * 100 + i) for i in range(len(texts))], "text": texts}),
                       dataset / f"part-{part}.parquet")
    out = tmp_path / "classified"
    result = invoke(runner, "classify", dataset, "--output", out, "--engine", "local", "--topic", tiny_topic_dir)
    assert "classified 40 posts in 2 partitions" in result.output
    assert "Supporters:" in result.output and "95% interval" in result.output
    table = pq.read_table(out)
    assert table.num_rows == 40 and table.column("id").to_pylist()[:2] == ["0", "1"]
    usage = invoke(runner, "classify", dataset, "--output", tmp_path / "x.csv", "--scheduler", "tcp://h:8786", code=2)
    assert "--scheduler needs --engine dask" in usage.stderr


def test_report_on_a_window_of_the_store(runner, tmp_path, tiny_topic_dir):
    store = tmp_path / "s.sqlite"
    rows = [{"id": str(i), "text": text, "created_at": f"2025-03-0{2 + i % 3}T12:00:00Z"}
            for i, text in enumerate(["build the bridge now", "scrap the bridge", "yes to the bridge", "no toll!"])]
    invoke(runner, "import", write_jsonl(tmp_path / "p.jsonl", rows), "--store", store, "--topic", tiny_topic_dir)
    out = tmp_path / "reports"
    result = invoke(runner, "report", "--store", store, "--topic", tiny_topic_dir, "--out", out,
                    "--since", "2025-03-02T00:00:00Z", "--until", "2025-03-04T00:00:00Z")
    (folder,) = out.iterdir()
    assert str(folder) in result.output
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["n_posts"] == 3 and set(summary["groups"]) == {"for_it", "against_it"}


def test_report_can_count_copies_once(runner, tmp_path, tiny_topic_dir):
    store = tmp_path / "s.sqlite"
    rows = [{"id": str(i), "text": "vote no on the toll bridge, keep the ferry running", "author_username": f"bot{i}",
             "created_at": "2025-03-02T12:00:00Z"} for i in range(1, 6)]
    rows.append({"id": "9", "text": "build the bridge", "created_at": "2025-03-02T13:00:00Z"})
    invoke(runner, "import", write_jsonl(tmp_path / "p.jsonl", rows), "--store", store, "--topic", tiny_topic_dir)
    invoke(runner, "report", "--store", store, "--topic", tiny_topic_dir, "--out", tmp_path / "r", "--copies", "once")
    (folder,) = (tmp_path / "r").iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["n_posts"] == 2 and summary["duplicates"]["groups"][0]["size"] == 5


def test_report_with_until_before_since_is_refused(runner, tmp_path):
    result = invoke(runner, "report", "--store", tmp_path / "s.sqlite", "--since", "2026-01-07T00:00:00Z",
                    "--until", "2026-01-06T00:00:00Z", code=1)
    assert "window is empty" in result.stderr


@pytest.mark.slow
def test_run_uses_the_shipped_sample_end_to_end(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(runner, "run")
    (folder,) = (tmp_path / "reports").iterdir()
    assert f"report written to reports/{folder.name}" in result.output
    for name in ("proportions.png", "report.pdf", "posts.csv", "summary.json"):
        assert (folder / name).stat().st_size > 1000
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["topic"] == "paris_declaration" and summary["n_posts"] >= 1500
    assert summary["evaluation"]["n_labeled"] == summary["n_posts"]
    assert (tmp_path / "data" / "sentiment.sqlite").is_file()
    # a second run stores nothing twice
    again = invoke(runner, "run")
    assert "0 new" in again.output
    assert Store(tmp_path / "data" / "sentiment.sqlite").count() == summary["n_posts"]


def test_quiet_prints_nothing_on_success(runner, tmp_path):
    result = invoke(runner, "-q", "import", write_jsonl(tmp_path / "p.jsonl", [{"id": "1", "text": "a"}]),
                    "--store", tmp_path / "s.sqlite")
    assert result.output == ""
