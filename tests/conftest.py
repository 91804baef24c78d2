"""Shared fixtures: the shipped knowledge base, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answers import Answerer
from bot.knowledge import KnowledgeBase, load_knowledge

# The real Telegram application against a stand-in Bot API server (tests/botapi.py, tests/telegram_fixtures.py).
from tests.telegram_fixtures import botapi, clock, helpdesk_app, helpdesk_factory, no_errors

__all__ = ["botapi", "clock", "helpdesk_app", "helpdesk_factory", "no_errors"]

ROOT = Path(__file__).resolve().parent.parent
KB_DIR = ROOT / "knowledge"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge(KB_DIR, "default")


@pytest.fixture(scope="session")
def answerer(kb: KnowledgeBase) -> Answerer:
    return Answerer(kb)
