"""Schema migrations (Alembic): applied on start by ``bot.db.migrate``."""
