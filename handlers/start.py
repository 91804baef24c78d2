"""/start, language and role, /help, /privacy, /subscribe and /unsubscribe."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from telegram import Update

from bot.answering.helpdesk import UserView
from bot.answering.text import Lang
from bot.desk.outreach.sources import EntrySources
from bot.desk.staff import ROLE_LABELS, StaffView, shown_name
from bot.i18n import N_
from bot.privacy.retention import RetentionPolicy
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.common import answer_query, drop_keyboard, expired, meet, reply_html, reply_text, tr
from handlers.context import HelpdeskContext, core
from handlers.menus import set_staff_menu
from handlers.render import keyboard

LANGUAGE_BUTTONS = [[("English", cd.make(Button.LANGUAGE, "en")), ("中文", cd.make(Button.LANGUAGE, "zh"))]]


def _role_keyboard(lang: Lang):  # type: ignore[no-untyped-def]
    _ = tr(lang).gettext
    return keyboard(
        [
            [(_("I'm applying for myself"), cd.make(Button.ROLE, "applicant"))],
            [(_("I'm an employer's HR contact"), cd.make(Button.ROLE, "employer"))],
        ]
    )


def privacy_line(lang: Lang) -> str:
    """The one-line privacy notice shown on /start."""
    return tr(lang).gettext(
        "Privacy: we keep your Telegram id, language, role and questions to answer you and improve "
        "the service; only helpdesk staff can see them. Details: /privacy"
    )


async def start(update: Update, context: HelpdeskContext) -> None:
    """Welcome in the user's language, with language and role buttons and the privacy notice; a member of
    staff gets their own welcome instead (``staff_welcome``)."""
    user = await meet(update, context)
    if context.args and len(context.args) == 1:  # a deep link, t.me/<bot>?start=SOURCE; anything else is ignored
        sources = EntrySources(context.services.engine)
        await core(context, sources.record, user.id, context.args[0], context.now())
    member = await core(context, context.services.staff.get, user.id)
    if member is not None:
        await staff_welcome(update, context, user, member)
        return
    _ = tr(user.lang).gettext
    name = update.effective_user.first_name if update.effective_user else ""
    text = _(
        "Hello {name}! I answer questions about China's Foreigner's Work Permit (外国人来华工作许可) "
        "in English or Chinese. Just type your question, or browse /topics."
    ).format(name=escape(name or "", quote=False))
    text += "\n\n" + escape(privacy_line(user.lang), quote=False)
    await reply_html(update, context, text, keyboard(LANGUAGE_BUTTONS))
    await reply_text(update, context, _("Who are you asking for?"), _role_keyboard(user.lang))


async def language_command(update: Update, context: HelpdeskContext) -> None:
    """/language: offer the two languages."""
    user = await meet(update, context)
    await reply_text(update, context, tr(user.lang).gettext("Choose your language:"), keyboard(LANGUAGE_BUTTONS))


async def language_chosen(update: Update, context: HelpdeskContext) -> None:
    """Language button."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    if data is None or data.args not in (("en",), ("zh",)):
        await expired(update, user.lang)
        return
    user = await core(context, context.helpdesk.set_language, user.id, data.args[0], context.now())
    member = await core(context, context.services.staff.get, user.id)
    if member is not None:  # the staff menu follows the language they read
        await set_staff_menu(context.bot, user.id, user.lang, member.is_supervisor)
    _ = tr(user.lang).gettext
    await answer_query(update, _("Language set to English.") if user.lang == "en" else _("Language set to Chinese."))
    await reply_text(
        update,
        context,
        _("From now on I reply in English. You can still ask in either language.")
        if user.lang == "en"
        else _("From now on I reply in Chinese. You can still ask in either language."),
    )


async def role_chosen(update: Update, context: HelpdeskContext) -> None:
    """Role button (applicant / employer HR contact)."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    if data is None or len(data.args) != 1 or data.args[0] not in ("applicant", "employer"):
        await expired(update, user.lang)
        return
    # the reply keeps the language negotiated on meeting: the stored view falls back to English
    # for a user who never chose one, whatever their client's language
    updated = await core(context, context.helpdesk.set_role, user.id, data.args[0], context.now())
    _ = tr(user.lang).gettext
    await answer_query(update)
    await drop_keyboard(update)
    if updated.role == "employer":
        text = _(
            "Noted: you are an employer's HR contact. /topics shows employer topics first "
            "(registration, cancelling a permit within 10 working days, changing employer)."
        )
    else:
        text = _("Noted: you are applying for yourself. Type your question whenever you are ready.")
    await reply_text(update, context, text)


async def staff_welcome(update: Update, context: HelpdeskContext, user: UserView, member: StaffView) -> None:
    """/start from a member of staff: who they are to the helpdesk and their commands, with their staff menu
    set in their language. No applicant questions: staff are not asked whether they apply for themselves."""
    _ = tr(user.lang).gettext
    await set_staff_menu(context.bot, user.id, user.lang, member.is_supervisor)
    lines = [
        _("Hello {name}! You are helpdesk staff ({role}); users see you as “{shown}”.").format(
            name=update.effective_user.first_name if update.effective_user else "",
            role=_(ROLE_LABELS[member.role]),
            shown=shown_name(member.name, member.user_id, user.lang),
        ),
        _("Your commands (also in the menu):"),
        *staff_help_lines(user.lang),
        "",
        _("/help lists every command. /language: English or Chinese."),
    ]
    await reply_text(update, context, "\n".join(lines))


def staff_help_lines(lang: Lang) -> list[str]:
    """The staff commands, one a line (in /help and in the staff welcome)."""
    _ = tr(lang).gettext
    return [
        _("/tickets [open|new|overdue|mine|closed|TYPE] – list tickets; /t NUMBER – open one"),
        _("/reply, /note, /close NUMBER TEXT – work a ticket in one line"),
        _("/checkin, /checkout – start and stop taking live chats (签入 / 签出)"),
        _("/queue – users waiting for a person, with Claim buttons"),
        _("/sessions – your live chats; plain messages go to the current one"),
        _("/end [resolved|unresolved], /transfer, /toticket – finish or hand on the current chat"),
        _("/kb ENTRY_ID or WORDS, /canned [ID] – send a knowledge-base answer or a canned reply"),
        _("/staff – the staff list (supervisors: /staff add | remove)"),
        _("/gaps [week|month] – questions the bot could not answer well, grouped, to accept or reject"),
        _("/deliveries – supervisors: messages owed and those Telegram refused (blocked, …)"),
        _("/followups – supervisors: call-backs after bad ratings (回访), to take and record"),
        _("/stats [today|week|month|YYYY-MM|FROM TO] – supervisors: statistics of a period, with charts"),
        _("/notice, /notices – supervisors: write a policy notice to subscribers; the notices sent, with counts"),
    ]


def help_text(lang: Lang, staff: bool = False) -> str:
    """The /help text: what the bot does and every command it has (staff also see theirs)."""
    _ = tr(lang).gettext
    lines = [
        _(
            "I answer questions about the Foreigner's Work Permit. Type a question in English or Chinese, e.g. "
            '"How long does an extension take?" or "工作许可证丢了怎么办".'
        ),
        "",
        _("/topics – browse questions by theme"),
        _("/human – talk to a member of staff"),
        _("/ticket – file an enquiry, help request, suggestion, complaint or report"),
        _("/mytickets – your tickets and their status"),
        _("/reminders – reminders before a work permit expires (HR: for every employee); add, change, delete"),
        _("/checklist – the documents to hand in for your case, with local exemptions; staff can check them"),
        _("/cancel – leave what you are doing"),
        _("/language – English or Chinese"),
        _("/subscribe, /unsubscribe – policy notices"),
        _("/privacy – what we store about you"),
        _("/mydata – a copy of everything we store about you"),
        _("/deletemydata – erase your personal data"),
    ]
    if staff:
        lines += ["", _("For staff:"), *staff_help_lines(lang)]
    return "\n".join(lines)


async def help_command(update: Update, context: HelpdeskContext) -> None:
    """/help."""
    user = await meet(update, context)
    member = await core(context, context.services.staff.get, user.id)
    await reply_text(update, context, help_text(user.lang, staff=member is not None))


def kept_for(lang: Lang, period: timedelta) -> str:
    """A retention period as /privacy states it: in years when it is whole years, else in days."""
    _ = tr(lang).gettext
    days = period.days
    if days and days % 365 == 0:
        return (_("{n} year") if days == 365 else _("{n} years")).format(n=days // 365)
    return (_("{n} day") if days == 1 else _("{n} days")).format(n=days)


def privacy_text(lang: Lang, keep: RetentionPolicy | None = None) -> str:
    """The /privacy notice (PIPL), with the retention periods configured (``HELPDESK_KEEP_*_DAYS``, *keep*)."""
    _ = tr(lang).gettext
    keep = keep or RetentionPolicy()
    return _(
        "How we handle your personal information\n"
        "• What: your Telegram id and first name, your language and role, your questions and the bot's answers, "
        "and the tickets, messages and ratings you send.\n"
        "• Why: to answer you, to let staff follow up your requests, and to improve the answers.\n"
        "• Who sees it: you and the helpdesk staff, nobody else. Phone numbers and passport numbers are never "
        "written to logs.\n"
        "• How long: the text of a question {questions}; a ticket's contact until {contacts} after the ticket is "
        "closed; a ticket {tickets} after it is closed; live-chat messages {transcripts} after the chat ends. Then "
        "they are erased, and only anonymous figures stay (a ticket's type, status, dates and deadlines).\n"
        "• Phone numbers, e-mail addresses and passport numbers typed in a question are masked before it is "
        "stored (a contact you give with a ticket is kept as given).\n"
        "• Your rights: /mydata sends you a copy of everything we store about you; /deletemydata erases it "
        "(anonymous ticket figures and the record of staff actions stay) and unsubscribes you from policy "
        "notices. If you block the bot we stop sending you messages."
    ).format(
        questions=kept_for(lang, keep.questions),
        contacts=kept_for(lang, keep.contacts),
        tickets=kept_for(lang, keep.tickets),
        transcripts=kept_for(lang, keep.transcripts),
    )


async def privacy_command(update: Update, context: HelpdeskContext) -> None:
    """/privacy."""
    user = await meet(update, context)
    keep = RetentionPolicy.from_settings(context.services.settings)
    await reply_text(update, context, privacy_text(user.lang, keep))


NOTICES_DESCRIPTION = N_(
    "What you get: a short message from the helpdesk when a work permit rule, a required document, a fee or a "
    "procedure changes, or the office changes its hours — what concerns you as an applicant or an HR contact, in "
    "your language, sometimes with a button to the full answer. Only when something changes: never on a schedule, "
    "never advertising."
)
"""What /subscribe says policy notices are and how often they come (``handlers.policy_notices`` sends them)."""


async def _set_subscription(update: Update, context: HelpdeskContext, on: bool) -> UserView:
    user = await meet(update, context)
    was = user.subscribed
    updated = await core(context, context.helpdesk.set_subscribed, user.id, on, context.now())
    _ = tr(user.lang).gettext  # the negotiated language (see role_chosen)
    if on:
        text = (
            _("You are already subscribed to policy notices.")
            if was
            else _("Subscribed: you will receive policy notices from the helpdesk. /unsubscribe stops them.")
        )
        text += "\n\n" + _(NOTICES_DESCRIPTION)
    else:
        text = (
            _("You were not subscribed.") if not was else _("Unsubscribed: you will no longer receive policy notices.")
        )
    await reply_text(update, context, text)
    return updated


async def subscribe(update: Update, context: HelpdeskContext) -> None:
    """/subscribe to policy notices."""
    await _set_subscription(update, context, True)


async def unsubscribe(update: Update, context: HelpdeskContext) -> None:
    """/unsubscribe from policy notices."""
    await _set_subscription(update, context, False)
