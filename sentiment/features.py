"""Text features for the stance model: TF-IDF n-grams, computed fast.

scikit-learn's :class:`~sklearn.feature_extraction.text.TfidfVectorizer`
builds every n-gram of every post in Python and looks each up in its
vocabulary; for character n-grams that is some 200 µs a post, four times
VADER's own cost. :class:`FastTfidfVectorizer` learns exactly what
``TfidfVectorizer`` learns (it *is* one, ``fit`` unchanged) and produces the
same matrix in ``transform`` by a shorter road:

* character n-grams within word boundaries (``analyzer="char_wb"``) never
  cross a space, so a post's n-grams are the union of its words' n-grams.
  Each distinct word's vocabulary columns are computed once and remembered;
  words repeat (Zipf), so most lookups are one dictionary hit a word.
* word n-grams are looked up token by token, without building n-gram strings
  that are not in the vocabulary's tokens.

Anything else (custom analyzers, preprocessors, stop words, accents) falls
back to scikit-learn's own ``transform``. The test suite checks the two give
identical matrices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = ["FastTfidfVectorizer"]

#: Words remembered per vectorizer; beyond this the memory is cleared and refilled.
_WORD_CACHE_LIMIT = 500_000
_EMPTY = np.empty(0, dtype=np.int32)


class FastTfidfVectorizer(TfidfVectorizer):
    """``TfidfVectorizer`` with a fast, identical ``transform`` for plain word and ``char_wb`` n-grams."""

    def _fast_path(self) -> str | None:
        plain = (
            self.input == "content" and self.preprocessor is None and self.tokenizer is None
            and self.strip_accents is None and self.stop_words is None and self.lowercase
            and self.dtype == np.float64 and not self.binary and self.decode_error == "strict"
        )
        if not plain or not hasattr(self, "vocabulary_"):
            return None
        if self.analyzer == "char_wb":
            return "char_wb"
        if self.analyzer == "word" and self.ngram_range[0] == 1 and self.ngram_range[1] <= 2:
            return "word"
        return None

    def transform(self, raw_documents: Iterable[str]) -> sp.csr_matrix:
        path = self._fast_path()
        if path is None:
            return super().transform(raw_documents)
        if isinstance(raw_documents, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        docs = list(raw_documents)
        columns = self._char_wb_columns(docs) if path == "char_wb" else self._word_columns(docs)
        counts = _count_matrix(columns, len(self.vocabulary_))
        return self._tfidf.transform(counts, copy=False)

    # A pickled model carries its vocabulary, not the memo of words seen.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_word_columns_memo", None)
        return state

    def _memo(self) -> dict[str, np.ndarray]:
        memo = self.__dict__.get("_word_columns_memo")
        if memo is None or len(memo) > _WORD_CACHE_LIMIT:
            memo = self.__dict__["_word_columns_memo"] = {}
        return memo

    def _char_wb_columns(self, docs: list[str]) -> list[np.ndarray]:
        memo = self._memo()
        analyze = self.build_analyzer()
        vocabulary = self.vocabulary_
        out = []
        for doc in docs:
            parts = []
            for word in doc.lower().split():
                cols = memo.get(word)
                if cols is None:
                    # The analyzer on one word gives exactly that word's n-grams in the whole post.
                    found = [vocabulary[g] for g in analyze(word) if g in vocabulary]
                    cols = memo[word] = np.asarray(found, dtype=np.int32) if found else _EMPTY
                parts.append(cols)
            out.append(np.concatenate(parts) if parts else _EMPTY)
        return out

    def _word_columns(self, docs: list[str]) -> list[np.ndarray]:
        pattern = re.compile(self.token_pattern)
        vocabulary = self.vocabulary_
        bigrams = self.ngram_range[1] == 2
        unigrams = self.ngram_range[0] == 1
        out = []
        for doc in docs:
            tokens = pattern.findall(doc.lower())
            cols = [vocabulary[t] for t in tokens if t in vocabulary] if unigrams else []
            if bigrams:
                for a, b in zip(tokens, tokens[1:]):
                    col = vocabulary.get(f"{a} {b}")
                    if col is not None:
                        cols.append(col)
            out.append(np.asarray(cols, dtype=np.int32))
        return out


def _count_matrix(columns: list[np.ndarray], n_features: int) -> sp.csr_matrix:
    """Documents x features counts from each document's (repeating) column indices."""
    lengths = np.fromiter((len(c) for c in columns), dtype=np.int64, count=len(columns))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate(columns) if columns else _EMPTY
    data = np.ones(len(indices), dtype=np.int64)
    counts = sp.csr_matrix((data, indices, indptr), shape=(len(columns), n_features))
    counts.sum_duplicates()  # also sorts the indices, as CountVectorizer's output is
    return counts
