"""The helpdesk's error hierarchy.

HelpdeskError
├── KnowledgeBaseError     the knowledge base (or a profile) is missing or invalid; lists every problem
├── ConfigError            a setting is missing or malformed
├── NotFound               a ticket, user or session the caller named does not exist (or is not theirs)
├── NotAllowed             the caller may not do this (not staff, not their ticket, wrong role)
├── InvalidInput           user input was rejected; ``reason`` is a stable code for a localised message
└── Conflict               the action lost a race or no longer applies (already claimed, already rated…)

Handlers turn these into localised replies; anything else is a bug and goes to the error handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class HelpdeskError(Exception):
    """Base of every error the core raises on purpose."""


@dataclass(frozen=True)
class KnowledgeProblem:
    """One problem in the knowledge base: where (file, entry, field) and what."""

    file: str
    entry: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.entry:
            where += f" [{self.entry}]"
        if self.field:
            where += f" {self.field}"
        return f"{where}: {self.message}"


class KnowledgeBaseError(HelpdeskError):
    """The knowledge base cannot be used; ``problems`` says where and why."""

    def __init__(self, problems: list[KnowledgeProblem]) -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "unknown problem"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"knowledge base invalid: {first}{more}")


class ConfigError(HelpdeskError):
    """A setting is missing or malformed."""


class NotFound(HelpdeskError):
    """The thing asked for does not exist, or is not visible to the caller."""


class NotAllowed(HelpdeskError):
    """The caller is not allowed to do this."""


class InvalidInput(HelpdeskError):
    """Input rejected; ``reason`` is a stable code, ``details`` fill the localised message."""

    def __init__(self, reason: str, **details: Any) -> None:
        self.reason = reason
        self.details = details
        super().__init__(reason)


class Conflict(HelpdeskError):
    """The action no longer applies (lost a race, already done)."""
