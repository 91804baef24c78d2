"""A local stand-in for the Telegram Bot API server, for end-to-end tests of the real Application.

It serves ``/bot<token>/<method>`` on loopback (aiohttp), accepts JSON, form-urlencoded and multipart
bodies (python-telegram-bot sends the latter two), answers ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": N, "description": "..."}`` with the HTTP status Telegram uses, and enforces
the rules of the real server that matter to a bot: HTML parse mode (only Telegram's tags, balanced,
``<`` and ``&`` escaped), 4096 UTF-16 code units per text after entity parsing, ``callback_data`` of 1–64
bytes, "message is not modified", unknown messages, users who blocked the bot, and rate limits on demand.

The test side pushes updates (``push_message``, ``press``), which the bot fetches with real long polling
(``getUpdates``), and waits for what the bot sends (``wait_for``) — event-driven, never by sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-TOKEN"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
SENT_KINDS: tuple[str, ...] = ("message", "photo", "document", "copy", "forward")
"""Kinds of bot messages ``wait_for`` returns by default (an edit changes a message, it sends none)."""

FAULT_METHODS = frozenset(
    {
        "sendmessage",
        "editmessagetext",
        "editmessagereplymarkup",
        "answercallbackquery",
        "sendphoto",
        "senddocument",
        "copymessage",
        "forwardmessage",
        "deletemessage",
    }
)
"""The calls ``inject_faults`` fails at random by default: everything a bot does to a chat."""

Buttons = list[list[tuple[str, str | None]]]
"""Inline keyboard rows of (label, callback_data); None for URL and other non-callback buttons."""


# --------------------------------------------------------------------------------------------------------
# Records the tests read
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SentMessage:
    """One thing the bot did to a chat: a message sent (or copied, forwarded) or a message edited.

    ``text`` is what the user sees: the text (or caption) after HTML parsing, tags removed and entities
    such as ``&lt;`` decoded; ``raw_text`` is exactly what the bot sent.
    """

    chat_id: int
    message_id: int
    kind: str  # message | photo | document | copy | forward | edit
    text: str
    parse_mode: str | None = None
    buttons: Buttons = field(default_factory=list)
    raw_text: str | None = None
    entities: tuple[Mapping[str, Any], ...] = ()
    file_id: str | None = None
    caption: str | None = None
    reply_to_message_id: int | None = None
    from_chat_id: int | None = None

    @property
    def labels(self) -> list[str]:
        """Every button label, row by row."""
        return [label for row in self.buttons for label, _data in row]

    @property
    def data(self) -> list[str]:
        """Every button's callback_data, row by row."""
        return [d for row in self.buttons for _label, d in row if d is not None]

    def button(self, label_substring: str) -> tuple[str, str | None]:
        """The first button whose label contains *label_substring* (AssertionError if none)."""
        for row in self.buttons:
            for label, data in row:
                if label_substring in label:
                    return label, data
        raise AssertionError(f"no button with {label_substring!r} among {self.labels!r}")


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot answered to a button press (answerCallbackQuery)."""

    query_id: str
    user_id: int
    text: str | None
    show_alert: bool


@dataclass(frozen=True)
class ApiError:
    """A call the stand-in refused, as Telegram would have."""

    method: str
    error_code: int
    description: str
    chat_id: int | None = None


@dataclass(frozen=True)
class ApiCall:
    """A call the bot made (every one, refused or not)."""

    method: str
    params: Mapping[str, Any]


class TelegramError(Exception):
    """Raised inside a method to answer ``{"ok": false, ...}``."""

    def __init__(self, code: int, description: str, parameters: Mapping[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = dict(parameters) if parameters else None


def bad_request(what: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {what}")


# --------------------------------------------------------------------------------------------------------
# HTML parse mode, as the Bot API parses it
# --------------------------------------------------------------------------------------------------------
ALLOWED_TAGS: Mapping[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
TEXT_BUTTONS = "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_AMPERSAND_OK = re.compile(r"&(?:lt|gt|amp|quot);|&#[0-9]{1,7};|&#[xX][0-9a-fA-F]{1,6};")
_TAG_OPEN = re.compile(r"</?[a-zA-Z]")


class EntityParseError(Exception):
    """The text is not valid Telegram HTML; the message follows the Bot API's wording."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


class _TelegramHTML(HTMLParser):
    """Telegram's HTML subset: text with entities, or EntityParseError."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.parts: list[str] = []
        self.length = 0  # UTF-16 units so far
        self.stack: list[tuple[str, int, dict[str, str | None]]] = []
        self.entities: list[dict[str, Any]] = []
        self._line_starts = [0]
        for match in re.finditer("\n", source):
            self._line_starts.append(match.end())

    # where we are, for error messages
    def _here(self) -> int:
        line, column = self.getpos()
        return _byte_offset(self.source, self._line_starts[line - 1] + column)

    def _append(self, text: str) -> None:
        self.parts.append(text)
        self.length += utf16_len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        offset = self._here()
        if tag not in ALLOWED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {offset}')
        attributes = dict(attrs)
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if tag == "tg-emoji" and not (attributes.get("emoji-id") or "").isdigit():
            raise EntityParseError(f"Custom emoji entity must contain a tg-emoji identifier at byte offset {offset}")
        if self.stack and self.stack[-1][0] in ("code", "pre") and not (tag == "code" and self.stack[-1][0] == "pre"):
            raise EntityParseError(f'Entities can\'t be nested inside "{self.stack[-1][0]}" at byte offset {offset}')
        if tag == "blockquote" and any(t == "blockquote" for t, _o, _a in self.stack):
            raise EntityParseError(f"Blockquote entities can't be nested at byte offset {offset}")
        self.stack.append((tag, self.length, attributes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise EntityParseError(f'Unsupported start tag "{tag}/" at byte offset {self._here()}')

    def handle_endtag(self, tag: str) -> None:
        offset = self._here()
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
        open_tag, start, attributes = self.stack.pop()
        if open_tag != tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {offset}, expected "</{open_tag}>", found "</{tag}>"'
            )
        length = self.length - start
        if length == 0:
            return
        entity: dict[str, Any] = {"type": ALLOWED_TAGS[tag], "offset": start, "length": length}
        if tag == "a":
            entity["url"] = attributes.get("href") or "".join(self.parts)[-length:]
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes["emoji-id"]
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif tag == "code" and self.stack and self.stack[-1][0] == "pre":
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                self.stack[-1][2]["language"] = language
            return  # the pre entity carries it
        elif tag == "pre" and attributes.get("language"):
            entity["language"] = attributes["language"]
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        if "<" in data:  # html.parser lets a bare "<" through as text; Telegram does not
            index = self._line_starts[self.getpos()[0] - 1] + self.getpos()[1] + data.index("<")
            raise EntityParseError(f'Unsupported start tag "" at byte offset {_byte_offset(self.source, index)}')
        self._append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in NAMED_ENTITIES:
            raise EntityParseError(f'Unsupported HTML entity "&{name};" at byte offset {self._here()}')
        self._append(NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
            char = chr(code)
        except (ValueError, OverflowError) as exc:
            raise EntityParseError(f"Invalid character entity at byte offset {self._here()}") from exc
        if 0xD800 <= code <= 0xDFFF:
            raise EntityParseError(f"Invalid character entity at byte offset {self._here()}")
        self._append(char)

    def handle_comment(self, data: str) -> None:
        raise EntityParseError(f'Unsupported start tag "!--" at byte offset {self._here()}')

    def handle_decl(self, decl: str) -> None:
        name = decl.split()[0] if decl else ""
        raise EntityParseError(f'Unsupported start tag "!{name}" at byte offset {self._here()}')

    def unknown_decl(self, data: str) -> None:
        raise EntityParseError(f'Unsupported start tag "![" at byte offset {self._here()}')

    def handle_pi(self, data: str) -> None:
        raise EntityParseError(f'Unsupported start tag "?" at byte offset {self._here()}')


def _prescan(source: str) -> None:
    """What html.parser forgives and Telegram does not: a bare ``&``, ``<`` not opening a tag, ``</>``."""
    for match in re.finditer("&", source):
        if not _AMPERSAND_OK.match(source, match.start()):
            raise EntityParseError(
                f'Unescaped "&" (not an entity: use &amp;) at byte offset {_byte_offset(source, match.start())}'
            )
    for match in re.finditer("<", source):
        index = match.start()
        if _TAG_OPEN.match(source, index):
            continue
        offset = _byte_offset(source, index)
        if source.startswith("</", index):
            raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
        name = re.match(r"[^\s>]*", source[index + 1 :])
        raise EntityParseError(f'Unsupported start tag "{name.group(0) if name else ""}" at byte offset {offset}')


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the visible text and its entities (UTF-16 offsets)."""
    _prescan(source)
    parser = _TelegramHTML(source)
    parser.feed(source)
    parser.close()
    if parser.stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1][0]}"')
    return "".join(parser.parts), sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims leading and trailing white space, moving the entities with the text."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    end = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        stop = min(entity["offset"] + entity["length"] - lead, end)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return stripped, kept


def format_text(text: str | None, parse_mode: str | None, limit: int, *, caption: bool = False) -> tuple[str, list]:
    """Validate and parse a text or caption the way sendMessage / editMessageText do."""
    text = text or ""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            visible, entities = parse_html(text)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
    elif mode in ("", "markdown", "markdownv2"):
        visible, entities = text, []
    else:
        raise bad_request("unsupported parse_mode")
    visible, entities = _strip(visible, entities)
    if not visible and not caption:
        raise bad_request("message text is empty")
    if utf16_len(visible) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return visible, entities


def parse_markup(markup: Any) -> tuple[dict[str, Any] | None, Buttons]:
    """Validate a reply_markup; returns it (None when absent or empty) and its inline buttons."""
    if markup in (None, "", {}):
        return None, []
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except json.JSONDecodeError as exc:
            raise bad_request("can't parse reply keyboard markup JSON object") from exc
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return markup, []  # reply keyboards, ForceReply, ReplyKeyboardRemove: no inline buttons
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    buttons: Buttons = []
    for row in rows:
        out: list[tuple[str, str | None]] = []
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(TEXT_BUTTONS)
            data = button.get("callback_data")
            if data is not None and not (1 <= len(str(data).encode("utf-8")) <= CALLBACK_DATA_LIMIT):
                raise bad_request("BUTTON_DATA_INVALID")
            actions = {
                "callback_data",
                "url",
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "callback_game",
                "pay",
                "web_app",
                "copy_text",
            }
            if not actions & button.keys():
                raise bad_request(TEXT_BUTTONS)
            out.append((button["text"], None if data is None else str(data)))
        if out:
            buttons.append(out)
    if not buttons:
        return None, []
    return markup, buttons


# --------------------------------------------------------------------------------------------------------
# Request parameters: JSON values, or strings from forms
# --------------------------------------------------------------------------------------------------------
class Params:
    """A method's parameters with Telegram's typing of form strings."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else str(value)

    def integer(self, name: str, default: int | None = None, *, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty" if name != "chat_id" else "chat_id is empty")
            return default
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            if name == "chat_id":
                raise bad_request("chat not found") from exc
            raise bad_request(f"invalid {name} specified") from exc

    def number(self, name: str, default: float) -> float:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"invalid {name} specified") from exc

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def obj(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise bad_request(f"can't parse {name} JSON object") from exc
        return value


# --------------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------------
@dataclass
class _Stored:
    """A message as the server keeps it (current state; edits change it)."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    markup: dict[str, Any] | None = None
    buttons: Buttons = field(default_factory=list)
    kind: str = "message"
    file_id: str | None = None
    file_name: str | None = None
    caption: str | None = None
    sender: dict[str, Any] | None = None
    reply_to: int | None = None
    deleted: bool = False
    edited: bool = False


class BotApiServer:
    """The stand-in Bot API: start it, point the bot at ``base_url``, push updates, read what the bot sent."""

    def __init__(self, token: str = TOKEN, bot_name: str = "Helpdesk Test Bot", username: str = "helpdesk_test_bot"):
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.port = 0
        self.calls: list[ApiCall] = []
        self.errors: list[ApiError] = []
        self.body_types: list[str] = []
        """The content type of each request's body, in order ("" for none)."""
        self.conflicts: list[ApiError] = []
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self._runner: web.AppRunner | None = None
        self._cond = asyncio.Condition()
        self._closing = False
        # updates
        self._update_ids = itertools.count(1)
        self._pending: list[dict[str, Any]] = []
        self._last_pushed = 0
        self._confirmed = 0  # every update_id below this was confirmed by an offset
        self.fetched: Counter[int] = Counter()
        """How many getUpdates answers carried each update_id (1 once the bot has confirmed it)."""
        self._poll_generation = 0
        self._polls_waiting = 0
        self.allowed_updates: list[str] | None = None
        # chats and messages
        self._users: dict[int, dict[str, Any]] = {}
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._store: dict[tuple[int, int], _Stored] = {}
        self._log: defaultdict[int, list[SentMessage]] = defaultdict(list)
        self._cursor: defaultdict[int, int] = defaultdict(int)
        self._blocked: set[int] = set()
        self._files: dict[str, str] = {}
        self.uploads: dict[str, tuple[str | None, bytes]] = {}
        """Each file the bot uploaded (sendDocument, sendPhoto with a file): its name and content, by file id."""
        self._file_numbers = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._queries: dict[str, int] = {}  # open callback queries: id -> user
        self._commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._fail_next: defaultdict[str, list[TelegramError]] = defaultdict(list)
        self._fail_chat: defaultdict[int, list[TelegramError]] = defaultdict(list)
        # faults at random (``inject_faults``)
        self.fault_rate = 0.0
        self.fault_methods: frozenset[str] = FAULT_METHODS
        self.faults: Counter[int] = Counter()
        """Faults answered so far, by HTTP status."""
        self._fault_rng = random.Random(0)
        self._history: dict[int, dict[str, Any]] = {}
        self._again: set[int] = set()
        # webhook mode (``_set_webhook``): updates are posted to the URL one at a time, in order, until a 200
        self.webhook: dict[str, Any] | None = None
        self.webhook_posts: list[tuple[int, int]] = []
        """Each webhook post made: (update_id, HTTP status; 0 when the connection failed)."""
        self.webhook_connections = 1
        """Webhook posts in flight at once (Telegram: up to max_connections); with 1, a chat's updates arrive
        strictly in update_id order, each after the previous one was answered 200."""
        self._delivery: list[asyncio.Task[None]] = []
        self._methods: dict[str, Callable[[Params], Any]] = {
            "getme": self._get_me,
            "logout": self._true,
            "close": self._true,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getupdates": self._get_updates,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "copymessage": self._copy_message,
            "forwardmessage": self._forward_message,
            "sendchataction": self._send_chat_action,
        }

    # ----- life cycle ------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The bot's base URL setting (``…/bot``; the library appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def api_url(self) -> str:
        """``…/bot<token>``: append ``/<method>`` to call a method directly."""
        return f"{self.base_url}{self.token}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        async with self._cond:
            self._closing = True
            self._cond.notify_all()
        for task in self._delivery:
            task.cancel()
        await asyncio.gather(*self._delivery, return_exceptions=True)
        self._delivery = []
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ----- HTTP ----------------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        values: dict[str, Any] = dict(request.query)
        self.body_types.append(request.content_type if request.can_read_body else "")
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    values.update(body)
            else:  # application/x-www-form-urlencoded and multipart/form-data
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        values[key] = value
                    else:
                        values[key] = value
        return values

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error_response(TelegramError(401, "Unauthorized"))
        method = request.match_info["method"]
        try:
            values = await self._params(request)
        except (ValueError, json.JSONDecodeError):
            return self._error_response(bad_request("can't parse request JSON object"))
        self.calls.append(ApiCall(method, values))
        handler = self._methods.get(method.lower())
        if handler is None:
            return self._error_response(TelegramError(404, "Not Found: method not found"))
        params = Params(values)
        if self.fault_rate and method.lower() in self.fault_methods and self._fault_rng.random() < self.fault_rate:
            code = self._fault_rng.choice((429, 500, 502))
            self.faults[code] += 1
            if code == 429:
                return self._error_response(TelegramError(429, "Too Many Requests: retry after 1", {"retry_after": 1}))
            return self._error_response(TelegramError(code, "Internal Server Error" if code == 500 else "Bad Gateway"))
        try:
            pending = self._fail_next.get(method.lower())
            if pending:
                raise pending.pop(0)
            chat = str(params.raw("chat_id") or "")
            in_chat = self._fail_chat.get(int(chat)) if chat.lstrip("-").isdigit() else None
            if in_chat:
                raise in_chat.pop(0)
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except TelegramError as exc:
            chat = str(params.raw("chat_id") or "")
            chat_id = int(chat) if chat.lstrip("-").isdigit() else None
            error = ApiError(method, exc.code, exc.description, chat_id)
            # a long poll ended by a newer one: normal when an application stops (its last poll is abandoned)
            (self.conflicts if exc.code == 409 else self.errors).append(error)
            async with self._cond:
                self._cond.notify_all()
            return self._error_response(exc)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error_response(exc: TelegramError) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
        if exc.parameters:
            body["parameters"] = exc.parameters
        return web.json_response(body, status=exc.code)

    # ----- test-side controls ----------------------------------------------------------------------------
    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them fail with 403."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def fail_next(
        self, method: str, error_code: int = 429, retry_after: int = 1, description: str | None = None
    ) -> None:
        """Make the next call of *method* fail (by default Telegram's flood-control answer)."""
        if error_code == 429:
            error = TelegramError(
                429, description or f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        else:
            error = TelegramError(error_code, description or f"Error: simulated failure {error_code}")
        self._fail_next[method.lower()].append(error)

    def fail_in_chat(self, chat_id: int, times: int, error_code: int = 502) -> None:
        """Make the next *times* calls for *chat_id* (any method) fail with *error_code* (a 5xx: for now)."""
        for _ in range(times):
            self._fail_chat[chat_id].append(TelegramError(error_code, f"Error: simulated failure {error_code}"))

    def inject_faults(self, rate: float, seed: int = 0, methods: frozenset[str] | None = None) -> None:
        """Answer a share *rate* of the calls of *methods* (default: everything that sends or edits) with a
        429 (retry after 1 s), 500 or 502 at random, before doing anything — as Telegram fails. Counted in
        ``faults``; not in ``errors``."""
        self.fault_rate = rate
        self._fault_rng = random.Random(seed)
        if methods is not None:
            self.fault_methods = frozenset(m.lower() for m in methods)

    def commands(self, language_code: str | None = None, scope: str = "default") -> list[tuple[str, str]]:
        """The command menu set for *language_code* (None: the default, all languages)."""
        return list(self._commands.get((scope, language_code or ""), []))

    # ----- test side: users write and press ------------------------------------------------------------
    def meet(self, user_id: int, language_code: str | None = None) -> None:
        """*user_id* has a chat with the bot (as if they had pressed Start before the run): the bot can write to
        them before their first update arrives (e.g. a supervisor's reminder from a job at start-up)."""
        self._user(user_id, None, language_code)

    def _user(self, user_id: int, first_name: str | None, language_code: str | None) -> dict[str, Any]:
        user = dict(self._users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"})
        if first_name is not None:
            user["first_name"] = first_name
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        return user

    def _chat(self, chat_id: int) -> dict[str, Any]:
        user = self._users.get(chat_id, {})
        chat = {"id": chat_id, "type": "private", "first_name": user.get("first_name", f"User{chat_id}")}
        if user.get("username"):
            chat["username"] = user["username"]
        return chat

    def _message_json(self, stored: _Stored, with_reply: bool = True) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": stored.message_id,
            "date": stored.date,
            "chat": self._chat(stored.chat_id),
            "from": self.bot_user if stored.from_bot else stored.sender or self._users.get(stored.chat_id),
        }
        if stored.edited:
            message["edit_date"] = int(time.time())
        if stored.kind == "photo":
            assert stored.file_id is not None
            message["photo"] = [
                {
                    "file_id": stored.file_id + "-s",
                    "file_unique_id": stored.file_id[-8:] + "s",
                    "width": 90,
                    "height": 67,
                    "file_size": 1200,
                },
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_id[-8:],
                    "width": 1280,
                    "height": 960,
                    "file_size": 98000,
                },
            ]
        elif stored.kind == "document":
            message["document"] = {
                "file_id": stored.file_id,
                "file_unique_id": (stored.file_id or "")[-8:],
                "file_name": stored.file_name or "document.pdf",
                "mime_type": "application/pdf",
                "file_size": 120000,
            }
        if stored.kind in ("photo", "document"):
            if stored.caption:
                message["caption"] = stored.caption
                if stored.entities:
                    message["caption_entities"] = stored.entities
        elif stored.text is not None:
            message["text"] = stored.text
            if stored.entities:
                message["entities"] = stored.entities
        if stored.markup is not None:
            message["reply_markup"] = stored.markup
        if with_reply and stored.reply_to is not None:
            target = self._store.get((stored.chat_id, stored.reply_to))
            if target is not None and not target.deleted:
                message["reply_to_message"] = self._message_json(target, with_reply=False)
        return message

    async def _push_update(self, update: dict[str, Any]) -> int:
        async with self._cond:
            update_id = next(self._update_ids)
            self._history[update_id] = {"update_id": update_id, **update}
            self._pending.append(self._history[update_id])
            self._last_pushed = update_id
            self._cond.notify_all()
        return update_id

    def _new_file_id(self, kind: str) -> str:
        prefix = {"photo": "AgACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI"}[kind]
        file_id = f"{prefix}{next(self._file_numbers):06d}{kind}"
        self._files[file_id] = kind
        return file_id

    async def push_message(
        self,
        user_id: int,
        text: str = "",
        *,
        language_code: str | None = "en",
        first_name: str | None = None,
        photo: bool = False,
        document: bool = False,
        file_name: str = "passport-scan.pdf",
        reply_to_message_id: int | None = None,
    ) -> int:
        """A private message from *user_id* (``/command …`` gets its bot_command entity); its message_id.

        With *photo* or *document* the message carries that file and *text* becomes its caption.
        """
        user = self._user(user_id, first_name, language_code)
        message_id = next(self._message_ids[user_id])
        stored = _Stored(
            user_id, message_id, from_bot=False, date=int(time.time()), sender=user, reply_to=reply_to_message_id
        )
        if photo or document:
            stored.kind = "photo" if photo else "document"
            stored.file_id = self._new_file_id(stored.kind)
            stored.file_name = None if photo else file_name
            stored.caption = text or None
        else:
            stored.text = text
            command = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?", text)
            if command:
                stored.entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}]
        self._store[(user_id, message_id)] = stored
        await self._push_update({"message": self._message_json(stored)})
        return message_id

    async def push_raw(self, update: Mapping[str, Any]) -> int:
        """An update exactly as given, however malformed (say one the library cannot parse); its update_id.

        The update_id is assigned here, in sequence with the other updates (one in *update* is replaced).
        """
        return await self._push_update({k: v for k, v in update.items() if k != "update_id"})

    async def redeliver(self, update_ids: Iterable[int]) -> None:
        """Deliver these updates again, with their update_ids, although the bot confirmed them — as Telegram
        does after a restart when the confirmation was lost (the next getUpdates returns them once more)."""
        async with self._cond:
            for update_id in update_ids:
                self._again.add(update_id)
                self._pending.append(self._history[update_id])
            self._pending.sort(key=lambda u: u["update_id"])
            self._cond.notify_all()

    @property
    def pushed(self) -> list[int]:
        """Every update_id pushed so far."""
        return list(self._history)

    def file_of(self, chat_id: int, message_id: int) -> str | None:
        """The file_id of a photo or document message."""
        stored = self._store.get((chat_id, message_id))
        return stored.file_id if stored else None

    async def press(self, user_id: int, message: SentMessage | int, callback_data: str, *, forged: bool = False) -> str:
        """The user presses a button of a bot message; returns the callback query id.

        The button must be on the message's current keyboard, unless *forged* (a modified client or
        a very old message can send anything).
        """
        message_id = message if isinstance(message, int) else message.message_id
        stored = self._store.get((user_id, message_id))
        assert stored is not None and not stored.deleted, f"no message {message_id} in chat {user_id}"
        if not forged:
            present = [d for row in stored.buttons for _label, d in row]
            assert callback_data in present, f"{callback_data!r} is not on message {message_id}: {stored.buttons!r}"
        query_id = f"{user_id}{next(self._query_ids):08d}"
        self._queries[query_id] = user_id
        user = self._user(user_id, None, None)
        await self._push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": f"ci{user_id}",
                    "message": self._message_json(stored),
                    "data": callback_data,
                }
            }
        )
        return query_id

    async def click(self, user_id: int, message: SentMessage, label_substring: str) -> str:
        """Press the button whose label contains *label_substring* (on the message as it is now)."""
        _label, data = self.find_button(message, label_substring)
        assert data is not None, f"button {label_substring!r} has no callback_data"
        return await self.press(user_id, message, data)

    # ----- test side: reading what the bot did --------------------------------------------------------
    def chats(self) -> list[int]:
        """Every chat the bot has sent something to."""
        return sorted(self._log)

    def messages(self, chat_id: int, kinds: tuple[str, ...] | None = None) -> list[SentMessage]:
        """Everything the bot did in the chat, oldest first (optionally only some kinds)."""
        return [m for m in self._log[chat_id] if kinds is None or m.kind in kinds]

    def last(self, chat_id: int, kinds: tuple[str, ...] = SENT_KINDS) -> SentMessage | None:
        """The bot's latest message in the chat."""
        sent = self.messages(chat_id, kinds)
        return sent[-1] if sent else None

    def unread(self, chat_id: int, kinds: tuple[str, ...] = SENT_KINDS) -> list[SentMessage]:
        """Bot messages after the cursor (not yet returned by ``wait_for``), without consuming them."""
        return [m for m in self._log[chat_id][self._cursor[chat_id] :] if m.kind in kinds]

    def mark(self, chat_id: int) -> None:
        """Forget what was sent so far: ``wait_for`` waits for messages after this."""
        self._cursor[chat_id] = len(self._log[chat_id])

    def current(self, message: SentMessage | int, chat_id: int | None = None) -> SentMessage:
        """The message as it is now (after edits)."""
        if isinstance(message, SentMessage):
            chat_id, message_id = message.chat_id, message.message_id
        else:
            assert chat_id is not None
            message_id = message
        stored = self._store[(chat_id, message_id)]
        return SentMessage(
            chat_id,
            message_id,
            stored.kind,
            stored.text or stored.caption or "",
            None,
            [list(r) for r in stored.buttons],
            None,
            tuple(stored.entities),
            stored.file_id,
            stored.caption,
        )

    def buttons(self, message: SentMessage | int, chat_id: int | None = None) -> Buttons:
        """The message's inline keyboard as it is now (edits may have changed or removed it)."""
        return self.current(message, chat_id).buttons

    def find_button(self, message: SentMessage, label_substring: str) -> tuple[str, str | None]:
        """The first current button whose label contains *label_substring*."""
        return self.current(message).button(label_substring)

    def is_deleted(self, chat_id: int, message_id: int) -> bool:
        stored = self._store.get((chat_id, message_id))
        return stored is None or stored.deleted

    async def wait_for(
        self,
        chat_id: int,
        predicate: Callable[[SentMessage], bool] | None = None,
        timeout: float = 5.0,
        kinds: tuple[str, ...] = SENT_KINDS,
    ) -> SentMessage:
        """The next bot message in the chat (after the last one returned) that matches.

        Messages passed over on the way are consumed too. Raises AssertionError after *timeout* seconds,
        listing what did arrive.
        """
        found: list[SentMessage] = []

        def ready() -> bool:
            log = self._log[chat_id]
            for index in range(self._cursor[chat_id], len(log)):
                candidate = log[index]
                if candidate.kind in kinds and (predicate is None or predicate(candidate)):
                    self._cursor[chat_id] = index + 1
                    found.append(candidate)
                    return True
            return False

        try:
            async with self._cond:
                await asyncio.wait_for(self._cond.wait_for(ready), timeout)
        except TimeoutError:
            seen = [(m.kind, m.text[:80], m.data) for m in self._log[chat_id][self._cursor[chat_id] :]]
            raise AssertionError(
                f"no matching bot message in chat {chat_id} within {timeout}s; arrived since the cursor: {seen}; "
                f"API errors: {self.errors}"
            ) from None
        return found[0]

    async def wait_answer(self, query_id: str, timeout: float = 5.0) -> CallbackAnswer:
        """The bot's answer to a button press."""
        try:
            async with self._cond:
                await asyncio.wait_for(self._cond.wait_for(lambda: query_id in self.callback_answers), timeout)
        except TimeoutError:
            raise AssertionError(f"callback query {query_id} was not answered within {timeout}s") from None
        return self.callback_answers[query_id]

    async def wait_delivered(self, timeout: float = 5.0) -> None:
        """Until the bot has fetched and confirmed every update pushed so far (the next getUpdates offset)."""

        def fetched() -> bool:
            return self._last_pushed == 0 or self._confirmed > self._last_pushed

        try:
            async with self._cond:
                await asyncio.wait_for(self._cond.wait_for(fetched), timeout)
        except TimeoutError:
            raise AssertionError(f"updates up to {self._last_pushed} were not fetched within {timeout}s") from None

    async def wait_fetched(self, update_ids: Iterable[int], times: int = 2, timeout: float = 5.0) -> None:
        """Until every update in *update_ids* was fetched *times* times (after ``redeliver``) and confirmed."""
        ids = list(update_ids)

        def done() -> bool:
            return (
                all(self.fetched[i] >= times for i in ids) and not (self._again & set(ids)) and self._polls_waiting > 0
            )

        try:
            async with self._cond:
                await asyncio.wait_for(self._cond.wait_for(done), timeout)
        except TimeoutError:
            raise AssertionError(f"updates {ids} were not fetched {times} times within {timeout}s") from None

    async def wait_polling(self, timeout: float = 5.0) -> None:
        """Until a getUpdates long poll is waiting on the server."""
        async with self._cond:
            await asyncio.wait_for(self._cond.wait_for(lambda: self._polls_waiting > 0), timeout)

    def errors_for(self, chat_id: int) -> list[ApiError]:
        return [e for e in self.errors if e.chat_id == chat_id]

    # ----- methods ---------------------------------------------------------------------------------------
    @staticmethod
    def _true(params: Params) -> bool:
        return True

    def _get_me(self, params: Params) -> dict[str, Any]:
        return self.bot_user

    # ----- webhook mode ----------------------------------------------------------------------------------
    def _set_webhook(self, params: Params) -> bool:
        url = params.text("url") or ""
        if not url:
            return self._delete_webhook(params)
        secret = params.text("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = params.obj("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = allowed
        self.webhook = {"url": url, "secret_token": secret, "max_connections": params.integer("max_connections", 40)}
        self._delivery = [task for task in self._delivery if not task.done()]
        loop = asyncio.get_running_loop()
        while len(self._delivery) < self.webhook_connections:
            self._delivery.append(loop.create_task(self._deliver()))
        return True

    def _delete_webhook(self, params: Params) -> bool:
        self.webhook = None
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        return True

    def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        hook = self.webhook or {}
        return {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
            "max_connections": hook.get("max_connections", 40),
        }

    async def _deliver(self) -> None:
        """Post pending updates to the webhook, oldest first, each until it is answered 200, as Telegram does
        (``webhook_connections`` of these run at once; one: strictly in order)."""
        import aiohttp

        async with aiohttp.ClientSession() as session:
            while True:
                async with self._cond:
                    await self._cond.wait_for(lambda: self._closing or self.webhook is None or bool(self._pending))
                    if self._closing or self.webhook is None:
                        return
                    update, hook = self._pending.pop(0), self.webhook
                headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]} if hook["secret_token"] else {}
                try:
                    timeout = aiohttp.ClientTimeout(total=10)
                    async with session.post(hook["url"], json=update, headers=headers, timeout=timeout) as response:
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                self.webhook_posts.append((update["update_id"], status))
                async with self._cond:
                    if status == 200:
                        self.fetched[update["update_id"]] += 1
                        self._confirmed = max(self._confirmed, update["update_id"] + 1)
                    else:  # posted again, in its place
                        self._pending.append(update)
                        self._pending.sort(key=lambda u: u["update_id"])
                    self._cond.notify_all()
                if status != 200:
                    await asyncio.sleep(0.05)

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
                "webhook first",
            )
        offset = params.integer("offset", 0) or 0
        limit = min(max(params.integer("limit", 100) or 100, 1), 100)
        timeout = max(params.number("timeout", 0.0), 0.0)
        allowed = params.obj("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = allowed
        async with self._cond:
            if offset > 0:
                self._pending = [u for u in self._pending if u["update_id"] >= offset or u["update_id"] in self._again]
                self._confirmed = max(self._confirmed, offset)
            elif offset < 0:
                self._pending = self._pending[offset:]
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # a newer getUpdates ends an older one (409), as Telegram does
            if not self._pending and timeout > 0 and not self._closing:
                self._polls_waiting += 1
                self._cond.notify_all()
                try:
                    await asyncio.wait_for(
                        self._cond.wait_for(
                            lambda: bool(self._pending) or self._closing or self._poll_generation != generation
                        ),
                        timeout,
                    )
                except TimeoutError:
                    pass
                finally:
                    self._polls_waiting -= 1
                if self._poll_generation != generation:
                    raise TelegramError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
                        "is running",
                    )
            batch = list(self._pending[:limit])
            self.fetched.update(u["update_id"] for u in batch)
            self._again -= {u["update_id"] for u in batch}  # delivered again once; confirmed like the others
            return batch

    def _set_my_commands(self, params: Params) -> bool:
        commands = params.obj("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        parsed: list[tuple[str, str]] = []
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            description = str(command.get("description", "")) if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name.removeprefix("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            parsed.append((name.removeprefix("/"), description))
        self._commands[self._commands_key(params)] = parsed
        return True

    def _commands_key(self, params: Params) -> tuple[str, str]:
        scope = params.obj("scope")
        scope_type = scope.get("type", "default") if isinstance(scope, dict) else "default"
        if isinstance(scope, dict) and "chat_id" in scope:
            scope_type = f"{scope_type}:{scope['chat_id']}"  # a chat's own menu
        return scope_type, params.text("language_code") or ""

    def _get_my_commands(self, params: Params) -> list[dict[str, str]]:
        return [{"command": c, "description": d} for c, d in self._commands.get(self._commands_key(params), [])]

    def _delete_my_commands(self, params: Params) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _target_chat(self, params: Params, name: str = "chat_id") -> int:
        chat_id = params.integer(name, required=True)
        assert chat_id is not None
        if chat_id not in self._users:
            raise bad_request("chat not found")
        if chat_id in self._blocked:
            raise TelegramError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _reply_to(self, params: Params, chat_id: int) -> int | None:
        target = params.integer("reply_to_message_id")
        allow = params.flag("allow_sending_without_reply")
        reply = params.obj("reply_parameters")
        if isinstance(reply, dict):
            target = int(reply["message_id"]) if reply.get("message_id") is not None else None
            allow = allow or bool(reply.get("allow_sending_without_reply"))
        if target is None:
            return None
        stored = self._store.get((chat_id, target))
        if stored is None or stored.deleted:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return target

    async def _record(
        self, stored: _Stored, kind: str, parse_mode: str | None, raw: str | None, from_chat_id: int | None = None
    ) -> None:
        entry = SentMessage(
            chat_id=stored.chat_id,
            message_id=stored.message_id,
            kind=kind,
            text=(stored.caption if stored.kind in ("photo", "document") else stored.text) or "",
            parse_mode=parse_mode,
            buttons=[list(row) for row in stored.buttons],
            raw_text=raw,
            entities=tuple(stored.entities),
            file_id=stored.file_id,
            caption=stored.caption,
            reply_to_message_id=stored.reply_to,
            from_chat_id=from_chat_id,
        )
        async with self._cond:
            self._log[stored.chat_id].append(entry)
            self._cond.notify_all()

    async def _send_message(self, params: Params) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        raw = params.text("text")
        if raw is None or raw == "":
            raise bad_request("message text is empty")
        parse_mode = params.text("parse_mode")
        text, entities = format_text(raw, parse_mode, TEXT_LIMIT)
        markup, buttons = parse_markup(params.obj("reply_markup"))
        reply_to = self._reply_to(params, chat_id)
        stored = _Stored(
            chat_id,
            next(self._message_ids[chat_id]),
            True,
            int(time.time()),
            text,
            entities,
            markup,
            buttons,
            reply_to=reply_to,
        )
        self._store[(chat_id, stored.message_id)] = stored
        await self._record(stored, "message", parse_mode, raw)
        return self._message_json(stored)

    async def _send_file(self, params: Params, kind: str) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        value = params.raw(kind)
        if value is None or value == "":
            raise bad_request(f"there is no {kind} in the request")
        file_name = None
        if isinstance(value, web.FileField):
            file_id = self._new_file_id(kind)
            file_name = value.filename
            self.uploads[file_id] = (file_name, value.file.read())
        else:
            file_id = str(value)
            if file_id.startswith(("attach://",)):
                raise bad_request(f"there is no {kind} in the request")
            known = self._files.get(file_id.removesuffix("-s"))
            if known is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            if known != kind:
                raise bad_request(f"can't use file of type {known.capitalize()} as {kind.capitalize()}")
            file_id = file_id.removesuffix("-s")
        parse_mode = params.text("parse_mode")
        caption, entities = format_text(params.text("caption"), parse_mode, CAPTION_LIMIT, caption=True)
        markup, buttons = parse_markup(params.obj("reply_markup"))
        stored = _Stored(
            chat_id,
            next(self._message_ids[chat_id]),
            True,
            int(time.time()),
            None,
            entities,
            markup,
            buttons,
            kind=kind,
            file_id=file_id,
            file_name=file_name,
            caption=caption or None,
            reply_to=self._reply_to(params, chat_id),
        )
        self._store[(chat_id, stored.message_id)] = stored
        await self._record(stored, kind, parse_mode, params.text("caption"))
        return self._message_json(stored)

    async def _send_photo(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "photo")

    async def _send_document(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "document")

    def _editable(self, params: Params) -> _Stored:
        if params.text("inline_message_id"):
            raise bad_request("message to edit not found")
        chat_id = params.integer("chat_id", required=True)
        message_id = params.integer("message_id", required=True)
        assert chat_id is not None and message_id is not None
        if chat_id in self._blocked:
            raise TelegramError(403, "Forbidden: bot was blocked by the user")
        stored = self._store.get((chat_id, message_id))
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        return stored

    async def _edit_message_text(self, params: Params) -> dict[str, Any]:
        stored = self._editable(params)
        if stored.kind != "message":
            raise bad_request("there is no text in the message to edit")
        raw = params.text("text")
        if not raw:
            raise bad_request("message text is empty")
        parse_mode = params.text("parse_mode")
        text, entities = format_text(raw, parse_mode, TEXT_LIMIT)
        markup, buttons = parse_markup(params.obj("reply_markup"))
        if text == stored.text and entities == stored.entities and markup == stored.markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same as "
                "a current content and reply markup of the message"
            )
        stored.text, stored.entities, stored.markup, stored.buttons = text, entities, markup, buttons
        stored.edited = True
        await self._record(stored, "edit", parse_mode, raw)
        return self._message_json(stored)

    async def _edit_message_reply_markup(self, params: Params) -> dict[str, Any]:
        stored = self._editable(params)
        markup, buttons = parse_markup(params.obj("reply_markup"))
        if markup == stored.markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same as "
                "a current content and reply markup of the message"
            )
        stored.markup, stored.buttons, stored.edited = markup, buttons, True
        await self._record(stored, "edit", None, None)
        return self._message_json(stored)

    async def _delete_message(self, params: Params) -> bool:
        chat_id = params.integer("chat_id", required=True)
        message_id = params.integer("message_id", required=True)
        assert chat_id is not None and message_id is not None
        stored = self._store.get((chat_id, message_id))
        if stored is None or stored.deleted:
            raise bad_request("message to delete not found")
        stored.deleted = True
        async with self._cond:
            self._cond.notify_all()
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        user_id = self._queries.pop(query_id, None)
        if user_id is None:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.text("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        async with self._cond:
            self.callback_answers[query_id] = CallbackAnswer(query_id, user_id, text or None, params.flag("show_alert"))
            self._cond.notify_all()
        return True

    def _source(self, params: Params, verb: str) -> _Stored:
        from_chat = params.integer("from_chat_id", required=True)
        message_id = params.integer("message_id", required=True)
        stored = self._store.get((from_chat or 0, message_id or 0))
        if stored is None or stored.deleted:
            raise bad_request(f"message to {verb} not found")
        return stored

    async def _copy_message(self, params: Params) -> dict[str, int]:
        chat_id = self._target_chat(params)
        source = self._source(params, "copy")
        markup, buttons = parse_markup(params.obj("reply_markup"))
        caption = source.caption
        entities = source.entities
        if params.raw("caption") is not None and source.kind in ("photo", "document"):
            mode = params.text("parse_mode")
            caption, entities = format_text(params.text("caption"), mode, CAPTION_LIMIT, caption=True)
        copy = _Stored(
            chat_id,
            next(self._message_ids[chat_id]),
            True,
            int(time.time()),
            source.text,
            list(entities),
            markup,
            buttons,
            kind=source.kind,
            file_id=source.file_id,
            file_name=source.file_name,
            caption=caption,
            reply_to=self._reply_to(params, chat_id),
        )
        self._store[(chat_id, copy.message_id)] = copy
        await self._record(copy, "copy", None, source.text, from_chat_id=source.chat_id)
        return {"message_id": copy.message_id}

    async def _forward_message(self, params: Params) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        source = self._source(params, "forward")
        forward = _Stored(
            chat_id,
            next(self._message_ids[chat_id]),
            True,
            int(time.time()),
            source.text,
            list(source.entities),
            None,
            [],
            kind=source.kind,
            file_id=source.file_id,
            file_name=source.file_name,
            caption=source.caption,
        )
        self._store[(chat_id, forward.message_id)] = forward
        await self._record(forward, "forward", None, source.text, from_chat_id=source.chat_id)
        message = self._message_json(forward)
        origin_user = self._users.get(source.chat_id, {"id": source.chat_id, "is_bot": False, "first_name": "?"})
        message["forward_origin"] = {
            "type": "user",
            "date": source.date,
            "sender_user": self.bot_user if source.from_bot else origin_user,
        }
        return message

    def _send_chat_action(self, params: Params) -> bool:
        self._target_chat(params)
        action = params.text("action")
        if action not in (
            "typing",
            "upload_photo",
            "record_video",
            "upload_video",
            "record_voice",
            "upload_voice",
            "upload_document",
            "choose_sticker",
            "find_location",
            "record_video_note",
            "upload_video_note",
        ):
            raise bad_request("wrong parameter action in request")
        return True
