"""Policy notices for supervisors: /notice (write one), its preview, Send / Edit / Cancel, /notices (the list
with counts), and the job that sends confirmed notices (the core is ``bot.desk.outreach.notices``).

Writing is a short flow (``FlowName.NOTICE_DRAFT``; ``handlers.inbox.ROUTES`` sends its text here): the English
version (title on the first line, then the text), the Chinese version, the audience by buttons, then a
knowledge-base entry id for a "more" button or "No link". The preview is the notice exactly as an English and a
Chinese reader will get it (``notice_messages``, the same function the sending uses), then a card with Send,
Edit and Cancel. A draft from ``python -m bot notice draft FILE.toml`` is previewed and sent from /notices.

**Sending** (``install``): each run takes a batch of deliveries (claimed in a journaled step), sends each through
the one send path (``send_messages``: a journaled step, paced by the rate limiter) and records its outcome in the
step right after; so a run interrupted by a crash is resumed after the restart (``resume-unfinished``) from the
first step not done: nobody gets the notice twice and nobody is skipped. ``WORKERS`` chains of runs go at once
(Telegram's latency would otherwise cap the rate below the limiter's); a run deferred because Telegram is
failing for now is resumed by the journal, and its chain stops. The pump runs right after a confirmation and
every ``PUMP_INTERVAL`` seconds (another instance's notices, a deferred run's leftovers).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from html import escape
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError
from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application

from bot.answering.helpdesk import UserView
from bot.answering.knowledge import KnowledgeBase
from bot.answering.text import Lang
from bot.desk.flows import FlowName, FlowState, NoticeStep
from bot.desk.outreach.notices import (
    AUDIENCE_LABELS,
    DeliveryStatus,
    NoticeReport,
    NoticeStatus,
    NoticeText,
    NoticeView,
)
from bot.error_texts import error_text
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound, Reason
from bot.i18n import N_
from bot.store import limits
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.common import answer_query, drop_keyboard, expired, refused, reply_html, reply_text, send_messages, tr
from handlers.context import HelpdeskContext, core
from handlers.durable import UpdateDesk, defer_current
from handlers.render import html_chunks, keyboard
from handlers.staff import require_staff

log = logging.getLogger(__name__)

T = TypeVar("T")

JOB = "policy-notices"
WORKERS = 4
"""Sending runs at once: with Telegram's round trip near 100 ms, one at a time would send ~10 a second."""
PUMP_INTERVAL = 30.0
"""Seconds between two looks for notices to send besides the one right after a confirmation."""

STATUS_LABELS = {
    NoticeStatus.DRAFT: N_("draft"),
    NoticeStatus.SENDING: N_("sending"),
    NoticeStatus.DONE: N_("sent"),
    NoticeStatus.CANCELLED: N_("cancelled"),
}


# ----- what subscribers get ----------------------------------------------------------------------------
def notice_messages(notice: NoticeView, lang: Lang, kb: KnowledgeBase) -> tuple[list[str], InlineKeyboardMarkup | None]:
    """The notice as a reader of *lang* gets it: 📢 the title in bold, the text, the footer pointing to
    /unsubscribe, and a "more" button (the linked entry's answer, as /topics opens it) when it has one."""
    _ = tr(lang).gettext
    text = notice.text(lang)
    footer = _("You get this because you subscribed to the helpdesk's policy notices. /unsubscribe stops them.")
    head = f"📢 {text.title}"  # split with the text, so that the first message stays under the limit with it
    chunks = html_chunks(f"{head}\n\n{text.body}", "<i>" + escape(footer, quote=False) + "</i>")
    escaped = escape(head, quote=False)
    if chunks[0].startswith(escaped):  # always (a title is one short line): the title in bold
        chunks[0] = "📢 <b>" + escape(text.title, quote=False) + "</b>" + chunks[0][len(escaped) :]
    markup = None
    if notice.entry_id is not None and notice.entry_id in kb.entries:
        label = _("More: {title}").format(title=kb.title(notice.entry_id, lang))
        markup = keyboard([[(label, cd.make(Button.TOPIC, notice.entry_id))]])
    return chunks, markup


def _sentence_gap(lang: Lang) -> str:
    """Between two sentences: a space in English, nothing after a Chinese full stop."""
    return "" if lang == "zh" else " "


def _audience(audience: str, lang: Lang) -> str:
    label = AUDIENCE_LABELS.get(audience)
    return tr(lang).gettext(label) if label else audience


def _report_text(notice: NoticeView, lang: Lang) -> str:
    _ = tr(lang).gettext
    text = _(
        "📢 Notice #{id} “{title}” has gone out to {audience}: {recipients} recipient(s). Sent: {sent}. "
        "Failed: {failed}. Blocked the bot: {blocked}."
    ).format(
        id=notice.id,
        title=notice.text(lang).title,
        audience=_audience(notice.audience, lang),
        recipients=notice.recipients,
        sent=notice.sent,
        failed=notice.failed,
        blocked=notice.blocked,
    )
    if notice.skipped:
        text += _sentence_gap(lang) + _("Unsubscribed before their turn: {count}.").format(count=notice.skipped)
    return text


# ----- writing: /notice and its steps ----------------------------------------------------------------------
def _notice_id(state: FlowState) -> int | None:
    value = state.data.get("notice")
    return value if isinstance(value, int) else None


def cancelled_text(state: FlowState, lang: Lang) -> str:
    """What /cancel says to a supervisor who stops writing or editing a notice (*state*: the notice flow)."""
    _ = tr(lang).gettext
    notice_id = _notice_id(state)
    if notice_id is None:
        return _("Cancelled: no notice was saved.")
    return _("Stopped. Notice #{id} is kept as a draft, as it is now: /notices lists it.").format(id=notice_id)


KEEP_WORDS = frozenset({"-", "keep", "保持", "不变"})
"""Typed while editing a notice (Edit on its preview): keep this version (or the "more" entry) as it is."""


def _keeps(state: FlowState, typed: str) -> bool:
    """Whether *typed* keeps the current version, at a step of an Edit (``"edit"`` in the flow's data)."""
    steps = (NoticeStep.ENGLISH, NoticeStep.CHINESE, NoticeStep.ENTRY)
    return bool(state.data.get("edit")) and state.step in steps and typed.strip().lower() in KEEP_WORDS


async def notice_command(update: Update, context: HelpdeskContext) -> None:
    """/notice: write a policy notice (supervisors)."""
    user, member = await require_staff(update, context, supervisor=True)
    if member is None:
        return
    state = FlowState(FlowName.NOTICE_DRAFT, NoticeStep.ENGLISH, {})
    await core(context, context.services.flows.set, user.id, state, context.now())
    await _ask_english(update, context, user)


async def _ask_english(update: Update, context: HelpdeskContext, user: UserView, editing: int | None = None) -> None:
    _ = tr(user.lang).gettext
    if editing is not None:
        text = _(
            "Editing notice #{id}. Send the English version again in one message (the title on the first line, "
            "then the text), or - to keep it as it is. /cancel to stop: the draft stays in /notices."
        ).format(id=editing)
    else:
        text = _(
            "New policy notice. Send the English version in one message: the title on the first line, then the "
            "text. /cancel to stop."
        )
    await reply_text(update, context, text)


async def draft_input(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
    """Text while writing a notice: the English or Chinese version, or the "more" entry's id."""
    message = update.effective_message
    typed = message.text if message is not None and message.text else ""
    _ = tr(user.lang).gettext
    notices, now, notice_id = context.services.notices, context.now(), _notice_id(state)
    try:
        if notice_id is not None and _keeps(state, typed):  # editing: this version (or the entry) stays
            view = await core(context, notices.get, user.id, notice_id)
        elif state.step in (NoticeStep.ENGLISH, NoticeStep.CHINESE):
            version = NoticeText.from_message(typed)
            if not version.title or not version.body:
                await reply_text(update, context, _("Please send the title on the first line and the text below it."))
                return
            if len(version.title) > limits.NOTICE_TITLE:  # say which part: the whole message may be well within
                text = _(
                    "The title (the first line) is {length} characters long; the limit is {limit}. Please send it "
                    "again with a short title on the first line and the text below it."
                ).format(length=len(version.title), limit=limits.NOTICE_TITLE)
                await reply_text(update, context, text)
                return
            lang = "en" if state.step == NoticeStep.ENGLISH else "zh"
            if notice_id is None:
                view = await core(context, notices.draft, user.id, version, None, "all", None, now)
            else:
                view = await core(context, notices.edit, user.id, notice_id, now, **{lang: version})
        elif state.step == NoticeStep.ENTRY and notice_id is not None:
            entry = typed.strip().lower()  # entry ids are lower-case: "Cancellation" is meant as "cancellation"
            view = await core(context, notices.edit, user.id, notice_id, now, entry_id=entry)
        else:  # the audience step takes buttons only
            await reply_text(update, context, _("Please use the buttons above, or /cancel to stop."))
            return
    except (InvalidInput, NotFound) as exc:  # too long, or no such entry: say so and wait for another message
        await reply_text(update, context, error_text(exc, user.lang))
        return
    except (Conflict, NotAllowed) as exc:  # sent meanwhile, or no longer a supervisor
        await core(context, context.services.flows.clear, user.id)
        await reply_text(update, context, error_text(exc, user.lang))
        return
    data: dict[str, object] = {"notice": view.id}
    if state.data.get("edit"):
        data["edit"] = True
    if state.step == NoticeStep.ENGLISH:
        await core(context, context.services.flows.set, user.id, FlowState(state.name, NoticeStep.CHINESE, data), now)
        text = _("Now the Chinese version (中文), the same way: the title on the first line, then the text.")
        if state.data.get("edit"):
            text += _sentence_gap(user.lang) + _("Or - to keep it as it is.")
        await reply_text(update, context, text)
    elif state.step == NoticeStep.CHINESE:
        await core(context, context.services.flows.set, user.id, FlowState(state.name, NoticeStep.AUDIENCE, data), now)
        await _ask_audience(update, context, user, view.id)
    else:
        await core(context, context.services.flows.clear, user.id)
        await show_preview(update, context, user, view)


async def _ask_audience(update: Update, context: HelpdeskContext, user: UserView, notice_id: int) -> None:
    _ = tr(user.lang).gettext
    rows = []
    for audience, label in AUDIENCE_LABELS.items():
        count = await core(context, context.services.notices.reach, audience)
        rows.append(
            [
                (
                    _("{audience} ({count})").format(audience=_(label), count=count),
                    cd.make(Button.NOTICE_AUDIENCE, notice_id, audience),
                )
            ]
        )
    text = _("Who should receive it? (In brackets: subscribers now.)")
    await reply_text(update, context, text, keyboard(rows))


def _pressed_id(update: Update, args: int = 1) -> tuple[int, tuple[str, ...]] | None:
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    if data is None or len(data.args) != args:
        return None
    notice_id = data.int_arg(0)
    return None if notice_id is None else (notice_id, data.args)


async def _pressed(
    update: Update, context: HelpdeskContext, args: int = 1
) -> tuple[UserView, int, tuple[str, ...]] | None:
    """The supervisor who pressed a notice's button, its notice id and arguments; None (told) otherwise."""
    user, member = await require_staff(update, context, supervisor=True)
    if member is None:
        return None
    pressed = _pressed_id(update, args)
    if pressed is None:
        await expired(update, user.lang)
        return None
    return user, pressed[0], pressed[1]


async def _on_notice(
    update: Update, context: HelpdeskContext, act: Callable[[int, int], T]
) -> tuple[UserView, int, T] | None:
    """A notice's button pressed by a supervisor: ``act(supervisor id, notice id)`` run as a core call; the
    supervisor, the notice id and what *act* returned, or None when the press is refused (they were told why)."""
    pressed = await _pressed(update, context)
    if pressed is None:
        return None
    user, notice_id, _args = pressed
    try:
        result = await core(context, act, user.id, notice_id)
    except (NotFound, Conflict, InvalidInput, NotAllowed) as exc:
        await refused(update, user.lang, exc)
        return None
    return user, notice_id, result


async def audience_button(update: Update, context: HelpdeskContext) -> None:
    """The audience chosen: next, the "more" entry."""
    pressed = await _pressed(update, context, args=2)
    if pressed is None:
        return
    user, notice_id, args = pressed
    if args[1] not in AUDIENCE_LABELS:
        await expired(update, user.lang)
        return
    try:
        view = await core(context, context.services.notices.edit, user.id, notice_id, context.now(), audience=args[1])
    except (NotFound, Conflict, NotAllowed) as exc:
        await refused(update, user.lang, exc)
        return
    current = await core(context, context.services.flows.get, user.id)
    editing = current is not None and current.name == FlowName.NOTICE_DRAFT and bool(current.data.get("edit"))
    data: dict[str, object] = {"notice": notice_id, "edit": True} if editing else {"notice": notice_id}
    state = FlowState(FlowName.NOTICE_DRAFT, NoticeStep.ENTRY, data)
    await core(context, context.services.flows.set, user.id, state, context.now())
    await answer_query(update)
    await drop_keyboard(update)
    _ = tr(user.lang).gettext
    text = _(
        "Audience: {audience}. Should the notice have a “More” button with a knowledge-base answer? Send the "
        "entry's id (/topics shows staff the ids), or press No link."
    ).format(audience=_audience(args[1], user.lang))
    if editing and view.entry_id:
        text += _sentence_gap(user.lang) + _("Or - to keep the one it has ({entry}).").format(entry=view.entry_id)
    await reply_text(update, context, text, keyboard([[(_("No link"), cd.make(Button.NOTICE_NO_ENTRY, notice_id))]]))


async def no_entry_button(update: Update, context: HelpdeskContext) -> None:
    """No "more" button: the preview."""
    notices, now = context.services.notices, context.now()
    done = await _on_notice(update, context, lambda actor, notice: notices.edit(actor, notice, now, entry_id=None))
    if done is None:
        return
    user, _notice_id, view = done
    await core(context, context.services.flows.clear, user.id)
    await answer_query(update)
    await drop_keyboard(update)
    await show_preview(update, context, user, view)


# ----- the preview, and Send / Edit / Cancel -----------------------------------------------------------------
async def show_preview(update: Update, context: HelpdeskContext, user: UserView, view: NoticeView) -> None:
    """The notice as each language will receive it (English, then Chinese), then the card to send it."""
    _ = tr(user.lang).gettext
    if not view.complete:  # a draft from the command line always is; a flow's is once both versions are in
        await reply_text(update, context, error_text(InvalidInput(Reason.NOTICE_INCOMPLETE), user.lang))
        return
    for lang in ("en", "zh"):
        chunks, markup = notice_messages(view, lang, context.services.kb)  # type: ignore[arg-type]
        await reply_html(update, context, chunks, markup)
    reach = await core(context, context.services.notices.reach, view.audience)
    text = _(
        "Preview of notice #{id}: the two messages above are exactly what English and Chinese readers will get. "
        "Audience: {audience}, {count} subscriber(s) now."
    ).format(id=view.id, audience=_audience(view.audience, user.lang), count=reach)
    rows = [
        [(_("Send to {count}").format(count=reach), cd.make(Button.NOTICE_CONFIRM, view.id))],
        [
            (_("Edit"), cd.make(Button.NOTICE_EDIT, view.id)),
            (_("Cancel"), cd.make(Button.NOTICE_CANCEL, view.id)),
        ],
    ]
    await reply_text(update, context, text, keyboard(rows))


async def confirm_button(update: Update, context: HelpdeskContext) -> None:
    """Send: the recipients are fixed now; the sending starts at once; a report follows at the end."""
    notices, now = context.services.notices, context.now()
    done = await _on_notice(update, context, lambda actor, notice: notices.confirm(actor, notice, now))
    if done is None:
        return
    user, _notice_id, view = done
    await answer_query(update)
    await drop_keyboard(update)
    _ = tr(user.lang).gettext
    text = _(
        "Notice #{id} is being sent to {count} subscriber(s), at Telegram's pace (about 30 a second). You will get "
        "a report when it is done; /notices shows how far it is."
    ).format(id=view.id, count=view.recipients)
    await reply_text(update, context, text)
    start_sending(context)


async def edit_button(update: Update, context: HelpdeskContext) -> None:
    """Edit: the /notice steps again, on the same draft."""
    done = await _on_notice(update, context, context.services.notices.get)
    if done is None:
        return
    user, notice_id, view = done
    if view.status != NoticeStatus.DRAFT:
        await answer_query(update, error_text(Conflict(Reason.NOTICE_NOT_DRAFT), user.lang), alert=True)
        return
    state = FlowState(FlowName.NOTICE_DRAFT, NoticeStep.ENGLISH, {"notice": notice_id, "edit": True})
    await core(context, context.services.flows.set, user.id, state, context.now())
    await answer_query(update)
    await drop_keyboard(update)
    await _ask_english(update, context, user, editing=notice_id)


async def cancel_button(update: Update, context: HelpdeskContext) -> None:
    """Cancel: the draft is dropped; nothing was sent."""
    notices, now = context.services.notices, context.now()
    done = await _on_notice(update, context, lambda actor, notice: notices.cancel(actor, notice, now))
    if done is None:
        return
    user, notice_id, _cancelled = done
    await answer_query(update)
    await drop_keyboard(update)
    await reply_text(
        update, context, tr(user.lang).gettext("Notice #{id} cancelled: nothing was sent.").format(id=notice_id)
    )


async def view_button(update: Update, context: HelpdeskContext) -> None:
    """A draft in /notices: its preview, with Send, Edit and Cancel."""
    done = await _on_notice(update, context, context.services.notices.get)
    if done is None:
        return
    user, _notice_id, view = done
    await answer_query(update)
    if view.status == NoticeStatus.DRAFT:
        await show_preview(update, context, user, view)
    else:
        await reply_text(update, context, _line(view, user.lang))


# ----- /notices ----------------------------------------------------------------------------------------------
def _line(view: NoticeView, lang: Lang) -> str:
    """One notice in /notices: number, day, status, audience, title, and its counts."""
    t = tr(lang)
    _ = t.gettext
    head = (
        f"#{view.id} · {t.date(view.confirmed_at or view.created_at)} · {_(STATUS_LABELS[NoticeStatus(view.status)])}"
    )
    line = f"{head} · {_audience(view.audience, lang)} · “{view.text(lang).title or view.en.title}”"
    if view.status == NoticeStatus.SENDING:
        line += "\n   " + _("{done} of {count} done").format(done=view.recipients - view.pending, count=view.recipients)
    elif view.status == NoticeStatus.DONE:
        line += "\n   " + _("{count} recipient(s): sent {sent}, failed {failed}, blocked the bot {blocked}").format(
            count=view.recipients, sent=view.sent, failed=view.failed, blocked=view.blocked
        )
    return line


async def notices_command(update: Update, context: HelpdeskContext) -> None:
    """/notices: the latest policy notices with their counts; a draft's button opens its preview."""
    user, member = await require_staff(update, context, supervisor=True)
    if member is None:
        return
    _ = tr(user.lang).gettext
    views = await core(context, context.services.notices.listing, user.id)
    if not views:
        await reply_text(update, context, _("No policy notices yet. /notice writes one."))
        return
    lines = [_("Policy notices, newest first (/notice writes a new one):"), ""]
    lines += [_line(view, user.lang) for view in views]
    rows = [
        [(_("Preview draft #{id}").format(id=view.id), cd.make(Button.NOTICE_VIEW, view.id))]
        for view in views
        if view.status == NoticeStatus.DRAFT
    ]
    await reply_text(update, context, "\n".join(lines), keyboard(rows) if rows else None)


# ----- sending ---------------------------------------------------------------------------------------------
_TAKEN: ContextVar[list[int] | None] = ContextVar("notice_batch_taken", default=None)
"""Set by a worker around a run it starts: the run adds how many deliveries it took (0: nothing left)."""


@dataclass
class _Pump:
    running: bool = False
    again: bool = False


_PUMPS: weakref.WeakKeyDictionary[UpdateDesk, _Pump] = weakref.WeakKeyDictionary()


async def send_batch(context: HelpdeskContext) -> None:
    """One sending run (a journaled work): take a batch, send each delivery in its reader's language and record
    its outcome right after, then close the notices with nothing left and report to who confirmed them. The
    database failing midway defers the run like a failed send: it is resumed from the step that failed."""
    try:
        await _send_batch(context)
    except OperationalError as exc:
        if not defer_current(exc):
            raise
        log.warning("database error (%s) in a policy-notice run: it is resumed later", type(exc.orig).__name__)


async def _send_batch(context: HelpdeskContext) -> None:
    notices = context.services.notices
    batch = await core(context, notices.take, context.now())
    taken = _TAKEN.get()
    if taken is not None:
        taken.append(len(batch.deliveries))
    for delivery in batch.deliveries:
        chunks, markup = notice_messages(batch.notices[delivery.notice_id], delivery.lang, context.services.kb)
        status = DeliveryStatus.SENT
        try:
            await send_messages(context.bot, delivery.user_id, chunks, markup)
        except Forbidden:  # the user blocked the bot
            status = DeliveryStatus.BLOCKED
        except BadRequest as exc:  # the chat does not exist, …: refused for good
            log.warning("a policy notice could not be delivered: %s", exc.message)
            status = DeliveryStatus.FAILED
        await core(context, notices.mark, delivery.id, status, context.now())
    for report in await core(context, notices.finish, context.now()):
        await _send_report(context, report)


async def _send_report(context: HelpdeskContext, report: NoticeReport) -> None:
    user = await core(context, context.helpdesk.user, report.user_id)
    lang: Lang = user.lang if user is not None else "en"
    try:
        await send_messages(context.bot, report.user_id, html_chunks(_report_text(report.notice, lang)))
    except Forbidden:
        await core(context, context.helpdesk.mark_blocked, report.user_id, context.now())
    except BadRequest as exc:
        log.warning("the report of a policy notice could not be delivered: %s", exc.message)


async def _worker(desk: UpdateDesk) -> None:
    """Sending runs one after another until one takes nothing (or is deferred: Telegram failing for now)."""
    while True:
        taken: list[int] = []
        token = _TAKEN.set(taken)
        try:
            await desk.run_job(JOB)
        except TelegramError as exc:  # not a send's refusal (those are recorded): the run resumes later
            log.warning("a policy-notice run stopped: %s", type(exc).__name__)
            return
        finally:
            _TAKEN.reset(token)
        if not taken or taken[0] == 0 or any(w.job == JOB for w in desk.waiting_jobs):
            return


async def pump(context: HelpdeskContext) -> None:
    """Send what is owed: ``WORKERS`` chains of runs while deliveries wait (one run to close a notice with
    nothing left). Runs once per process at a time; a confirmation meanwhile makes it look again."""
    desk = context.bot_data.desk
    state = _PUMPS.setdefault(desk, _Pump())
    if state.running:
        state.again = True
        return
    state.running = True
    try:
        while True:
            state.again = False
            free, ready = await core(context, context.services.notices.has_work)
            if free or ready:
                await asyncio.gather(*(_worker(desk) for _ in range(WORKERS if free else 1)))
            if not state.again:
                return
    finally:
        state.running = False


def start_sending(context: HelpdeskContext) -> None:
    """Start the pump now (after a confirmation)."""
    jobs: Any = context.job_queue
    if jobs is not None:
        jobs.run_once(pump, when=0, name=f"{JOB}-now")


def install(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register the sending run with the journal (a run left unfinished by a crash is resumed at start-up by
    its name) and schedule the pump (soon after start-up, then every ``PUMP_INTERVAL`` seconds)."""
    from handlers.context import HelpdeskContext as Context

    desk: UpdateDesk = app.bot_data.desk
    desk.jobs[JOB] = lambda: send_batch(Context(app))
    assert app.job_queue is not None
    app.job_queue.run_repeating(pump, interval=PUMP_INTERVAL, first=1, name=JOB)
