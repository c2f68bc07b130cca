"""Active learning: the analyst labels the posts the model is least sure of.

:class:`LabelSession` picks stored posts of a topic where the model's top two
groups are closest (least sure), skipping near-duplicates of each other and
texts already among the examples, so every label teaches the model something
new. Each label is appended to the topic's examples file at once (quitting
never loses work), ``undo`` takes the last one back, and :meth:`retrain`
builds the model again from the grown file. The CLI's ``sentiment label``
drives the same object; in a notebook::

    session = LabelSession(load_topic(), store)
    while (c := session.current()) is not None:
        print(c.post.text, c.guess)
        session.label(session.groups[0])   # or session.skip(), session.undo()
    session.retrain()
"""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .classify import StanceClassifier, load_examples, topic_model
from .duplicates import normalize_for_copies
from .errors import SentimentError
from .models import Post
from .store import Store
from .topic import Topic, _packaged_topics_dir, load_topic

__all__ = ["Candidate", "LabelSession", "pick_candidates", "writable_topic"]

log = logging.getLogger(__name__)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Candidate:
    """A post to label, with the model's guess and how sure it is."""

    post: Post
    guess: str
    confidence: float
    margin: float


def _shingles(text: str) -> set[str]:
    norm = normalize_for_copies(text)
    return {norm[i:i + 5] for i in range(max(1, len(norm) - 4))}


def _similar(a: set[str], b: set[str], threshold: float) -> bool:
    return bool(a) and bool(b) and len(a & b) / len(a | b) >= threshold


def pick_candidates(
    model: StanceClassifier,
    posts: Iterable[Post],
    *,
    n: int = 20,
    known_texts: Iterable[str] = (),
    similarity: float = 0.6,
) -> list[Candidate]:
    """The ``n`` posts the model is least sure of, none a near-duplicate of another or of a known text."""
    posts = [p for p in posts if not p.is_repost]
    if not posts or n <= 0:
        return []
    proba = model.predict_proba([p.text for p in posts])
    top2 = np.sort(proba, axis=1)[:, -2:]
    margins = top2[:, 1] - top2[:, 0]
    classes = [str(c) for c in model.classes_]
    known = [_shingles(t) for t in known_texts]
    known_exact = {_SPACE.sub(" ", t.strip().lower()) for t in known_texts}
    picked: list[Candidate] = []
    picked_shingles: list[set[str]] = []
    for i in np.argsort(margins, kind="stable"):
        post = posts[int(i)]
        if _SPACE.sub(" ", post.text.strip().lower()) in known_exact:
            continue
        sh = _shingles(post.text)
        if any(_similar(sh, other, similarity) for other in picked_shingles):
            continue
        if any(_similar(sh, other, similarity) for other in known):
            continue
        best = int(np.argmax(proba[i]))
        picked.append(Candidate(post, classes[best], float(proba[i][best]), float(margins[i])))
        picked_shingles.append(sh)
        if len(picked) == n:
            break
    return picked


def writable_topic(topic: Topic, workdir: str | Path = ".") -> Topic:
    """The topic itself if its examples can grow in place, else a copy in ``./data/topics/``.

    A topic shipped inside the installed package is never written to (a
    reinstall would lose the labels), nor is one we may not write; labels go
    to a copy in the working folder, which then takes precedence for that name.
    """
    # Shipped: inside an installed package, or the source tree's data/topics of an editable install.
    packaged = topic.folder.resolve().parent == _packaged_topics_dir().resolve()
    writable = topic.examples is not None and os.access(topic.examples, os.W_OK) and os.access(topic.folder, os.W_OK)
    if writable and not packaged:
        return topic
    target = Path(workdir) / "data" / "topics" / topic.name
    if not (target / "topic.toml").exists():
        shutil.copytree(topic.folder, target, dirs_exist_ok=True)
        for path in target.rglob("*"):
            path.chmod(path.stat().st_mode | 0o200)
        log.warning("copied topic %s to %s so its examples can grow", topic.name, target)
    return load_topic(target)


class LabelSession:
    """One round of labeling: candidates, labels appended as they come, undo, retrain."""

    def __init__(self, topic: Topic, store: Store, *, n: int = 20, model: StanceClassifier | None = None,
                 workdir: str | Path = ".") -> None:
        self.topic = writable_topic(topic, workdir)
        if self.topic.examples is None:
            raise SentimentError(f"topic {self.topic.name!r} names no examples file to add labels to")
        self.model = model or topic_model(self.topic, allow_unseen_groups=True)
        known = load_examples(self.topic.examples, self.topic.group_ids).texts if self.topic.examples.exists() else []
        self.candidates = pick_candidates(self.model, store.posts(self.topic.name), n=n, known_texts=known)
        self.position = 0
        self.added: list[tuple[int, int]] = []  # (candidate index, file size before the append)

    @property
    def groups(self) -> list[str]:
        return self.topic.group_ids

    def current(self) -> Candidate | None:
        return self.candidates[self.position] if self.position < len(self.candidates) else None

    def label(self, group: str) -> None:
        """Give the current post ``group``: appended to the examples file now."""
        candidate = self.current()
        if candidate is None:
            raise SentimentError("no post left to label in this round")
        if group not in self.groups:
            raise ValueError(f"{group!r} is not one of the topic's groups ({', '.join(self.groups)})")
        path = self.topic.examples
        assert path is not None
        size = path.stat().st_size if path.exists() else 0
        header, delimiter, newline = self._dialect()
        text = candidate.post.text
        if delimiter == "\t":  # TSV has no quoting: a tab or line break would split the row
            text = " ".join(text.split())
        row = {"text": text, "label": group, "lang": candidate.post.lang or ""}
        with path.open("a+", encoding="utf-8", newline="") as handle:
            # TSV as load_examples reads it: no quoting at all.
            writer = (csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, quotechar=None, lineterminator=newline)
                      if delimiter == "\t" else csv.writer(handle, lineterminator=newline))
            if size == 0:
                writer.writerow(header)
            elif not self._ends_with_newline(path):
                handle.write(newline)
            # The file's own columns, in its order and spelling ("Text,Label" is read as text,label).
            writer.writerow([row.get(col.strip().lower(), "") for col in header])
            handle.flush()
            os.fsync(handle.fileno())
        self.added.append((self.position, size))
        self.position += 1

    def skip(self) -> None:
        if self.current() is not None:
            self.position += 1

    def undo(self) -> Candidate | None:
        """Take back the last label (the file is cut back to its size before it); returns that post."""
        if not self.added:
            return None
        index, size = self.added.pop()
        assert self.topic.examples is not None
        with self.topic.examples.open("r+b") as handle:
            handle.truncate(size)
        self.position = index
        return self.candidates[index]

    def retrain(self) -> StanceClassifier:
        """The topic's model built again from its examples, now with the new labels."""
        self.model = topic_model(self.topic, allow_unseen_groups=True)
        return self.model

    def _dialect(self) -> tuple[list[str], str, str]:
        """The examples file's header, delimiter and line ending (a new file: CSV, LF)."""
        path = self.topic.examples
        if path is None or not path.exists() or path.stat().st_size == 0:
            return ["text", "label", "lang"], ",", "\n"
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
        delimiter = "\t" if "\t" in first else ","  # as load_examples decides
        newline = "\r\n" if first.endswith("\r\n") else "\n"
        return next(csv.reader([first.rstrip("\r\n")], delimiter=delimiter)), delimiter, newline

    @staticmethod
    def _ends_with_newline(path: Path) -> bool:
        with path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"
