"""Tickets in the terminal console: an applicant files and follows tickets, staff work them.

Both sides use the same services and database as the Telegram bot, so a newcomer can file a ticket as
an applicant (``python -m bot console``), then work it as staff (``python -m bot console --as operator``).
Times come from the ``clock`` passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from bot import notices as nt
from bot.answering.text import Lang
from bot.desk.flows import FilingStep
from bot.desk.reports.service import BadPeriod
from bot.desk.reports.text import USAGE as STATS_USAGE
from bot.desk.reports.text import stats_text
from bot.desk.staff import shown_name
from bot.desk.ticket_texts import filed_text, ticket_detail, ticket_summary
from bot.desk.tickets.common import KIND_LABELS, KINDS, TicketView
from bot.desk.tickets.filing import Filing
from bot.error_texts import error_text
from bot.errors import HelpdeskError, InvalidInput, Reason
from bot.i18n import N_, translator
from bot.numbers import parse_id
from bot.services import Services

APPLICANT_HELP = N_("/ticket – file a ticket · /mytickets – your tickets · /show NUMBER – one of them · /cancel")
STAFF_HELP = N_(
    "/tickets [open|new|overdue|mine|closed|TYPE] · /t NUMBER · /take NUMBER · /reply NUMBER TEXT · "
    "/note NUMBER TEXT · /kind NUMBER TYPE · /close NUMBER RESOLUTION · /reopen NUMBER"
)
QUEUE_HELP = N_("/queue – who is waiting for a person (live chats themselves run in Telegram)")
HUMAN_IN_TELEGRAM = N_(
    "The helpdesk's staff chat with users in Telegram, not in this console: send /human to the helpdesk's "
    "Telegram bot to join the queue for a person."
)
TICKET_INSTEAD = N_("Here you can leave a message for staff instead: /ticket.")
LIVE_IN_TELEGRAM = N_(
    "Live chats run in Telegram only: check in, claim waiting users and chat with them in the helpdesk's "
    "Telegram bot (/checkin, /queue, /end …). Here /queue shows who is waiting."
)
LIVE_COMMANDS = ("/checkin", "/checkout", "/sessions", "/end", "/transfer", "/toticket", "/kb", "/canned")
"""The live desk's staff commands: Telegram only (a console cannot carry a live chat)."""
OTHER_NOTICE = N_("(user {user} is notified)")
NOTICE_LINES: Mapping[type[nt.Notice], str] = {
    nt.TicketReply: N_("(the reply is sent to user {user})"),
    nt.TicketClosed: N_("(user {user} is told the ticket is closed and asked for a rating)"),
    nt.TicketReopenedByStaff: N_("(user {user} is told the ticket is reopened)"),
    nt.TicketAssigned: N_("(colleague {user} is told the ticket is theirs)"),
    nt.TicketUserMessage: OTHER_NOTICE,
    nt.TicketReopenedByUser: OTHER_NOTICE,
    nt.TicketDueLater: OTHER_NOTICE,
    nt.TicketNew: OTHER_NOTICE,
    nt.BadRating: OTHER_NOTICE,
    nt.CalendarUnknown: OTHER_NOTICE,
    nt.TicketDueSoon: OTHER_NOTICE,
    nt.TicketOverdue: OTHER_NOTICE,
    nt.MorningDigest: OTHER_NOTICE,
    nt.QueueNew: OTHER_NOTICE,
    nt.QueuePosition: OTHER_NOTICE,
    nt.QueueLongWait: OTHER_NOTICE,
    nt.SessionStarted: OTHER_NOTICE,
    nt.SessionEnded: OTHER_NOTICE,
    nt.SessionUnresolved: OTHER_NOTICE,
    nt.HandedBack: OTHER_NOTICE,
    nt.SessionTransferred: OTHER_NOTICE,
    nt.SessionTransferredToYou: OTHER_NOTICE,
    nt.SessionTicket: OTHER_NOTICE,
    nt.SessionIdle: OTHER_NOTICE,
    nt.SessionIdleOperator: OTHER_NOTICE,
    nt.SessionUserWaiting: OTHER_NOTICE,
    nt.SessionRequeued: OTHER_NOTICE,
    nt.OperatorSilent: OTHER_NOTICE,
    nt.SessionAutoClosed: OTHER_NOTICE,
    nt.SessionLeft: OTHER_NOTICE,
    nt.PermitReminder: OTHER_NOTICE,
}
"""What the console shows, by notice type, for a notice the Telegram bot would send (``{user}``: the recipient)."""


def notice_line(notice: nt.Notice, lang: Lang) -> str:
    """The console's one line about *notice*, in *lang*."""
    return translator(lang).gettext(NOTICE_LINES[type(notice)]).format(user=notice.user_id)


class DeskConsole:
    """Slash commands for tickets in the console. ``handle`` returns the text to print, or None when the
    line is not for it (then the console treats it as a question)."""

    def __init__(
        self, services: Services, user_id: int, lang: Lang, clock: Callable[[], datetime], as_staff: bool = False
    ) -> None:
        self.services = services
        self.user_id = user_id
        self.lang = lang
        self.clock = clock
        self.as_staff = as_staff

    # ----- formatting ------------------------------------------------------------------------
    def _line(self, ticket: TicketView) -> str:
        overdue = " ⚠" if ticket.overdue(self.clock()) else ""
        return ticket_summary(ticket, self.lang, self.as_staff) + overdue

    def _notices(self, notices: list[nt.Notice]) -> str:
        return "\n".join(notice_line(n, self.lang) for n in notices)

    def _filing_prompt(self, filing: Filing) -> str:
        _ = translator(self.lang).gettext
        if filing.step == FilingStep.KIND:
            choices = [f"  {n}. {_(KIND_LABELS[k])}" for n, k in enumerate(KINDS, 1)]
            return "\n".join([_("What kind of ticket is it?"), *choices, _("Type a number to choose.")])
        if filing.step == FilingStep.DESCRIPTION:
            limit = self.services.filing.policy.max_description
            return _(
                "Please describe the matter in one message (at most {limit} characters). "
                "The console takes text only: documents and photos can be sent in the helpdesk's Telegram bot."
            ).format(limit=limit)
        if filing.step == FilingStep.CONTACT:
            return (
                _("Optional: a phone number or e-mail address where staff can reach you.")
                + " "
                + _("(Press Enter to skip.)")
            )
        if filing.step == FilingStep.REFERENCE:
            return (
                _("Optional: your application or permit number, if you have one.") + " " + _("(Press Enter to skip.)")
            )
        none = _("none")
        return "\n".join(
            [
                _("Please check your ticket:"),
                _("Type: {kind}").format(kind=_(KIND_LABELS[filing.kind]) if filing.kind else ""),
                _("Description: {text}").format(text=filing.description or ""),
                _("Contact: {contact}").format(contact=filing.contact or none),
                _("Application/permit number: {reference}").format(reference=filing.reference or none),
                _("Type y to submit, or n to cancel."),
            ]
        )

    # ----- dispatch --------------------------------------------------------------------------
    def in_filing(self) -> bool:
        return self.services.filing.current(self.user_id) is not None

    def handle(self, line: str) -> str | None:
        """The output for *line*, or None when it is a question for the knowledge base."""
        try:
            if self.in_filing() and not line.startswith("/"):
                return self._filing_input(line)
            command, _sep, rest = line.partition(" ")
            handler = (self._staff_commands() if self.as_staff else {}).get(command) or self._applicant_commands().get(
                command
            )
            return handler(rest.strip()) if handler is not None else None
        except HelpdeskError as exc:
            return error_text(exc, self.lang)

    def _applicant_commands(self) -> dict[str, Callable[[str], str]]:
        return {
            "/ticket": self._start_filing,
            "/mytickets": self._mine,
            "/show": self._show_own,
            "/cancel": self._cancel,
            "/deskhelp": lambda _rest: self._help(),
            "/human": lambda _rest: self._say(HUMAN_IN_TELEGRAM, TICKET_INSTEAD),
        }

    def _say(self, *messages: str) -> str:
        _ = translator(self.lang).gettext
        return " ".join(_(message) for message in messages)

    def _help(self) -> str:
        if not self.as_staff:
            return self._say(APPLICANT_HELP)
        return "\n".join([self._say(STAFF_HELP), self._say(QUEUE_HELP), self._say(STATS_USAGE)])

    def _staff_commands(self) -> dict[str, Callable[[str], str]]:
        return {
            "/tickets": self._list,
            "/t": self._open,
            "/take": self._take,
            "/reply": self._reply,
            "/note": self._note,
            "/kind": self._kind,
            "/close": self._close,
            "/reopen": self._reopen,
            "/queue": self._queue,
            "/stats": self._stats,
            **dict.fromkeys(LIVE_COMMANDS, lambda _rest: self._say(LIVE_IN_TELEGRAM)),
        }

    # ----- applicant ------------------------------------------------------------------------
    def _start_filing(self, _rest: str) -> str:
        return self._filing_prompt(self.services.filing.start_filing(self.user_id, self.clock(), origin="console"))

    def _filing_input(self, text: str) -> str:
        desk, now = self.services.filing, self.clock()
        filing = desk.current(self.user_id)
        assert filing is not None
        if filing.step == FilingStep.KIND:
            choice = parse_id(text, minimum=1, maximum=len(KINDS))
            if choice is None:
                raise InvalidInput(Reason.USE_BUTTONS)
            return self._filing_prompt(desk.choose_kind(self.user_id, KINDS[choice - 1], now))
        if filing.step in (FilingStep.CONTACT, FilingStep.REFERENCE) and not text:
            return self._filing_prompt(desk.skip(self.user_id, now))
        if filing.step == FilingStep.CONFIRM:
            if text.lower() in ("y", "yes", "是", "确认"):
                ticket, notices = desk.submit(self.user_id, self.lang, now)
                return "\n".join(filter(None, [filed_text(ticket, self.lang), self._notices(notices)]))
            return self._cancel("")
        return self._filing_prompt(desk.give_text(self.user_id, text, now))

    def _cancel(self, _rest: str) -> str:
        _ = translator(self.lang).gettext
        cleared = self.services.flows.clear(self.user_id)
        return _("Cancelled. Nothing was filed.") if cleared else _("There is nothing to cancel.")

    def _mine(self, _rest: str) -> str:
        tickets = self.services.own_tickets.mine(self.user_id)
        return "\n".join(self._line(t) for t in tickets) or translator(self.lang).gettext(
            "You have no tickets. /ticket files one."
        )

    def _show_own(self, rest: str) -> str:
        return ticket_detail(self.services.own_tickets.get(self.user_id, rest), self.lang)

    # ----- staff ------------------------------------------------------------------------------
    def _list(self, rest: str) -> str:
        word = rest or "open"
        tickets = self.services.ticket_work.find(self.user_id, self.clock(), word)
        return "\n".join(self._line(t) for t in tickets) or translator(self.lang).gettext(
            "No tickets match “{filter}”."
        ).format(filter=word)

    def _queue(self, _rest: str) -> str:
        """Who is waiting for a person and who is checked in (claiming and chatting happen in Telegram)."""
        self.services.staff.require(self.user_id)
        _ = translator(self.lang).gettext
        queue = self.services.live_queue
        waiting, online = queue.waiting(), queue.operators_online()
        separator = "、" if self.lang == "zh" else ", "
        lines = [
            _("Waiting: {count}. Checked in: {names}.").format(
                count=len(waiting),
                names=separator.join(f"{shown_name(name, op, self.lang)} ({busy})" for op, name, busy in online) or "—",
            )
        ]
        lines += [
            "  "
            + _("No. {position}: {lang}, about {minutes} min").format(
                position=s.position, lang=_("Chinese") if s.lang == "zh" else _("English"), minutes=s.minutes
            )
            for s in waiting
        ]
        return "\n".join([*lines, self._say(LIVE_IN_TELEGRAM)])

    def _stats(self, rest: str) -> str:
        """/stats [PERIOD] for a supervisor: the figures as in Telegram (the charts are Telegram's)."""
        try:
            figures = self.services.reports.stats(self.user_id, rest, self.clock())
        except BadPeriod:
            return self._say(STATS_USAGE)
        return stats_text(figures, self.lang, self.services.kb)

    def _open(self, rest: str) -> str:
        return ticket_detail(self.services.ticket_work.get(self.user_id, rest), self.lang, as_staff=True)

    def _take(self, rest: str) -> str:
        return self._line(self.services.ticket_work.take(self.user_id, rest, self.clock()))

    def _split(self, rest: str) -> tuple[str, str]:
        number, _sep, text = rest.partition(" ")
        if not number or not text.strip():
            raise InvalidInput(Reason.USAGE)
        return number, text.strip()

    def _reply(self, rest: str) -> str:
        number, text = self._split(rest)
        ticket, notices = self.services.ticket_work.reply(self.user_id, number, text, self.clock())
        return self._line(ticket) + "\n" + self._notices(notices)

    def _note(self, rest: str) -> str:
        number, text = self._split(rest)
        return self._line(self.services.ticket_work.note(self.user_id, number, text, self.clock()))

    def _kind(self, rest: str) -> str:
        number, kind = self._split(rest)
        return self._line(self.services.ticket_work.change_kind(self.user_id, number, kind, self.clock()))

    def _close(self, rest: str) -> str:
        number, text = self._split(rest)
        ticket, notices = self.services.ticket_work.close(self.user_id, number, text, self.clock())
        return self._line(ticket) + "\n" + self._notices(notices)

    def _reopen(self, rest: str) -> str:
        ticket, notices = self.services.ticket_work.reopen(self.user_id, rest, self.clock())
        return self._line(ticket) + "\n" + self._notices(notices)
