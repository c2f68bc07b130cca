from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sentiment.classify import HashtagWords, StanceClassifier, VaderScores, load_examples, predict_posts, topic_model
from sentiment.errors import InputError
from sentiment.models import Post

from conftest import TINY_EXAMPLES

TEXTS = [t for t, _ in TINY_EXAMPLES]
LABELS = [label for _, label in TINY_EXAMPLES]


def test_a_model_trained_on_a_tiny_corpus_separates_unseen_phrasings():
    model = StanceClassifier().fit(TEXTS, LABELS)
    assert set(model.classes_) == {"for_it", "against_it"}
    assert model.predict(["build the bridge, great for jobs", "scrap this waste of money, vote no"]).tolist() == [
        "for_it", "against_it"]
    probs = model.predict_proba(["yes to the bridge"])
    assert probs.shape == (1, 2) and np.isclose(probs.sum(), 1.0)


def test_params_survive_fit_and_clone_and_it_composes_in_a_pipeline():
    model = StanceClassifier(C=2.0, vader=False)
    fitted = clone(model).fit(TEXTS, LABELS)
    assert fitted.get_params()["C"] == 2.0 and fitted.get_params()["vader"] is False
    pipe = Pipeline([("stance", StanceClassifier())])
    assert cross_val_score(pipe, np.array(TEXTS), np.array(LABELS), cv=2).mean() > 0.5


def test_vader_scores_are_a_transformer_with_four_columns():
    scores = VaderScores().fit_transform(["I love it!", "I hate it."])
    assert scores.shape == (2, 4)
    assert scores[0, 3] > 0 > scores[1, 3]


@pytest.mark.parametrize(("text", "expected"), [
    ("Signed! #StandWithUkraine", "Signed! #StandWithUkraine Stand With Ukraine"),
    ("#NATOSummit in #Paris2026", "#NATOSummit in #Paris2026 NATO Summit Paris 2026"),
    ("#СлаваУкраїні та #no_more_war", "#СлаваУкраїні та #no_more_war Слава Україні no more war"),
    ("#NATO and #nato", "#NATO and #nato NATO nato"),  # one word each: kept whole, without the "#"
    ("no tags at all, nor # alone", "no tags at all, nor # alone"),
])
def test_hashtag_words_appends_the_words_of_each_tag(text, expected):
    assert HashtagWords().fit_transform([text]) == [expected]


# Written for this test: the cues of each side appear only inside hashtags.
TAGGED = [
    ("#BuildTheBridge today", "for_it"), ("#YesToTheBridge, said the mayor", "for_it"),
    ("#BridgeMeansJobs for everyone", "for_it"), ("#CrossingAtLast tonight", "for_it"),
    ("#ScrapTheToll already", "against_it"), ("#KeepTheFerry, says the union", "against_it"),
    ("#NoConcreteMonster here", "against_it"), ("#WasteOfMoney again", "against_it"),
]


def test_a_cue_seen_only_in_hashtags_counts_when_written_as_words():
    texts, labels = [t for t, _ in TAGGED] * 2, [label for _, label in TAGGED] * 2
    plain = ["yes, build the bridge, it means jobs", "keep the ferry and scrap the toll, a waste of money"]
    with_tags = StanceClassifier(cv=None).fit(texts, labels)
    without = StanceClassifier(cv=None, hashtag_words=False).fit(texts, labels)
    assert with_tags.predict(plain).tolist() == ["for_it", "against_it"]
    right = [list(with_tags.classes_).index(label) for label in ("for_it", "against_it")]
    gain = with_tags.predict_proba(plain)[[0, 1], right] - without.predict_proba(plain)[[0, 1], right]
    assert (gain > 0.05).all()


def test_vader_scores_the_post_as_written_not_its_hashtag_words():
    model = StanceClassifier(cv=None).fit(TEXTS, LABELS)
    text = "Sign it today #NoMoreWar"  # "No More War" would change VADER's score
    _, compound = model.predict_proba_and_sentiment([text])
    assert compound[0] == SentimentIntensityAnalyzer().polarity_scores(text)["compound"]
    assert compound[0] != SentimentIntensityAnalyzer().polarity_scores(text + " No More War")["compound"]


def test_a_model_saved_before_hashtag_words_and_random_state_existed_loads_as_it_was_built():
    model = StanceClassifier(cv=None, hashtag_words=False).fit(TEXTS, LABELS)
    state = model.__getstate__()
    del state["hashtag_words"], state["random_state"]
    old = StanceClassifier.__new__(StanceClassifier)
    old.__setstate__(state)
    assert (old.get_params()["hashtag_words"], old.get_params()["random_state"]) == (False, 0)
    assert np.array_equal(old.predict_proba(TEXTS), model.predict_proba(TEXTS))


def test_random_state_moves_the_folds_that_measure_errors_not_the_model():
    texts, labels = TEXTS * 2, LABELS * 2
    first, again, other = (StanceClassifier(cv=3, random_state=seed).fit(texts, labels) for seed in (0, 0, 1))
    assert np.array_equal(first.cv_proba_, again.cv_proba_)
    assert not np.array_equal(first.cv_proba_, other.cv_proba_)
    assert np.array_equal(first.predict_proba(TEXTS), other.predict_proba(TEXTS))


def test_predict_before_fit_and_bad_input_fail_clearly():
    with pytest.raises(Exception, match="not fitted"):
        StanceClassifier().predict(["x"])
    with pytest.raises(ValueError, match="one string"):
        StanceClassifier().fit("a single string", ["x"])
    with pytest.raises(ValueError, match="at least two labels"):
        StanceClassifier().fit(["a", "b"], ["x", "x"])


def test_predict_posts_batches_without_changing_results():
    model = StanceClassifier().fit(TEXTS, LABELS)
    posts = [Post(id=str(i), text=t) for i, t in enumerate(TEXTS * 3)]
    one = [p.label for _, p in predict_posts(model, posts, batch_size=1000)]
    small = [p.label for _, p in predict_posts(model, posts, batch_size=5)]
    assert one == small and len(one) == len(posts)


def test_examples_file_checks_columns_and_labels(tmp_path):
    path = tmp_path / "ex.tsv"
    path.write_text("label\ttext\tlang\nfor_it\tyes please\ten\n")
    examples = load_examples(path)
    assert examples.texts == ["yes please"] and examples.langs == ["en"]
    with pytest.raises(InputError, match="not one of the topic's groups"):
        load_examples(path, allowed_labels={"against_it"})
    (tmp_path / "bad.csv").write_text("body,label\nx,y\n")
    with pytest.raises(InputError, match="no 'text' column"):
        load_examples(tmp_path / "bad.csv")


def test_topic_model_is_cached_and_retrained_when_examples_change(tiny_topic, tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_CACHE_DIR", str(tmp_path / "cache"))
    first = topic_model(tiny_topic)
    cached = list((tmp_path / "cache").glob("harbour_bridge-*.joblib"))
    assert len(cached) == 1
    again = topic_model(tiny_topic)
    assert again.predict(["keep the ferry"]).tolist() == first.predict(["keep the ferry"]).tolist()
    with tiny_topic.examples.open("a") as handle:
        handle.write('"what a gorgeous bridge, finally",for_it\n')
    topic_model(tiny_topic)
    assert len(list((tmp_path / "cache").glob("harbour_bridge-*.joblib"))) == 2  # the stale one was not used


def test_an_unreadable_cache_file_is_rebuilt(tiny_topic, tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_CACHE_DIR", str(tmp_path / "cache"))
    topic_model(tiny_topic)
    (cached,) = (tmp_path / "cache").glob("*.joblib")
    cached.write_bytes(b"garbage")
    assert topic_model(tiny_topic).predict(["no to the toll"]).tolist() == ["against_it"]


def test_parallel_scoring_gives_the_same_predictions_in_the_same_order():
    model = StanceClassifier(cv=None).fit(TEXTS, LABELS)
    posts = [Post(id=str(i), text=t, lang="en") for i, t in enumerate(TEXTS * 4)]
    serial = [(p.id, pr.label, pr.probabilities, pr.sentiment) for p, pr in predict_posts(model, posts)]
    parallel = [(p.id, pr.label, pr.probabilities, pr.sentiment)
                for p, pr in predict_posts(model, posts, batch_size=7, n_jobs=2)]
    assert serial == parallel  # to the last bit


def test_a_text_met_again_is_scored_once_with_the_same_result(monkeypatch):
    model = StanceClassifier(cv=None).fit(TEXTS, LABELS)
    scored: list[list[str]] = []
    score = model._score
    monkeypatch.setattr(model, "_score", lambda texts: scored.append(texts) or score(texts))
    texts = ["yes to the bridge", "RT @x: no bridge, vote no", "yes to the bridge"]
    proba, compound = model.predict_proba_and_sentiment(texts)
    # As the pipeline itself scores them (to rounding: the pipeline's union
    # sorts each row's features, so its sums run in another order).
    np.testing.assert_allclose(proba, model.pipeline_.predict_proba(texts), rtol=1e-12, atol=1e-15)
    again, _ = model.predict_proba_and_sentiment(texts[::-1] + ["a new one"])
    assert np.array_equal(again[:3], proba[::-1])
    assert scored == [["yes to the bridge", "RT @x: no bridge, vote no"], ["a new one"]]
    monkeypatch.undo()
    assert "_scored_texts" not in pickle.loads(pickle.dumps(model)).__dict__
    model.fit(TEXTS, LABELS[::-1])  # learnt afresh: nothing kept from the model before
    assert not np.array_equal(model.predict_proba_and_sentiment(texts)[0], proba)


def test_sentiment_is_vaders_compound_for_english_and_none_for_other_languages():
    model = StanceClassifier(cv=None).fit(TEXTS, LABELS)
    posts = [Post(id="1", text="I love this wonderful bridge!", lang="en"),
             Post(id="2", text="I hate this awful bridge!"),
             Post(id="3", text="Я люблю этот мост!", lang="ru"),
             Post(id="4", text="love it!!! 😍", lang="und")]  # X could not tell the language: scored
    scores = [pred.sentiment for _, pred in predict_posts(model, posts)]
    assert scores[0] > 0.5 and scores[1] < -0.5 and scores[2] is None and scores[3] > 0.5


@pytest.mark.parametrize("check", ["check_no_attributes_set_in_init", "check_parameters_default_constructible",
                                   "check_get_params_invariance", "check_set_params"])
def test_the_estimator_passes_sklearns_api_checks_that_apply_to_text_input(check):
    # parametrize_with_checks feeds numeric arrays, which a text model cannot take; these
    # checks of the estimator contract need no data.
    import sklearn.utils.estimator_checks as checks

    getattr(checks, check)("StanceClassifier", StanceClassifier())
