"""Call-backs after bad ratings (好差评 回访) for supervisors: /followups, the follow-up view, Take and Record.

Recording is a short flow: the outcome buttons, then one message with what the user said and what was fixed
(``FlowName.FOLLOWUP_RECORD``; ``handlers.inbox.ROUTES`` sends that text to ``notes_input``; /cancel leaves).
The core is ``bot.desk.followups``; everything here is refused to anyone but a supervisor.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.answering.helpdesk import UserView
from bot.answering.text import Lang
from bot.desk.flows import FlowName, FlowState
from bot.desk.followups import OUTCOME_LABELS, FollowUpView
from bot.desk.ratings import LEVEL_LABELS
from bot.desk.staff import shown_name
from bot.error_texts import error_text
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.common import answer_query, drop_keyboard, expired, refused, reply_text, tr
from handlers.context import HelpdeskContext, core
from handlers.render import keyboard
from handlers.staff import require_staff

NOTES_STEP = "notes"
"""The one step of ``FlowName.FOLLOWUP_RECORD``: the message with what was said and what was fixed."""
LISTED = 50
"""Follow-ups listed by /followups, one button each: Telegram refuses a message with more than 100 buttons."""


def _subject(item: FollowUpView, lang: Lang) -> str:
    """What was rated: the ticket's number, or the live chat."""
    if item.service == "ticket":
        return item.number or f"#{item.service_id}"
    return tr(lang).gettext("live chat #{id}").format(id=item.service_id)


async def _name(context: HelpdeskContext, user_id: int | None, lang: Lang) -> str:
    """A member of staff's shown name, or "nobody yet"."""
    if user_id is None:
        return tr(lang).gettext("nobody yet")
    member = await core(context, context.services.staff.get, user_id)
    return shown_name(member.name if member else "", user_id, lang)


def _summary(item: FollowUpView, assignee: str, lang: Lang, overdue: bool) -> str:
    """One line of /followups: what, how bad, due when, whose."""
    t = tr(lang)
    text = t.gettext("{subject} · {level} · due {due} · {assignee}").format(
        subject=_subject(item, lang),
        level=t.gettext(LEVEL_LABELS[item.level]),
        due=t.date(item.due_at),
        assignee=assignee,
    )
    return ("⏰ " if overdue else "") + text


def _keyboard(item: FollowUpView, lang: Lang) -> InlineKeyboardMarkup | None:
    _ = tr(lang).gettext
    if not item.open:
        return None
    return keyboard(
        [
            [
                (_("Take the call-back"), cd.make(Button.FOLLOWUP_TAKE, item.id)),
                (_("Record the call-back"), cd.make(Button.FOLLOWUP_RECORD, item.id)),
            ]
        ]
    )


async def _show(update: Update, context: HelpdeskContext, user: UserView, followup_id: int) -> None:
    """A follow-up in full, with Take and Record while it is open."""
    t = tr(user.lang)
    _ = t.gettext
    item = await core(context, context.services.followups.get, user.id, followup_id)
    lines = [
        _("Follow-up (回访) of {subject}: {level}").format(
            subject=_subject(item, user.lang), level=_(LEVEL_LABELS[item.level])
        ),
        _("User: {name} · id {id}").format(name=item.user_name or "—", id=item.user_id),
        _("Opened {opened}, due {due}").format(opened=t.datetime(item.opened_at), due=t.date(item.due_at)),
        _("Assigned to: {name}").format(name=await _name(context, item.assignee_id, user.lang)),
    ]
    if not item.open and item.called_at is not None:
        lines += [
            _("Called back by {name} on {at}: {outcome}").format(
                name=await _name(context, item.called_by, user.lang),
                at=t.datetime(item.called_at),
                outcome=_(OUTCOME_LABELS[item.outcome])
                if item.outcome is not None and item.outcome in OUTCOME_LABELS
                else "",
            ),
            item.notes or "",
        ]
    await reply_text(update, context, "\n".join(lines), _keyboard(item, user.lang))


async def followups_command(update: Update, context: HelpdeskContext) -> None:
    """/followups: the follow-ups waiting for a call-back, earliest due first, a button to open each."""
    user, member = await require_staff(update, context, supervisor=True)
    if member is None:
        return
    _ = tr(user.lang).gettext
    items = await core(context, context.services.followups.open_list, user.id)
    if not items:
        await reply_text(update, context, _("No follow-ups are waiting for a call-back."))
        return
    now = context.now()
    rows = [
        [
            (
                _summary(item, await _name(context, item.assignee_id, user.lang), user.lang, item.overdue(now)),
                cd.make(Button.FOLLOWUP_VIEW, item.id),
            )
        ]
        for item in items[:LISTED]
    ]
    text = _("Follow-ups waiting for a call-back ({count}), earliest due first:").format(count=len(items))
    if len(items) > LISTED:
        text += "\n" + _("The {shown} due soonest are listed; the others follow as these are recorded.").format(
            shown=LISTED
        )
    await reply_text(update, context, text, keyboard(rows))


def _followup_id(update: Update, args: int = 1) -> int | None:
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    return data.int_arg(0) if data and len(data.args) == args else None


async def _pressed(update: Update, context: HelpdeskContext, args: int = 1) -> tuple[UserView, int] | None:
    """The supervisor who pressed a follow-up's button and its id; None when the presser is not a supervisor
    (told so) or the button is forged (told it has expired)."""
    user, member = await require_staff(update, context, supervisor=True)
    if member is None:
        return None
    followup_id = _followup_id(update, args)
    if followup_id is None:
        await expired(update, user.lang)
        return None
    return user, followup_id


async def view_button(update: Update, context: HelpdeskContext) -> None:
    """A follow-up's button in /followups."""
    pressed = await _pressed(update, context)
    if pressed is None:
        return
    user, followup_id = pressed
    try:
        await _show(update, context, user, followup_id)
    except NotFound:
        await expired(update, user.lang)
        return
    await answer_query(update)


async def take_button(update: Update, context: HelpdeskContext) -> None:
    """Take the call-back: the follow-up becomes the presser's."""
    pressed = await _pressed(update, context)
    if pressed is None:
        return
    user, followup_id = pressed
    try:
        item = await core(context, context.services.followups.take, user.id, followup_id, context.now())
    except (NotFound, Conflict) as exc:
        await refused(update, user.lang, exc)
        return
    await answer_query(
        update, tr(user.lang).gettext("The call-back for {subject} is yours.").format(subject=_subject(item, user.lang))
    )
    await _show(update, context, user, followup_id)


async def record_button(update: Update, context: HelpdeskContext) -> None:
    """Record the call-back: first its outcome, by button."""
    pressed = await _pressed(update, context)
    if pressed is None:
        return
    user, followup_id = pressed
    _ = tr(user.lang).gettext
    try:
        item = await core(context, context.services.followups.get, user.id, followup_id)
    except NotFound:
        await expired(update, user.lang)
        return
    if not item.open:
        await answer_query(update, _("This call-back has been recorded already."), alert=True)
        return
    rows = [
        [(_(label), cd.make(Button.FOLLOWUP_OUTCOME, followup_id, outcome))]
        for outcome, label in OUTCOME_LABELS.items()
    ]
    await answer_query(update)
    await reply_text(
        update,
        context,
        _("How did the call-back for {subject} end?").format(subject=_subject(item, user.lang)),
        keyboard(rows),
    )


async def outcome_button(update: Update, context: HelpdeskContext) -> None:
    """The outcome chosen: the next message is what the user said and what was fixed."""
    user, member = await require_staff(update, context, supervisor=True)
    if member is None:
        return
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    followup_id = _followup_id(update, args=2)
    if data is None or followup_id is None or data.args[1] not in OUTCOME_LABELS:
        await expired(update, user.lang)
        return
    state = FlowState(FlowName.FOLLOWUP_RECORD, NOTES_STEP, {"followup": followup_id, "outcome": data.args[1]})
    await core(context, context.services.flows.set, user.id, state, context.now())
    await answer_query(update)
    await drop_keyboard(update)
    _ = tr(user.lang).gettext
    text = _("In one message: what did the user say, and what was fixed? /cancel to stop.")
    await reply_text(update, context, text)


async def notes_input(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
    """The message that records the call-back; the follow-up is then closed."""
    message = update.effective_message
    _ = tr(user.lang).gettext
    followup_id, outcome = int(state.data.get("followup", 0)), str(state.data.get("outcome", ""))
    try:
        await core(
            context,
            context.services.followups.record,
            user.id,
            followup_id,
            outcome,
            message.text if message and message.text else "",
            context.now(),
        )
    except InvalidInput as exc:  # empty or too long: say so and wait for another message
        await reply_text(update, context, error_text(exc, user.lang))
        return
    except (NotFound, Conflict, NotAllowed) as exc:  # gone, recorded meanwhile, or no longer a supervisor
        await core(context, context.services.flows.clear, user.id)
        await reply_text(update, context, error_text(exc, user.lang))
        return
    await core(context, context.services.flows.clear, user.id)
    text = _("Call-back recorded: {outcome}. Open follow-ups: /followups").format(outcome=_(OUTCOME_LABELS[outcome]))
    await reply_text(update, context, text)
