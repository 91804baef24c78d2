"""Baseline: the schema as of 2026-11-23, before migrations existed (a database made then is stamped here).

Revision ID: 0001
Revises:
Created: 2026-11-23 13:33:28.304671
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.store.models

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auditlog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auditlog", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auditlog_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditlog_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "flow",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("data", sa.String(length=8000), nullable=False),
        sa.Column("updated_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "staff",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("checked_in", sa.Boolean(), nullable=False),
        sa.Column("checked_in_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "user",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("client_lang", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "helprequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("offered_ticket_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("position_told", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("helprequest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_helprequest_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_helprequest_user_id"), ["user_id"], unique=False)

    op.create_table(
        "questionlog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("entry_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("candidates", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("chosen_entry", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("feedback", sa.Integer(), nullable=True),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("questionlog", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_questionlog_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_questionlog_user_id"), ["user_id"], unique=False)

    op.create_table(
        "rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service", "service_id", name="one_rating_per_service"),
    )
    with op.batch_alter_table("rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_user_id"), ["user_id"], unique=False)

    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("assignee_id", sa.BigInteger(), nullable=True),
        sa.Column("resolution", sa.String(length=4000), nullable=True),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_number"), ["number"], unique=True)
        batch_op.create_index(batch_op.f("ix_ticket_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_user_id"), ["user_id"], unique=False)

    op.create_table(
        "livesession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("started_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["helprequest.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("livesession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_livesession_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_livesession_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_livesession_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_livesession_user_id"), ["user_id"], unique=False)

    op.create_table(
        "ticketmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("file_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("file_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticketmessage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticketmessage_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "operatorfocus",
        sa.Column("operator_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["livesession.id"],
        ),
        sa.PrimaryKeyConstraint("operator_id"),
    )
    op.create_table(
        "relaylink",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["livesession.id"],
        ),
        sa.PrimaryKeyConstraint("chat_id", "message_id"),
    )
    op.create_table(
        "sessionmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("file_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("file_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["livesession.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sessionmessage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessionmessage_session_id"), ["session_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sessionmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessionmessage_session_id"))

    op.drop_table("sessionmessage")
    op.drop_table("relaylink")
    op.drop_table("operatorfocus")
    with op.batch_alter_table("ticketmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticketmessage_ticket_id"))

    op.drop_table("ticketmessage")
    with op.batch_alter_table("livesession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_livesession_user_id"))
        batch_op.drop_index(batch_op.f("ix_livesession_status"))
        batch_op.drop_index(batch_op.f("ix_livesession_request_id"))
        batch_op.drop_index(batch_op.f("ix_livesession_operator_id"))

    op.drop_table("livesession")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_user_id"))
        batch_op.drop_index(batch_op.f("ix_ticket_status"))
        batch_op.drop_index(batch_op.f("ix_ticket_number"))
        batch_op.drop_index(batch_op.f("ix_ticket_kind"))
        batch_op.drop_index(batch_op.f("ix_ticket_due_at"))
        batch_op.drop_index(batch_op.f("ix_ticket_assignee_id"))

    op.drop_table("ticket")
    with op.batch_alter_table("rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_user_id"))

    op.drop_table("rating")
    with op.batch_alter_table("questionlog", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionlog_user_id"))
        batch_op.drop_index(batch_op.f("ix_questionlog_created_at"))

    op.drop_table("questionlog")
    with op.batch_alter_table("helprequest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_helprequest_user_id"))
        batch_op.drop_index(batch_op.f("ix_helprequest_status"))

    op.drop_table("helprequest")
    op.drop_table("user")
    op.drop_table("staff")
    op.drop_table("flow")
    with op.batch_alter_table("auditlog", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditlog_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_auditlog_actor_id"))

    op.drop_table("auditlog")
