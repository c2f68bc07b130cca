"""The notebook API: ``sentiment.analyze(...)`` gives one quiet, fast object.

>>> import sentiment
>>> result = sentiment.analyze(["Historic day, real security guarantees at last!",
...                             "Another worthless piece of paper. No troops will ever come."])
>>> list(result.shares.columns)
['name', 'share', 'ci_low', 'ci_high', 'raw_share', 'n']
"""

from __future__ import annotations

import base64
import html
import io
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .charts import reach_chart, sentiment_chart, shares_chart, themes_chart, timeline_chart
from .classify import Prediction, StanceClassifier, calibration, predict_posts
from .errors import InputError, RecordError, SentimentError
from .importers import Rejection, read_posts
from .models import Post
from .normalize import normalize_post
from .report import REPORT_FORMATS, ReportData, build_report, post_columns, write_files, write_posts_csv
from .store import Store
from .topic import Topic, load_topic

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

__all__ = ["analyze", "Analysis"]


def _posts_from(data: Any, topic: Topic, since: datetime | None, until: datetime | None) -> list[Post]:
    if data is None:
        if topic.sample is None:
            raise SentimentError(f"topic {topic.name!r} ships no sample; give posts to analyze")
        data = topic.sample
    if isinstance(data, Store):
        return list(data.posts(topic.name, since or topic.start, until or topic.end))
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.is_file():
            if isinstance(data, str) and not path.exists() and (" " in data or "\n" in data or len(data) > 255):
                raise SentimentError(f"{data[:60]!r} is not a file: to analyze texts, give a list of them")
            raise InputError(path, "is a folder, not a file" if path.is_dir() else "no such file")
        if path.suffix in (".sqlite", ".db"):
            with Store(path) as store:
                return list(store.posts(topic.name, since or topic.start, until or topic.end))
        return [item for _, item in read_posts(path) if not isinstance(item, Rejection)]
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame
        if "text" not in data.columns:
            raise SentimentError("the DataFrame needs a 'text' column")
        rows = zip(data.index, data.to_dict("records"))
        return _posts_of((f"DataFrame row {index!r}", {"id": str(i + 1), **{k: v for k, v in record.items()
                                                                         if v == v and v is not None}})  # NaN != NaN
                         for i, (index, record) in enumerate(rows))
    if isinstance(data, Iterable):
        return _posts_of((f"item {i}", Post(id=str(i + 1), text=item) if isinstance(item, str) else item)
                         for i, item in enumerate(data))
    raise SentimentError(f"cannot analyze a {type(data).__name__}: give a Store, a file, a DataFrame or texts")


def _posts_of(items: Iterable[tuple[str, Any]]) -> list[Post]:
    """Posts from ``(where, Post or post dict)`` pairs; those without text are skipped, as import skips them."""
    posts, blank = [], 0
    for where, item in items:
        if isinstance(item, Post):
            text = item.text
        elif isinstance(item, Mapping):
            text = item.get("text")
        else:
            text = "-"  # not post-shaped at all: normalize_post names the problem
        if not str(text or "").strip():
            blank += 1
            continue
        if not isinstance(item, Post):
            try:
                item = normalize_post(item)
            except RecordError as exc:  # named by where it was given
                raise RecordError(f"{where}: {exc}") from None
        posts.append(item)
    if blank:
        log.warning("skipped %d posts without text", blank)
    return posts


def _window(posts: list[Post], data: Any, topic: Topic, since: datetime | None,
            until: datetime | None) -> tuple[datetime, datetime]:
    """The window a result speaks of: as given; the topic's for a store or its
    sample; else the whole hours the posts' times span (or today, without times)."""
    if since is not None or until is not None:
        return since or topic.start, until or topic.end
    if data is None or isinstance(data, Store) or (isinstance(data, (str, Path)) and
                                                    Path(data).suffix in (".sqlite", ".db")):
        return topic.start, topic.end
    times = [p.created_at for p in posts if p.created_at is not None]
    if times:
        return min(times).replace(minute=0, second=0, microsecond=0), \
            max(times).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    now = datetime.now(timezone.utc)
    return now.replace(hour=0, minute=0, second=0, microsecond=0), now


class _Plots:
    """``result.plot.<chart>()``: each returns a matplotlib Figure."""

    def __init__(self, analysis: Analysis) -> None:
        self._a = analysis

    def shares(self) -> Figure:
        return shares_chart(self._a.doc, self._a.topic)

    def timeline(self) -> Figure:
        return timeline_chart(self._a.doc, self._a.topic)

    def reach(self) -> Figure:
        return reach_chart(self._a.doc, self._a.topic)

    def sentiment(self) -> Figure:
        return sentiment_chart(self._a.doc, self._a.topic)

    def themes(self) -> Figure:
        return themes_chart(self._a.doc, self._a.topic)


class Analysis:
    """The result of :func:`analyze`: posts, shares, themes, the summary, charts and files."""

    def __init__(self, data: ReportData, pairs: list[tuple[Post, Prediction]]) -> None:
        self._data = data
        self._pairs = pairs
        self.plot = _Plots(self)

    @property
    def topic(self) -> Topic:
        return self._data.topic

    @property
    def doc(self) -> dict[str, Any]:
        """The summary as written to ``summary.json``."""
        return self._data.doc

    @property
    def summary(self) -> str:
        """The "What people say" paragraph."""
        return str(self.doc["summary"])

    @property
    def posts(self) -> pd.DataFrame:
        """Every post with its group, confidence, probabilities and tone (the columns of posts.csv)."""
        import pandas as pd

        from .report import _post_row

        columns = post_columns(self.topic.group_ids)
        frame = pd.DataFrame([_post_row(p, pr, self.topic.group_ids) for p, pr in self._pairs], columns=columns)
        for col in ["confidence", "sentiment", *[f"p_{g}" for g in self.topic.group_ids]]:
            frame[col] = pd.to_numeric(frame[col])
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, errors="coerce")
        return frame

    @property
    def shares(self) -> pd.DataFrame:
        """Per group: corrected share with its 95% interval, plain share and count."""
        import pandas as pd

        rows = {g.id: {"name": g.name, "share": d["share"], "ci_low": d["ci"][0], "ci_high": d["ci"][1],
                       "raw_share": d["raw_share"], "n": d["n"]}
                for g in self.topic.groups for d in [self.doc["groups"][g.id]]}
        return pd.DataFrame.from_dict(rows, orient="index")

    @property
    def themes(self) -> dict[str, pd.DataFrame]:
        """Per group, its themes: phrase, weight, posts using it."""
        import pandas as pd

        return {g: pd.DataFrame(d["themes"], columns=["phrase", "weight", "n_posts"])
                for g, d in self.doc["groups"].items()}

    def save(self, folder: str | Path, formats: Iterable[str] | None = None) -> Path:
        """Write the report's files into ``folder`` (created; written beside it and moved into place)."""
        folder = Path(folder)
        if folder.exists() and any(folder.iterdir()):
            raise SentimentError(f"{folder} exists and is not empty")
        wanted = set(formats) if formats is not None else set(REPORT_FORMATS)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            if "csv" in wanted:
                handle, write_row = write_posts_csv(tmp / "posts.csv", self.topic.group_ids)
                with handle:
                    for post, pred in self._pairs:
                        write_row(post, pred)
            write_files(self._data, tmp, wanted)
            if folder.exists():
                folder.rmdir()
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return folder

    def to_pdf(self, path: str | Path) -> Path:
        """Write only the PDF report."""
        from . import __version__
        from .pdf import write_pdf

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)  # as save() makes its folder
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        try:
            write_pdf(tmp, self.doc, self.topic, {r.id: r for r in self._data.rows}, methods=self._data.methods,
                      provenance=self._data.provenance, now=self._data.now, version=__version__)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    def __repr__(self) -> str:
        return f"<Analysis of {self.doc['n_posts']:,} posts about {self.topic.title!r}>"

    def _repr_html_(self) -> str:
        buffer = io.BytesIO()
        self.plot.shares().savefig(buffer, format="png", dpi=90)
        image = base64.b64encode(buffer.getvalue()).decode()
        rows = "".join(
            f"<tr><td style='color:{g.color}'><b>{html.escape(g.name)}</b></td>"
            f"<td>{d['share']:.1%}</td><td>{d['ci'][0]:.1%} – {d['ci'][1]:.1%}</td><td>{d['n']:,}</td></tr>"
            for g in self.topic.groups for d in [self.doc["groups"][g.id]]
        )
        return (
            f"<div><h3>{html.escape(self.topic.title)}: what people say</h3>"
            f"<p>{html.escape(self.summary)}</p>"
            "<table><tr><th>group</th><th>share</th><th>95% interval</th><th>posts</th></tr>"
            f"{rows}</table><img src='data:image/png;base64,{image}'/></div>"
        )


def analyze(
    data: Any = None,
    *,
    topic: str | Path | Topic | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    model: StanceClassifier | None = None,
    copies: str = "all",
    include_reposts: bool = False,
) -> Analysis:
    """Classify and summarise posts; no files, no progress bars, no printing.

    ``data`` is a :class:`Store` (its posts of the topic in the window), a
    path (a store ``.sqlite`` file or any importable file), a pandas
    DataFrame with a ``text`` column (and any of the import columns), a list
    of texts, posts or post dicts, or None for the topic's shipped sample.
    """
    from .pipeline import checked_model, model_for

    topic = topic if isinstance(topic, Topic) else load_topic(topic)
    model = model_for(topic) if model is None else checked_model(model, topic)
    posts = _posts_from(data, topic, since, until)
    pairs = list(predict_posts(model, posts))
    start, end = _window(posts, data, topic, since, until)
    report = build_report(topic, pairs, start=start, end=end, calibration=calibration(model, topic.group_ids),
                          copies=copies, include_reposts=include_reposts)
    return Analysis(report, pairs)
