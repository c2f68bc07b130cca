"""Text features for the stance model, computed fast, with the results the libraries give.

scikit-learn's :class:`~sklearn.feature_extraction.text.TfidfVectorizer`
builds every n-gram of every post in Python and looks each up in its
vocabulary; for character n-grams that is some 200 µs a post, four times
VADER's own cost. :class:`FastTfidfVectorizer` learns exactly what
``TfidfVectorizer`` learns (it *is* one, ``fit`` unchanged) and produces the
same matrix in ``transform`` by a shorter road:

* character n-grams within word boundaries (``analyzer="char_wb"``) never
  cross a space, so a post's n-grams are the union of its words' n-grams.
  Each distinct word's vocabulary columns are computed once and remembered;
  words repeat (Zipf), so most lookups are one dictionary hit a word. The
  n-grams of a batch's new words are looked up together in NumPy and
  pandas, each n-gram an integer (real tweets bring two or three new words
  a post, and a word at a time in Python cost as much as VADER). A batch's
  counts are one sparse product, posts by words times words by n-grams;
  its rows' column indices are left unsorted (scipy and scikit-learn take
  either, and sorting them cost a third of the block).
* word n-grams: each token is looked up once, and a pair of neighbours by
  its two tokens' columns, without building the pair's string.

Lookups and assembly run over a whole batch at once (``map``, ``fromiter``,
one ``concatenate``), since per-post NumPy calls cost more than the lookups.
Anything else (custom analyzers, preprocessors, stop words, accents) falls
back to scikit-learn's own ``transform``. The test suite checks the two give
the same matrices (the same entries, each stored once, equal to rounding).

:class:`FastVader` is VADER's ``SentimentIntensityAnalyzer`` with identical
scores, at under half the cost: emoji are replaced in one ``str.translate``
instead of a Python loop over every character; a post with no word in the
lexicon (a quarter of real tweets, half the shipped posts, most of these not English) is scored
without walking its words; only lexicon words are scored, and a lexicon word
with none of the words the library's rules look for (negations, boosters,
"no", "least", "never", "so", "this", "without", idiom words) within three
words before it or two after (three in four on real tweets, two in three on
the shipped posts) gets its lexicon valence directly, which is all the
library's per-word rules give it then. The others go through those rules,
given the few words around the word they read instead of lowercasing the
whole post each time. The test suite checks the scores
against the library's on every shipped post and on generated text that
exercises each rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import chain, repeat
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    SentiText,
)

__all__ = ["FastTfidfVectorizer", "FastVader"]

#: Words remembered per vectorizer; beyond this the memory is cleared and refilled.
_WORD_CACHE_LIMIT = 500_000
_BIGRAM = "{} {}".format
#: scikit-learn's default token pattern.
_WORD_TOKENS = r"(?u)\b\w\w+\b"
#: Words that can make VADER's negation check change a valence (besides any with "n't").
_NEGATION_CUES = frozenset(NEGATE) | {"never", "so", "this", "without", "doubt"}
#: Words that can make the library's sentiment_valence give a word other than its
#: lexicon valence (with the capitals rule) when one is within three words before
#: it or two after: negation cues, boosters and dampeners, "no", "least", and one
#: word of each idiom or phrase (an idiom matches only if all its words are there;
#: the common "the", "of", "to" and "for" are left out for that reason).
_CONTEXT_WORDS = _NEGATION_CUES | {"no", "least"} | {
    word for phrase in chain(BOOSTER_DICT, SPECIAL_CASES) for word in phrase.split()
    if word not in {"the", "of", "to", "for"}
}
#: Noncharacters that mark where an emoji's description starts and ends.
_OPEN, _CLOSE = "\ufdd0", "\ufdd1"
_SPACE_BEFORE = re.compile(f"(?<=[^ ]){_OPEN}")


class FastTfidfVectorizer(TfidfVectorizer):
    """``TfidfVectorizer`` with a fast ``transform`` for plain word and ``char_wb`` n-grams, the same to rounding."""

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
        counts = self._char_wb_counts(docs) if path == "char_wb" else self._word_counts(docs)
        return self._tfidf.transform(counts, copy=False)

    def fit(self, raw_documents: Iterable[str], y: Any = None) -> FastTfidfVectorizer:
        super().fit(raw_documents, y)
        self._prepare()
        return self

    def fit_transform(self, raw_documents: Iterable[str], y: Any = None) -> sp.csr_matrix:
        counts = super().fit_transform(raw_documents, y)
        self._prepare()
        return counts

    def _prepare(self) -> None:
        # The lookup tables of a vocabulary, built once here and pickled with
        # it: about 0.1 s each, which every process using the model would pay.
        for memo in ("_word_columns_memo", "_bigram_columns_memo", "_ngram_index_memo"):
            self.__dict__.pop(memo, None)
        path = self._fast_path()
        if path == "char_wb":
            self._ngram_index()
        elif path == "word" and self.ngram_range[1] == 2:
            self._bigram_columns()

    # A pickled model carries its vocabulary and lookup tables, not the memo of words seen.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_word_columns_memo", None)
        return state

    def _memo(self) -> _WordColumns:
        # Each distinct word's char_wb vocabulary columns.
        memo = self.__dict__.get("_word_columns_memo")
        if memo is None or len(memo.ids) > _WORD_CACHE_LIMIT:
            memo = self.__dict__["_word_columns_memo"] = _WordColumns()
        return memo

    def _ngram_index(self) -> _NgramIndex | None:
        index = self.__dict__.get("_ngram_index_memo")
        if index is None:
            index = self.__dict__["_ngram_index_memo"] = _NgramIndex.of(self.vocabulary_, *self.ngram_range) or False
        return index or None

    def _char_wb_counts(self, docs: list[str]) -> sp.csr_matrix:
        memo = self._memo()
        words_per_doc = [doc.lower().split() for doc in docs]
        words = list(chain.from_iterable(words_per_doc))
        unseen = list(set(words).difference(memo.ids))
        if unseen:
            memo.add(unseen, *self._new_word_columns(unseen))
        ids = np.fromiter(map(memo.ids.__getitem__, words), dtype=np.int64, count=len(words))
        # Counts = (posts x words) @ (words x n-grams), over the batch's
        # distinct words: the product sums an n-gram's occurrences across a
        # post's words in one pass, where summing them in a list of every
        # occurrence meant sorting each post's columns (a third of the cost).
        distinct, word_of_token = np.unique(ids, return_inverse=True)
        columns, per_word = memo.gather(distinct)
        tokens_per_doc = np.fromiter(map(len, words_per_doc), dtype=np.int64, count=len(docs))
        posts_by_words = sp.csr_matrix((np.ones(len(ids)), word_of_token, _offsets(tokens_per_doc)),
                                       shape=(len(docs), len(distinct)))
        words_by_ngrams = sp.csr_matrix((np.ones(len(columns)), columns, _offsets(per_word)),
                                        shape=(len(distinct), len(self.vocabulary_)))
        return posts_by_words @ words_by_ngrams

    def _new_word_columns(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The words' vocabulary columns, grouped by word in order, and how many each word has."""
        index = self._ngram_index()
        if index is not None:
            return index.columns(words)
        lookup = self.vocabulary_.get
        min_n, max_n = self.ngram_range
        # Learnt without a cap on frequency or size, the vocabulary holds
        # every shorter start of each n-gram it holds (a post with the
        # n-gram has its start too), so the first miss ends a position.
        prefixes_kept = self.vocabulary is None and self.max_features is None and self.max_df == 1.0
        found = [_char_wb_word_columns(word, lookup, min_n, max_n, prefixes_kept) for word in words]
        lengths = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
        return np.fromiter(chain.from_iterable(found), dtype=np.int32, count=int(lengths.sum())), lengths

    def _word_counts(self, docs: list[str]) -> sp.csr_matrix:
        lookup = self.vocabulary_.get
        findall = re.compile(self.token_pattern).findall
        tokens_per_doc = [findall(doc.lower()) for doc in docs]
        tokens = list(chain.from_iterable(tokens_per_doc))
        ids = np.fromiter(map(lookup, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
        doc_of = np.repeat(np.arange(len(docs)), np.fromiter(map(len, tokens_per_doc), np.int64, len(docs)))
        known = ids >= 0
        rows, cols = [doc_of[known]], [ids[known]]
        if self.ngram_range[1] == 2:
            pairs = self._bigram_columns()
            if pairs is not None:
                # A bigram in the vocabulary has both its words there too: look
                # up the pairs of known neighbours by their two word columns.
                both = known[:-1] & known[1:] & (doc_of[:-1] == doc_of[1:])
                hit, found = pairs.find(ids[:-1][both] * len(self.vocabulary_) + ids[1:][both])
                rows.append(doc_of[:-1][both][hit])
                cols.append(found)
            else:
                keys_per_doc = [list(map(_BIGRAM, t, t[1:])) for t in tokens_per_doc]
                keys = list(chain.from_iterable(keys_per_doc))
                found = np.fromiter(map(lookup, keys, repeat(-1)), dtype=np.int64, count=len(keys))
                doc_of_key = np.repeat(np.arange(len(docs)), np.fromiter(map(len, keys_per_doc), np.int64, len(docs)))
                rows.append(doc_of_key[found >= 0])
                cols.append(found[found >= 0])
        row, col = np.concatenate(rows), np.concatenate(cols)
        # From (row, column) pairs: repeats are summed and each row's columns sorted.
        counts = sp.csr_matrix((np.ones(len(row), dtype=np.int64), (row, col)),
                               shape=(len(docs), len(self.vocabulary_)))
        counts.sum_duplicates()
        return counts

    def _bigram_columns(self) -> _IntLookup | None:
        """Each bigram's column by its two words' columns (``a * n + b``), if every bigram's words are known.

        That holds for the default tokens (which hold no space, so "a b" splits
        one way) in a vocabulary learnt without a cap on frequency or size.
        """
        pairs = self.__dict__.get("_bigram_columns_memo")
        if pairs is None:
            keys, columns = [], []
            vocabulary = self.vocabulary_
            usable = (self.token_pattern == _WORD_TOKENS and self.vocabulary is None
                      and self.max_features is None and self.max_df == 1.0)
            for term, column in vocabulary.items() if usable else ():
                if " " in term:
                    first, second = term.split(" ")
                    if first not in vocabulary or second not in vocabulary:
                        usable = False
                        break
                    keys.append(vocabulary[first] * len(vocabulary) + vocabulary[second])
                    columns.append(column)
            pairs = _IntLookup(np.asarray(keys, dtype=np.int64), np.asarray(columns, dtype=np.int64)) if usable else False
            self.__dict__["_bigram_columns_memo"] = pairs
        return pairs or None


class _IntLookup:
    """Columns by integer key, looked up many at once in a ``pandas.Index``'s hash table.

    The index (and its table) is built on first use and left out of pickles,
    which carry the two arrays.
    """

    def __init__(self, keys: np.ndarray, columns: np.ndarray) -> None:
        self.keys, self.columns, self._index = keys, columns, None

    def __getstate__(self) -> dict[str, Any]:
        return {"keys": self.keys, "columns": self.columns}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.keys, self.columns, self._index = state["keys"], state["columns"], None

    def find(self, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of ``wanted`` are known (a mask), and the columns of those that are."""
        if self._index is None:
            self._index = pd.Index(self.keys)
        at = self._index.get_indexer(wanted)
        hit = at >= 0
        return hit, self.columns[at[hit]]


class _WordColumns:
    """Words seen, each with its vocabulary columns: one pool of columns, each word's start and length in it.

    A batch's columns are gathered from the pool in one NumPy step, instead
    of concatenating one small array a word.
    """

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self._pool = np.empty(1 << 16, dtype=np.int32)
        self._used = 0
        self._starts = np.empty(1 << 12, dtype=np.int64)
        self._lengths = np.empty(1 << 12, dtype=np.int64)

    def add(self, words: list[str], columns: np.ndarray, lengths: np.ndarray) -> None:
        first, count = len(self.ids), len(words)
        self._pool = _room(self._pool, self._used + len(columns))
        self._pool[self._used:self._used + len(columns)] = columns
        self._starts = _room(self._starts, first + count)
        self._lengths = _room(self._lengths, first + count)
        self._starts[first:first + count] = self._used + np.cumsum(lengths) - lengths
        self._lengths[first:first + count] = lengths
        self._used += len(columns)
        self.ids.update(zip(words, range(first, first + count)))

    def gather(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The columns of each word in ``ids``, one after another, and how many each has."""
        starts, lengths = self._starts[ids], self._lengths[ids]
        ends = np.cumsum(lengths)
        # Position k of the output is pool[start of its word + (k - where its word begins in the output)].
        offsets = np.repeat(starts - (ends - lengths), lengths) + np.arange(ends[-1] if len(ends) else 0)
        return self._pool[offsets], lengths


def _room(array: np.ndarray, size: int) -> np.ndarray:
    """``array``, or a copy twice as large or more, with room for ``size`` items."""
    if size <= len(array):
        return array
    grown = np.empty(max(size, 2 * len(array)), dtype=array.dtype)
    grown[:len(array)] = array
    return grown


class _NgramIndex:
    """A vocabulary's character n-grams as integers, to look up every n-gram of many words in NumPy.

    Each character the vocabulary uses gets a number from 1 (0 for any
    other), and an n-gram of n characters is its numbers' digits in base
    ``2**bits``: one :class:`_IntLookup` of those integers per length. The n-grams of a batch of new words are
    formed the same way, all at once, and looked up in one call a length.
    """

    def __init__(self, alphabet: np.ndarray, bits: int, keys: dict[int, _IntLookup],
                 min_n: int, max_n: int) -> None:
        self.alphabet, self.bits, self.keys, self.min_n, self.max_n = alphabet, bits, keys, min_n, max_n

    @classmethod
    def of(cls, vocabulary: dict[str, int], min_n: int, max_n: int) -> _NgramIndex | None:
        """The index of ``vocabulary``'s n-grams, or None where it does not apply.

        It does not apply when the n-grams do not fit in 63-bit integers, nor
        when ``min_n`` > 3: then a short word (padded, shorter than ``min_n``)
        is an n-gram of its own, which the per-word lookup handles.
        """
        alphabet = np.unique(_code_points("".join(vocabulary)))
        bits = len(alphabet).bit_length()
        if min_n > 3 or not len(alphabet) or bits * max_n > 63:
            return None
        index = cls(alphabet, bits, {}, min_n, max_n)
        for n in range(min_n, max_n + 1):
            terms = [term for term in vocabulary if len(term) == n]
            digits = index._digits("".join(terms)).reshape(len(terms), n)
            keys = np.zeros(len(terms), dtype=np.int64)
            for position in range(n):
                keys = (keys << bits) | digits[:, position]
            columns = np.fromiter(map(vocabulary.__getitem__, terms), dtype=np.int32, count=len(terms))
            index.keys[n] = _IntLookup(keys, columns)
        return index

    def _digits(self, text: str) -> np.ndarray:
        codes = _code_points(text)
        at = np.minimum(np.searchsorted(self.alphabet, codes), len(self.alphabet) - 1)
        return np.where(self.alphabet[at] == codes, at + 1, 0).astype(np.int64)

    def columns(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each word's ``char_wb`` columns, grouped by word in order, and how many each word has."""
        padded = [f" {word} " for word in words]
        sizes = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
        # One string of all the padded words: an n-gram across two of them is dropped below.
        digits = self._digits("".join(padded))
        word_of = np.repeat(np.arange(len(words)), sizes)
        keys = np.zeros(len(digits), dtype=np.int64)
        found_words, found_columns = [], []
        for n in range(1, self.max_n + 1):
            # keys[i]: the n characters from position i, for every i with n left.
            keys = (keys[:max(0, len(digits) - n + 1)] << self.bits) | digits[n - 1:]
            if n < self.min_n:
                continue
            starts = word_of[:len(keys)]
            inside = starts == word_of[n - 1:]  # within one padded word
            hit, columns = self.keys[n].find(keys[inside])
            found_words.append(starts[inside][hit])
            found_columns.append(columns)
        word = np.concatenate(found_words) if found_words else np.empty(0, dtype=np.int64)
        column = np.concatenate(found_columns) if found_columns else np.empty(0, dtype=np.int32)
        order = np.argsort(word, kind="stable")
        return column[order], np.bincount(word, minlength=len(words))


def _code_points(text: str) -> np.ndarray:
    # "surrogatepass": a lone surrogate (from broken input) is a character like any other.
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _char_wb_word_columns(word: str, lookup: Any, min_n: int, max_n: int, prefixes_kept: bool) -> list[int]:
    """Vocabulary columns of one word's ``char_wb`` n-grams, as scikit-learn forms them.

    The word is padded with a space each side, and its n-grams are all its
    substrings of ``min_n`` to ``max_n`` characters; a padded word shorter
    than ``min_n`` is one n-gram, itself.
    """
    padded = f" {word} "
    size = len(padded)
    if size < min_n:
        column = lookup(padded)
        return [] if column is None else [column]
    found = []
    for start in range(size - min_n + 1):
        for n in range(min_n, min(max_n, size - start) + 1):
            column = lookup(padded[start:start + n])
            if column is not None:
                found.append(column)
            elif prefixes_kept:
                break
    return found


def _offsets(lengths: np.ndarray) -> np.ndarray:
    """Where each of consecutive runs of ``lengths`` starts, and where the last ends (a CSR ``indptr``)."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


class FastVader(SentimentIntensityAnalyzer):
    """VADER with identical ``polarity_scores``, faster (tested against the library's own)."""

    def __init__(self) -> None:
        super().__init__()
        # The library compares one character at a time, so longer keys (flags,
        # joined sequences) never match there and must not match here.
        self._emoji_chars = frozenset(key for key in self.emojis if len(key) == 1)
        # Each emoji becomes its description between two markers (characters
        # Unicode keeps out of interchange); the library's spacing is then one
        # substitution: a space before a description unless a space precedes it.
        self._emoji_table = {ord(key): f"{_OPEN}{self.emojis[key]}{_CLOSE}" for key in self._emoji_chars}

    def _describe_emoji(self, text: str) -> str:
        """Each emoji replaced by its description, spaced as the library spaces it."""
        marked = _SPACE_BEFORE.sub(" " + _OPEN, text.translate(self._emoji_table))
        return marked.replace(_OPEN, "").replace(_CLOSE, "")

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not self._emoji_chars.isdisjoint(text):
            if _OPEN in text or _CLOSE in text:
                return super().polarity_scores(text)
            text = self._describe_emoji(text)
        text = text.strip()
        sentitext = SentiText(text)
        words = sentitext.words_and_emoticons
        lowered = list(map(str.lower, words))
        lexicon = self.lexicon.keys()
        if lexicon.isdisjoint(lowered):
            # Every valence is zero: what score_valence returns for that.
            return {"neg": 0.0, "neu": 1.0 if words else 0.0, "pos": 0.0, "compound": 0.0}
        # From here on, the library's own polarity_scores (vaderSentiment 3.3.2),
        # except that only lexicon words are scored: every other word's valence
        # is the zero the library's sentiment_valence gives it (which appends
        # one valence and reads no other), and boosters and "kind" before "of"
        # are zero too.
        sentiments: list[float] = [0] * len(words)
        last = len(words) - 1
        for i in [i for i, word in enumerate(lowered) if word in lexicon]:
            word = lowered[i]
            if word in BOOSTER_DICT or (i < last and word == "kind" and lowered[i + 1] == "of"):
                continue
            window = lowered[max(0, i - 3):i + 3]
            if _CONTEXT_WORDS.isdisjoint(window) and "n't" not in " ".join(window):
                # Nothing around the word changes its valence: what the
                # library's rules reduce to then (most words of most posts).
                valence = self.lexicon[word]
                if sentitext.is_cap_diff and words[i].isupper():
                    valence = valence + C_INCR if valence > 0 else valence - C_INCR
                sentiments[i] = valence
            else:
                sentiments[i] = self.sentiment_valence(0, sentitext, words[i], i, [])[0]
        if "but" in lowered:  # otherwise the library's _but_check changes nothing
            sentiments = self._but_check(words, sentiments)
        return self.score_valence(sentiments, text)

    # The library's checks lowercase every word of the post for each sentiment
    # word, then read at most three words back and two ahead: give them that
    # window, with the position moved to match.
    @staticmethod
    def _negation_check(valence: float, words_and_emoticons: list[str], start_i: int, i: int) -> float:
        if i <= start_i:  # never called so by the library; reads wrap around the list
            return SentimentIntensityAnalyzer._negation_check(valence, words_and_emoticons, start_i, i)
        low = max(0, i - 3)
        window = [word.lower() for word in words_and_emoticons[low:i + 1]]
        # The check changes the valence only for a negation ("not", "never", a
        # word with "n't"), "so"/"this" or "without" in reach.
        if _NEGATION_CUES.isdisjoint(window) and "n't" not in " ".join(window):
            return valence
        return SentimentIntensityAnalyzer._negation_check(valence, words_and_emoticons[low:i + 1], start_i, i - low)

    @staticmethod
    def _special_idioms_check(valence: float, words_and_emoticons: list[str], i: int) -> float:
        if i < 3:  # never called so by the library; reads wrap around the list
            return SentimentIntensityAnalyzer._special_idioms_check(valence, words_and_emoticons, i)
        return SentimentIntensityAnalyzer._special_idioms_check(valence, words_and_emoticons[i - 3:i + 3], 3)
