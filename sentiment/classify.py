"""Stance classification: a scikit-learn estimator trained on a topic's examples.

Stance is not sentiment ("They are furious. Excellent." approves of the event), so
VADER's scores are features here, not the answer: the model learns the
topic's language from word and character n-grams, with VADER's four scores
beside them. VADER is an English lexicon; on other languages its scores
reflect only emoji, punctuation and the odd shared word, and we compute them
the same way for every post so the feature means one thing everywhere.

>>> texts = ["great news, real guarantees", "what a sham, empty paper",
...          "great step for security", "empty words, sham summit"] * 3
>>> model = StanceClassifier().fit(texts, ["pro", "con", "pro", "con"] * 3)
>>> model.predict(["a sham"]).tolist()
['con']
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from .errors import InputError, ModelError
from .features import FastTfidfVectorizer, FastVader
from .models import Post
from .parallel import chunks, cores, ordered_map

__all__ = [
    "VaderScores",
    "HashtagWords",
    "StanceClassifier",
    "Prediction",
    "load_examples",
    "topic_model",
    "predict_posts",
    "calibration",
    "post_sentiment",
    "save_model",
    "load_model",
]

log = logging.getLogger(__name__)


class VaderScores(TransformerMixin, BaseEstimator):
    """VADER's ``neg``, ``neu``, ``pos`` and ``compound`` scores of each text.

    Stateless: ``fit`` learns nothing. The analyzer is built on first use and
    kept out of pickles' parameters.
    """

    def fit(self, X: Iterable[str], y: Any = None) -> VaderScores:
        return self

    def transform(self, X: Iterable[str]) -> np.ndarray:
        analyzer = _vader()
        rows = []
        for text in X:
            s = analyzer.polarity_scores(text)
            rows.append((s["neg"], s["neu"], s["pos"], s["compound"]))
        return np.asarray(rows, dtype=float).reshape(-1, 4)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(["vader_neg", "vader_neu", "vader_pos", "vader_compound"], dtype=object)


_ANALYZER = None


def _vader() -> Any:
    global _ANALYZER
    if _ANALYZER is None:
        _ANALYZER = FastVader()
    return _ANALYZER


_HASHTAG = re.compile(r"#(\w+)")


class HashtagWords(TransformerMixin, BaseEstimator):
    """Each text with the words of its hashtags appended, as plain words.

    To the word n-grams "#BuildTheBridge" is one token, "buildthebridge",
    unlike "build the bridge". Appending each tag's words ("Build The
    Bridge") lets a post that says it in a tag share features with one that
    says it in words. A tag is split at capitals, digits and underscores, in
    any script with letter case ("#МостЗараз", "#Vote2026", "#no_toll"); a
    tag in one case is appended whole. Texts without a "#" pass unchanged.
    Stateless: ``fit`` learns nothing.

    >>> HashtagWords().transform(["Vote yes! #BuildTheBridge #NYC"])
    ['Vote yes! #BuildTheBridge #NYC Build The Bridge NYC']
    """

    def fit(self, X: Iterable[str], y: Any = None) -> HashtagWords:
        return self

    def transform(self, X: Iterable[str]) -> list[str]:
        # The words of tags met before are remembered: tags repeat far more
        # than words do, and splitting one is a Python loop over its characters.
        memo = self.__dict__.setdefault("_tag_words_memo", {})
        if len(memo) > _TAG_WORDS_LIMIT:
            memo.clear()
        return [text if "#" not in text else _with_hashtag_words(text, memo) for text in _texts(X)]

    # A pickled model carries no memo of the tags it met.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_tag_words_memo", None)
        return state


#: Tags whose words a HashtagWords keeps; beyond this the memo is cleared and refilled.
_TAG_WORDS_LIMIT = 100_000


def _with_hashtag_words(text: str, memo: dict[str, str]) -> str:
    words = []
    for tag in _HASHTAG.findall(text):
        split = memo.get(tag)
        if split is None:
            split = memo[tag] = " ".join(_hashtag_words(tag))
        words.append(split)
    return f"{text} {' '.join(words)}" if words else text


def _hashtag_words(tag: str) -> list[str]:
    """The words of one tag (without its "#"), split where they are run together."""
    words, start = [], 0
    for i in range(1, len(tag)):
        before, here = tag[i - 1], tag[i]
        if here == "_" or before == "_":
            if before != "_":
                words.append(tag[start:i])
            start = i + 1 if here == "_" else i
            continue
        if ((before.islower() and here.isupper()) or before.isdigit() != here.isdigit()
                or (before.isupper() and here.isupper() and i + 1 < len(tag) and tag[i + 1].islower())):
            words.append(tag[start:i])
            start = i
    words.append(tag[start:])
    return [word for word in words if word]


#: Texts whose scores a model keeps for reuse; beyond this they are forgotten and kept afresh.
_SCORED_TEXTS_LIMIT = 100_000


class StanceClassifier(ClassifierMixin, BaseEstimator):
    """Word and character n-grams plus VADER scores, into a logistic regression.

    Labels are whatever ``y`` holds (a topic's group ids); nothing here knows
    the shipped topic. Parameters are only stored by ``__init__``; ``fit``
    builds ``pipeline_`` and sets ``classes_``. With ``hashtag_words`` the
    word n-grams also see the words of each hashtag as plain words (see
    :class:`HashtagWords`); VADER always scores the text as written.
    ``cv`` folds measure the model's error rates on its own examples
    (``cv_proba_``, ``cv_labels_``), the examples shuffled into folds by
    ``random_state``; the model itself does not depend on it.
    """

    def __init__(
        self,
        *,
        C: float = 8.0,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        vader: bool = True,
        vader_weight: float = 1.0,
        class_weight: str | None = "balanced",
        hashtag_words: bool = True,
        cv: int | None = 5,
        random_state: int | None = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.C = C
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.vader = vader
        self.vader_weight = vader_weight
        self.class_weight = class_weight
        self.hashtag_words = hashtag_words
        self.cv = cv
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _features(self) -> FeatureUnion:
        words: Any = FastTfidfVectorizer(ngram_range=self.word_ngram_range, sublinear_tf=True, min_df=1)
        if self.hashtag_words:
            # Word n-grams only: character n-grams already see inside a tag,
            # and giving them the tag's words too gained nothing measurable
            # on TweetEval while costing 4 µs a post on real tweets.
            words = Pipeline([("hashtags", HashtagWords()), ("tfidf", words)])
        parts: list[tuple[str, Any]] = [
            ("words", words),
            (
                "chars",
                FastTfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngram_range, sublinear_tf=True,
                                    min_df=2),
            ),
        ]
        weights = {"words": 1.0, "chars": 1.0}
        if self.vader:
            parts.append(("vader", VaderScores()))
            weights["vader"] = self.vader_weight
        return FeatureUnion(parts, transformer_weights=weights)

    def fit(self, X: Sequence[str], y: Sequence[Any]) -> StanceClassifier:
        texts = _texts(X)
        labels = np.asarray(y)
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if len(set(labels.tolist())) < 2:
            raise ValueError("need examples of at least two labels to train")
        self.__dict__.pop("_scored_texts", None)
        self.pipeline_ = self._pipeline().fit(texts, labels)
        self.classes_ = self.pipeline_.classes_
        self.n_examples_ = len(texts)
        # Out-of-fold probabilities on the training examples: the model's
        # measured error rates, which correct group shares (see quantify.py).
        self.cv_proba_, self.cv_labels_, self.cv_folds_ = None, None, None
        # As many folds as asked, but no more than the smallest group has examples.
        folds = min(self.cv or 0, int(np.bincount(np.searchsorted(self.classes_, labels)).min()))
        if self.cv and folds < 2:
            log.warning("a group has a single example, too few to cross-validate: the model's error rates are "
                        "unknown, so its shares are plain counts, not corrected")
        if folds >= 2:
            self.cv_folds_ = folds
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
            self.cv_proba_ = cross_val_predict(self._pipeline(), np.asarray(texts, dtype=object), labels,
                                               cv=splitter, method="predict_proba", n_jobs=self.n_jobs)
            self.cv_labels_ = np.searchsorted(self.classes_, labels)
        return self

    def _pipeline(self) -> Pipeline:
        return Pipeline(
            [
                ("features", self._features()),
                ("model", LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=3000)),
            ]
        )

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(_texts(X))

    def predict_proba_and_sentiment(self, X: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """Probabilities and VADER compound scores, computing the features once.

        A text met before (a repost, a copied post) is scored once: the results
        of the last texts scored are kept, and reused, since the same text
        always gets the same scores.
        """
        check_is_fitted(self, "pipeline_")
        texts = _texts(X)
        scored = self.__dict__.get("_scored_texts")
        if scored is None or len(scored) > _SCORED_TEXTS_LIMIT:
            scored = self.__dict__["_scored_texts"] = {}
        new = list(dict.fromkeys(text for text in texts if text not in scored))
        if new:
            proba, compound = self._score(new)
            scored.update(zip(new, zip(proba, compound if compound is not None else repeat(None))))
        rows = [scored[text] for text in texts]
        proba = np.array([row[0] for row in rows]).reshape(len(texts), len(self.classes_))
        if not rows or rows[0][1] is None:
            return proba, None
        return proba, np.array([row[1] for row in rows], dtype=float)

    def _score(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        # The features the pipeline's union builds, block by block, so the
        # VADER block's compound column is kept as VADER gave it, and the
        # blocks are joined as sparse matrices (scipy's fast path; the union
        # joins a dense block through a slower conversion). Same values, and
        # the pipeline's own probabilities to rounding (its conversion sorts
        # each row's features, so sums run in another order).
        union = self.pipeline_.named_steps["features"]
        weights = union.transformer_weights or {}
        blocks, compound = [], None
        for name, transformer in union.transformer_list:
            block = transformer.transform(texts)
            if isinstance(transformer, VaderScores):
                compound = block[:, 3].copy()
                block = sp.csr_matrix(block)
            weight = weights.get(name)
            blocks.append(block if weight is None else block * weight)
        return self.pipeline_.named_steps["model"].predict_proba(sp.hstack(blocks, format="csr")), compound

    # A pickled model carries what it learnt, not the scores of texts it met.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_scored_texts", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A model saved before these parameters existed was built as they say.
        state.setdefault("hashtag_words", False)
        state.setdefault("random_state", 0)
        cv_labels = state.get("cv_labels_")
        state.setdefault("cv_folds_", state.get("cv") if cv_labels is not None else None)
        state.setdefault("n_examples_", len(cv_labels) if cv_labels is not None else None)
        super().__setstate__(state)

    def predict(self, X: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _texts(X: Any) -> list[str]:
    if isinstance(X, str):
        raise ValueError("expected a list of texts, got one string")
    return [str(x) for x in X]


# -- labeled examples --------------------------------------------------------

@dataclass(frozen=True)
class Examples:
    """Labeled texts for training or evaluation."""

    texts: list[str]
    labels: list[str]
    langs: list[str | None]


def load_examples(path: str | Path, allowed_labels: Iterable[str] | None = None) -> Examples:
    """Read a CSV or TSV with ``text`` and ``label`` columns (``lang`` optional)."""
    path = Path(path)
    allowed = set(allowed_labels) if allowed_labels is not None else None
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            head = handle.readline()
            handle.seek(0)
            tsv = "\t" in head  # the header row decides: a tab in it means TSV
            # TSV (as the TweetEval files are) has no quoting: a tab cannot occur in a post,
            # and a quote character at the start of a post is text, not syntax.
            reader = (csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE) if tsv
                      else csv.DictReader(handle, strict=True))
            fields = [f.strip().lower() for f in reader.fieldnames or []]
            for column in ("text", "label"):
                if column not in fields:
                    raise InputError(path, f"no {column!r} column (columns found: {', '.join(fields) or 'none'})", 1)
            reader.fieldnames = fields
            texts, labels, langs = [], [], []
            for row in reader:
                text, label = (row.get("text") or "").strip(), (row.get("label") or "").strip()
                if not text or not label:
                    raise InputError(path, "empty text or label", reader.line_num)
                if allowed is not None and label not in allowed:
                    raise InputError(
                        path, f"label {label!r} is not one of the topic's groups ({', '.join(sorted(allowed))})",
                        reader.line_num,
                    )
                if None in row:  # DictReader's key for the fields beyond the header's
                    raise InputError(path, f"{len(fields) + len(row[None])} fields but the header has {len(fields)} "
                                     "(a comma in a text that is not quoted?)", reader.line_num)
                texts.append(text)
                labels.append(label)
                langs.append((row.get("lang") or "").strip() or None)
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise InputError(path, "invalid UTF-8") from None
    except csv.Error as exc:
        raise InputError(path, f"bad CSV: {exc} (a stray or unclosed quote?)", reader.line_num) from None
    if not texts:
        raise InputError(path, "no labeled examples")
    return Examples(texts, labels, langs)


# -- model files ----------------------------------------------------------------

_MODEL_FORMAT = "sentiment-stance-model"


def save_model(model: StanceClassifier, path: str | Path, *, trained_on: str = "") -> Path:
    """Write a fitted model to ``path`` (atomically), with what it needs to be trusted later."""
    import joblib
    import sklearn

    from . import __version__

    check_is_fitted(model, "pipeline_")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": _MODEL_FORMAT, "format_version": 1, "model": model, "labels": [str(c) for c in model.classes_],
        "trained_on": trained_on, "sentiment_version": __version__, "sklearn_version": sklearn.__version__,
    }
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        joblib.dump(payload, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def load_model(path: str | Path) -> StanceClassifier:
    """Read a model written by :func:`save_model`. Model files are pickles: load only files you trust."""
    import joblib
    import sklearn

    path = Path(path)
    try:
        payload = joblib.load(path)
    except FileNotFoundError:
        raise ModelError(f"{path}: no such model file") from None
    except Exception as exc:
        raise ModelError(f"{path}: not a sentiment model file ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != _MODEL_FORMAT:
        raise ModelError(f"{path}: not a sentiment model file")
    if payload.get("sklearn_version") != sklearn.__version__:
        raise ModelError(f"{path} was trained with scikit-learn {payload.get('sklearn_version')}, this is "
                         f"{sklearn.__version__}; train it again with `sentiment train`")
    return payload["model"]


# -- the topic's model, cached -------------------------------------------------

def _cache_dir() -> Path:
    if os.environ.get("SENTIMENT_CACHE_DIR"):
        return Path(os.environ["SENTIMENT_CACHE_DIR"])
    import platformdirs

    return Path(platformdirs.user_cache_dir("sentiment"))


def _model_key(examples_path: Path, group_ids: Sequence[str] = ()) -> str:
    import sklearn
    import vaderSentiment

    from . import __version__

    digest = hashlib.sha256()
    digest.update(examples_path.read_bytes())
    # The topic's groups decide which labels the examples may hold.
    digest.update(repr(list(group_ids)).encode())
    # The code that builds the model and the libraries that run it: a change
    # to any of them makes the cached model stale.
    for module in ("classify.py", "features.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    for part in (__version__, sklearn.__version__, np.__version__, getattr(vaderSentiment, "__version__", "")):
        digest.update(part.encode())
    return digest.hexdigest()[:24]


def topic_model(topic: Any, *, cache: bool = True, allow_unseen_groups: bool = False) -> StanceClassifier:
    """The stance model of a topic, trained on its examples (cached by a hash of them, the topic's
    groups, and the code and library versions).

    A group of the topic with no examples yet is an error (a model cannot
    find posts of a group it has never seen), unless ``allow_unseen_groups``:
    labeling uses a model of the other groups to pick posts, some of which
    the analyst then puts in the new group.
    """
    if topic.examples is None or not topic.examples.is_file():
        raise ModelError(f"topic {topic.name!r} has no labeled examples file to train on")
    model = _cached_topic_model(topic, cache)
    learnt = {str(c) for c in model.classes_}
    unseen = [g for g in topic.group_ids if g not in learnt]
    if unseen and not allow_unseen_groups:
        raise ModelError(
            f"{topic.examples}: no examples of the group(s) {', '.join(map(repr, unseen))} of topic {topic.name!r}; "
            f"label some with `sentiment label --topic {topic.name}`, or remove the group from its topic.toml")
    return model


def _cached_topic_model(topic: Any, cache: bool) -> StanceClassifier:
    import joblib

    key = _model_key(topic.examples, topic.group_ids)
    path = _cache_dir() / f"{topic.name}-{key}.joblib"
    if cache and path.is_file():
        try:
            model = joblib.load(path)
            log.info("loaded cached model %s", path)
            return model
        except Exception as exc:  # a truncated or foreign file is rebuilt, not trusted
            log.warning("ignoring unreadable cached model %s: %s", path, exc)
    examples = load_examples(topic.examples, topic.group_ids)
    log.info("training the %s model on %d examples", topic.name, len(examples.texts))
    try:
        model = StanceClassifier(n_jobs=-1).fit(examples.texts, examples.labels)  # both cores for the CV folds
    except ValueError as exc:  # examples of a single group
        raise ModelError(f"{topic.examples}: cannot train the {topic.name} model: {exc}") from None
    if cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            joblib.dump(model, tmp)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not cache the model in %s: %s", path.parent, exc)
    return model


# -- applying a model ----------------------------------------------------------

@dataclass(frozen=True)
class Prediction:
    """The group of one post, the model's probability for every group, and the
    post's VADER compound sentiment (-1..1; None where VADER does not apply)."""

    id: str
    label: str
    confidence: float
    probabilities: dict[str, float]
    sentiment: float | None = None


#: Languages VADER's lexicon is written for. Other posts get no sentiment
#: score: VADER would only see their emoji and punctuation.
VADER_LANGUAGES = {"en"}

#: X's codes for a post with no language it could tell ("und", and the
#: "q.."/"zxx" codes of posts of only media, hashtags, mentions or a few
#: characters): scored like posts whose source gave no language.
UNKNOWN_LANGUAGES = {"und", "zxx", "qam", "qct", "qht", "qme", "qst"}


def _vader_applies(lang: str | None) -> bool:
    return lang is None or lang in VADER_LANGUAGES or lang in UNKNOWN_LANGUAGES


def post_sentiment(post: Post) -> float | None:
    """VADER's compound score for an English post (or one of unknown language), else None."""
    if not _vader_applies(post.lang):
        return None
    return float(_vader().polarity_scores(post.text)["compound"])


def calibration(model: StanceClassifier, group_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """The model's out-of-fold probabilities and true labels, columns in ``group_ids`` order."""
    if getattr(model, "cv_proba_", None) is None:
        return None
    classes = [str(c) for c in model.classes_]
    order = [classes.index(g) for g in group_ids]
    remap = np.array([list(group_ids).index(c) for c in classes])
    return model.cv_proba_[:, order], remap[model.cv_labels_]


# The model of a worker process, installed once when the worker starts, so
# that its memo of words seen (see features.py) lasts across batches.
_WORKER_MODEL: StanceClassifier | None = None


def _install_worker_model(model: StanceClassifier) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = model


def _score_in_worker(texts: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    assert _WORKER_MODEL is not None
    return _WORKER_MODEL.predict_proba_and_sentiment(texts)


def predict_posts(
    model: StanceClassifier,
    posts: Iterable[Post],
    *,
    batch_size: int = 2000,
    n_jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterable[tuple[Post, Prediction]]:
    """Yield each post with its prediction, in order, in batches so memory stays flat.

    ``n_jobs`` > 1 (or -1 for every core) scores batches in that many worker
    processes, each given the model once; worth it from tens of thousands of
    posts. The results are the same either way.
    """
    check_is_fitted(model, "pipeline_")
    classes = [str(c) for c in model.classes_]

    def emit(batch: list[Post], scored: tuple[np.ndarray, np.ndarray | None]) -> Iterator[tuple[Post, Prediction]]:
        probs, compound = scored
        best = np.argmax(probs, axis=1)
        rows = probs.tolist()
        for i, post in enumerate(batch):
            english = _vader_applies(post.lang)
            sentiment = float(compound[i]) if compound is not None and english else None
            if compound is None and english:
                sentiment = post_sentiment(post)
            row = rows[i]
            yield post, Prediction(post.id, classes[best[i]], row[best[i]], dict(zip(classes, row)), sentiment)
        if progress:
            progress(len(batch))

    workers = cores(n_jobs)
    if workers <= 1:
        for batch in chunks(posts, batch_size):
            yield from emit(batch, model.predict_proba_and_sentiment([p.text for p in batch]))
        return
    for batch, scored in ordered_map(_score_in_worker, chunks(posts, batch_size), workers=workers,
                                     argument=lambda batch: [p.text for p in batch],
                                     initializer=_install_worker_model, initargs=(model,)):
        yield from emit(batch, scored)
