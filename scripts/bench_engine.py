"""Engine benchmark (``make bench``): load time, per-question latency, ``ask`` wall time, memory.

Figures, not assertions. Questions are the shipped KB's dev-style questions (../shared/kb/dev.jsonl
when present, else the KB's own alternate questions, mutated). The 10,000-entry KB is generated from
the shipped one: every entry's questions with words swapped for synthetic ones, so the vocabulary
and posting lists grow the way a large real KB's would.
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answering.classifier import OOS, kb_examples, read_training, train  # noqa: E402
from bot.answering.knowledge import Entry, KnowledgeBase, load_knowledge  # noqa: E402
from bot.answering.matching import Matcher  # noqa: E402


def questions_for_bench(kb: KnowledgeBase, n: int, rng: random.Random) -> list[str]:
    dev = ROOT.parent / "shared" / "kb" / "dev.jsonl"
    pool: list[str] = []
    if dev.exists():
        pool = [json.loads(line)["q"] for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    for entry in kb.entries.values():
        for lang in ("en", "zh"):
            pool.extend(entry.questions[lang])
    out = []
    for _ in range(n):
        q = rng.choice(pool)
        if rng.random() < 0.3 and len(q) > 6:  # a typo: drop one character
            i = rng.randrange(len(q))
            q = q[:i] + q[i + 1 :]
        out.append(q)
    return out


def synthetic_word(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "".join(rng.choice("bcdfghjklmnprstvwxyz" + "aeiou" * 2) for _ in range(rng.randint(4, 9)))
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(2))


def generated_kb(kb: KnowledgeBase, size: int, rng: random.Random) -> KnowledgeBase:
    base = list(kb.entries.values())
    entries: dict[str, Entry] = {}
    for i in range(size):
        src = base[i % len(base)]
        questions = {}
        for lang in ("en", "zh"):
            mutated = []
            for q in src.questions[lang]:
                words = q.split() if lang == "en" else [q[j : j + 2] for j in range(0, len(q), 2)]
                for _ in range(2):
                    words[rng.randrange(len(words))] = synthetic_word(rng)
                mutated.append((" " if lang == "en" else "").join(words))
            questions[lang] = tuple(mutated)
        entries[f"gen-{i}"] = replace(src, id=f"gen-{i}", questions=questions)
    return replace(kb, entries=entries)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50 * 1000, p99 * 1000


def time_questions(matcher: Matcher, questions: list[str]) -> tuple[float, float]:
    samples = []
    for q in questions:
        start = time.perf_counter()
        matcher.match(q)
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


def main() -> None:
    rng = random.Random(42)
    start = time.perf_counter()
    kb = load_knowledge(ROOT / "knowledge")
    matcher = Matcher(kb)  # the classifier from the cache (``make bench`` after ``kb build``), else trained
    load_s = time.perf_counter() - start
    questions = questions_for_bench(kb, 2000, rng)
    matcher.match("warm up")
    p50, p99 = time_questions(matcher, questions)

    # Before the big KB exists: a child forked later would count the parent's pages as its own.
    stdin = "\n".join(questions[:300]) + "\n"
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"], input=stdin.encode(), capture_output=True, cwd=ROOT, check=True
    )
    wall = time.perf_counter() - start
    lines = len(result.stdout.splitlines())
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"`python -m bot ask --json` over 300 questions on stdin: {wall:.2f} s wall, {lines} lines, "
        f"max RSS {rss:.0f} MB"
    )

    print(f"shipped KB: {len(kb.entries)} entries; load + index {load_s * 1000:.0f} ms")
    print(f"shipped KB: per question p50 {p50:.2f} ms, p99 {p99:.2f} ms ({len(questions)} questions)")

    big = generated_kb(kb, 10_000, rng)
    start = time.perf_counter()
    # the shipped training phrasings name the shipped entries: the generated KB keeps only the out-of-scope ones
    out_of_scope = [e for e in read_training(kb.directory / "training", kb.entries) if e.label == OOS]
    model = train(kb_examples(big) + out_of_scope, big)  # in scope vs out of scope at this size
    trained = time.perf_counter() - start
    big_matcher = Matcher(big, model=model)
    print(
        f"generated KB: {len(big.entries)} entries; classifier trained in {trained:.1f} s "
        f"({'per entry' if model and model.per_entry else 'in scope / out of scope'}), "
        f"index {time.perf_counter() - start - trained:.1f} s"
    )
    p50, p99 = time_questions(big_matcher, questions[:1000])
    print(f"generated KB: per question p50 {p50:.2f} ms, p99 {p99:.2f} ms (1000 questions)")
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max RSS of this process (both KBs loaded): {rss_self:.0f} MB")


if __name__ == "__main__":
    main()
