"""Reaching out to employers and applicants: policy notices, permit-expiry reminders, the materials checklist
and deep-link entry sources (issue 16)."""
