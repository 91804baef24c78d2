"""Foreigner's Work Permit helpdesk: the core (no Telegram imports here)."""
