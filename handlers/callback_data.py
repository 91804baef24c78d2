"""``callback_data`` for inline buttons: short stable ids, never labels, at most 64 bytes.

A button's data is ``<action>:<arg>:<arg>…`` where ``<action>`` is a ``Button``; a button without
arguments is the bare action (``tok``). ``make(Button.CLAIM, 12)`` encodes one, ``pattern`` gives the
regex a handler is registered with (``handlers.app.register``), ``parse`` decodes one and returns None
for anything malformed (an old client's button or a forged one); handlers then answer "this button
has expired". The values are stored in messages already sent: never change one.

Every button (value: arguments → handler):

Start (handlers/start.py)
    ``lang``  LANGUAGE         language ``en``/``zh``                          → start.language_chosen
    ``role``  ROLE             ``applicant``/``employer``                      → start.role_chosen
Answers (handlers/render.py → handlers/questions.py)
    ``pick``  PICK             question id, knowledge-base entry id           → questions.pick
    ``none``  NONE_OF_THESE    question id                                    → questions.none_of_these
    ``fb``    FEEDBACK         question id, ``1`` helpful / ``0`` not          → questions.feedback
    ``rel``   SEE_ALSO         question id, related entry id                  → questions.see_also
    ``human`` HUMAN            question id or ``0`` (unused)                  → live.human_button
    ``tnew``  NEW_TICKET       question id or ``0`` (unused)                  → tickets.new_ticket_button
Topics (handlers/topics.py)
    ``tg``    THEME            theme group id                                 → topics.theme
    ``tl``    THEMES           —                                              → topics.theme_list
    ``te``    TOPIC            knowledge-base entry id                        → topics.topic_entry
    ``tb``    BACK_TO_TOPICS   —                                              → topics.back_to_topics
Filing a ticket (handlers/tickets.py), all → tickets.filing_button
    ``tk``    FILING_KIND      ticket kind
    ``ts``    FILING_SKIP      the filing step being skipped
    ``tok``   FILING_SUBMIT    —
    ``tre``   FILING_RESTART   —
    ``tx``    FILING_CANCEL    —
A user's own tickets (handlers/tickets.py, handlers/notify.py)
    ``ml``    MY_TICKETS       —                                              → tickets.my_tickets
    ``mt``    MY_TICKET        ticket id                                      → tickets.open_my_ticket
    ``mtm``   MY_TICKET_MESSAGE ticket id                                     → tickets.own_ticket_action
    ``mtc``   MY_TICKET_CLOSE  ticket id                                      → tickets.own_ticket_action
    ``mtr``   MY_TICKET_REOPEN ticket id                                      → tickets.own_ticket_action
    ``oa``    ADD_TO_TICKET    ticket id, ``t`` kept text / ``f`` kept files  → tickets.offer_button
    ``on``    ADD_DECLINE      ``t`` kept text (a question) / ``f`` files     → tickets.offer_button
Ratings (handlers/render.py, handlers/tickets.py)
    ``rt``    RATE             service ``t`` ticket / ``s`` session, its id, level → tickets.rate_button
    ``rtx``   RATE_SKIP_COMMENT —                                             → tickets.skip_comment
Staff tickets (handlers/staff.py)
    ``sl``    STAFF_LIST       list filter ``open``/``new``/``overdue``/``mine`` → staff.list_button
    ``sv``    STAFF_VIEW       ticket id                                      → staff.view_button
    ``sa``    STAFF_ACTION     action (``take``, ``reply``, ``note``, ``kind``, ``reassign``, ``close``,
                               ``reopen``), ticket id                         → staff.action_button
    ``sk``    STAFF_KIND       ticket id, new kind                            → staff.kind_button
    ``sr``    STAFF_REASSIGN   ticket id, staff user id                       → staff.reassign_button
    ``sf``    STAFF_FILE       ticket id, ticket message id (its attachment)  → staff.file_button
Live chat (handlers/live.py, handlers/live_notices.py)
    ``hq``    LEAVE_QUEUE      —                                              → live.leave_queue_button
    ``hk``    KEEP_WAITING     —                                              → live.keep_waiting_button
    ``hm``    LEAVE_MESSAGE    ``q`` from the queue / ``c`` desk closed        → live.leave_message_button
    ``cl``    CLAIM            help request id                                → live.claim_button
    ``tf``    TRANSFER         session id, operator user id                   → live.transfer_button
    ``cn``    CANNED           canned reply id                                → live.canned_button
    ``fo``    FOCUS            session id                                     → live.focus_button
    ``kb``    KB_ENTRY         session id, knowledge-base entry id (/kb WORDS) → live.kb_button
    ``fu``    FOLLOW_UP        session id (a chat ended unresolved)            → live.follow_up_button
Call-backs after bad ratings, 回访 (handlers/followups.py, handlers/notify.py), supervisors only
    ``fuv``   FOLLOWUP_VIEW    follow-up id                                   → followups.view_button
    ``fut``   FOLLOWUP_TAKE    follow-up id                                   → followups.take_button
    ``fur``   FOLLOWUP_RECORD  follow-up id                                   → followups.record_button
    ``fuo``   FOLLOWUP_OUTCOME follow-up id, outcome (``resolved``, ``explained``, ``wrongful``)
                                                                              → followups.outcome_button
Policy notices (handlers/policy_notices.py), supervisors only; the "more" button under a notice is ``te``
    ``na``    NOTICE_AUDIENCE  notice id, ``employers``/``applicants``/``all``  → policy_notices.audience_button
    ``nn``    NOTICE_NO_ENTRY  notice id (no "more" button)                   → policy_notices.no_entry_button
    ``nv``    NOTICE_VIEW      notice id (/notices: a draft's preview)        → policy_notices.view_button
    ``nc``    NOTICE_CONFIRM   notice id: send it                             → policy_notices.confirm_button
    ``ne``    NOTICE_EDIT      notice id: write it again                      → policy_notices.edit_button
    ``nx``    NOTICE_CANCEL    notice id: drop the draft                      → policy_notices.cancel_button
Knowledge-gap review (handlers/gaps.py), staff only; a group is named by its first question's id, the period
by ``w`` (week) / ``m`` (month)
    ``ga``    GAP_ACCEPT       group id, period, entry id: alternate questions → gaps.decide_button
    ``gp``    GAP_PICK         group id, period: the likely entries to choose → gaps.pick_button
    ``go``    GAP_OUT_OF_SCOPE group id, period                               → gaps.decide_button
    ``gr``    GAP_REJECT       group id, period                               → gaps.decide_button
Permit-expiry reminders (handlers/reminders.py), a user's own watched permits
    ``pl``    PERMITS          —                                              → reminders.list_button
    ``pp``    PERMITS_PAGE     page number (0 first) of a long list           → reminders.list_button
    ``pa``    PERMIT_ADD       —                                              → reminders.add_button
    ``pv``    PERMIT_VIEW      watch id                                       → reminders.view_button
    ``pe``    PERMIT_EDIT      watch id, field ``x`` expiry / ``e`` end of employment / ``l`` label
                                                                              → reminders.edit_button
    ``pd``    PERMIT_DELETE    watch id (asks to confirm)                     → reminders.delete_button
    ``py``    PERMIT_DELETE_YES watch id                                      → reminders.delete_yes_button
    ``ps``    PERMIT_SKIP      — (no end of employment, at that step)         → reminders.skip_button
A user's personal data (handlers/privacy.py): /deletemydata's confirmation
    ``dmy``   DELETE_MY_DATA   when it was asked (Unix minutes; works for an hour) → privacy.delete_button
    ``dmn``   DELETE_MY_DATA_CANCEL —                                        → privacy.delete_button
The materials checklist (handlers/checklist.py); a stale step's button shows the step the user is at
    ``ck``    CHECKLIST_ANSWER question (``task``, ``category``, ``where``, ``apostille``, ``city``), value
                                                                              → checklist.button
    ``ckb``   CHECKLIST_BACK   the question (or ``done``) Back was pressed at → checklist.button
    ``ckx``   CHECKLIST_CANCEL —                                              → checklist.button
    ``ckr``   CHECKLIST_RESTART —                                             → checklist.button
    ``ckt``   CHECKLIST_ASK_STAFF — (files a help request with the answers)   → checklist.button
Statistics (handlers/stats.py), supervisors only
    ``stc``   STATS_CHARTS     the period, ``2026-05-01~2026-05-31``           → stats.charts_button
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum, unique

from bot.numbers import parse_id

MAX_BYTES = 64
SEP = ":"


@unique
class Button(StrEnum):
    """The action of every inline button; the comment says what its arguments are."""

    # start
    LANGUAGE = "lang"  # language: "en" or "zh"
    ROLE = "role"  # "applicant" or "employer"
    # answers
    PICK = "pick"  # question id, chosen knowledge-base entry id ("did you mean")
    NONE_OF_THESE = "none"  # question id
    FEEDBACK = "fb"  # question id, "1" helpful / "0" not helpful
    SEE_ALSO = "rel"  # question id, related knowledge-base entry id
    HUMAN = "human"  # question id, or 0 without one (not read: "talk to a person")
    NEW_TICKET = "tnew"  # question id, or 0 without one (not read: "file a ticket")
    # topics
    THEME = "tg"  # theme group id
    THEMES = "tl"  # no arguments: back to the list of themes
    TOPIC = "te"  # knowledge-base entry id
    BACK_TO_TOPICS = "tb"  # no arguments
    # filing a ticket
    FILING_KIND = "tk"  # ticket kind
    FILING_SKIP = "ts"  # the filing step being skipped
    FILING_SUBMIT = "tok"  # no arguments
    FILING_RESTART = "tre"  # no arguments: start over
    FILING_CANCEL = "tx"  # no arguments
    # a user's own tickets
    MY_TICKETS = "ml"  # no arguments: the list of the user's tickets
    MY_TICKET = "mt"  # ticket id: open it
    MY_TICKET_MESSAGE = "mtm"  # ticket id: add a message
    MY_TICKET_CLOSE = "mtc"  # ticket id: close it
    MY_TICKET_REOPEN = "mtr"  # ticket id: reopen it
    ADD_TO_TICKET = "oa"  # ticket id, "t" text / "f" files kept: add the kept messages to that ticket
    ADD_DECLINE = "on"  # "t" the kept text is a new question (answer it) / "f" drop the kept files
    # ratings
    RATE = "rt"  # service "t" ticket / "s" session, its id, level
    RATE_SKIP_COMMENT = "rtx"  # no arguments: no comment after a bad rating
    # staff tickets
    STAFF_LIST = "sl"  # list filter: "open", "new", "overdue" or "mine"
    STAFF_VIEW = "sv"  # ticket id
    STAFF_ACTION = "sa"  # action ("take", "reply", "note", "kind", "reassign", "close", "reopen"), ticket id
    STAFF_KIND = "sk"  # ticket id, new kind
    STAFF_REASSIGN = "sr"  # ticket id, staff member's user id
    STAFF_FILE = "sf"  # ticket id, ticket message id: send its photo or document to the member of staff
    # live chat
    LEAVE_QUEUE = "hq"  # no arguments
    KEEP_WAITING = "hk"  # no arguments
    LEAVE_MESSAGE = "hm"  # "q" instead of waiting in the queue / "c" the desk is closed
    CLAIM = "cl"  # help request id
    TRANSFER = "tf"  # session id, operator's user id
    CANNED = "cn"  # canned reply id
    FOCUS = "fo"  # session id
    KB_ENTRY = "kb"  # session id, knowledge-base entry id: send it to that chat's user (/kb WORDS)
    FOLLOW_UP = "fu"  # session id: the user has a chat ended unresolved followed up as a ticket
    # call-backs after bad ratings (回访)
    FOLLOWUP_VIEW = "fuv"  # follow-up id: show it
    FOLLOWUP_TAKE = "fut"  # follow-up id: assign it to the supervisor who pressed
    FOLLOWUP_RECORD = "fur"  # follow-up id: record the call-back (outcome buttons next)
    FOLLOWUP_OUTCOME = "fuo"  # follow-up id, outcome: then one message with what was said and fixed
    # policy notices (supervisors)
    NOTICE_AUDIENCE = "na"  # notice id, audience: "employers", "applicants" or "all"
    NOTICE_NO_ENTRY = "nn"  # notice id: no "more" button under it
    NOTICE_VIEW = "nv"  # notice id: show a draft's preview again
    NOTICE_CONFIRM = "nc"  # notice id: send it to its audience
    NOTICE_EDIT = "ne"  # notice id: write it again (the /notice steps, on the same draft)
    NOTICE_CANCEL = "nx"  # notice id: drop the draft
    # the materials checklist
    CHECKLIST_ANSWER = "ck"  # question, value
    CHECKLIST_BACK = "ckb"  # the question (or "done") it was pressed at
    CHECKLIST_CANCEL = "ckx"  # no arguments
    CHECKLIST_RESTART = "ckr"  # no arguments: answer again from the first question
    CHECKLIST_ASK_STAFF = "ckt"  # no arguments: "Ask staff to check my materials"
    # knowledge-gap review
    GAP_ACCEPT = "ga"  # group id, period "w"/"m", entry id: the group's questions become alternate questions
    GAP_PICK = "gp"  # group id, period: list the likely entries (each a GAP_ACCEPT button)
    GAP_OUT_OF_SCOPE = "go"  # group id, period: the group's questions are out-of-scope examples
    GAP_REJECT = "gr"  # group id, period: nothing to learn; the group does not come back
    # permit-expiry reminders (a user's own watches)
    PERMITS = "pl"  # no arguments: the list of the user's watched permits
    PERMITS_PAGE = "pp"  # page number (0 first): a page of a long list of watched permits
    PERMIT_ADD = "pa"  # no arguments: watch another permit
    PERMIT_VIEW = "pv"  # watch id
    PERMIT_EDIT = "pe"  # watch id, field: "x" expiry date, "e" end of employment, "l" label
    PERMIT_DELETE = "pd"  # watch id: asks to confirm
    PERMIT_DELETE_YES = "py"  # watch id: delete it
    PERMIT_SKIP = "ps"  # no arguments: the employment does not end before the permit expires
    # a user's personal data
    DELETE_MY_DATA = "dmy"  # when /deletemydata was sent (Unix minutes): erase the user's data
    DELETE_MY_DATA_CANCEL = "dmn"  # no arguments: keep it
    # statistics (supervisors)
    STATS_CHARTS = "stc"  # the period as FIRST~LAST (YYYY-MM-DD each): send its charts

    @property
    def takes_args(self) -> bool:
        """Whether the button carries arguments (``cl:12``) or is the bare action (``tok``)."""
        return self not in NO_ARGS


NO_ARGS: frozenset[Button] = frozenset(
    {
        Button.THEMES,
        Button.BACK_TO_TOPICS,
        Button.FILING_SUBMIT,
        Button.FILING_RESTART,
        Button.FILING_CANCEL,
        Button.MY_TICKETS,
        Button.RATE_SKIP_COMMENT,
        Button.LEAVE_QUEUE,
        Button.KEEP_WAITING,
        Button.CHECKLIST_CANCEL,
        Button.CHECKLIST_RESTART,
        Button.CHECKLIST_ASK_STAFF,
        Button.PERMITS,
        Button.PERMIT_ADD,
        Button.PERMIT_SKIP,
        Button.DELETE_MY_DATA_CANCEL,
    }
)


@dataclass(frozen=True)
class Data:
    """A decoded button: the action and its string arguments."""

    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int) -> int | None:
        """Argument *index* as a non-negative int (ASCII digits, at most 2**63 - 1), or None if missing or not
        such a number (``bot.numbers.parse_id``: a forged "¹" or a 20-digit id is None, never an exception)."""
        try:
            value = self.args[index]
        except IndexError:
            return None
        return parse_id(value)


def make(action: Button, *args: object) -> str:
    """Encode a button; raises ValueError when it would not fit Telegram's 64 bytes."""
    parts = [str(action), *(str(a) for a in args)]
    if any(SEP in p or not p for p in parts):
        raise ValueError(f"bad callback part in {parts!r}")
    data = SEP.join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def pattern(*buttons: Button) -> str:
    """The ``CallbackQueryHandler`` regex matching *buttons*: ``^cl:`` for a button with arguments,
    ``^tok$`` for one without, ``^(tk:|tok$)`` for several."""
    if not buttons:
        raise ValueError("pattern needs at least one button")
    alternatives = [re.escape(b.value) + (SEP if b.takes_args else "$") for b in buttons]
    if len(alternatives) == 1:
        return "^" + alternatives[0]
    return "^(" + "|".join(alternatives) + ")"


def parse(data: str | None) -> Data | None:
    """Decode a button's data, or None when it is empty, too long or malformed (not even UTF-8: a lone
    surrogate, which JSON's ``\\ud800`` can carry)."""
    if not data:
        return None
    try:
        size = len(data.encode())
    except UnicodeEncodeError:
        return None
    if size > MAX_BYTES:
        return None
    action, *args = data.split(SEP)
    if not action.isascii() or not action.replace("_", "").isalnum():
        return None
    return Data(action, tuple(args))
