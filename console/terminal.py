"""The helpdesk in a terminal: the same engine, no Telegram needed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from bot.answering.answers import Answerer, Reply
from bot.answering.text import Lang, detect_lang
from bot.i18n import N_, translator
from bot.numbers import parse_id
from console.desk import HUMAN_IN_TELEGRAM, DeskConsole

BANNER = N_("Work permit helpdesk. Ask a question in English or Chinese; /lang en|zh switches language, /quit leaves.")


def render_plain(answerer: Answerer, reply: Reply) -> str:
    """A reply as terminal text, with numbered choices when clarifying; small talk is the short text alone."""
    if reply.small_talk:
        return reply.text
    lines = [reply.text]
    if reply.options:
        _ = translator(reply.lang).gettext
        lines += [f"  {n}. {opt.title}" for n, opt in enumerate(reply.options, 1)]
        lines.append("  0. " + _("None of these"))
        lines.append(_("Type a number to choose."))
    sources = answerer.sources_line(reply)
    if sources:
        lines.append(sources)
    return "\n".join(lines)


def run_console(
    answerer: Answerer,
    lang: Lang | None = None,
    stdin: TextIO = sys.stdin,
    write: Callable[[str], object] = print,
    desk: DeskConsole | None = None,
) -> None:
    """Chat on the terminal until end of input or /quit. ``lang`` fixes the reply language.

    With *desk*, ticket commands work too (/ticket, /mytickets; staff: /tickets, /t, /reply …).
    """
    ui_lang: Lang = lang or "en"

    def banner() -> None:
        _ = translator(ui_lang).gettext
        write(_(BANNER))
        if desk is not None:
            write(desk.handle("/deskhelp") or "")

    banner()
    pending: Reply | None = None
    while True:
        write(
            "> ",
        ) if stdin.isatty() else None
        line = stdin.readline()
        if not line:
            break
        text = line.strip()
        if text in ("/quit", "/exit", "/q"):
            break
        if desk is not None:
            out = desk.handle(text)
            if out is not None:
                write(out)
                continue
        if text.startswith("/lang"):
            choice = text.removeprefix("/lang").strip()
            if choice in ("en", "zh"):
                lang = ui_lang = choice  # type: ignore[assignment]
                if desk is not None:
                    desk.lang = ui_lang  # tickets, refusals and prompts follow too
            _ = translator(ui_lang).gettext
            write(_("Replies are now in English.") if ui_lang == "en" else _("Replies are now in Chinese."))
            continue
        if text.split(maxsplit=1)[:1] == ["/help"]:
            banner()
            continue
        if text.startswith("/"):  # a command is never a question (the knowledge base would answer "/human")
            write(_command_reply(text, ui_lang))
            continue
        number = parse_id(text) if pending is not None else None
        if pending is not None and number is not None:
            if number == 0:
                _ = translator(pending.lang).gettext
                write(_("Sorry I couldn't find it. Please rephrase, or contact the office."))
            elif 1 <= number <= len(pending.options):
                chosen = answerer.entry_reply(pending.options[number - 1].entry_id, pending.match)
                write(render_plain(answerer, chosen))
            pending = None
            continue
        reply = answerer.ask(text, lang or detect_lang(text))
        pending = reply if reply.options else None
        write(render_plain(answerer, reply))


def _command_reply(text: str, lang: Lang) -> str:
    """A command nothing else handled: /human says where people answer; any other is unknown here."""
    _ = translator(lang).gettext
    if text.split(maxsplit=1)[0] == "/human":
        return _(HUMAN_IN_TELEGRAM)
    return _("I don't know that command here. /help lists what this console can do.")
