"""The permit reminder (``bot.notices.PermitReminder``) as Telegram messages: what is due and by when, with the
knowledge base's answer one button away (the topic entry button, ``te``) and the user's list of permits.

Registered in ``handlers.notify.RENDERERS``; sent by the reminders job (``handlers.reminders``)."""

from __future__ import annotations

from collections.abc import Mapping

from bot import notices as nt
from bot.answering.text import Lang
from bot.desk.outreach.reminders import CANCEL, CANCELLATION_ENTRY, EXTENSION_ENTRY
from bot.i18n import translator
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.live_notices import Rendered, Renderer
from handlers.render import html_chunks, keyboard


def _when(days: int, lang: Lang) -> str:
    """ "today", "tomorrow", "in N days", "yesterday" or "N days ago" (how far the date was when the reminder
    was decided)."""
    _ = translator(lang).gettext
    if days == -1:
        return _("yesterday")
    if days < 0:
        return _("{days} days ago").format(days=-days)
    if days == 0:
        return _("today")
    if days == 1:
        return _("tomorrow")
    return _("in {days} days").format(days=days)


def permit_reminder(notice: nt.PermitReminder, lang: Lang) -> Rendered:
    """An expiry reminder (extend it in time) or a cancellation reminder (the employment ends: cancel it within
    10 working days, by the day computed on the holiday calendar)."""
    t = translator(lang)
    _ = t.gettext
    if notice.kind == CANCEL and notice.ends_on is not None and notice.cancel_by is not None:
        if notice.days < 0:  # a watch added after the employment ended, while the permit can still be cancelled
            template = _(
                "⏳ Permit reminder: the employment of “{label}” ended on {end} ({when}). The employer must apply to "
                "cancel the work permit within 10 working days of that day: by {cancel_by} at the latest."
            )
        else:
            template = _(
                "⏳ Permit reminder: the employment of “{label}” ends on {end} ({when}). The employer must then apply "
                "to cancel the work permit within 10 working days: by {cancel_by} at the latest."
            )
        text = template.format(
            label=notice.label,
            end=t.date(notice.ends_on),
            when=_when(notice.days, lang),
            cancel_by=t.date(notice.cancel_by),
        )
        entry, button = CANCELLATION_ENTRY, _("How to cancel a permit")
    else:
        text = _(
            "⏳ Permit reminder: the work permit of “{label}” expires on {expires} ({when}). To keep working for "
            "the same employer, apply for the extension before it expires: offices ask for it 30 to 45 days "
            "ahead, so check with yours."
        ).format(label=notice.label, expires=t.date(notice.expires_on), when=_when(notice.days, lang))
        entry, button = EXTENSION_ENTRY, _("How to extend a permit")
    markup = keyboard([[(button, cd.make(Button.TOPIC, entry))], [(_("My permit reminders"), cd.make(Button.PERMITS))]])
    return html_chunks(text), markup


REMINDER_RENDERERS: Mapping[type[nt.Notice], Renderer] = {nt.PermitReminder: permit_reminder}
"""The permit reminder's renderer (merged into ``handlers.notify.RENDERERS``)."""
