from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from sentiment.features import FastTfidfVectorizer

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
    dict(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
    dict(analyzer="word", ngram_range=(1, 1)),
    dict(analyzer="word", ngram_range=(2, 2)),
]


def _same(fast: FastTfidfVectorizer, slow: TfidfVectorizer, docs: list[str]) -> None:
    a, b = fast.transform(docs), slow.transform(docs)
    assert a.shape == b.shape
    assert (a != b).nnz == 0 or np.allclose(a.toarray(), b.toarray(), rtol=0, atol=1e-15)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)


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


def test_other_settings_fall_back_to_sklearn_and_pickles_carry_no_memo():
    accents = FastTfidfVectorizer(analyzer="char_wb", strip_accents="unicode").fit(CORPUS)
    assert (accents.transform(["élysée"]) != TfidfVectorizer(analyzer="char_wb", strip_accents="unicode")
            .fit(CORPUS).transform(["élysée"])).nnz == 0
    fast = FastTfidfVectorizer(analyzer="char_wb").fit(CORPUS)
    fast.transform(CORPUS)
    restored = pickle.loads(pickle.dumps(fast))
    assert "_word_columns_memo" not in restored.__dict__
    assert (restored.transform(CORPUS) != fast.transform(CORPUS)).nnz == 0
    with pytest.raises(ValueError, match="string object received"):
        fast.transform("one string")
