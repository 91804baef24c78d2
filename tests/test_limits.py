"""Text limits (``bot.store.limits``): each is its column's length, the core refuses what the column cannot
hold (on PostgreSQL, which enforces lengths, as on SQLite), and a failing statement's error does not carry
the values it was given (they would reach the log)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel, select

from bot.config import Settings
from bot.desk.flows import Flows
from bot.desk.tickets.common import TicketPolicy
from bot.desk.tickets.deadlines import TicketDeadlines
from bot.desk.tickets.filing import TicketFiling, validate_contact, validate_reference
from bot.desk.workdays import WorkCalendar
from bot.error_texts import error_text
from bot.errors import InvalidInput, Reason
from bot.store import limits
from bot.store.db import make_engine, session_scope
from bot.store.models import Ticket
from tests.dbs import postgres_engine

NOW = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
ALICE = 1001


def email_of_length(length: int) -> str:
    """A valid address of exactly *length* characters (64-character local part, labels of at most 63)."""
    domain_length = length - 65
    labels, left = [], domain_length - 4  # ".com"
    while left > 0:
        label = min(63, left)
        if left - label == 1:  # a label cannot be empty: leave two for the last one
            label -= 1
        labels.append("d" * label)
        left -= label + 1
    address = "a" * 64 + "@" + ".".join(labels) + ".com"
    assert len(address) == length
    return address


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = make_engine(f"sqlite:///{tmp_path}/limits.sqlite3")
        yield made
        made.dispose()
    else:
        with postgres_engine() as made:
            yield made


def test_every_limit_is_its_columns_length() -> None:
    named = {name: value for name, value in vars(limits).items() if name.isupper() and isinstance(value, int)}
    assert set(named.values()) <= set(limits.COLUMNS.values())  # no limit without its column
    for column_name, limit in limits.COLUMNS.items():
        table, _, column = column_name.partition(".")
        sql_type = SQLModel.metadata.tables[table].columns[column].type  # String, or SQLModel's AutoString
        assert getattr(sql_type, "length", None) == limit, column_name


def test_the_settings_and_the_policy_cannot_exceed_the_columns() -> None:
    with pytest.raises(ValueError):
        Settings(helpdesk_max_description=limits.DESCRIPTION + 1)
    with pytest.raises(ValueError):
        TicketPolicy(max_description=limits.DESCRIPTION + 1)
    with pytest.raises(ValueError):
        TicketPolicy(max_message=limits.MESSAGE + 1)
    assert TicketPolicy(max_description=limits.DESCRIPTION).max_description == limits.DESCRIPTION


def test_a_filing_fits_its_flow_row() -> None:
    """The flow's JSON holds a description, a contact and a reference (with keys and quotes to spare)."""
    assert limits.DESCRIPTION + limits.CONTACT + limits.REFERENCE + 500 <= limits.FLOW_DATA


def test_contacts_and_references_longer_than_their_columns_are_refused() -> None:
    assert validate_contact(email_of_length(limits.CONTACT)) == email_of_length(limits.CONTACT)
    for contact in (email_of_length(limits.CONTACT + 1), "1" * 2000, "a@" + "b" * 5000 + ".com"):
        with pytest.raises(InvalidInput) as refused:
            validate_contact(contact)
        assert refused.value.reason == Reason.BAD_CONTACT
    with pytest.raises(InvalidInput) as refused:
        validate_reference("WP" + "1" * limits.REFERENCE)
    assert refused.value.reason == Reason.BAD_REFERENCE


def file_with_contact(filing: TicketFiling, contact: str) -> str | None:
    filing.start_filing(ALICE, NOW, kind="enquiry")
    filing.give_text(ALICE, "How do I cancel the permit of an employee who left?", NOW)
    filing.give_text(ALICE, contact, NOW)
    filing.skip(ALICE, NOW)
    return filing.submit(ALICE, "en", NOW)[0].contact


def test_the_longest_e_mail_address_is_stored_and_a_longer_one_refused_politely(engine: Engine) -> None:
    flows = Flows(engine)
    filing = TicketFiling(engine, flows, TicketDeadlines(engine, calendar=WorkCalendar()))
    longest = email_of_length(limits.CONTACT)
    assert file_with_contact(filing, longest) == longest  # PostgreSQL enforces VARCHAR(254)
    with session_scope(engine) as session:
        assert list(session.exec(select(Ticket.contact)).all()) == [longest]

    filing.start_filing(ALICE, NOW, kind="enquiry")
    filing.give_text(ALICE, "How do I cancel the permit of an employee who left?", NOW)
    with pytest.raises(InvalidInput) as refused:
        filing.give_text(ALICE, email_of_length(limits.CONTACT + 1), NOW)
    assert refused.value.reason == Reason.BAD_CONTACT
    assert error_text(refused.value, "en").startswith("That doesn't look like a phone number or an e-mail address")
    state = filing.current(ALICE)
    assert state is not None and state.step == "contact"  # asked again; the flow is not broken


def test_a_failing_statements_error_does_not_carry_its_parameters(engine: Engine) -> None:
    secret = "alice.secret@example.com " + "x" * 5000  # too long for VARCHAR(254) on PostgreSQL
    with pytest.raises(DBAPIError) as failed, engine.begin() as connection:
        connection.execute(text("INSERT INTO ticket (contact) VALUES (:contact)"), {"contact": secret})
    assert "alice.secret" not in str(failed.value)
    assert "hidden due to hide_parameters" in str(failed.value)
