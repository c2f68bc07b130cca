"""sentiment: what people on X say about an event, with evidence.

Collect or import posts, sort them into a topic's groups with a stance model,
and report each group's share with an honest interval.

>>> import sentiment
>>> topic = sentiment.load_topic()  # the shipped default topic
>>> len(topic.groups)
3
"""

__version__ = "0.1.0"

from .api import Analysis, analyze
from .classify import StanceClassifier
from .errors import InputError, SentimentError
from .importers import import_file, read_posts
from .models import Post
from .normalize import normalize_page, normalize_post
from .pipeline import classify_file, export_posts, report, run
from .store import Store
from .topic import Topic, load_topic

__all__ = [
    "__version__",
    "analyze",
    "Analysis",
    "Post",
    "Store",
    "Topic",
    "StanceClassifier",
    "SentimentError",
    "InputError",
    "load_topic",
    "normalize_post",
    "normalize_page",
    "import_file",
    "read_posts",
    "run",
    "report",
    "classify_file",
    "export_posts",
]
