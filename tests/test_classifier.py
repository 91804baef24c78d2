"""The learned second opinion (bot/classifier.py): trained from the knowledge base, cached by a hash of
its inputs, answering with numpy alone exactly as scikit-learn would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.answering.classifier import (
    OOS,
    features,
    fingerprint,
    kb_examples,
    load_or_train,
    mapped_text,
    read_training,
    train,
    training_set,
)
from bot.answering.knowledge import KnowledgeBase, load_knowledge

ROOT = Path(__file__).resolve().parent.parent


def test_training_set_holds_every_alternate_question_and_the_out_of_scope_class(kb: KnowledgeBase) -> None:
    examples = training_set(kb)
    labels = {e.label for e in examples}
    assert set(kb.entries) <= labels and OOS in labels
    alternates = sum(len(e.questions["en"]) + len(e.questions["zh"]) + 2 for e in kb.entries.values())
    assert len(kb_examples(kb)) == alternates
    assert sum(e.label == OOS for e in examples) >= 700  # knowledge/training/out_of_scope.jsonl and more


def test_a_training_line_naming_an_unknown_entry_is_refused(tmp_path: Path) -> None:
    (tmp_path / "more.jsonl").write_text(json.dumps({"q": "hi", "expect": "no-such-entry"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape("more.jsonl:1: unknown entry 'no-such-entry'")):
        read_training(tmp_path, ["fees"])


def test_numpy_inference_equals_scikit_learn(kb: KnowledgeBase) -> None:
    """The cached arrays reproduce scikit-learn's own decision values (the same vectoriser and SVM)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    from bot.answering.classifier import C

    examples = training_set(kb)
    model = train(examples, kb)
    assert model is not None
    vectorizer = TfidfVectorizer(analyzer=lambda text: features(mapped_text(text, kb)), sublinear_tf=True)
    svm = LinearSVC(C=C).fit(vectorizer.fit_transform([e.text for e in examples]), [e.label for e in examples])
    questions = ["How much does the work permit cost?", "工作许可延期要多久", "can i bring my dog", "zzzz", ""]
    expected = svm.decision_function(vectorizer.transform(questions))
    for question, row in zip(questions, expected, strict=True):
        assert np.allclose(model.decision(features(mapped_text(question, kb))), row, atol=1e-4), question


def test_the_cache_is_named_by_its_inputs(kb: KnowledgeBase, tmp_path: Path) -> None:
    directory = Path(shutil.copytree(kb.directory, tmp_path / "knowledge"))
    copy = load_knowledge(directory, "default")
    first = load_or_train(copy, tmp_path / "cache")
    [cached] = (tmp_path / "cache").glob("classifier-*.npz")
    assert cached.name == f"classifier-{fingerprint(training_set(copy), copy)}.npz"
    again = load_or_train(copy, tmp_path / "cache")
    assert first is not None and again is not None and again.classes == first.classes
    # editing the training data retrains: a new file under a new name
    with (directory / "training" / "out_of_scope.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps({"q": "what colour is the sky on mars", "lang": "en", "kind": "general"}) + "\n")
    load_or_train(load_knowledge(directory, "default"), tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("classifier-*.npz"))) == 2


def test_a_damaged_cache_file_is_trained_again(kb: KnowledgeBase, tmp_path: Path) -> None:
    load_or_train(kb, tmp_path)
    [cached] = tmp_path.glob("classifier-*.npz")
    cached.write_bytes(b"not a model")
    assert load_or_train(kb, tmp_path) is not None
    assert cached.stat().st_size > 1000


def test_answering_with_a_warm_cache_never_imports_scikit_learn(kb: KnowledgeBase, tmp_path: Path) -> None:
    load_or_train(kb, tmp_path)
    code = (
        "import sys\n"
        "from bot.answering.answers import Answerer\n"
        "from bot.answering.knowledge import load_knowledge\n"
        f"answerer = Answerer(load_knowledge(__import__('pathlib').Path({str(kb.directory)!r})))\n"
        "print(answerer.ask('how much is the work permit fee').match.decision, 'sklearn' in sys.modules)\n"
    )
    env = {**os.environ, "HELPDESK_CACHE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert result.stdout.split() == ["answer", "False"]


def test_kb_build_trains_and_reports(tmp_path: Path) -> None:
    env = {**os.environ, "HELPDESK_CACHE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "build"], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Classifier: ") and "classes" in result.stdout
    assert len(list(tmp_path.glob("classifier-*.npz"))) == 1


def test_kb_validate_names_a_training_line_for_a_missing_entry(kb: KnowledgeBase, tmp_path: Path) -> None:
    directory = Path(shutil.copytree(kb.directory, tmp_path / "knowledge"))
    with (directory / "training" / "questions-extra.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps({"q": "how do I renew", "expect": "renewal"}) + "\n")
    env = {**os.environ, "HELPDESK_KB_DIR": str(directory)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "validate"], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    assert result.returncode == 1
    assert "training: questions-extra.jsonl:331: unknown entry 'renewal'" in result.stderr
