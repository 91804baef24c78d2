"""Schema migrations (Alembic): applied on start by ``bot.store.db.migrate``."""
