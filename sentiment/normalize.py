"""One normalizer from any post-shaped object to :class:`~sentiment.models.Post`.

Every source (saved X API v2 pages, twarc2 output, flat JSONL, CSV, the live
collector) ends here, so a post means the same thing whatever its origin.
Flat records are first rewritten into the X API v2 shape (a post object plus
its author object) and then go through the same code as API data.

>>> page = {"data": [{"id": "1", "text": "hi", "author_id": "9"}],
...         "includes": {"users": [{"id": "9", "username": "ann"}]}}
>>> [p.author_username for p in normalize_page(page)]
['ann']
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from .errors import RecordError
from .models import Post

__all__ = [
    "normalize_post",
    "normalize_page",
    "page_errors",
    "is_page",
    "parse_time",
    "MAX_TEXT_CHARS",
]

#: Longer texts are rejected: X's longest posts (notes) hold 25,000 characters.
MAX_TEXT_CHARS = 100_000
_MAX_ID = 2**63 - 1  # X ids are 64-bit snowflakes and SQLite integers are signed 64-bit
_ID_RE = re.compile(r"[0-9]{1,19}")
_LANG_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})?")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}

# Keys by which a mapping is recognised as an X API v2 post object rather than
# a flat record of our own format.
# Keys only an API post object has, with the type its value has there (a
# flat record may well have an `author` column holding a name).
_API_KEYS = {"public_metrics": Mapping, "edit_history_tweet_ids": list, "referenced_tweets": list,
             "entities": Mapping, "author": Mapping}
# Flat-record names of the metrics, with the spellings other tools use.
_FLAT_METRICS = {
    "like_count": ("like_count", "likes", "favorite_count"),
    "repost_count": ("repost_count", "retweet_count", "reposts", "retweets"),
    "reply_count": ("reply_count", "replies"),
    "quote_count": ("quote_count", "quotes"),
    "impression_count": ("impression_count", "impressions", "views"),
}
# API spellings: X renamed tweet_* to post_* in places; accept both.
_API_METRICS = {
    "like_count": ("like_count",),
    "repost_count": ("retweet_count", "repost_count"),
    "reply_count": ("reply_count",),
    "quote_count": ("quote_count",),
    "impression_count": ("impression_count",),
}


def _clean_str(value: str) -> str:
    # Lone surrogates (possible from "\ud800" escapes in JSON) cannot be stored
    # as UTF-8; replace them rather than fail on an otherwise good post.
    return value.encode("utf-8", "replace").decode("utf-8")


def parse_time(value: Any, field: str = "created_at") -> datetime:
    """Parse an ISO 8601 timestamp that carries a timezone, returning UTC.

    >>> parse_time("2026-01-06T10:00:00.000Z").isoformat()
    '2026-01-06T10:00:00+00:00'
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise RecordError(f"{field} {value!r} is not an ISO 8601 time") from None
    else:
        raise RecordError(f"{field} {value!r} is not an ISO 8601 time")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise RecordError(f"{field} {value!r} has no timezone; add 'Z' or an offset such as +00:00")
    return parsed.astimezone(timezone.utc)


def _post_id(value: Any, field: str = "id") -> str:
    if isinstance(value, bool) or value is None:
        raise RecordError(f"{field} is missing" if value is None else f"{field} must be digits, got {value!r}")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise RecordError(f"{field} must be a string of digits, got {type(value).__name__}")
    if not _ID_RE.fullmatch(text) or int(text) > _MAX_ID:
        raise RecordError(f"{field} must be a string of digits (an X post id), got {_clean_str(text)[:40]!r}")
    return str(int(text))


def _optional_id(value: Any, field: str) -> str | None:
    return None if value in (None, "") else _post_id(value, field)


def _count(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError(f"{field} must be a whole number, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 0:
        raise RecordError(f"{field} must be a whole number >= 0, got {value!r}")
    return value


def _flag(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise RecordError(f"{field} must be true or false, got {value!r}")


def _optional_str(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise RecordError(f"{field} must be text, got {type(value).__name__}")
    return _clean_str(str(value))


def _lang(value: Any) -> str | None:
    if isinstance(value, str) and _LANG_RE.fullmatch(value.strip()):
        return value.strip().lower()
    if value in (None, ""):
        return None
    raise RecordError(f"lang must be a language code such as 'en' or 'uk', got {value!r}")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _first(obj: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if name in obj and obj[name] not in (None, ""):
            return obj[name]
    return None


def _is_api_object(obj: Mapping[str, Any], users: Mapping[str, Any] | None) -> bool:
    # A minimal API object (only id, text, author_id...) inside a page is
    # recognised by its author being among the page's users.
    return (any(isinstance(obj.get(key), kind) for key, kind in _API_KEYS.items())
            or bool(users and str(obj.get("author_id")) in users))


def _flat_to_api(obj: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Rewrite a flat record (our JSONL/CSV columns) as an API post and author."""
    post: dict[str, Any] = {k: obj[k] for k in ("id", "text", "created_at", "lang", "conversation_id") if k in obj}
    author_id = obj.get("author_id")
    if author_id not in (None, ""):
        post["author_id"] = author_id
    metrics = {name: _first(obj, spellings) for name, spellings in _FLAT_METRICS.items()}
    post["public_metrics"] = {k: v for k, v in metrics.items() if v is not None}
    refs = []
    for flag, ref_type in (("is_reply", "replied_to"), ("is_quote", "quoted"), ("is_repost", "retweeted")):
        if _flag(obj.get(flag), flag):
            refs.append({"type": ref_type})
    if refs:
        post["referenced_tweets"] = refs
    user = {
        "id": author_id,
        "username": _first(obj, ("author_username", "username", "screen_name", "author")),
        "name": _first(obj, ("author_name", "name")),
    }
    followers = _first(obj, ("author_followers", "followers_count"))
    if followers is not None:
        user["public_metrics"] = {"followers_count": followers}
    return post, user


# Our flat columns that an API object does not have (an object that has them was written by hand or another tool).
_FLAT_KEYS = ({spelling for spellings in _FLAT_METRICS.values() for spelling in spellings}
              | {"author_username", "username", "screen_name", "author_name", "author_followers", "followers_count",
                 "is_reply", "is_quote", "is_repost"})


def _with_flat_columns(post: Mapping[str, Any], user: Mapping[str, Any],
                       obj: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """An API-shaped post that also has flat columns: the API's fields first, the flat ones fill the gaps."""
    flat_post, flat_user = _flat_to_api(obj)
    merged = dict(post)
    merged["public_metrics"] = {**flat_post["public_metrics"], **_mapping(post.get("public_metrics"))}
    refs = post.get("referenced_tweets")
    merged["referenced_tweets"] = [*(refs if isinstance(refs, list) else []), *flat_post.get("referenced_tweets", [])]
    flat_metrics = _mapping(flat_user.get("public_metrics"))
    merged_user = {**{k: v for k, v in flat_user.items() if v is not None and k != "public_metrics"}, **user}
    if flat_metrics:
        merged_user["public_metrics"] = {**flat_metrics, **_mapping(user.get("public_metrics"))}
    return merged, merged_user


def normalize_post(obj: Any, users: Mapping[str, Any] | None = None) -> Post:
    """Turn one post object into a :class:`Post`.

    ``obj`` is an X API v2 post object (``data`` item) or a flat record with
    at least ``id`` and ``text``. ``users`` maps author ids to API user objects
    (``includes.users``). Raises :class:`RecordError` naming the bad field.
    """
    if not isinstance(obj, Mapping):
        raise RecordError(f"a post must be a JSON object, got {type(obj).__name__}")
    if _is_api_object(obj, users):
        post: Mapping[str, Any] = obj
        user = _mapping(obj.get("author")) or _mapping((users or {}).get(str(obj.get("author_id"))))
        if not _FLAT_KEYS.isdisjoint(obj):
            post, user = _with_flat_columns(post, user, obj)
    else:
        post, user = _flat_to_api(obj)

    post_id = _post_id(post.get("id"))
    note = _mapping(post.get("note_tweet"))  # posts over 280 characters carry the full text here
    text = note.get("text") if isinstance(note.get("text"), str) else post.get("text")
    if not isinstance(text, str) or not text.strip():
        raise RecordError("post has no text")
    if len(text) > MAX_TEXT_CHARS:
        raise RecordError(f"text is {len(text):,} characters, more than the {MAX_TEXT_CHARS:,} a post can have")
    created = post.get("created_at")
    refs = post.get("referenced_tweets")
    ref_types = {r.get("type") for r in refs if isinstance(r, Mapping)} if isinstance(refs, list) else set()
    metrics = _mapping(post.get("public_metrics"))
    counts = {name: _count(_first(metrics, spellings), name) for name, spellings in _API_METRICS.items()}
    author_id = _optional_id(post.get("author_id") or user.get("id"), "author_id")
    user_metrics = _mapping(user.get("public_metrics"))
    raw = json.dumps({"post": post, "author": user} if user else {"post": post}, default=str, sort_keys=True)
    return Post(
        id=post_id,
        text=_clean_str(text),
        created_at=None if created in (None, "") else parse_time(created),
        lang=_lang(post.get("lang")),
        author_id=author_id,
        author_username=_optional_str(user.get("username"), "author_username"),
        author_name=_optional_str(user.get("name"), "author_name"),
        author_followers=_count(user_metrics.get("followers_count"), "author_followers"),
        conversation_id=_optional_id(post.get("conversation_id"), "conversation_id"),
        is_reply="replied_to" in ref_types or post.get("in_reply_to_user_id") not in (None, ""),
        is_repost="retweeted" in ref_types,
        is_quote="quoted" in ref_types,
        raw=raw,
        **counts,
    )


def is_page(obj: Any) -> bool:
    """True when ``obj`` looks like an X API v2 response page (or a twarc2 line)."""
    return isinstance(obj, Mapping) and (
        isinstance(obj.get("data"), (list, Mapping))
        or isinstance(obj.get("meta"), Mapping)
        or isinstance(obj.get("includes"), Mapping)
        or ("errors" in obj and "id" not in obj)
    )


def _users_by_id(page: Mapping[str, Any]) -> dict[str, Any]:
    users = _mapping(page.get("includes")).get("users")
    if not isinstance(users, list):
        return {}
    return {str(u["id"]): u for u in users if isinstance(u, Mapping) and "id" in u}


def iter_page_posts(page: Mapping[str, Any]) -> Iterator[tuple[int, Any, Mapping[str, Any]]]:
    """Yield ``(index, raw post object, users by id)`` for each post of a page."""
    data = page.get("data")
    items = [data] if isinstance(data, Mapping) else data if isinstance(data, list) else []
    users = _users_by_id(page)
    for index, item in enumerate(items):
        yield index, item, users


def normalize_page(page: Any) -> list[Post]:
    """All posts of one X API v2 response page (``data`` plus ``includes.users``).

    Referenced posts in ``includes.tweets``/``includes.posts`` are context for
    the results, not results, and are not returned. Raises
    :class:`RecordError` on the first bad post or when ``page`` is no page.
    """
    if not is_page(page):
        raise RecordError("not an X API v2 response page (no 'data', 'includes' or 'meta')")
    return [normalize_post(item, users) for _, item, users in iter_page_posts(page)]


def page_errors(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``errors`` array of a response page (partial errors inside a 200)."""
    errors = page.get("errors")
    return [e for e in errors if isinstance(e, Mapping)] if isinstance(errors, list) else []
