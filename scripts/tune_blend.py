"""Choose the blend's thresholds by cross-validation over the training sets (never over the blind sets).

Each fold holds out one ``knowledge/training/questions-*.jsonl`` file and every k-th line of the
out-of-scope file, trains the classifier on the rest (with the knowledge base's own questions), and
scores the engine + classifier on what was held out. Every setting in the grid is scored on every fold;
the objective is: right answers − 4 × wrong answers (in scope) − 2 × out-of-scope answered (rates).

    .venv/bin/python scripts/tune_blend.py [--top 10]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answering.classifier import OOS, Example, kb_examples, read_training_file, train  # noqa: E402
from bot.answering.evaluation import Labelled, outcome  # noqa: E402
from bot.answering.knowledge import load_knowledge  # noqa: E402
from bot.answering.matching import Blend, Matcher  # noqa: E402

GRID = {
    "engine_weight": (0.5,),
    "answer": (0.4, 0.45),
    "margin": (0.05, 0.1),
    "clarify": (0.3,),
    "out_of_scope": (0.1, 0.2, 0.3),
    "out_of_scope_unless": (0.8,),
    "out_of_scope_offer": (0.5, 0.55, 0.6, 0.7, 1.0),
    "temperature": (4.0,),
}


def folds(directory: Path, entries: set[str]) -> list[tuple[list[Example], list[Labelled]]]:
    """(training examples, held-out labelled questions) for each fold."""
    files = sorted(directory.glob("questions-*.jsonl"))
    oos = read_training_file(directory / "out_of_scope.jsonl", entries)
    result = []
    for k, held in enumerate(files):
        train_set = [e for f in files if f != held for e in read_training_file(f, entries)]
        train_set += [e for i, e in enumerate(oos) if i % len(files) != k]
        test = [Labelled(e.text, None if e.label == OOS else e.label) for e in read_training_file(held, entries)]
        test += [Labelled(e.text, None) for i, e in enumerate(oos) if i % len(files) == k]
        result.append((train_set, test))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--current", action="store_true", help="score only the shipped Blend() settings")
    parser.add_argument("--kb", type=Path, default=ROOT / "knowledge", help="the knowledge directory")
    args = parser.parse_args()
    kb = load_knowledge(args.kb, "default")
    matcher = Matcher(kb, model=None)
    settings = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
    if args.current:
        settings = [{}]
    totals = [[0, 0, 0, 0, 0, 0] for _ in settings]  # right, wrong, in scope, oos answered, oos, oos clarified
    for number, (train_set, test) in enumerate(folds(args.kb / "training", set(kb.entries)), 1):
        matcher.model = train(kb_examples(kb) + train_set, kb)
        print(f"fold {number}: trained on {len(train_set)} extra examples, testing {len(test)}", file=sys.stderr)
        evidence = [(item, matcher.evidence(item.q)) for item in test]
        for index, values in enumerate(settings):
            blend = replace(Blend(), **values)
            for item, found in evidence:
                result = outcome(item, matcher.decide(found, blend))
                total = totals[index]
                if item.expect is None:
                    total[3] += result == "answered"
                    total[4] += 1
                    total[5] += result == "clarified"
                else:
                    total[0] += result == "correct"
                    total[1] += result == "wrong"
                    total[2] += 1
    ranked = sorted(
        ((t[0] / t[2] - 4 * t[1] / t[2] - 2 * t[3] / t[4], s, t) for s, t in zip(settings, totals, strict=True)),
        key=lambda item: -item[0],
    )
    for objective, values, t in ranked[: args.top]:
        print(
            f"{objective:.4f}  right {t[0] / t[2]:.3f}  wrong {t[1] / t[2]:.3f}  "
            f"out of scope answered {t[3]}/{t[4]} (clarified {t[5]})  {values}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
