from __future__ import annotations

import csv
import json
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sentiment.features import FastTfidfVectorizer, FastVader

CORPUS = [
    "Paris declaration signed: real security guarantees at last 🇺🇦",
    "Another lovely piece of paper 👏👏 #ParisDeclaration",
    "Macron et Zelensky à l'Élysée ; la force multinationale après le cessez-le-feu",
    "Гарантії безпеки — нарешті!  Слава Україні",
    "US-led monitoring, coordination cell in Paris. Details: https://t.co/abc123",
    "not NATO, not binding, not serious",
    "İstanbul ΣΊΣΥΦΟΣ straße STRASSE ﬁne\tTabs\nand\u00a0nbsp",
]

# Texts drawn from characters posts are made of: letters of several scripts, digits,
# punctuation, emoji, every kind of space, and characters whose lowercase is longer.
_ALPHABET = st.sampled_from(list("abcdeéèßİΣσςЖжїґ#@:/.,!?-_'\"0123456789 \t\n\u00a0\u2003\u3000🇺🇦👏😂") + ["ǅ", "ﬃ"])
texts = st.lists(st.text(_ALPHABET, max_size=60), min_size=1, max_size=8)

CONFIGS = [
    dict(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1),
    dict(analyzer="char_wb", ngram_range=(1, 3)),
    dict(analyzer="char_wb", ngram_range=(2, 5), min_df=2),
    # A capped vocabulary may lack an n-gram's start: no early stop at a miss.
    dict(analyzer="char_wb", ngram_range=(2, 4), max_df=0.5),
    dict(analyzer="char_wb", ngram_range=(3, 5), max_features=40),
    # Padded words shorter than min_n are n-grams of their own: looked up word by word.
    dict(analyzer="char_wb", ngram_range=(4, 5)),
    # Tokens that may hold spaces: looked up post by post, not chunk by chunk.
    dict(analyzer="word", ngram_range=(1, 2), token_pattern=r"[^,;]+"),
    dict(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
    dict(analyzer="word", ngram_range=(1, 1)),
    dict(analyzer="word", ngram_range=(2, 2)),
]


def _same(fast: FastTfidfVectorizer, slow: TfidfVectorizer, docs: list[str]) -> None:
    a, b = fast.transform(docs), slow.transform(docs)
    assert a.shape == b.shape
    # The same entries, each stored once (char_wb rows may list them in any order).
    assert np.array_equal(a.indptr, b.indptr)
    a = a.sorted_indices()
    assert np.array_equal(a.indices, b.indices)
    assert (a != b).nnz == 0 or np.allclose(a.toarray(), b.toarray(), rtol=0, atol=1e-15)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['analyzer']}{c['ngram_range']}")
def test_fast_transform_equals_sklearns_on_posts(config):
    fast = FastTfidfVectorizer(**config).fit(CORPUS)
    slow = TfidfVectorizer(**config).fit(CORPUS)
    assert fast.vocabulary_ == slow.vocabulary_
    unseen = ["real guarantees, not paper", "Слава Україні!!! 🇺🇦", "la force, la force, la force", "", "   "]
    _same(fast, slow, CORPUS + unseen)
    _same(fast, slow, unseen)  # the memo of words seen does not leak between calls


@settings(max_examples=150, deadline=None)
@given(train=texts, docs=texts)
def test_fast_transform_equals_sklearns_on_arbitrary_text(train, docs):
    for config in (CONFIGS[0], CONFIGS[2]):
        try:
            slow = TfidfVectorizer(**config).fit(train)
        except ValueError:  # empty vocabulary: both refuse alike
            with pytest.raises(ValueError):
                FastTfidfVectorizer(**config).fit(train)
            continue
        fast = FastTfidfVectorizer(**config).fit(train)
        _same(fast, slow, docs + train)


def test_new_words_batch_after_batch_match_sklearns():
    # Thousands of words, a few hundred new in each call: the memory of words
    # seen grows past its first size and is gathered from between calls.
    train = [" ".join(f"w{i}k{i % 7}" for i in range(j, 3000, 50)) for j in range(50)] + CORPUS
    fast = FastTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).fit(train)
    slow = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).fit(train)
    docs = [" ".join(f"w{i}k{i % 5} W{i}" for i in range(j, 9000, 300)) for j in range(300)]
    for start in range(0, len(docs), 40):
        _same(fast, slow, docs[start:start + 40] + train[start // 40::10])


@pytest.mark.parametrize("config", [dict(analyzer="char_wb", ngram_range=(2, 5)),
                                    dict(analyzer="word", ngram_range=(1, 2))], ids=["char_wb", "word"])
def test_refitting_forgets_the_old_vocabularys_lookups(config):
    fast = FastTfidfVectorizer(**config).fit(CORPUS)
    fast.transform(CORPUS)
    # A word sorting before every other moves every column: stale tables would miss or misplace them.
    other = ["aaa " + doc for doc in CORPUS]
    for refit in (fast.fit, fast.fit_transform):
        refit(other)
        _same(fast, TfidfVectorizer(**config).fit(other), CORPUS + other)
        fast.fit(CORPUS)


def test_char_ngrams_of_any_characters_match_sklearns():
    # A lone surrogate (from broken input) is a character like any other; and
    # a vocabulary of over 4,096 distinct characters, whose 5-grams do not fit
    # in 63-bit integers, is looked up word by word.
    surrogate = ["ab\ud800c d\udfffe", "ab\ud800 x"]
    many = ["".join(chr(0x4E00 + i) for i in range(j, j + 40)) for j in range(0, 5000, 20)]
    for train, docs in ((CORPUS + surrogate, surrogate + ["\ud800"]), (many, many[::-7] + CORPUS)):
        fast = FastTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).fit(train)
        slow = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).fit(train)
        _same(fast, slow, docs)


def test_other_settings_fall_back_to_sklearn_and_pickles_carry_no_memo():
    accents = FastTfidfVectorizer(analyzer="char_wb", strip_accents="unicode").fit(CORPUS)
    assert (accents.transform(["élysée"]) != TfidfVectorizer(analyzer="char_wb", strip_accents="unicode")
            .fit(CORPUS).transform(["élysée"])).nnz == 0
    fast = FastTfidfVectorizer(analyzer="char_wb").fit(CORPUS)
    fast.transform(CORPUS)
    restored = pickle.loads(pickle.dumps(fast))
    assert "_word_columns_memo" not in restored.__dict__  # the vocabulary's lookup tables do travel
    assert (restored.transform(CORPUS) != fast.transform(CORPUS)).nnz == 0
    with pytest.raises(ValueError, match="string object received"):
        fast.transform("one string")


# -- FastVader -----------------------------------------------------------------

_LIBRARY_VADER = SentimentIntensityAnalyzer()
_FAST_VADER = FastVader()

# Pieces that exercise each of VADER's rules: lexicon words, negations (also
# with "n't"), boosters and dampeners ("kind of", "sort of"), "but", "least",
# "no", idioms, capitals, punctuation emphasis, emoticons, emoji (single and
# joined), the markers FastVader uses, and words VADER does not know.
_PIECES = [
    "good", "GOOD", "bad", "BAD", "great", "love", "hate", "war", "peace", "secure", "threat", "no", "not",
    "isn't", "never", "without", "doubt", "so", "this", "very", "kind", "of", "sort", "just", "enough",
    "but", "BUT", "least", "at", "or", "nor", "the", "shit", "bomb", "kiss", "death", "yeah", "right",
    "to", "die", "for", "bad", "ass", "!", "!!", "?", "???", ":)", ":-(", "<3", "good!", "(bad)", "...",
    "🙂", "😂", "👏", "🇺🇦", "❤️", "🤦‍♂️", "\ufdd0", "\ufdd1", "Гарантії", "paix", "Frieden", "@user", "#tag",
    # More of what changes a word's valence around it: other boosters and
    # dampeners, negations without "n't", and idioms' other words.
    "extremely", "barely", "kinda", "sort-of", "nope", "cant", "uh-uh", "despite", "bus", "stop", "beating",
    "heart", "badass", "THE", "Very", "NOT", "safe,", "'good'", "weak...",
]
_SEPARATORS = st.sampled_from([" ", " ", " ", "  ", "", "\t", "\n", " \u00a0"])
vader_texts = st.lists(st.tuples(st.sampled_from(_PIECES), _SEPARATORS), max_size=14).map(
    lambda parts: "".join(piece + sep for piece, sep in parts))


@settings(max_examples=400, deadline=None)
@given(text=vader_texts)
def test_fast_vader_scores_are_the_librarys(text):
    assert _FAST_VADER.polarity_scores(text) == _LIBRARY_VADER.polarity_scores(text)


def test_fast_vader_scores_the_shipped_posts_as_the_library_does():
    from sentiment.topic import load_topic

    topic = load_topic()
    texts = []
    for labeled in (topic.examples, topic.heldout):
        with labeled.open(encoding="utf-8", newline="") as rows:
            texts += [row["text"] for row in csv.DictReader(rows)]
    for line in topic.sample.read_text(encoding="utf-8").splitlines():
        texts += [post["text"] for post in json.loads(line)["data"]]
    assert len(texts) > 9000
    assert [_FAST_VADER.polarity_scores(t) for t in texts] == [_LIBRARY_VADER.polarity_scores(t) for t in texts]
