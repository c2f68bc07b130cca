"""Topics are data, not code: a folder with ``topic.toml`` and its files.

``topic.toml`` names the event, its X search query and time window, and the
groups posts are sorted into (id, display name, color, one-line description),
and points at the topic's labeled examples and sample corpus. The package
ships one topic (the default); users add their own as folders under
``data/topics/`` of their working folder, or pass a folder path.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import RecordError, TopicError
from .normalize import parse_time

__all__ = ["Group", "Topic", "load_topic", "available_topics", "DEFAULT_TOPIC"]

#: The topic used when none is named (``$SENTIMENT_TOPIC`` overrides it).
DEFAULT_TOPIC = "paris_declaration"
_COLOR_RE = re.compile(r"#[0-9A-Fa-f]{6}")
_ID_RE = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Group:
    """One group posts are sorted into (a stance, for the shipped topic)."""

    id: str
    name: str
    color: str
    description: str


@dataclass(frozen=True)
class Topic:
    """An event to analyse, loaded from a topic folder."""

    name: str
    title: str
    description: str
    query: str
    start: datetime
    end: datetime
    languages: tuple[str, ...]
    groups: tuple[Group, ...]
    folder: Path
    examples: Path | None
    sample: Path | None
    sample_labels: Path | None
    heldout: Path | None = None

    @property
    def group_ids(self) -> list[str]:
        return [g.id for g in self.groups]

    def group(self, group_id: str) -> Group:
        for g in self.groups:
            if g.id == group_id:
                return g
        raise KeyError(group_id)


def _packaged_topics_dir() -> Path:
    here = Path(__file__).resolve().parent
    # An installed wheel carries the topics inside the package; a source
    # checkout (or an editable install) has them in data/topics/.
    for candidate in (here / "topics", here.parent / "data" / "topics"):
        if candidate.is_dir():
            return candidate
    raise TopicError("the shipped topics are missing from this installation; reinstall sentiment")


def _search_dirs() -> list[Path]:
    dirs = [Path("data") / "topics"]
    if os.environ.get("SENTIMENT_TOPICS"):
        dirs.insert(0, Path(os.environ["SENTIMENT_TOPICS"]))
    dirs.append(_packaged_topics_dir())
    return dirs


def available_topics() -> dict[str, Path]:
    """Topic names found on the search path (``$SENTIMENT_TOPICS``, ``./data/topics``,
    the shipped topics), first one winning."""
    found: dict[str, Path] = {}
    for base in _search_dirs():
        if base.is_dir():
            for folder in sorted(base.iterdir()):
                if (folder / "topic.toml").is_file():
                    found.setdefault(folder.name, folder)
    return found


def _require(table: dict[str, Any], key: str, where: str, kind: type = str) -> Any:
    if key not in table:
        raise TopicError(f"{where}: '{key}' is missing")
    value = table[key]
    if not isinstance(value, kind):
        raise TopicError(f"{where}: '{key}' must be a {kind.__name__}")
    return value


def _time(value: Any, where: str) -> datetime:
    try:
        return parse_time(value.isoformat() if isinstance(value, datetime) else value, where)
    except RecordError as exc:
        raise TopicError(str(exc)) from None


def _file(folder: Path, files: dict[str, Any], key: str) -> Path | None:
    name = files.get(key)
    return None if not name else folder / str(name)


def load_topic(name_or_path: str | Path | None = None) -> Topic:
    """Load a topic by name (searching the topic folders) or from a folder path.

    >>> load_topic().name
    'paris_declaration'
    """
    name_or_path = name_or_path or os.environ.get("SENTIMENT_TOPIC") or DEFAULT_TOPIC
    candidate = Path(name_or_path)
    if (candidate / "topic.toml").is_file():
        folder = candidate
    elif candidate.name == "topic.toml" and candidate.is_file():
        folder = candidate.parent
    else:
        topics = available_topics()
        if str(name_or_path) not in topics:
            known = ", ".join(sorted(topics)) or "none"
            raise TopicError(f"no topic named {str(name_or_path)!r} (known topics: {known})")
        folder = topics[str(name_or_path)]
    path = folder / "topic.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise TopicError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TopicError(f"{path}: invalid TOML: {exc}") from None
    where = str(path)
    window = _require(data, "window", where, dict)
    groups_data = _require(data, "groups", where, list)
    groups = []
    for index, g in enumerate(groups_data, start=1):
        gwhere = f"{where}, group {index}"
        if not isinstance(g, dict):
            raise TopicError(f"{gwhere}: must be a table")
        gid = _require(g, "id", gwhere)
        if not _ID_RE.fullmatch(gid):
            raise TopicError(f"{gwhere}: id {gid!r} must be lower-case letters, digits and _")
        color = _require(g, "color", gwhere)
        if not _COLOR_RE.fullmatch(color):
            raise TopicError(f"{gwhere}: color {color!r} must look like #1f77b4")
        groups.append(Group(gid, _require(g, "name", gwhere), color, str(g.get("description", ""))))
    if len(groups) < 2 or len({g.id for g in groups}) != len(groups):
        raise TopicError(f"{where}: needs at least two groups with distinct ids")
    files = data.get("files", {})
    start, end = _time(_require(window, "start", where, object), f"{where}: window.start"), _time(
        _require(window, "end", where, object), f"{where}: window.end"
    )
    if end <= start:
        raise TopicError(f"{where}: window.end must be after window.start")
    return Topic(
        name=_require(data, "name", where),
        title=str(data.get("title", data["name"])),
        description=str(data.get("description", "")),
        query=_require(data, "query", where),
        start=start,
        end=end,
        languages=tuple(data.get("languages", ())),
        groups=tuple(groups),
        folder=folder.resolve(),
        examples=_file(folder.resolve(), files, "examples"),
        sample=_file(folder.resolve(), files, "sample"),
        sample_labels=_file(folder.resolve(), files, "sample_labels"),
        heldout=_file(folder.resolve(), files, "heldout"),
    )
