"""The helpdesk in a terminal: a front end like ``handlers/``, over the same core (no token needed)."""
