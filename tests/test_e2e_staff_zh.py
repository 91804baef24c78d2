"""Every staff screen in Chinese (issue 14.12): a Chinese-speaking operator and supervisor go through the staff
commands, buttons and notices, and no English word may be left in what they read.

Allowed: commands (``/tickets``, ``/staff add``, and the argument words right after a command), ticket numbers,
ids, numbers, URLs and ``ALLOWED`` ("Telegram", "ID"). Names are data, so every person here has a Chinese name,
except the supervisor made from HELPDESK_SUPERVISORS, whose default name must read in Chinese too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest

from bot.desk.tickets.work import LIST_FILTERS
from bot.i18n import translator
from tests.botapi import SentMessage
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory

LI, ANNA, MEI = 1001, 1002, 1003
"""Users: Li (Chinese client), Anna (English client), Mei (Chinese client)."""
OP, OP2, SUP = 7001, 7003, 7002
"""A Chinese-speaking operator and a colleague, and the supervisor from HELPDESK_SUPERVISORS."""
STAFF = (OP, OP2, SUP)
CLIENT = {LI: "zh-hans", ANNA: "en", MEI: "zh-hans", OP: "zh-hans", OP2: "zh-hans", SUP: "zh-hans"}
NAMES = {LI: "李雷", ANNA: "安娜", MEI: "韩梅梅", OP: "王芳", OP2: "张伟", SUP: "主管"}
ALLOWED = {"Telegram", "ID", "JSON"}
COMMAND_WORDS = {"add", "remove", "list", *LIST_FILTERS, "resolved", "unresolved", "operator", "supervisor"}
"""Words typed after a command (``/staff add``, ``/tickets open``): part of the command."""
pytestmark = pytest.mark.usefixtures("no_errors")


def _(message: str) -> str:
    return translator("zh").gettext(message)


_URL = re.compile(r"https?://\S+|\b[\w-]+(?:\.[\w-]+)+\.(?:com|cn|gov|org|net|team)\S*")
_COMMAND = re.compile(
    r"/[A-Za-z_]+(?:@\w+)?(?:[ \t]*[\[|]?[ \t]*(?:" + "|".join(sorted(COMMAND_WORDS)) + r")\b[ \t]*\]?)*"
)
_TICKET = re.compile(r"\bT\d{4}-\d{4,}\b")
_CLI = re.compile(r"python -m bot(?: [a-z][\w-]*)*")
_MASK = re.compile(r"\[(?:phone|passport|email|number)\]")
"""The placeholders personal details are masked with in a logged question (stored as such)."""
_WORD = re.compile(r"[A-Za-z]{2,}")


def untranslated(text: str, ids: Iterable[str] = ()) -> list[str]:
    """The English words a Chinese reader would find in *text* (commands, ids, numbers, URLs allowed)."""
    text = _URL.sub(" ", text)
    text = _COMMAND.sub(" ", text)
    text = _TICKET.sub(" ", text)
    text = _CLI.sub(" ", text)
    text = _MASK.sub(" ", text)
    for known in sorted(ids, key=len, reverse=True):
        text = re.sub(r"(?<![\w-])" + re.escape(known) + r"(?![\w-])", " ", text)
    return [w for w in _WORD.findall(text) if w not in ALLOWED]


def test_the_checker_finds_the_words_of_the_issue() -> None:
    for seen in (
        "对话 #1 已结束（resolved）",
        "“open”工单（1 件），按到期时间排序。筛选条件：open, new, overdue",
        "接入第 1 位（en）",
        "用户 · 2026年3月3日 [document]",
        "• Supervisor 7002 — 主管 — 7002",
    ):
        assert untranslated(seen), seen
    for fine in (
        "用法：/end [resolved|unresolved]",
        "/tickets [open|new|overdue|mine|closed|类型] – 工单列表",
        "主管可用 /staff add | remove",
        "T2603-0001 · 咨询 · 待受理 · 3月5日",
        "被 Telegram 拒收 · ID 7001 · https://www.example.gov.cn/x",
        "reissue — 补办",
    ):
        assert untranslated(fine, ["reissue"]) == [], fine


async def say(desk: Helpdesk, user: int, text: str = "", **kwargs: object) -> SentMessage:
    """*user* writes *text*; the bot's first message after it (what came before is passed over)."""
    await desk.drain(user)
    return await desk.ask(user, text, language_code=CLIENT[user], first_name=NAMES[user], **kwargs)  # type: ignore[arg-type]


async def tell(desk: Helpdesk, user: int, text: str = "", **kwargs: object) -> None:
    await desk.send(user, text, language_code=CLIENT[user], first_name=NAMES[user], **kwargs)  # type: ignore[arg-type]
    await desk.settle()


def has_data(prefix: str):  # type: ignore[no-untyped-def]
    return lambda m: any(d.startswith(prefix) for d in m.data)


async def file_ticket(desk: Helpdesk, user: int, kind: str, description: str) -> None:
    prompt = await say(desk, user, "/ticket")
    await desk.press(user, prompt, f"tk:{kind}")
    await desk.reply(user)
    contact = await say(desk, user, description)
    await desk.press(user, contact, "ts:contact")
    reference = await desk.reply(user)
    await desk.press(user, reference, "ts:reference")
    summary = await desk.reply(user)
    await desk.press(user, summary, "tok")
    await desk.reply(user)


async def claim_next(desk: Helpdesk, operator: int, user: int) -> None:
    """*user* asks for a person; *operator* claims them from the offer."""
    await desk.drain(operator)
    await say(desk, user, "/human")
    offer = await desk.reply(operator, has_data("cl:"))
    await desk.press(operator, offer, offer.data[0])
    await desk.reply(user, lambda m: NAMES[operator] in m.text)


async def test_every_staff_screen_reads_in_chinese(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await helpdesk_factory(helpdesk_supervisors=str(SUP))
    desk.services.staff.add(OP, "operator", NAMES[OP], desk.clock(), SUP)
    desk.services.staff.add(OP2, "operator", NAMES[OP2], desk.clock(), SUP)
    presses: list[str | None] = []

    async def press(user: int, message: SentMessage, data: str) -> None:
        presses.append((await desk.press(user, message, data)).text)

    for member in STAFF:
        await say(desk, member, "/start")
        await say(desk, member, "/help")

    # Tickets: Li files two, adds a document to one; staff work them with commands and buttons.
    await file_ticket(desk, LI, "enquiry", "我的工作许可证快到期了，请问怎么延期？")
    await file_ticket(desk, LI, "complaint", "窗口工作人员态度不好，我想投诉。")
    mine = await say(desk, LI, "/mytickets")
    await desk.press(LI, mine, mine.data[0])
    opened = await desk.reply(LI)
    await desk.click(LI, opened, _("Add a message"))
    await desk.reply(LI)
    await say(desk, LI, "材料", document=True, file_name="护照首页")
    for word in LIST_FILTERS:
        await say(desk, OP, f"/tickets {word}")
    typed = await say(desk, OP, "/tickets 投诉")  # the filters can be typed in Chinese too
    assert typed.text.startswith("“投诉”工单（1 件）"), typed.text
    listing = await say(desk, OP, "/tickets")
    for data in [d for d in listing.data if d.startswith("sl:")]:
        await press(OP, listing, data)
    number = desk.services.ticket_work.find(OP, desk.clock(), "open")[0].number
    view = await say(desk, OP, f"/t {number}")
    for action in ("take", "kind", "reassign", "note"):
        await press(OP, view, next(d for d in view.data if d.startswith(f"sa:{action}:")))
    await say(desk, OP, "内部备注：已电话联系。")
    kinds = desk.botapi.messages(OP)[-4]  # the types offered after "change type"
    assert any(d.startswith("sk:") for d in kinds.data), kinds
    await press(OP, kinds, next(d for d in kinds.data if d.endswith(":help")))
    await press(OP, view, next(d for d in view.data if d.startswith("sa:reply:")))
    await say(desk, OP, "请查看附件中的材料清单。", document=True, file_name="材料清单")
    await say(desk, OP, f"/note {number} 已核实")
    await say(desk, OP, f"/reply {number} 请补充护照首页复印件。")
    await say(desk, OP, f"/t {number}")
    await say(desk, OP, f"/close {number} 已答复申请人")
    await desk.reply(LI, has_data("rt:t:"))
    rating = desk.botapi.messages(LI)[-1]
    await desk.press(LI, rating, rating.data[-1])  # very dissatisfied: the supervisor is alerted
    await tell(desk, LI, "等了太久")
    await say(desk, OP, "/tickets closed")
    closed_view = await say(desk, OP, f"/t {number}")
    await press(OP, closed_view, next(d for d in closed_view.data if d.startswith("sa:reopen:")))
    await say(desk, OP, "/reply")
    await say(desk, OP, "/t")

    # The staff list and the supervisor's commands.
    await say(desk, SUP, "/staff")
    await say(desk, SUP, "/staff add 7009 operator 赵敏")
    await say(desk, SUP, "/staff remove 7009")
    await say(desk, SUP, "/staff what")
    await say(desk, SUP, "/deliveries")
    await say(desk, OP, "/staff add 7010 operator 钱七")  # refused: supervisors only

    # The live desk: check in, the queue, claims, relaying, tools, transfer, the ends of a chat.
    await say(desk, OP, "/queue")
    await say(desk, OP, "/checkin")
    await say(desk, OP2, "/checkin")
    await say(desk, OP, "/checkin")
    await say(desk, OP, "/end")  # no chat yet
    await say(desk, ANNA, "/human")  # an English-speaking user: her language is named in Chinese
    await desk.reply(OP, has_data("cl:"))
    queue = await say(desk, OP, "/queue")
    await press(OP, queue, queue.data[0])
    await desk.reply(ANNA, lambda m: NAMES[OP] in m.text)
    await tell(desk, ANNA, "你好，我想问一下延期的事。")
    await say(desk, OP, "/end")
    await claim_next(desk, OP, MEI)
    await tell(desk, MEI, "你好，我想问一下延期的事。")
    await tell(desk, MEI, "", document=True, file_name="护照首页")
    await tell(desk, MEI, "照片", photo=True)
    await say(desk, OP, "/sessions")
    await say(desk, OP, "/kb")
    await say(desk, OP, "/kb extension")
    await say(desk, OP, "/kb 没有这样的条目")
    canned = await say(desk, OP, "/canned")
    await press(OP, canned, canned.data[0])
    await say(desk, OP, "/canned no-such-reply")
    await say(desk, OP, "/end maybe")
    transfer = await say(desk, OP, "/transfer")
    await press(OP, transfer, transfer.data[0])
    await desk.reply(OP2, lambda m: "#" in m.text)
    await say(desk, OP2, "/end unresolved")
    rating = await desk.reply(MEI, has_data("rt:s:"))
    await desk.press(MEI, rating, rating.data[-1])
    await claim_next(desk, OP, ANNA)
    await say(desk, OP, "/transfer 7002")  # the supervisor is not checked in
    await say(desk, OP, "/end 已解决")
    await claim_next(desk, OP, LI)
    await say(desk, OP, "/toticket")
    await claim_next(desk, OP2, MEI)
    await desk.drain(OP)
    await say(desk, OP2, "/checkout")
    await desk.reply(OP, has_data("cl:"))
    await say(desk, OP, "/checkout")

    # Browsing the knowledge base as staff.
    themes = await say(desk, OP, "/topics")
    await press(OP, themes, themes.data[0])
    await desk.settle()

    ids = [*desk.services.kb.entries, *desk.services.canned]
    found: list[tuple[int, str, list[str]]] = []
    for member in STAFF:
        for message in desk.botapi.messages(member):
            for shown in (message.text, *message.labels):
                if words := untranslated(shown, ids):
                    found.append((member, shown, words))
        for name, description in desk.botapi.commands(scope=f"chat:{member}"):
            if words := untranslated(description, ids):
                found.append((member, f"/{name} – {description}", words))
    found += [(0, text, untranslated(text, ids)) for text in presses if text and untranslated(text, ids)]
    for answer in desk.botapi.callback_answers.values():
        if answer.user_id in STAFF and answer.text and untranslated(answer.text, ids):
            found.append((answer.user_id, answer.text, untranslated(answer.text, ids)))
    assert not found, "\n".join(f"{who}: {words} in {text!r}" for who, text, words in found)
    # The scenario did reach the screens it is about.
    seen = "\n".join(m.text for member in STAFF for m in desk.botapi.messages(member))
    for screen in (_("Staff:"), _("Canned replies (sent in the user's language):"), "#1", number):
        assert screen in seen, screen


def last_with(desk: Helpdesk, user: int, prefix: str) -> SentMessage:
    """The latest message to *user* with a button whose data starts with *prefix*."""
    return next(m for m in reversed(desk.botapi.messages(user)) if any(d.startswith(prefix) for d in m.data))


def english_in(
    desk: Helpdesk,
    users: Iterable[int],
    ids: Iterable[str],
    presses: Iterable[str | None] = (),
    skip: Iterable[str] = (),
) -> list[tuple[int, str, list[str]]]:
    """What *users* read (messages, captions, labels, command menus, button answers) with English words left
    in it; messages starting with one of *skip* (content written in English on purpose) are passed over."""
    ids, users, skip = list(ids), set(users), tuple(skip)
    found: list[tuple[int, str, list[str]]] = []
    for member in users:
        for message in desk.botapi.messages(member):
            if skip and message.text.startswith(skip):
                continue
            for shown in (message.text, message.caption or "", *message.labels):
                if words := untranslated(shown, ids):
                    found.append((member, shown, words))
        for name, description in desk.botapi.commands(scope=f"chat:{member}"):
            if words := untranslated(description, ids):
                found.append((member, f"/{name} – {description}", words))
    found += [(0, text, untranslated(text, ids)) for text in presses if text and untranslated(text, ids)]
    for answer in desk.botapi.callback_answers.values():
        if answer.user_id in users and answer.text and untranslated(answer.text, ids):
            found.append((answer.user_id, answer.text, untranslated(answer.text, ids)))
    return found


NOTICE_EN = "New rule for cancellations\nFrom 1 April, cancel the permit within 10 working days."
NOTICE_ZH = "注销新规\n自4月1日起，聘用结束后请在10个工作日内注销工作许可。"
FALLBACK = "我家的猫把我的卡叼走了，请打电话13812345678联系我"


async def test_the_supervisors_new_screens_read_in_chinese(helpdesk_factory: HelpdeskFactory) -> None:
    """/stats, /notice and /notices, /gaps and /followups, for a Chinese-speaking supervisor and operator."""
    desk = await helpdesk_factory(helpdesk_supervisors=str(SUP))
    desk.services.staff.add(OP, "operator", NAMES[OP], desk.clock(), SUP)
    presses: list[str | None] = []

    async def press(user: int, message: SentMessage, data: str, forged: bool = False) -> None:
        presses.append((await desk.press(user, message, data, forged=forged)).text)

    for member in (OP, SUP):
        await say(desk, member, "/start")
    for user in (LI, MEI):  # two applicants who subscribe; Li asks what the bot cannot answer
        await say(desk, user, "/start")
        roles = await desk.reply(user, has_data("role:"))
        await press(user, roles, next(d for d in roles.data if d.startswith("role:")))
        await say(desk, user, "/subscribe")
    await say(desk, LI, "工作许可延期需要多长时间？")
    await say(desk, LI, FALLBACK)
    await say(desk, MEI, FALLBACK.replace("13812345678", "13999998888"))

    # A ticket closed, rated very dissatisfied: a follow-up for the supervisor.
    await file_ticket(desk, LI, "enquiry", "我的工作许可证快到期了，请问怎么延期？")
    number = desk.services.ticket_work.find(OP, desk.clock(), "open")[0].number
    await say(desk, OP, f"/close {number} 已答复申请人")
    rating = await desk.reply(LI, has_data("rt:t:"))
    await desk.press(LI, rating, rating.data[-1])
    await desk.settle()
    alert = last_with(desk, SUP, "fut:")
    listed = await say(desk, SUP, "/followups")
    await say(desk, OP, "/followups")  # refused: supervisors only
    await press(SUP, listed, listed.data[0])
    await press(SUP, alert, next(d for d in alert.data if d.startswith("fut:")))
    await press(SUP, alert, next(d for d in alert.data if d.startswith("fur:")))
    await desk.settle()
    outcomes = last_with(desk, SUP, "fuo:")
    await press(SUP, outcomes, outcomes.data[0])
    await say(desk, SUP, "已回访，申请人表示满意。")
    await say(desk, SUP, "/followups")
    await press(SUP, listed, listed.data[0])  # the record
    await press(SUP, alert, next(d for d in alert.data if d.startswith("fur:")))  # recorded already

    # /stats: today, a month, a period it cannot read, the charts; refused to an operator.
    stats = await say(desk, SUP, "/stats today")
    await say(desk, SUP, "/stats 2026-02")
    await say(desk, SUP, "/stats yesterday")
    await say(desk, OP, "/stats")
    await press(SUP, stats, stats.data[0])
    await desk.settle()

    # /notice: each prompt, the audience, the "more" entry, the preview card, the report; /notices.
    await say(desk, OP, "/notice")  # refused
    await say(desk, SUP, "/notices")  # none yet
    await say(desk, SUP, "/notice")
    await say(desk, SUP, NOTICE_EN)
    audience = await say(desk, SUP, NOTICE_ZH)
    await press(SUP, audience, next(d for d in audience.data if d.endswith(":applicants")))
    await desk.settle()
    await say(desk, SUP, "no-such-entry")
    await say(desk, SUP, "cancellation")
    await desk.settle()
    card = last_with(desk, SUP, "nc:")
    listing = await say(desk, SUP, "/notices")
    await press(SUP, listing, listing.data[0])  # the draft's preview again
    await desk.settle()
    await press(SUP, card, next(d for d in card.data if d.startswith("nc:")))
    await desk.settle()
    await press(SUP, card, next(d for d in card.data if d.startswith("nc:")), forged=True)  # sent already
    await say(desk, SUP, "/notices")
    await press(SUP, listing, listing.data[0])  # the draft's button, once sent
    await desk.settle()
    await say(desk, SUP, "/notice")  # a second one, edited then cancelled
    await say(desk, SUP, NOTICE_EN)
    audience = await say(desk, SUP, NOTICE_ZH)
    await press(SUP, audience, next(d for d in audience.data if d.endswith(":all")))
    await desk.settle()
    entry = last_with(desk, SUP, "nn:")
    await press(SUP, entry, entry.data[0])
    await desk.settle()
    card = last_with(desk, SUP, "nx:")
    await press(SUP, card, next(d for d in card.data if d.startswith("ne:")))
    await desk.settle()
    await say(desk, SUP, "/cancel")
    await press(SUP, card, next(d for d in card.data if d.startswith("nx:")), forged=True)  # its old card
    await desk.settle()

    # /gaps: the header, a group's card, "another entry…", accepting, a late press, nothing left.
    await say(desk, OP, "/gaps")
    await desk.settle()
    group = last_with(desk, OP, "gr:")
    await say(desk, SUP, "/gaps")
    await desk.settle()
    colleagues = last_with(desk, SUP, "gr:")
    await press(OP, group, next(d for d in group.data if d.startswith("gp:")))
    await desk.settle()
    choices = last_with(desk, OP, "ga:")
    await press(OP, choices, choices.data[0])
    await desk.settle()
    await press(SUP, colleagues, next(d for d in colleagues.data if d.startswith("go:")))
    await say(desk, OP, "/gaps")
    await desk.settle()

    ids = [*desk.services.kb.entries, *desk.services.canned]
    english = tuple(f"📢 {line}" for line in NOTICE_EN.splitlines()[:1])  # the English version, as written
    found = english_in(desk, (OP, SUP), ids, presses, skip=english)
    assert not found, "\n".join(f"{who}: {words} in {text!r}" for who, text, words in found)
    seen = "\n".join(m.text for member in (OP, SUP) for m in desk.botapi.messages(member))
    for screen in ("📊", "📢 ", "[phone]", "回访", number):
        assert screen in seen, screen
