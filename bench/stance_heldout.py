"""The stance model on posts it has never seen, and the honesty of its shares.

    python bench/stance_heldout.py [--draws 200] [--size 300] [--fold-seeds 5]

Uses the topic's held-out set (`heldout.csv`: written separately from the
training examples, in other voices, and never trained or tuned on). Prints:
macro-F1 on English and on other posts, per language; the share error on the
whole held-out set (plain count and corrected), with the truth checked against
the interval; with ``--fold-seeds N``, the corrected error again with the
error rates measured on N shuffles of the examples into cross-validation
folds (the shipped model uses the first; the spread shows how much of the
error is that draw); and the coverage of the 95% intervals over many subsets
drawn with group mixes unlike the training mix, for the corrected method and
for plain classify-and-count.
"""

from __future__ import annotations

import argparse

import numpy as np

from sentiment.classify import StanceClassifier, calibration, load_examples, topic_model
from sentiment.evaluate import evaluate
from sentiment.quantify import estimate_shares
from sentiment.topic import load_topic

MIXES = [(0.2, 0.6, 0.2), (0.7, 0.1, 0.2), (0.1, 0.2, 0.7), (0.45, 0.1, 0.45), (0.34, 0.33, 0.33)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=200, help="subsets per mix")
    parser.add_argument("--size", type=int, default=300, help="posts per subset")
    parser.add_argument("--topic", default=None)
    parser.add_argument("--fold-seeds", type=int, default=1, help="shuffles of the examples into CV folds")
    args = parser.parse_args()

    topic = load_topic(args.topic)
    if topic.heldout is None:
        raise SystemExit(f"topic {topic.name} names no heldout file in its topic.toml")
    held = load_examples(topic.heldout, topic.group_ids)
    model = topic_model(topic)
    groups = topic.group_ids
    cal = calibration(model, groups)
    classes = [str(c) for c in model.classes_]
    proba = model.predict_proba(held.texts)[:, [classes.index(g) for g in groups]]
    y = np.array([groups.index(label) for label in held.labels])
    langs = np.array([lang or "?" for lang in held.langs])

    result = evaluate(held.labels, proba, groups, langs=held.langs, calibration=cal)
    en = langs == "en"
    for name, mask in (("english", en), ("other_languages", ~en)):
        sub = evaluate(np.array(held.labels, dtype=object)[mask], proba[mask], groups)
        print(f"heldout_macro_f1_{name}: {sub.macro_f1:.3f} (n={int(mask.sum())})")
    for lang, figures in result.languages.items():
        print(f"heldout_macro_f1_{lang}: {figures['macro_f1']:.3f} (n={figures['n']})")

    print(f"heldout_share_error_counted_pts: {result.raw_share_error * 100:.1f}")
    print(f"heldout_share_error_corrected_pts: {result.corrected_share_error * 100:.1f}")
    inside = all(result.corrected_ci[g][0] <= result.true_shares[g] <= result.corrected_ci[g][1] for g in groups)
    print(f"heldout_truth_inside_interval: {inside}")
    if args.fold_seeds > 1:
        # The model is the same whatever the shuffle; only its measured error rates move.
        examples = load_examples(topic.examples, groups)
        errors = [result.corrected_share_error]
        for seed in range(1, args.fold_seeds):
            reshuffled = StanceClassifier(n_jobs=-1, random_state=seed).fit(examples.texts, examples.labels)
            errors.append(evaluate(held.labels, proba, groups, calibration=calibration(reshuffled, groups))
                          .corrected_share_error)
        print(f"heldout_share_error_corrected_pts_over_{args.fold_seeds}_fold_seeds: mean "
              f"{np.mean(errors) * 100:.1f}, from {min(errors) * 100:.1f} to {max(errors) * 100:.1f} "
              f"({', '.join(f'{e * 100:.1f}' for e in errors)})")

    rng = np.random.default_rng(2026)
    by_group = [np.where(y == j)[0] for j in range(len(groups))]
    for method in ("acc", "cc"):
        hits, errors = [], []
        for mix in MIXES:
            for draw in range(args.draws):
                counts = rng.multinomial(args.size, mix)
                if any(c > len(pool) for c, pool in zip(counts, by_group)):
                    continue
                idx = np.concatenate([rng.choice(pool, c, replace=False) for c, pool in zip(counts, by_group)])
                truth = counts / counts.sum()
                est = estimate_shares(proba[idx], *cal, method=method, n_boot=300, seed=draw)
                hits.extend((est.low <= truth) & (truth <= est.high))
                errors.append(np.abs(est.shares - truth).max())
        print(f"coverage_95_{method}: {np.mean(hits):.3f} over {len(errors)} subsets of {args.size} posts "
              f"(mean largest share error {np.mean(errors) * 100:.1f} pts)")


if __name__ == "__main__":
    main()
