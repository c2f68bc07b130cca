"""The exception hierarchy of `sentiment`.

Every error the library raises on purpose derives from :class:`SentimentError`,
so a caller (the CLI, a notebook, a scheduler) can catch one type at its edge
and show the one-line message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "SentimentError",
    "InputError",
    "RecordError",
    "StoreError",
    "TopicError",
    "ModelError",
    "CollectError",
    "CredentialsError",
    "QueryError",
    "UsageCapReached",
    "RetriesExhausted",
    "ConfigError",
]


class SentimentError(Exception):
    """Base class of every error `sentiment` raises on purpose."""

    #: The command line's exit code for it (see the README's exit codes).
    exit_code = 1


class RecordError(SentimentError, ValueError):
    """One post-shaped object cannot be turned into a post (no text, bad id, naive time...)."""


class InputError(SentimentError, ValueError):
    """An input file cannot be read; names the file and, where known, the line."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt whole when it crosses processes (a worker's error reaching the caller).
        return type(self), (self.path, self.problem, self.line)


class StoreError(SentimentError):
    """The post store cannot be opened, migrated or written."""


class TopicError(SentimentError):
    """A topic folder is missing or its topic.toml is invalid."""


class ModelError(SentimentError):
    """A stance model cannot be trained, loaded or applied."""


class CollectError(SentimentError):
    """Collecting from the X API failed."""


class CredentialsError(CollectError):
    """The X bearer token is missing or was rejected."""


class QueryError(CollectError, ValueError):
    """A search query or its window is invalid (checked before any request where possible)."""


class UsageCapReached(CollectError):
    """X refused further reads this billing period; what was collected is kept."""


class RetriesExhausted(CollectError):
    """The X API kept failing (server errors, timeouts, dropped connections) after every retry."""


class ConfigError(SentimentError, ValueError):
    """A run configuration file is missing a value or holds a bad one."""

    exit_code = 2  # a usage error
