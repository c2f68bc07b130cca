"""Themes: the phrases that set each group apart, its sub-themes, and its telling posts.

* :func:`post_phrases` turns a post into its words and 2–3-word phrases:
  links, mentions and boilerplate dropped, stop words removed by the post's
  own language (and English, which mixes into every language on X),
  hashtags kept as ``#tag`` words.
* :func:`group_themes` ranks phrases per group by class-based TF-IDF: how
  often a group's posts use a phrase, times the log of how much more often
  than all posts do, so words every group uses (the event's own name) sink.
* :func:`subthemes` clusters a group's posts by the group's distinguishing
  phrases (k-means with fixed seeds) and names each cluster by its weightiest
  phrase.
* :func:`representatives` picks posts that are confidently in the group,
  central to its themes and, where metrics exist, widely seen; never two
  near-copies.

>>> post_phrases("Who pays for this? Taxpayers pay! #NoWar https://t.co/x @someone", "en")
['pays', 'taxpayers', 'pay', '#nowar', 'taxpayers pay']
>>> [p for p in post_phrases("Another piece of paper, signed by 35 countries", "en") if " " in p]
['piece of paper', 'signed by 35', 'signed by 35 countries', '35 countries']
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["Theme", "Subtheme", "post_phrases", "group_themes", "subthemes", "representatives"]

_LINK = re.compile(r"https?://\S+|www\.\S+|\bt\.co/\S+")
_MENTION = re.compile(r"(?<!\w)@\w+")
_TOKEN = re.compile(r"#?\w[\w'’-]*\w|#?\w", re.UNICODE)
_BOILERPLATE = {"rt", "amp", "via", "http", "https", "breaking", "thread", "1/", "pic", "twitter", "com", "www"}
_LANG_NAMES = {"en", "fr", "de", "uk", "pl", "da", "it", "ru", "es", "nl", "pt", "sv", "fi", "no", "cs", "ro",
               "hu", "ca", "ar", "tr", "bg", "sk"}


@lru_cache(maxsize=64)
def _stop_words(lang: str) -> frozenset[str]:
    from stop_words import StopWordError, get_stop_words

    try:
        return frozenset(w.lower() for w in get_stop_words(lang))
    except (StopWordError, KeyError):
        return frozenset()


def _stops_for(lang: str | None) -> frozenset[str]:
    english = _stop_words("en")
    if lang and lang != "en" and lang in _LANG_NAMES:
        return english | _stop_words(lang)
    return english


_CLAUSE = re.compile(r"[.!?;:,\n…—–()\[\]\"“”«»|/]+")


def post_phrases(text: str, lang: str | None = None, max_words: int = 3) -> list[str]:
    """Words, then phrases of up to ``max_words`` content words, of one post.

    Phrases stay inside a clause and may hold stop words inside but not at
    their edges ("piece of paper", never "of paper" or "paper and"); hashtags
    are single words.
    """
    text = _MENTION.sub(" ", _LINK.sub(" ", text.replace("&amp;", "&")))
    stops = _stops_for(lang)
    unigrams: list[str] = []
    phrases: list[str] = []
    for clause in _CLAUSE.split(text.lower()):
        tokens: list[tuple[str, bool]] = []  # (token, is a content word)
        for match in _TOKEN.finditer(clause):
            token = match.group(0).replace("’", "'")
            if token.startswith("#"):
                if len(token) > 2:
                    unigrams.append(token)
                tokens.append(("", False))  # a hashtag breaks a phrase
                continue
            if token in stops:
                tokens.append((token, False))
                continue
            # Elisions and contractions: "l'europe" is "europe", "c'est" is two stop words.
            for part in token.split("'") if "'" in token else [token]:
                content = len(part) > 1 and part not in stops and part not in _BOILERPLATE
                tokens.append((part, content))
                if content:
                    unigrams.append(part)
        for i, (first, first_ok) in enumerate(tokens):
            if not first_ok:
                continue
            words = 1
            for j in range(i + 1, min(i + 4, len(tokens))):  # at most four tokens in all
                token, ok = tokens[j]
                if not token:
                    break
                words += ok
                if words > max_words:
                    break
                if ok:
                    phrases.append(" ".join(t for t, _ in tokens[i:j + 1]))
    return unigrams + phrases


@dataclass(frozen=True)
class Theme:
    """A phrase that distinguishes a group: its c-TF-IDF weight and how many posts use it."""

    phrase: str
    weight: float
    n_posts: int


def _contains(longer: str, shorter: str) -> bool:
    return f" {shorter} " in f" {longer} "


def group_themes(
    phrases_by_group: dict[str, list[list[str]]],
    *,
    top: int = 10,
    min_posts: int = 3,
) -> dict[str, list[Theme]]:
    """The ``top`` distinguishing phrases of each group (class-based TF-IDF).

    ``phrases_by_group`` maps a group to its posts' phrase lists. A phrase
    counts once per post, so one spammer cannot make a theme; it must occur
    in at least ``min_posts`` posts (and 1% of the group's). A phrase inside
    an already chosen one (or holding it) is skipped, so themes do not repeat.
    """
    df = {g: Counter(p for doc in docs for p in set(doc)) for g, docs in phrases_by_group.items()}
    overall: Counter[str] = Counter()
    for counts in df.values():
        overall.update(counts)
    n_all = sum(len(docs) for docs in phrases_by_group.values())
    out: dict[str, list[Theme]] = {}
    for g, counts in df.items():
        n_docs = len(phrases_by_group[g])
        floor = max(min_posts, math.ceil(0.01 * n_docs))
        scored = []
        for phrase, n in counts.items():
            if n < floor:
                continue
            # Class-based TF-IDF, with the class playing the document: the share
            # of the group's posts using the phrase (tf), times the log of how
            # much more often the group uses it than all posts do (idf). Words
            # every group uses (the event's own name) get an idf near zero.
            tf = n / n_docs
            lift = tf / (overall[phrase] / n_all)
            if lift < 1.2:
                continue
            weight = tf * math.log(lift) * (1 + phrase.count(" "))  # a phrase says more than a lone word
            scored.append((weight, n, phrase))
        scored.sort(key=lambda x: (-x[0], -x[1], x[2]))
        chosen: list[Theme] = []
        for weight, n, phrase in scored:
            if any(_contains(t.phrase, phrase) or _contains(phrase, t.phrase) for t in chosen):
                continue
            chosen.append(Theme(phrase, round(float(weight), 6), int(n)))
            if len(chosen) == top:
                break
        out[g] = chosen
    return out


_DIFFUSE = 0.3  # a cluster centre's top weight below this: no shared phrase


@dataclass(frozen=True)
class Subtheme:
    """A cluster of one group's posts, named by its most distinctive phrase."""

    label: str
    size: int
    members: list[int]


def subthemes(
    docs: Sequence[list[str]],
    vocabulary: Sequence[str],
    *,
    min_posts: int = 30,
    max_clusters: int = 8,
) -> list[Subtheme]:
    """Cluster a group's posts into labeled sub-themes, largest first.

    Posts are described only by the group's distinguishing phrases
    (``vocabulary``, from :func:`group_themes`), so clusters form around
    what is said rather than around the language it is said in; k-means
    with fixed seeds. A cluster is named by its most weighty phrase. Posts
    using none of the phrases are left out of every sub-theme.
    """
    if len(docs) < min_posts or len(vocabulary) < 4:
        return []
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    vectorizer = TfidfVectorizer(analyzer=lambda d: d, vocabulary=list(dict.fromkeys(vocabulary)), binary=True)
    X = vectorizer.fit_transform(docs)
    rows = np.flatnonzero(X.getnnz(axis=1))
    if len(rows) < min_posts:
        return []
    X = normalize(X[rows])
    k = int(min(max_clusters, max(2, round(math.sqrt(len(rows) / 10)))))
    with warnings.catch_warnings():
        # Fewer distinct posts than clusters (a copy-paste campaign) is a fine
        # answer here, and scheduled runs with -q must stay quiet.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = KMeans(n_clusters=k, n_init=10, random_state=0).fit(X)
    names = vectorizer.get_feature_names_out()
    clusters = {c: [int(rows[i]) for i in np.flatnonzero(model.labels_ == c)] for c in range(k)}
    out, used = [], set()
    for c, members in sorted(clusters.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        centre = model.cluster_centers_[c]
        ranked = np.argsort(-centre, kind="stable")
        # A diffuse cluster (no phrase shared by most of its posts) is not one theme: say so.
        if centre[ranked[0]] < _DIFFUSE:
            label = "other (mixed)"
        else:
            label = next((str(names[j]) for j in ranked if names[j] not in used), "other (mixed)")
        used.add(label)
        out.append(Subtheme(label, len(members), members))
    return out


def representatives(
    docs: Sequence[list[str]],
    confidence: Sequence[float],
    engagement: Sequence[float | None],
    *,
    k: int = 3,
    same_copy_group: Sequence[int | None] | None = None,
    similarity: float = 0.5,
) -> list[int]:
    """Indexes of ``k`` posts that are confident, central and (where known) widely seen.

    Score: confidence × centrality (cosine to the group's mean vector) ×
    (1 + reach), reach being log engagement scaled to 0..1 within the group.
    Posts of the same copy group, or sharing most of their phrases with one
    already chosen, are skipped.
    """
    if not docs:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    try:
        X = normalize(TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True).fit_transform(docs))
    except ValueError:  # no phrases at all
        return list(range(min(k, len(docs))))
    centroid = np.asarray(X.mean(axis=0)).ravel()
    norm = np.linalg.norm(centroid)
    centrality = X @ (centroid / norm) if norm else np.zeros(len(docs))
    known = [e for e in engagement if e is not None]
    top = math.log1p(max(known)) if known and max(known) > 0 else 0.0
    reach = np.array([math.log1p(e) / top if (e is not None and top) else 0.0 for e in engagement])
    score = np.asarray(confidence) * np.asarray(centrality).ravel() * (1 + reach)
    order = sorted(range(len(docs)), key=lambda i: (-score[i], i))
    chosen: list[int] = []
    for i in order:
        group = same_copy_group[i] if same_copy_group is not None else None
        if group is not None and any(same_copy_group[j] == group for j in chosen):  # type: ignore[index]
            continue
        words = set(docs[i])
        if any(words and len(words & set(docs[j])) / len(words | set(docs[j])) >= similarity for j in chosen):
            continue
        chosen.append(i)
        if len(chosen) == k:
            break
    return chosen
