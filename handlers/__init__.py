"""Telegram adapters: read the update, call the core, render the result."""
