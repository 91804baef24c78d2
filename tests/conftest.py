"""Shared fixtures: the shipped knowledge base, loaded once per session."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.answering.answers import Answerer
from bot.answering.knowledge import KnowledgeBase, load_knowledge

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


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Callable[[], Any]]:
    """Tests marked ``production_loop`` run on the event loop ``bot run`` uses (uvloop); others on asyncio's."""
    if item.get_closest_marker("production_loop") is None:
        return {"asyncio": asyncio.new_event_loop}
    from handlers.app import new_event_loop

    return {"production": new_event_loop}
