"""The knowledge-gap review for staff: /gaps [week|month] and the buttons on each group's card.

Each group of similar questions that fell back, got 👎 or "none of these" is one message: its size, a sample
question (masked), a few other wordings and its most likely entry, with buttons to accept the questions as
alternate questions of that entry (or of another: "pick another entry"), as out of scope, or to reject them.
One tap decides the group for good. The core is ``bot.answering.gaps``; everything here is refused to non-staff.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.answering.gaps import Decision, GapGroup, GapReason, Reviewed
from bot.answering.helpdesk import UserView
from bot.answering.text import Lang
from bot.error_texts import error_text
from bot.errors import Conflict, NotFound
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.common import answer_query, drop_keyboard, expired, refused, reply_text, tr
from handlers.context import HelpdeskContext, core
from handlers.render import keyboard
from handlers.staff import require_staff

PERIOD_WORDS = {
    "week": "week",
    "w": "week",
    "周": "week",
    "本周": "week",
    "month": "month",
    "m": "month",
    "月": "month",
    "本月": "month",
}
"""What /gaps accepts after it (default: week)."""
LETTERS = {"week": "w", "month": "m"}
"""A period in a button."""
PERIODS = {letter: period for period, letter in LETTERS.items()}
MAX_TITLE = 28
"""A button label's entry title is cut to this many characters."""
MAX_SHOWN = 120
"""A question on a card is cut to this many characters."""


def _title(context: HelpdeskContext, entry_id: str, lang: Lang, limit: int | None = None) -> str:
    title = context.services.kb.title(entry_id, lang)
    return title if limit is None or len(title) <= limit else title[: limit - 1] + "…"


def _quote(text: str) -> str:
    return "“" + (text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…") + "”"


def _card(context: HelpdeskContext, group: GapGroup, number: int, lang: Lang) -> str:
    """A group as staff read it: how many, why, a sample, other wordings, the most likely entry."""
    _ = tr(lang).gettext
    reasons = group.reasons
    why = [
        (_("fell back: {count}"), reasons[GapReason.FALLBACK]),
        (_("👎: {count}"), reasons[GapReason.THUMBS_DOWN]),
        (_("“none of these”: {count}"), reasons[GapReason.NONE_OF_THESE]),
    ]
    lines = [
        _("Group {number} · questions: {count} ({why})").format(
            number=number, count=group.count, why=", ".join(text.format(count=n) for text, n in why if n)
        ),
        _quote(group.sample),
    ]
    others = [text for text in group.examples if text != group.sample][:2]
    if others:
        lines.append(_("Also asked: {questions}").format(questions="; ".join(_quote(text) for text in others)))
    if group.candidates:
        entry = group.candidates[0]
        lines.append(_("Most likely entry: {title} ({id})").format(title=_title(context, entry, lang), id=entry))
    else:
        lines.append(_("Most likely entry: none found"))
    if group.out_of_scope:
        lines.append(_("The classifier finds it more likely out of scope."))
    return "\n".join(lines)


def _card_keyboard(context: HelpdeskContext, group: GapGroup, period: str, lang: Lang) -> InlineKeyboardMarkup:
    _ = tr(lang).gettext
    letter = LETTERS[period]
    first: list[tuple[str, str]] = []
    if group.candidates:
        entry = group.candidates[0]
        label = _("Add to “{title}”").format(title=_title(context, entry, lang, MAX_TITLE))
        first.append((label, cd.make(Button.GAP_ACCEPT, group.id, letter, entry)))
    first.append((_("Another entry…"), cd.make(Button.GAP_PICK, group.id, letter)))
    second = [
        (_("Out of scope"), cd.make(Button.GAP_OUT_OF_SCOPE, group.id, letter)),
        (_("Reject"), cd.make(Button.GAP_REJECT, group.id, letter)),
    ]
    return keyboard([first, second])


async def gaps_command(update: Update, context: HelpdeskContext) -> None:
    """/gaps [week|month]: the period's knowledge gaps, one card per group, the largest first."""
    user, member = await require_staff(update, context)
    if member is None:
        return
    _ = tr(user.lang).gettext
    words = context.args or []
    period = PERIOD_WORDS.get(words[0].lower()) if words else "week"
    if period is None or len(words) > 1:
        await reply_text(update, context, _("Usage: /gaps [week|month] (default: the last 7 days)."))
        return
    report = await core(context, context.services.gaps.report, user.id, period, context.now())
    t = tr(user.lang)
    span = _("the last 7 days") if period == "week" else _("the last 30 days")
    if not report.groups:
        text = _("No knowledge gaps to review in {span} (since {date}).").format(span=span, date=t.date(report.since))
        await reply_text(update, context, text)
        return
    header = "\n".join(
        [
            _("Knowledge gaps in {span} (since {date})").format(span=span, date=t.date(report.since)),
            _("Questions that fell back, got 👎 or “none of these”: {count}").format(count=report.questions),
            _("Groups of similar questions: {groups} (the largest follow; one tap decides a group)").format(
                groups=report.group_count
            ),
        ]
    )
    await reply_text(update, context, header)
    for number, group in enumerate(report.groups, 1):
        await reply_text(
            update, context, _card(context, group, number, user.lang), _card_keyboard(context, group, period, user.lang)
        )


async def _pressed(
    update: Update, context: HelpdeskContext, args: int
) -> tuple[UserView, int, str, tuple[str, ...]] | None:
    """The member of staff who pressed a gap button, the group id, the period and the other arguments; None
    when the presser is not staff (told so) or the button is malformed (told it has expired)."""
    user, member = await require_staff(update, context)
    if member is None:
        return None
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    group_id = data.int_arg(0) if data is not None else None
    if data is None or group_id is None or len(data.args) != args or data.args[1] not in PERIODS:
        await expired(update, user.lang)
        return None
    return user, group_id, PERIODS[data.args[1]], data.args[2:]


def _done_text(context: HelpdeskContext, done: Reviewed, lang: Lang) -> str:
    """What one tap did, in the reader's language."""
    _ = tr(lang).gettext
    if done.decision == Decision.ALTERNATE and done.entry_id is not None:
        text = _("Accepted: the group's questions ({count}) are alternate questions of “{title}” ({id}).").format(
            count=done.examples, title=_title(context, done.entry_id, lang), id=done.entry_id
        )
    elif done.decision == Decision.OUT_OF_SCOPE:
        text = _(
            "Accepted as out of scope: the group's questions ({count}) will teach the bot to decline them."
        ).format(count=done.examples)
    else:
        return _("Rejected: this group will not come back in /gaps.")
    return (
        text
        + ("" if lang == "zh" else " ")  # no space after a Chinese full stop
        + _(
            "They reach the training data when a maintainer exports and commits them (python -m bot kb gaps-export); "
            "the group will not come back in /gaps."
        )
    )


async def _decide(
    update: Update,
    context: HelpdeskContext,
    user: UserView,
    group_id: int,
    period: str,
    decision: Decision,
    entry_id: str | None,
) -> None:
    try:
        done = await core(
            context, context.services.gaps.decide, user.id, group_id, period, decision, entry_id, context.now()
        )
    except NotFound:
        await expired(update, user.lang)
        return
    except Conflict as exc:
        await answer_query(update, error_text(exc, user.lang), alert=True)
        await drop_keyboard(update)
        return
    await answer_query(update)
    await drop_keyboard(update)
    await reply_text(update, context, _done_text(context, done, user.lang))


async def decide_button(update: Update, context: HelpdeskContext) -> None:
    """Accept (as alternate questions of an entry, or as out of scope) or reject a group: one tap."""
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    action = data.action if data is not None else ""
    if action == Button.GAP_ACCEPT:
        pressed = await _pressed(update, context, args=3)
        if pressed is not None:
            user, group_id, period, (entry_id,) = pressed
            await _decide(update, context, user, group_id, period, Decision.ALTERNATE, entry_id)
        return
    pressed = await _pressed(update, context, args=2)
    if pressed is not None:
        user, group_id, period, _rest = pressed
        decision = Decision.OUT_OF_SCOPE if action == Button.GAP_OUT_OF_SCOPE else Decision.REJECTED
        await _decide(update, context, user, group_id, period, decision, None)


async def pick_button(update: Update, context: HelpdeskContext) -> None:
    """ "Another entry…": the engine's most likely entries for the group, each a button that accepts."""
    pressed = await _pressed(update, context, args=2)
    if pressed is None:
        return
    user, group_id, period, _rest = pressed
    _ = tr(user.lang).gettext
    try:
        group = await core(context, context.services.gaps.group, user.id, group_id, period, context.now())
    except (NotFound, Conflict) as exc:
        await refused(update, user.lang, exc)
        return
    await answer_query(update)
    if not group.candidates:
        await reply_text(update, context, _("The engine finds no likely entry for these questions."))
        return
    rows = [
        [(_title(context, entry, user.lang), cd.make(Button.GAP_ACCEPT, group.id, LETTERS[period], entry))]
        for entry in group.candidates
    ]
    text = _("Which entry should {sample} be an alternate question of?").format(sample=_quote(group.sample))
    await reply_text(update, context, text, keyboard(rows))
