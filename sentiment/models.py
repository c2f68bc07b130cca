"""The post record shared by every pipeline stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Post", "METRIC_FIELDS"]

#: Public engagement counters, in the order reports show them.
METRIC_FIELDS = ("like_count", "repost_count", "reply_count", "quote_count", "impression_count")


@dataclass(frozen=True, slots=True)
class Post:
    """One X post, normalized from whatever shape it arrived in.

    ``id`` is the X post id as a string of digits (X ids exceed JavaScript's
    safe integers, so the API sends them as strings and so do we).
    ``created_at`` is timezone-aware UTC, or None when the source had no time.
    Metrics are None when the source did not carry them, which is not the same
    as zero. ``raw`` is the JSON the post came from (the API object plus its
    author), kept so nothing the source said is lost.
    """

    id: str
    text: str
    created_at: datetime | None = None
    lang: str | None = None
    author_id: str | None = None
    author_username: str | None = None
    author_name: str | None = None
    author_followers: int | None = None
    conversation_id: str | None = None
    is_reply: bool = False
    is_repost: bool = False
    is_quote: bool = False
    like_count: int | None = None
    repost_count: int | None = None
    reply_count: int | None = None
    quote_count: int | None = None
    impression_count: int | None = None
    raw: str | None = field(default=None, repr=False, compare=False)
