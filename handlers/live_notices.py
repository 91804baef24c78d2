"""Rendering the live desk's notices (queue, sessions, timers) for their recipient, in their language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from telegram import InlineKeyboardMarkup

from bot.answering.text import Lang
from bot.desk.tickets import Notice
from bot.i18n import translator
from handlers import callback_data as cd
from handlers.render import html_chunks, keyboard, rating_keyboard


def user_line(params: Mapping[str, Any], lang: Lang) -> str:
    """ "Name · language · role" of a user, for operators (plain text)."""
    _ = translator(lang).gettext
    language = _("Chinese") if params.get("lang") == "zh" else _("English")
    roles = {"applicant": _("applicant"), "employer": _("employer HR contact")}
    role = roles.get(str(params.get("role") or ""), _("role not given"))
    name = str(params.get("name") or "") or _("(no name)")
    return f"{name} · {language} · {role}"


def history_lines(history: Sequence[Sequence[Any]], lang: Lang) -> list[str]:
    """The user's recent questions and what the bot did with them (plain text)."""
    _ = translator(lang).gettext
    if not history:
        return [_("No questions asked before.")]
    decisions = {
        "answer": _("answered"),
        "clarify": _("offered choices"),
        "fallback": _("no answer"),
        "browse": _("opened from /topics"),
        "related": _("opened from “see also”"),
    }
    lines = [_("Recent questions:")]
    for text, decision, entry in history:
        result = decisions.get(str(decision), str(decision))
        lines.append(f"• {text} → {result}" + (f" ({entry})" if entry else ""))
    return lines


def render_live(notice: Notice, lang: Lang) -> tuple[list[str], InlineKeyboardMarkup | None] | None:
    """The messages for a live-desk notice, or None when *notice* is not one of the live desk's."""
    _ = translator(lang).gettext
    p = notice.params
    kind = notice.kind
    if kind == "queue_new":
        lines = [
            "🙋 " + _("A user is waiting for a person (request #{id}).").format(id=p["request_id"]),
            user_line(p, lang),
            "",
            *history_lines(p.get("history") or [], lang),
        ]
        return html_chunks("\n".join(lines)), keyboard([[(_("Claim"), cd.make("cl", p["request_id"]))]])
    if kind == "queue_position":
        text = _("Your place in the queue: {position}. Estimated wait: about {minutes} min.").format(
            position=p["position"], minutes=p["minutes"]
        )
        return html_chunks(text), None
    if kind == "queue_long_wait":
        text = _(
            "Sorry for the long wait: all our staff are busy. You can keep your place, or leave a message "
            "instead. It becomes a help-request ticket and we answer it here."
        )
        return html_chunks(text), keyboard(
            [[(_("✉️ Leave a message"), cd.make("hm", "q")), (_("Keep waiting"), cd.make("hk"))]]
        )
    if kind == "session_started":
        text = _(
            "You are now connected with {operator} from the helpdesk. Write your message here; /cancel ends the chat."
        ).format(operator=p["operator"])
        return html_chunks(text), None
    if kind == "session_ended":
        ended = {
            "no_reply": _("The chat was closed because there were no new messages."),
        }.get(str(p.get("outcome")), _("The chat with the helpdesk has ended."))
        text = ended + "\n\n" + _("How satisfied are you with this service? (one rating per chat)")
        return html_chunks(text), rating_keyboard(lang, "s", int(p["session_id"]))
    if kind == "handed_back":
        text = _(
            "Your helpdesk colleague had to leave. You are back at the front of the queue and the next "
            "available colleague will continue."
        )
        return html_chunks(text), None
    if kind == "session_transferred":
        text = _("You are now chatting with {operator}, who will continue to help you.").format(operator=p["operator"])
        return html_chunks(text), None
    if kind == "session_transferred_to_you":
        lines = [
            _("Chat #{id} has been transferred to you. Write here to reply.").format(id=p["session_id"]),
            user_line(p, lang),
            "",
            *history_lines(p.get("history") or [], lang),
        ]
        transcript = p.get("transcript") or []
        if transcript:
            lines += ["", _("Last messages:")]
            names = {"user": _("User"), "operator": _("Staff")}
            lines += [f"{names.get(str(sender), str(sender))}: {text}" for sender, text in transcript]
        return html_chunks("\n".join(lines)), None
    if kind == "session_ticket":
        text = _(
            "Your conversation has been recorded as ticket {number}. We will answer it here; you can follow "
            "it with /mytickets."
        ).format(number=p["number"])
        return html_chunks(text), None
    if kind == "session_idle":
        text = _("Are you still there? This chat will close in {minutes} min if there are no new messages.").format(
            minutes=p["minutes"]
        )
        return html_chunks(text), None
    if kind == "session_idle_operator":
        text = _("No messages in chat #{id} for a while. It will close by itself unless someone writes.").format(
            id=p["session_id"]
        )
        return html_chunks(text), None
    if kind == "session_auto_closed":
        return html_chunks(_("Chat #{id} was closed after a period without messages.").format(id=p["session_id"])), None
    if kind == "session_left":
        return html_chunks(_("The user ended chat #{id}.").format(id=p["session_id"])), None
    return None


def relay_header(name: str, session_id: int | None = None) -> str:
    """The bold sender line above a relayed message (HTML)."""
    label = escape(name, quote=False)
    return f"<b>{label}</b>" + (f" · #{session_id}" if session_id is not None else "")
