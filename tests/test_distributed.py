from __future__ import annotations

import csv
import socket
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sentiment.classify import StanceClassifier
from sentiment.distributed import ClusterError, classify_dataset
from sentiment.errors import InputError, ModelError, SentimentError
from sentiment.pipeline import EXPORT_FIELDS, classify_file

from conftest import TINY_EXAMPLES

GROUPS = ["for_it", "against_it"]

# Written for these tests: the toy bridge debate in four languages.
PHRASES = {
    "en": ["build the bridge, it saves me an hour", "what a waste, scrap the toll bridge",
           "yes to jobs and the new crossing", "keep the ferry, no concrete monster"],
    "de": ["baut die Brücke endlich, gut für die Stadt", "eine Mautbrücke, die keiner will, Geldverschwendung",
           "ja zur Brücke, ja zu Arbeitsplätzen", "behaltet die Fähre, nein zur Brücke"],
    "fr": ["construisez le pont, enfin une vraie traversée", "un pont à péage, quel gaspillage",
           "oui au pont, oui aux emplois", "gardez le ferry, non au pont"],
    "es": ["construyan el puente, me ahorra una hora", "un puente de peaje que nadie pidió",
           "sí al puente y a los empleos", "que se quede el ferry, no al puente"],
}
START = datetime(2025, 3, 1, tzinfo=timezone.utc)
# Files named so that only a natural sort reads them in the order written.
FILE_SIZES = {"posts-1.parquet": 90, "posts-2.parquet": 80, "posts-3.parquet": 70, "posts-10.parquet": 62}


def _record(i: int) -> dict:
    lang = list(PHRASES)[i % 4]
    record = {name: None for name in EXPORT_FIELDS}
    record.update(
        id=str(1_900_000_000_000_000_000 + i), text=f"{PHRASES[lang][(i // 4) % 4]} #{i}", lang=lang,
        created_at=START + timedelta(minutes=7 * i), author_id=str(100 + i % 13),
        author_username=f"user{i % 13}", is_reply=i % 5 == 0, is_repost=False, is_quote=False,
        like_count=i % 17,
    )
    return record


@pytest.fixture(scope="module")
def model() -> StanceClassifier:
    return StanceClassifier(cv=3).fit([t for t, _ in TINY_EXAMPLES], [g for _, g in TINY_EXAMPLES])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """302 rows in four files of row groups of 40 (9 partitions); two rows are not posts.

    Returns the folder and the ids of the good posts, in the order written.
    """
    folder = tmp_path_factory.mktemp("dataset")
    i, ids = 0, []
    for name, size in FILE_SIZES.items():
        rows = [_record(j) for j in range(i, i + size)]
        i += size
        if name == "posts-2.parquet":
            rows[5]["text"] = "   "  # no text
            rows[50]["id"] = "not-an-id"
        ids += [r["id"] for r in rows if r["text"].strip() and r["id"].isdigit()]
        pq.write_table(pa.Table.from_pylist(rows), folder / name, row_group_size=40)
    (folder / "_SUCCESS").write_text("")  # what Spark leaves behind: not data
    return folder, ids


def _read(folder: Path) -> dict[str, pa.Table]:
    return {p.name: pq.read_table(p) for p in sorted(folder.iterdir())}


def _assert_same(a, b) -> None:
    assert (a.n_posts, a.n_rejected, a.n_partitions, a.rejections) == (b.n_posts, b.n_rejected, b.n_partitions,
                                                                      b.rejections)
    assert a.summary == b.summary  # shares, intervals, raw shares and counts, to the last bit
    for name in ("label_counts", "proba_sum", "proba_outer_sum"):
        assert np.array_equal(getattr(a.totals, name), getattr(b.totals, name)), name
    files_a, files_b = _read(a.output), _read(b.output)
    assert list(files_a) == list(files_b)
    for name in files_a:
        assert files_a[name].equals(files_b[name]), name


def test_the_dask_engine_on_a_local_cluster_agrees_exactly_with_the_local_engine(model, dataset, tmp_path):
    source, ids = dataset
    on_dask = classify_dataset(source, tmp_path / "dask", model=model, group_ids=GROUPS, engine="dask",
                               n_workers=2, batch_size=16)
    local = classify_dataset(source, tmp_path / "local", model=model, group_ids=GROUPS)
    small_batches = classify_dataset(source, tmp_path / "small", model=model, group_ids=GROUPS, batch_size=5)

    assert (local.n_posts, local.n_rejected, local.n_partitions) == (300, 2, 9)
    assert [r.split(", ")[1].split(":")[0] for r in local.rejections] == ["row 6", "row 51"]
    assert local.summary.method == "acc" and local.summary.n_posts == 300
    _assert_same(on_dask, local)
    _assert_same(small_batches, local)

    files = _read(local.output)
    assert list(files) == [f"part-{i:05d}.parquet" for i in range(9)]
    table = pa.concat_tables(files.values())
    assert table.column_names == ["id", "label", "confidence", "p_for_it", "p_against_it", "sentiment"]
    assert table.column("id").to_pylist() == ids  # every good post once, in input order
    sentiment = dict(zip(table.column("id").to_pylist(), table.column("sentiment").to_pylist(), strict=True))
    assert {lang: sentiment[_record(k)["id"]] is None for k, lang in enumerate(PHRASES)} == {
        "en": False, "de": True, "fr": True, "es": True}  # VADER scores English posts only
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dask", "local", "small"]  # no temp folders left


def test_results_match_classify_file_post_by_post(model, dataset, tmp_path):
    source, _ = dataset
    result = classify_dataset(source / "posts-2.parquet", tmp_path / "out", model=model, group_ids=GROUPS)
    classify_file(source / "posts-2.parquet", tmp_path / "file.csv", model=model)
    with (tmp_path / "file.csv").open(newline="") as handle:
        expected = list(csv.DictReader(handle))
    table = pa.concat_tables(_read(result.output).values()).to_pylist()
    assert [r["id"] for r in table] == [r["id"] for r in expected]
    assert [r["label"] for r in table] == [r["label"] for r in expected]
    assert [f"{r['p_for_it']:.4f}" for r in table] == [r["p_for_it"] for r in expected]
    assert ["" if r["sentiment"] is None else f"{r['sentiment']:.4f}" for r in table] == [
        r["sentiment"] for r in expected]
    assert result.n_rejected == 2 and result.n_partitions == 2


def test_a_running_cluster_is_used_by_address_or_client(model, dataset, tmp_path):
    distributed = pytest.importorskip("distributed")
    source, _ = dataset
    local = classify_dataset(source, tmp_path / "local", model=model, group_ids=GROUPS)
    # Workers in this process: a real scheduler and workers, without a second start-up of sentiment.
    in_process = {"n_workers": 2, "processes": False, "threads_per_worker": 1, "dashboard_address": None}
    with distributed.LocalCluster(**in_process) as cluster:
        by_address = classify_dataset(source, tmp_path / "address", model=model, group_ids=GROUPS, engine="dask",
                                      scheduler=cluster.scheduler_address, batch_size=7)
        with distributed.Client(cluster, set_as_default=False) as client:
            by_client = classify_dataset(source, tmp_path / "client", model=model, group_ids=GROUPS, engine="dask",
                                         scheduler=client)
            assert client.status == "running"  # the caller's client is left open
    _assert_same(by_address, local)
    _assert_same(by_client, local)


def _write_csv(path: Path) -> Path:
    path.write_text("id,text\n1,hello\n", encoding="utf-8")
    return path


def _write_no_text(path: Path) -> Path:
    pq.write_table(pa.table({"id": ["1"], "body": ["hello"]}), path)
    return path


@pytest.mark.parametrize("engine", ["local", "dask"])
@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda tmp: tmp / "missing", "no such file or folder"),
        (lambda tmp: tmp / "missing" / "*.parquet", "no files match this pattern"),
        (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "no Parquet files"),
        (lambda tmp: _write_csv(tmp / "posts.parquet"), "not a Parquet file"),
        (lambda tmp: _write_no_text(tmp / "posts.parquet"), "has no 'text' column"),
    ],
    ids=["missing", "no-match", "empty-folder", "csv", "no-text-column"],
)
def test_a_bad_source_fails_clearly_and_writes_nothing(model, tmp_path, engine, make, problem):
    (tmp_path / "in").mkdir()
    source = make(tmp_path / "in")
    out = tmp_path / "out"
    with pytest.raises(InputError, match=problem) as raised:
        classify_dataset(source, out / "classified", model=model, group_ids=GROUPS, engine=engine)
    assert str(source) in str(raised.value)
    assert not out.exists()


def test_an_unreachable_scheduler_is_named(model, dataset, tmp_path):
    pytest.importorskip("distributed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"  # nothing listens here once closed
    with pytest.raises(ClusterError, match=f"cannot reach the Dask scheduler at {address}"):
        classify_dataset(dataset[0], tmp_path / "out", model=model, group_ids=GROUPS, engine="dask",
                         scheduler=address, timeout=1)
    assert list(tmp_path.iterdir()) == []


def test_without_dask_the_dask_engine_says_how_to_install_it(model, dataset, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails
    with pytest.raises(ClusterError, match=r"pip install 'sentiment\[dask\]'"):
        classify_dataset(dataset[0], tmp_path / "out", model=model, group_ids=GROUPS, engine="dask")
    assert list(tmp_path.iterdir()) == []


def test_an_old_result_is_replaced_but_other_folders_are_not_touched(model, dataset, tmp_path):
    source, _ = dataset
    small = source / "posts-3.parquet"
    out = tmp_path / "out"
    classify_dataset(source, out, model=model, group_ids=GROUPS)
    again = classify_dataset(small, out, model=model, group_ids=GROUPS)
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    assert again.n_posts == 70
    (out / "notes.txt").write_text("mine")
    with pytest.raises(SentimentError, match="holding other files"):
        classify_dataset(small, out, model=model, group_ids=GROUPS)
    assert (out / "notes.txt").read_text() == "mine"
    with pytest.raises(ValueError, match="inside the dataset folder"):
        classify_dataset(source, source / "out", model=model, group_ids=GROUPS)


def test_bad_arguments_fail_before_any_work(model, dataset, tmp_path):
    source, _ = dataset
    with pytest.raises(ModelError, match="not the groups"):
        classify_dataset(source, tmp_path / "out", model=model, group_ids=["for_it", "neutral"])
    with pytest.raises(ValueError, match="engine"):
        classify_dataset(source, tmp_path / "out", model=model, group_ids=GROUPS, engine="spark")
    with pytest.raises(ValueError, match="only used by engine='dask'"):
        classify_dataset(source, tmp_path / "out", model=model, group_ids=GROUPS, scheduler="tcp://x:8786")
    assert list(tmp_path.iterdir()) == []
