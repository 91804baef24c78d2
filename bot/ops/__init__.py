"""Operations: metrics (``bot.ops.metrics``) and the pre-start checks (``bot.ops.check``)."""
