"""/reminders: the permits a user watches for their expiry (HR contacts keep many), and the reminders job.

The list has a button per permit (``pv``) and Add (``pa``); a permit's view has Change expiry date, End of
employment, Rename (``pe``) and Delete (``pd``, confirmed with ``py``). Adding and changing are short flows
(``FlowName.PERMIT_WATCH``, steps ``WatchStep``): one typed message per step; ``handlers.inbox.ROUTES`` sends
the text to ``text_input``; /cancel leaves; a restart resumes at the step. The core is
``bot.desk.outreach.reminders``; dates are read by ``bot.desk.outreach.dates``.

The job (``reminders_job``, every ``HELPDESK_ALERT_SECONDS``) sends the reminders due and those ``python -m bot
jobs run-due`` recorded, as the deadline alerts job does (``handlers.deadline_jobs``).
"""

from __future__ import annotations

import contextlib
import re
from datetime import date
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.answering.helpdesk import UserView
from bot.answering.text import Lang
from bot.desk.flows import FlowName, FlowState
from bot.desk.outreach.dates import MAX_YEARS_AHEAD, DateError, DateProblem, parse_date
from bot.desk.outreach.reminders import (
    CANCEL_WITHIN,
    MAX_LABEL,
    MAX_WATCHES,
    LabelError,
    LabelProblem,
    TooManyWatches,
    WatchNotFound,
    WatchStep,
    WatchView,
    check_label,
)
from bot.desk.workdays import SHANGHAI
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.common import answer_query, drop_keyboard, expired, meet, reply_text, tr
from handlers.context import HelpdeskContext, core
from handlers.notify import deliver
from handlers.render import keyboard

JOB = "permit-reminders"
FIELDS = {"x": WatchStep.EDIT_EXPIRES, "e": WatchStep.EDIT_ENDS, "l": WatchStep.EDIT_LABEL}
"""``pe`` buttons' field → the step that asks for it."""
NO_WORDS = frozenset({"no", "none", "n", "-", "否", "不", "没有", "无", "不会"})
"""Typed at the end-of-employment step, the same as the "No" button."""
NO_STARTS = ("否", "不会", "不是", "没有")
"""A Chinese answer at that step starting so (and without a date) is a no too: "不会提前结束", "否，不会"."""
PAGE = 30
"""Permits per page of the list: Telegram refuses a message with more than 100 buttons, and an HR contact may
watch up to ``MAX_WATCHES``."""


# ----- texts ------------------------------------------------------------------------------------------------
def _leads(context: HelpdeskContext, lang: Lang) -> str:
    """The lead times, "60, 30" / "60、30"."""
    return ("、" if lang == "zh" else ", ").join(str(lead) for lead in context.services.reminders.leads)


def _date_problem(problem: DateProblem, lang: Lang, employment: bool = False) -> str:
    _ = tr(lang).gettext
    if problem is DateProblem.AMBIGUOUS:
        return _(
            "That date can be read two ways (day first or month first). Please write it as year-month-day, "
            "e.g. 2027-04-03."
        )
    if problem is DateProblem.NO_SUCH_DAY:
        return _("There is no such day. Please check the date, e.g. 2027-03-31.")
    if problem is DateProblem.PAST and employment:
        return _(
            "That is too long ago: the 10 working days to cancel the permit after it are over. Please ask your "
            "office what to do now, or send a later date."
        )
    if problem is DateProblem.PAST:
        return _(
            "That date has passed. Please send the expiry date still to come (for a permit that has already "
            "expired, please ask your office)."
        )
    if problem is DateProblem.TOO_FAR:
        return _(
            "That is more than {years} years ahead, and a work permit is issued for at most 5 years. Please check "
            "the date."
        ).format(years=MAX_YEARS_AHEAD)
    return _(
        "I could not read that as a date. Please write it like 2027-03-31, 31 March 2027 or 2027年3月31日 "
        "(or /cancel to stop)."
    )


def _label_problem(problem: LabelProblem, lang: Lang) -> str:
    _ = tr(lang).gettext
    if problem is LabelProblem.PERSONAL:
        return _(
            "That looks like a passport, ID or phone number (or an e-mail address). Please do not keep those "
            "here: send another label, such as the employee's name or initials (e.g. Maria G.)."
        )
    if problem is LabelProblem.TOO_LONG:
        return _("Please keep the label to {count} characters, e.g. the employee's name or initials.").format(
            count=MAX_LABEL
        )
    return _("Please send a short label, such as the employee's name or initials.")


def _today(context: HelpdeskContext) -> date:
    """The day in Beijing."""
    return context.now().astimezone(SHANGHAI).date()


def _summary(item: WatchView, lang: Lang, today: date) -> str:
    """A permit's button in the list: its label and the date that matters."""
    t = tr(lang)
    if item.cancel_by is not None:
        return t.gettext("{label} · cancel by {date}").format(label=item.label, date=t.date(item.cancel_by))
    if item.expires_on < today:
        return t.gettext("{label} · expired {date}").format(label=item.label, date=t.date(item.expires_on))
    return t.gettext("{label} · expires {date}").format(label=item.label, date=t.date(item.expires_on))


def _view_text(context: HelpdeskContext, item: WatchView, lang: Lang) -> str:
    t = tr(lang)
    _ = t.gettext
    lines = [
        _("Permit: {label}").format(label=item.label),
        _("Expires: {date}").format(date=t.date(item.expires_on)),
    ]
    if item.employment_ends_on is None:
        lines.append(_("Employment ends: not before the permit expires"))
    else:
        lines.append(_("Employment ends: {date}").format(date=t.date(item.employment_ends_on)))
    today = _today(context)
    ended = item.employment_ends_on is not None and item.employment_ends_on < today
    if item.cancel_by is not None and ended:  # the end of employment is past (a watch added after it, or old)
        lines.append(
            _(
                "The employment has ended, so the employer must apply to cancel the permit within {days} working "
                "days of its end: by {date}."
            ).format(days=CANCEL_WITHIN, date=t.date(item.cancel_by))
        )
    elif item.cancel_by is None and item.expires_on < today:  # not changed since it expired
        lines.append(
            _(
                "This permit has expired: no more reminders for it. After an extension, change its expiry date; "
                "else delete it."
            )
        )
    elif item.cancel_by is not None:
        lines.append(
            _(
                "The employment ends before the permit expires, so the employer must apply to cancel the permit "
                "within {days} working days: by {date}. Reminders: {leads} days before the employment ends, and "
                "on the day."
            ).format(days=CANCEL_WITHIN, date=t.date(item.cancel_by), leads=_leads(context, lang))
        )
    else:
        lines.append(_("Reminders: {leads} days before it expires.").format(leads=_leads(context, lang)))
    return "\n".join(lines)


def _view_keyboard(item: WatchView, lang: Lang) -> InlineKeyboardMarkup:
    _ = tr(lang).gettext
    return keyboard(
        [
            [
                (_("Change expiry date"), cd.make(Button.PERMIT_EDIT, item.id, "x")),
                (_("End of employment"), cd.make(Button.PERMIT_EDIT, item.id, "e")),
            ],
            [
                (_("Rename"), cd.make(Button.PERMIT_EDIT, item.id, "l")),
                (_("Delete"), cd.make(Button.PERMIT_DELETE, item.id)),
            ],
            [(_("All my permits"), cd.make(Button.PERMITS))],
        ]
    )


async def _show(update: Update, context: HelpdeskContext, item: WatchView, lang: Lang, head: str = "") -> None:
    text = _view_text(context, item, lang)
    await reply_text(update, context, f"{head}\n\n{text}" if head else text, _view_keyboard(item, lang))


async def _show_list(update: Update, context: HelpdeskContext, user: UserView, page: int = 0) -> None:
    _ = tr(user.lang).gettext
    today = _today(context)
    items = await core(context, context.services.reminders.watches, user.id)
    items.sort(key=lambda item: (item.cancel_by or item.expires_on) < today)  # those past their date last
    pages = max(1, -(-len(items) // PAGE))
    page = min(page, pages - 1)
    shown = items[page * PAGE : (page + 1) * PAGE]
    rows = [[(_summary(item, user.lang, today), cd.make(Button.PERMIT_VIEW, item.id))] for item in shown]
    if pages > 1:
        turn = []
        if page > 0:
            turn.append((_("« Previous"), cd.make(Button.PERMITS_PAGE, page - 1)))
        if page < pages - 1:
            turn.append((_("Next »"), cd.make(Button.PERMITS_PAGE, page + 1)))
        rows.append(turn)
    rows.append([(_("➕ Add a permit"), cd.make(Button.PERMIT_ADD))])
    if items:
        text = _(
            "Your permit reminders ({count}). I remind you {leads} days before each permit expires (or, when the "
            "employment ends earlier, of the duty to cancel it). Choose one to change or delete it:"
        ).format(count=len(items), leads=_leads(context, user.lang))
        if pages > 1:
            text += "\n" + _("Page {page} of {pages}, the soonest first.").format(page=page + 1, pages=pages)
    else:
        text = _(
            "Permit reminders: tell me when a work permit expires and I will remind you {leads} days before, with "
            "how to extend it. If the employment ends earlier, I remind you that the employer must cancel the "
            "permit within {days} working days, and by which day. HR contacts can add every employee's permit. "
            "Use a name or initials as the label, never a passport number."
        ).format(leads=_leads(context, user.lang), days=CANCEL_WITHIN)
    await reply_text(update, context, text, keyboard(rows))


async def _ask(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
    """Store the flow at *state* and ask its step's question."""
    await core(context, context.services.flows.set, user.id, state, context.now())
    _ = tr(user.lang).gettext
    step, markup = state.step, None
    if step in (WatchStep.LABEL, WatchStep.EDIT_LABEL):
        text = _(
            "What should I call this permit? Send a short label, such as the employee's name or initials "
            "(never a passport number). /cancel to stop."
        )
    elif step in (WatchStep.EXPIRES, WatchStep.EDIT_EXPIRES):
        text = _("When does the work permit expire? Send the date, e.g. 2027-03-31 or 2027年3月31日. /cancel to stop.")
    else:
        text = _(
            "Does the employment end before the permit expires? Send the last day of employment (e.g. 2026-12-31), "
            "or press the button. /cancel to stop."
        )
        markup = keyboard([[(_("No, it does not end earlier"), cd.make(Button.PERMIT_SKIP))]])
    await reply_text(update, context, text, markup)


# ----- commands and buttons ----------------------------------------------------------------------------------
async def reminders_command(update: Update, context: HelpdeskContext) -> None:
    """/reminders: the permits the user watches, a button to open each, and Add."""
    user = await meet(update, context)
    await _show_list(update, context, user)


async def list_button(update: Update, context: HelpdeskContext) -> None:
    """All my permits (``pl``), or a page of a long list (``pp``)."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    page = 0
    if data is not None and data.action == Button.PERMITS_PAGE:
        number = data.int_arg(0) if len(data.args) == 1 else None
        if number is None:
            await expired(update, user.lang)
            return
        page = number
    await answer_query(update)
    await _show_list(update, context, user, page)


async def add_button(update: Update, context: HelpdeskContext) -> None:
    """Add a permit (``pa``): the label first."""
    user = await meet(update, context)
    await answer_query(update)
    await _ask(update, context, user, FlowState(FlowName.PERMIT_WATCH, WatchStep.LABEL, {}))


def _watch_id(update: Update, args: int = 1) -> int | None:
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    return data.int_arg(0) if data is not None and len(data.args) == args else None


async def _pressed(update: Update, context: HelpdeskContext, args: int = 1) -> tuple[UserView, WatchView] | None:
    """The user who pressed a permit's button and that permit; None (told the button expired) when it is
    forged, or the permit is deleted or someone else's."""
    user = await meet(update, context)
    watch_id = _watch_id(update, args)
    item = None
    if watch_id is not None:
        with contextlib.suppress(WatchNotFound):  # deleted, or someone else's
            item = await core(context, context.services.reminders.get, user.id, watch_id)
    if item is None:
        await expired(update, user.lang)
        return None
    return user, item


async def view_button(update: Update, context: HelpdeskContext) -> None:
    """A permit in the list (``pv``): its dates and reminders, with Change, Rename and Delete."""
    pressed = await _pressed(update, context)
    if pressed is None:
        return
    user, item = pressed
    await answer_query(update)
    await _show(update, context, item, user.lang)


async def edit_button(update: Update, context: HelpdeskContext) -> None:
    """Change a permit's expiry date, end of employment or label (``pe``): the next message is the new value."""
    pressed = await _pressed(update, context, args=2)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    if pressed is None or data is None:
        return
    user, item = pressed
    step = FIELDS.get(data.args[1])
    if step is None:
        await expired(update, user.lang)
        return
    await answer_query(update)
    await _ask(update, context, user, FlowState(FlowName.PERMIT_WATCH, step, {"watch": item.id}))


async def delete_button(update: Update, context: HelpdeskContext) -> None:
    """Delete (``pd``): asks first, saying what stops."""
    pressed = await _pressed(update, context)
    if pressed is None:
        return
    user, item = pressed
    _ = tr(user.lang).gettext
    await answer_query(update)
    text = _(
        "Delete the permit “{label}” (expires {date})? Its reminders stop. You can add it again at any time."
    ).format(label=item.label, date=tr(user.lang).date(item.expires_on))
    markup = keyboard(
        [
            [
                (_("Yes, delete it"), cd.make(Button.PERMIT_DELETE_YES, item.id)),
                (_("No, keep it"), cd.make(Button.PERMIT_VIEW, item.id)),
            ]
        ]
    )
    await reply_text(update, context, text, markup)


async def delete_yes_button(update: Update, context: HelpdeskContext) -> None:
    """Delete confirmed (``py``): gone, with what it was, so it can be added again if that was a mistake."""
    user = await meet(update, context)
    watch_id = _watch_id(update)
    try:
        if watch_id is None:
            raise WatchNotFound(watch_id)
        item = await core(context, context.services.reminders.delete, user.id, watch_id)
    except WatchNotFound:  # deleted already (pressed twice), or forged
        await expired(update, user.lang)
        return
    await answer_query(update)
    await drop_keyboard(update)
    t = tr(user.lang)
    text = t.gettext(
        "Deleted: “{label}”, expiring {date}. No more reminders for it. Deleted by mistake? Add it again with the "
        "same label and date."
    ).format(label=item.label, date=t.date(item.expires_on))
    rows = [
        [(t.gettext("➕ Add a permit"), cd.make(Button.PERMIT_ADD))],
        [(t.gettext("All my permits"), cd.make(Button.PERMITS))],
    ]
    await reply_text(update, context, text, keyboard(rows))


async def skip_button(update: Update, context: HelpdeskContext) -> None:
    """ "No, it does not end earlier" (``ps``), at the end-of-employment step; anywhere else it has expired."""
    user = await meet(update, context)
    state = await core(context, context.services.flows.get, user.id)
    if state is None or state.name != FlowName.PERMIT_WATCH or state.step not in (WatchStep.ENDS, WatchStep.EDIT_ENDS):
        await expired(update, user.lang)
        return
    await answer_query(update)
    await drop_keyboard(update)
    await _finish(update, context, user, state, None)


# ----- typed input -----------------------------------------------------------------------------------------
def _says_no(text: str) -> bool:
    """Whether *text*, at the end-of-employment step, answers no: a no word, or an answer without a digit that
    starts with one ("No, it does not end earlier", the button's label, or "不会提前结束")."""
    cleaned = text.strip().strip(".。!！").lower()
    if cleaned in NO_WORDS:
        return True
    if any(char.isdigit() for char in cleaned):
        return False
    return re.split(r"[\s,，.。!！]+", cleaned)[0] in {"no", "nope", "none"} or cleaned.startswith(NO_STARTS)


async def text_input(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
    """A message at a step of ``FlowName.PERMIT_WATCH``: the label or a date; a bad one is explained and asked
    for again (the step stays)."""
    message = update.effective_message
    text = message.text if message is not None and message.text else ""
    step, data = state.step, dict(state.data)
    if step in (WatchStep.LABEL, WatchStep.EDIT_LABEL):
        try:
            label = check_label(text)
        except LabelError as exc:
            await reply_text(update, context, _label_problem(exc.problem, user.lang))
            return
        if step == WatchStep.EDIT_LABEL:
            await _change(update, context, user, context.services.reminders.rename, data, label)
            return
        await _ask(update, context, user, FlowState(FlowName.PERMIT_WATCH, WatchStep.EXPIRES, {"label": label}))
        return
    employment = step in (WatchStep.ENDS, WatchStep.EDIT_ENDS)
    if employment and _says_no(text):  # typed instead of pressing "No"
        await _finish(update, context, user, state, None)
        return
    reminders = context.services.reminders
    try:
        day = parse_date(text)
        if employment:
            reminders.check_employment_end(day, context.now())
        else:
            reminders.check_expiry(day, context.now())
    except DateError as exc:
        await reply_text(update, context, _date_problem(exc.problem, user.lang, employment))
        return
    if step == WatchStep.EXPIRES:
        data["expires"] = day.isoformat()
        await _ask(update, context, user, FlowState(FlowName.PERMIT_WATCH, WatchStep.ENDS, data))
    elif step == WatchStep.EDIT_EXPIRES:
        await _change(update, context, user, reminders.set_expiry, data, day)
    else:
        await _finish(update, context, user, state, day)


async def _finish(
    update: Update, context: HelpdeskContext, user: UserView, state: FlowState, ends_on: date | None
) -> None:
    """The end-of-employment step answered (a day, or None): the permit is added, or its end changed."""
    if state.step == WatchStep.EDIT_ENDS:
        await _change(update, context, user, context.services.reminders.set_employment_end, dict(state.data), ends_on)
        return
    _ = tr(user.lang).gettext
    try:
        expires_on = date.fromisoformat(str(state.data.get("expires", "")))
        item = await core(
            context,
            context.services.reminders.add,
            user.id,
            str(state.data.get("label", "")),
            expires_on,
            ends_on,
            context.now(),
        )
    except (ValueError, LabelError, DateError):  # the flow's data is old or broken (a date since passed)
        await core(context, context.services.flows.clear, user.id)
        await reply_text(update, context, _("Sorry, that took too long. Please start again: /reminders"))
        return
    except TooManyWatches:
        await core(context, context.services.flows.clear, user.id)
        await reply_text(
            update, context, _("You watch {count} permits already: please delete one first.").format(count=MAX_WATCHES)
        )
        return
    await core(context, context.services.flows.clear, user.id)
    await _show(update, context, item, user.lang, _("Saved. I will remind you in time."))


async def _change(
    update: Update, context: HelpdeskContext, user: UserView, change: Any, data: dict[str, Any], value: object
) -> None:
    """Apply a change to the watch in the flow's data, end the flow and show the permit."""
    _ = tr(user.lang).gettext
    watch_id = data.get("watch")
    try:
        if not isinstance(watch_id, int):
            raise WatchNotFound(watch_id)
        item = await core(context, change, user.id, watch_id, value, context.now())
    except WatchNotFound:  # deleted meanwhile
        await core(context, context.services.flows.clear, user.id)
        await reply_text(update, context, _("That permit is no longer in your list. /reminders"))
        return
    await core(context, context.services.flows.clear, user.id)
    await _show(update, context, item, user.lang, _("Changed."))


async def media_input(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
    """A photo, sticker or anything but text at a step: only typed text is taken."""
    text = tr(user.lang).gettext("Please type it as text, or /cancel to stop.")
    await reply_text(update, context, text)


# ----- the job ---------------------------------------------------------------------------------------------
async def reminders_job(context: HelpdeskContext) -> None:
    """Send the reminders due (and those ``python -m bot jobs run-due`` recorded for the bot to send)."""
    await deliver(context, await core(context, context.services.reminders.take_due, context.now()))
