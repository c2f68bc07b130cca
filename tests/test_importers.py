from __future__ import annotations

import json
from pathlib import Path

import pytest

from sentiment.errors import InputError
from sentiment.importers import detect_format, import_file

from conftest import api_page, write_jsonl

USERS = [{"id": "11", "username": "kyiv_anna", "name": "Anna"}, {"id": "12", "username": "le_sceptique"}]


def api_post(n: int, author: str = "11", **kw) -> dict:
    post = {"id": str(2008000000000000000 + n), "text": f"post {n} about the declaration", "author_id": author,
            "created_at": f"2026-01-06T1{n % 10}:00:00.000Z", "lang": "en",
            "public_metrics": {"retweet_count": n, "reply_count": 0, "like_count": 2 * n, "quote_count": 0}}
    post.update(kw)
    return post


def stored(store) -> dict[str, str]:
    return {p.id: p.text for p in store.posts()}


# -- good input, every format -------------------------------------------------

def test_single_api_page_json_document(tmp_path, store):
    path = tmp_path / "page.json"
    path.write_text(json.dumps(api_page([api_post(1), api_post(2, "12")], USERS), indent=2))
    result = import_file(store, path, topic="t")
    assert (result.format, result.new, result.rejected) == ("api-json", 2, 0)
    assert {p.author_username for p in store.posts()} == {"kyiv_anna", "le_sceptique"}


def test_json_list_of_pages(tmp_path, store):
    path = tmp_path / "pages.json"
    path.write_text(json.dumps([api_page([api_post(1)], USERS), api_page([api_post(2)], USERS)]))
    assert import_file(store, path).new == 2


def test_api_pages_jsonl_and_twarc2_output(tmp_path, store):
    pages = [api_page([api_post(n) for n in range(3)], USERS, next_token="abc"), api_page([api_post(5)], USERS)]
    assert import_file(store, write_jsonl(tmp_path / "p.jsonl", pages)).format == "api-jsonl"
    twarc = [dict(p, __twarc={"url": "https://api.x.com/2/tweets/search/recent", "version": "2.14.0"}) for p in pages]
    result = import_file(store, write_jsonl(tmp_path / "t.jsonl", twarc))
    assert (result.format, result.new, result.unchanged) == ("twarc2-jsonl", 0, 4)
    assert store.count() == 4


def test_flat_jsonl_with_optional_fields(tmp_path, store):
    rows = [{"id": "1", "text": "hi", "author_username": "ann", "like_count": 4, "created_at": "2026-01-06T10:00:00Z"},
            {"id": "2", "text": "Привіт 🇺🇦", "lang": "uk"}]
    result = import_file(store, write_jsonl(tmp_path / "flat.jsonl", rows))
    assert (result.format, result.new) == ("posts-jsonl", 2)
    assert stored(store)["2"] == "Привіт 🇺🇦"


def test_csv_and_tsv_with_extra_columns_and_multiline_text(tmp_path, store):
    csv_path = tmp_path / "posts.csv"
    csv_path.write_text('ID,Text,lang,likes,notes\n1,"line one\nline two, with comma",en,3,x\n2,plain,fr,,\n',
                        encoding="utf-8")
    result = import_file(store, csv_path)
    assert (result.format, result.new) == ("csv", 2)
    assert stored(store)["1"] == "line one\nline two, with comma"
    tsv = tmp_path / "posts.tsv"
    tsv.write_text("id\ttext\n3\tbonjour à tous\n", encoding="utf-8")
    assert import_file(store, tsv).format == "tsv"


def test_utf8_bom_is_accepted(tmp_path, store):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffid,text\n1,hello\n".encode("utf-8"))
    assert import_file(store, path).new == 1


def test_reimport_counts_updates_when_metrics_changed(tmp_path, store):
    path = write_jsonl(tmp_path / "p.jsonl", [api_page([api_post(1)], USERS)])
    import_file(store, path)
    newer = api_post(1)
    newer["public_metrics"] = dict(newer["public_metrics"], like_count=500)
    result = import_file(store, write_jsonl(tmp_path / "q.jsonl", [api_page([newer], USERS)]))
    assert (result.new, result.updated) == (0, 1)
    assert next(store.posts()).like_count == 500


def test_duplicate_ids_in_one_file_are_stored_once_last_wins(tmp_path, store):
    rows = [{"id": "1", "text": "first"}, {"id": "2", "text": "other"}, {"id": "1", "text": "edited"}]
    result = import_file(store, write_jsonl(tmp_path / "d.jsonl", rows))
    assert (result.new, result.duplicates_in_file) == (2, 1)
    assert stored(store) == {"1": "edited", "2": "other"}


# -- bad input: clear errors, store unchanged ---------------------------------

def assert_fails_cleanly(store, path: Path, problem: str, line: int | None):
    before = stored(store)
    with pytest.raises(InputError) as info:
        import_file(store, path)
    message = str(info.value)
    assert str(path) in message and problem in message
    assert info.value.line == line
    if line is not None:
        assert f"line {line}" in message
    assert "\n" not in message
    assert stored(store) == before


def test_malformed_json_line_fails_the_file_naming_the_line(tmp_path, store):
    store.upsert([])
    good = json.dumps({"id": "1", "text": "ok"})
    path = tmp_path / "bad.jsonl"
    path.write_text(f'{good}\n{json.dumps({"id": "2", "text": "ok"})}\n{{"id": "3", "text": \n')
    assert_fails_cleanly(store, path, "malformed JSON", 3)
    assert store.count() == 0  # the two good lines before it were rolled back


def test_csv_without_text_column(tmp_path, store):
    path = tmp_path / "no_text.csv"
    path.write_text("id,body\n1,hello\n")
    assert_fails_cleanly(store, path, "no 'text' column", 1)


def test_invalid_utf8_names_the_line(tmp_path, store):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"id,text\n1,fine\n2,caf\xe9 cr\xe8me\n")
    assert_fails_cleanly(store, path, "invalid UTF-8", 3)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, store, content):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    assert_fails_cleanly(store, path, "empty", None)


def test_a_pdf_is_named_as_such(tmp_path, store):
    path = tmp_path / "posts.csv"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    assert_fails_cleanly(store, path, "PDF", None)


def test_a_binary_file(tmp_path, store):
    path = tmp_path / "blob.json"
    path.write_bytes(b"{\x00\x01\x02\x03")
    assert_fails_cleanly(store, path, "binary", None)


def test_a_missing_file(tmp_path, store):
    assert_fails_cleanly(store, tmp_path / "nope.csv", "No such file", None)


def test_a_10_mb_line_is_rejected_as_one_post_not_a_crash(tmp_path, store):
    rows = [{"id": "1", "text": "x" * (10 * 1024 * 1024)}, {"id": "2", "text": "normal"}]
    result = import_file(store, write_jsonl(tmp_path / "huge.jsonl", rows))
    assert (result.new, result.rejected) == (1, 1)
    assert result.rejections[0].line == 1 and "characters" in result.rejections[0].problem


def test_a_10_mb_csv_field_fails_the_file_with_its_line(tmp_path, store):
    path = tmp_path / "huge.csv"
    path.write_text('id,text\n1,ok\n2,"' + "y" * (10 * 1024 * 1024) + '"\n')
    assert_fails_cleanly(store, path, "bad CSV", 3)


@pytest.mark.parametrize(
    "row, problem",
    [
        ({"id": "12ab", "text": "x"}, "digits"),
        ({"id": "1", "text": ""}, "no text"),
        ({"id": "1", "text": "x", "created_at": "2026-01-06T10:00:00"}, "no timezone"),
    ],
)
def test_unusable_posts_are_skipped_with_line_and_reason(tmp_path, store, row, problem):
    rows = [{"id": "5", "text": "good"}, row, {"id": "6", "text": "also good"}]
    result = import_file(store, write_jsonl(tmp_path / "mixed.jsonl", rows))
    assert (result.new, result.rejected) == (2, 1)
    assert result.rejections[0].line == 2 and problem in result.rejections[0].problem


def test_strict_mode_fails_the_whole_file_on_one_bad_post(tmp_path, store):
    path = write_jsonl(tmp_path / "mixed.jsonl", [{"id": "5", "text": "good"}, {"id": "x", "text": "bad"}])
    with pytest.raises(InputError, match="line 2"):
        import_file(store, path, strict=True)
    assert store.count() == 0


def test_bad_post_inside_an_api_page_names_its_line_and_position(tmp_path, store):
    page = api_page([api_post(1), {"id": "2008000000000000002", "author_id": "11"}], USERS)
    result = import_file(store, write_jsonl(tmp_path / "p.jsonl", [page]))
    assert result.rejected == 1 and "post 2 of the page" in result.rejections[0].problem


def test_detect_format_reads_content_not_the_name(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("id,text\n1,x\n")
    assert detect_format(path) == "csv"
    write_jsonl(path, [api_page([api_post(1)], USERS)])
    assert detect_format(path) == "api-jsonl"


def test_parquet_rows_import_and_bad_rows_are_named(tmp_path, store):
    from datetime import datetime, timezone

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "id": ["1", "2", "3", "4"],
        "text": ["bonjour", None, "hello", "no time given"],
        "created_at": pa.array([datetime(2026, 1, 6, 10, tzinfo=timezone.utc)] * 3 + [None],
                               type=pa.timestamp("us", tz="UTC")),
        "like_count": [3, 4, None, 1],
    })
    path = tmp_path / "posts.bin"
    pq.write_table(table, path)
    result = import_file(store, path)
    assert (result.format, result.new, result.rejected) == ("parquet", 3, 1)
    assert result.rejections[0].line == 2 and "no text" in result.rejections[0].problem
    by_id = {p.id: p for p in store.posts()}
    assert by_id["1"].created_at == datetime(2026, 1, 6, 10, tzinfo=timezone.utc) and by_id["4"].created_at is None


def test_parquet_without_a_text_column_fails_the_file(tmp_path, store):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["1"], "body": ["x"]}), tmp_path / "p.parquet")
    assert_fails_cleanly(store, tmp_path / "p.parquet", "no 'text' column", None)



# -- large files: normalised in worker processes ------------------------------

def _mixed_rows(n: int) -> list[dict]:
    rows = [{"id": str(100 + i), "text": f"post {i} on the declaration", "like_count": i,
             "created_at": f"2026-01-06T{i % 24:02d}:00:00Z"} for i in range(n)]
    rows[7] = {"id": "x7", "text": "an id that is not an X id"}
    rows[n - 3] = {"id": "150", "text": "post 50, edited"}  # the same id again, chunks later
    return rows


def test_worker_processes_import_exactly_what_one_process_does(tmp_path):
    from sentiment.store import Store

    path = write_jsonl(tmp_path / "many.jsonl", _mixed_rows(4500) + [api_page([api_post(1)], USERS)])
    results, contents = [], []
    for jobs in (1, 2):
        with Store(tmp_path / f"s{jobs}.sqlite") as db:
            result = import_file(db, path, topic="t", n_jobs=jobs)
            results.append((result.new, result.rejected, result.duplicates_in_file,
                            [r.line for r in result.rejections]))
            contents.append(sorted((p.id, p.text, p.like_count, p.created_at, p.raw) for p in db.posts()))
    # 4,500 rows, one rejected and one an id again, and the page's post.
    assert results[0] == results[1] == (4499, 1, 1, [8])
    assert contents[0] == contents[1]
    assert dict((c[0], c[1]) for c in contents[1])["150"] == "post 50, edited"


def test_a_bad_line_deep_in_a_large_file_fails_it_cleanly_in_workers(tmp_path, store):
    path = write_jsonl(tmp_path / "bad.jsonl", _mixed_rows(4500))
    with path.open("a") as handle:
        handle.write('{"id": "9", "text": \n')
    with pytest.raises(InputError, match="line 4501"):
        import_file(store, path, n_jobs=2)
    assert store.count() == 0


def test_pages_are_sent_to_workers_by_their_posts_not_one_page_a_post(tmp_path):
    from sentiment.importers import _batches

    page = api_page([api_post(i) for i in range(100)], USERS)
    records = [("page", n, page) for n in range(1, 51)] + [("post", 51, {"id": "1", "text": "x"})] * 150
    sizes = [len(batch) for batch in _batches(records, 2000)]
    assert sizes == [20, 20, 10 + 150]  # 2,000 posts a batch: 20 pages, then what is left


@pytest.mark.parametrize("body, line, opened", [
    ('1,"a quote that never closes\n2,next post\n', 3, 2),
    ('1,"He said ""stop\n2,plain\n3,"quoted, with comma"\n4,last\n', 4, 2),
])
def test_an_unclosed_quote_fails_the_file_instead_of_swallowing_rows(tmp_path, store, body, line, opened):
    path = tmp_path / "quotes.csv"
    path.write_text("id,text\n" + body, encoding="utf-8")
    assert_fails_cleanly(store, path, f"begins on line {opened}", line)


def test_flat_columns_beside_api_keys_are_all_read(tmp_path, store):
    path = tmp_path / "posts.csv"  # `author` is a plain name here, not an API author object
    path.write_text("id,created_at,text,author,like_count,retweet_count,is_reply\n"
                    "1877000000000000201,2026-01-06T10:00:00Z,Good news from Paris,anna_k,7,3,true\n")
    import_file(store, path)
    (post,) = store.posts()
    assert (post.author_username, post.like_count, post.repost_count, post.is_reply) == ("anna_k", 7, 3, True)
    hybrid = write_jsonl(tmp_path / "hybrid.jsonl", [{"id": "1877000000000000202", "text": "ok",
                                                      "entities": {"hashtags": []}, "author_username": "bob",
                                                      "like_count": 9, "is_repost": True}])
    import_file(store, hybrid)
    post = next(p for p in store.posts() if p.id == "1877000000000000202")
    assert (post.author_username, post.like_count, post.is_repost) == ("bob", 9, True)
