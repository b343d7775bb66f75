"""The after-sales commands: `/returns` (managers: pending list, batch approval, rejection) and `/request` (open a
request on a ticket, move one along). Typed commands, their grammar (English and Chinese words) and answers.

    /returns [pending]                      requests awaiting approval, oldest first       (managers)
    /returns approve ID [ID…] | all         approve them; returns and exchanges get the return instructions
    /returns reject ID REASON               reject one, saying why                          (managers)
    /request TICKET TYPE [AMOUNT CURRENCY] [REASON] [note…]   open a request: /request 42 refund 25.00 EUR damaged
    /request ID received|refunded|reshipped|close [note…]     the next step of request ID

The parser (handlers/commands/parser.py) hands the words after the command here; the executor runs the answers
with the context's `AfterSalesDesk` (bot/after_sales), which checks the flow and the manager role again.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

from bot.after_sales.money import MoneyError, parse_amount
from bot.wording import Wording
from handlers.commands.errors import CommandError
from handlers.commands.parsed import (
    RequestOpenCommand,
    RequestStepCommand,
    ReturnsApproveCommand,
    ReturnsPendingCommand,
    ReturnsRejectCommand,
    Word,
)
from handlers.phrases import PHRASES, Phrase, language_of, phrase, say

if TYPE_CHECKING:
    from bot.after_sales.desk import Who
    from handlers.commands.answers import AnswerContext, CommandAnswer

RETURNS_USAGE: Final[str] = "/returns [pending] | /returns approve ID [ID…] | /returns approve all | " \
                            "/returns reject ID REASON"
REQUEST_USAGE: Final[str] = "/request TICKET return|refund|exchange|reship [AMOUNT CURRENCY] [REASON] [note] | " \
                            "/request ID received|refunded|reshipped|close [note]"
MAX_NOTE: Final[int] = 1000
MAX_IDS: Final[int] = 100

RETURNS_WORDS: Final[dict[str, str]] = {
    "pending": "pending", "list": "pending", "ls": "pending", "待审批": "pending", "待处理": "pending",
    "approve": "approve", "ok": "approve", "批准": "approve", "通过": "approve", "同意": "approve",
    "reject": "reject", "deny": "reject", "拒绝": "reject", "驳回": "reject",
}
ALL_WORDS: Final[frozenset[str]] = frozenset({"all", "全部", "所有"})
TYPE_WORDS: Final[dict[str, str]] = {
    "return": "return", "退货": "return", "refund": "refund", "退款": "refund", "exchange": "exchange",
    "换货": "exchange", "reship": "reship", "resend": "reship", "补发": "reship", "重发": "reship",
}
STEP_WORDS: Final[dict[str, str]] = {
    "received": "item_received", "item_received": "item_received", "收到": "item_received",
    "已收货": "item_received", "refunded": "refunded", "已退款": "refunded", "reshipped": "reshipped",
    "已补发": "reshipped", "已重发": "reshipped", "close": "closed", "closed": "closed", "关闭": "closed",
    "结束": "closed",
}
REASON_WORDS: Final[dict[str, str]] = {
    "damaged": "damaged", "损坏": "damaged", "破损": "damaged", "wrong_item": "wrong_item", "wrong": "wrong_item",
    "发错": "wrong_item", "错发": "wrong_item", "not_received": "not_received", "未收到": "not_received",
    "没收到": "not_received", "changed_mind": "changed_mind", "不想要": "changed_mind", "改变主意": "changed_mind",
    "defective": "defective", "质量问题": "defective", "故障": "defective", "late": "late", "延误": "late",
    "other": "other", "其他": "other",
}
# Every Chinese word above, for the parser's splitting of unspaced Chinese ("售后待审批").
CJK_WORDS: Final[tuple[str, ...]] = tuple(
    word for table in (RETURNS_WORDS, ALL_WORDS, TYPE_WORDS, STEP_WORDS, REASON_WORDS) for word in table
    if not word.isascii())
_ID_RE: Final = re.compile(r"#?([0-9]{1,18})")
_AMOUNT_RE: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?")


AfterSalesCommand = (ReturnsPendingCommand | ReturnsApproveCommand | ReturnsRejectCommand | RequestOpenCommand
                     | RequestStepCommand)
MANAGER_COMMANDS: Final[dict[type, str]] = {
    ReturnsPendingCommand: "list the after-sales requests awaiting approval",
    ReturnsApproveCommand: "approve after-sales requests",
    ReturnsRejectCommand: "reject after-sales requests",
}


# ---- grammar ------------------------------------------------------------------------------------------------


def _id(word: Word, what: Phrase, usage: str) -> int:
    match = _ID_RE.fullmatch(word.text)
    if not match or int(match.group(1)) == 0:
        raise CommandError(say("command.not_a_number", what=what, example=42, word=word.text), usage, word=word.text)
    return int(match.group(1))


def _rest(source: str, words: Sequence[Word], index: int) -> str | None:
    if index >= len(words):
        return None
    text = source[words[index].start:].strip().strip("\"'“”「」").strip()
    if len(text) > MAX_NOTE:
        raise CommandError(say("command.text_too_long", what=say("noun.note"), length=len(text), limit=MAX_NOTE), "")
    return text or None


def _hinted(message: Phrase, word: Word, vocabulary: Mapping[str, str] | frozenset[str], usage: str) -> CommandError:
    """The error `message` about `word`, with a "Did you mean" of the closest word of `vocabulary` if any."""
    close = difflib.get_close_matches(word.key, sorted(vocabulary), n=1, cutoff=0.6)
    if close:
        message = say("hint.did_you_mean", message=message, suggestion=close[0])
    return CommandError(message, usage, word=word.text, suggestion=close[0] if close else None)


def parse_returns(head: Word, args: Sequence[Word], source: str) -> AfterSalesCommand:
    """`/returns …` (the words after the command)."""
    if not args:
        return ReturnsPendingCommand()
    sub = RETURNS_WORDS.get(args[0].key)
    if sub is None:
        raise _hinted(say("command.unknown_word_after", word=args[0].text, after=head.text), args[0], RETURNS_WORDS,
                      RETURNS_USAGE)
    rest = args[1:]
    if sub == "pending":
        if rest:
            raise CommandError(say("command.unexpected", word=rest[0].text, after=f"{head.text} {args[0].text}"),
                               RETURNS_USAGE, word=rest[0].text)
        return ReturnsPendingCommand()
    if sub == "approve":
        if not rest:
            raise CommandError(say("returns.needs_ids", word=args[0].text), RETURNS_USAGE)
        if rest[0].key in ALL_WORDS:
            if len(rest) > 1:
                raise CommandError(say("command.unexpected", word=rest[1].text, after=say("returns.all")),
                                   RETURNS_USAGE, word=rest[1].text)
            return ReturnsApproveCommand(None)
        ids = tuple(dict.fromkeys(_id(word, say("noun.request_id"), RETURNS_USAGE) for word in rest))
        if len(ids) > MAX_IDS:
            raise CommandError(say("returns.too_many", count=len(ids), limit=MAX_IDS), RETURNS_USAGE)
        return ReturnsApproveCommand(ids)
    if not rest:
        raise CommandError(say("returns.needs_id_and_reason", word=args[0].text), RETURNS_USAGE)
    request_id = _id(rest[0], say("noun.request_id"), RETURNS_USAGE)
    reason = _rest(source, rest, 1)
    if reason is None:
        raise CommandError(say("returns.needs_reason", id=request_id), RETURNS_USAGE)
    return ReturnsRejectCommand(request_id, reason)


def parse_request(head: Word, args: Sequence[Word], source: str) -> AfterSalesCommand:
    """`/request TICKET TYPE …` or `/request ID STEP …` (the words after the command)."""
    if len(args) < 2:
        raise CommandError(say("request.needs_args", head=head.text), REQUEST_USAGE)
    number = _id(args[0], say("noun.ticket_or_request_id"), REQUEST_USAGE)
    second = args[1]
    if second.key in STEP_WORDS:
        return RequestStepCommand(number, STEP_WORDS[second.key], _rest(source, args, 2))
    if second.key not in TYPE_WORDS:
        raise _hinted(say("request.not_type_or_step", word=second.text), second, {**TYPE_WORDS, **STEP_WORDS},
                      REQUEST_USAGE)
    amount = currency = reason = None
    i = 2
    if i < len(args) and _AMOUNT_RE.fullmatch(args[i].text):
        if i + 1 >= len(args):
            raise CommandError(say("request.needs_currency", amount=args[i].text), REQUEST_USAGE, word=args[i].text)
        try:
            money = parse_amount(args[i].text, args[i + 1].text)
        except MoneyError as exc:
            raise CommandError(core_error("money", exc), REQUEST_USAGE, word=args[i + 1].text) from None
        amount, currency = f"{money.amount}", money.currency
        i += 2
    if i < len(args):
        if args[i].key in REASON_WORDS:
            reason = REASON_WORDS[args[i].key]
            i += 1
        elif i + 1 >= len(args):
            raise _hinted(say("request.not_a_reason", word=args[i].text), args[i], REASON_WORDS, REQUEST_USAGE)
    return RequestOpenCommand(number, TYPE_WORDS[second.key], amount, currency, reason, _rest(source, args, i))


# ---- words --------------------------------------------------------------------------------------------------

# Fields of the desk's wordings that hold a request type, a status or a reason code (written in the asker's words).
_CODE_FIELDS: Final[dict[str, str]] = {"type": "type", "status": "status", "wanted": "status", "reason": "reason"}
# Fields that hold a list of such codes ("types: return, refund, …"), written one by one.
_CODE_LISTS: Final[dict[str, str]] = {"types": "type", "statuses": "status", "reasons": "reason"}


def core_error(prefix: str, error: Exception) -> Phrase | str:
    """A refusal of the core (a `bot.wording.WordedError`) as a sentence of the catalogue ("command.sentence" around
    the key `prefix`.`wording.key`); its English text with a full stop where it has no wording."""
    wording = getattr(error, "wording", None)
    if not isinstance(wording, Wording) or f"{prefix}.{wording.key}" not in PHRASES:
        return f"{error}."
    return say("command.sentence", error=say(f"{prefix}.{wording.key}", **wording.fields))


def request_word(group: str, code: str, language: str) -> str:
    """A request type, status or reason code (`group` "type", "status", "reason") in `language`: the code itself in
    English ("refund"), the word in Chinese ("退款"); an unknown code as it is."""
    key = f"after_sales.{group}.{code}"
    return phrase(key, language) if key in PHRASES else code


def after_sales_text(message: str, wording: Wording | None, language: str) -> str:
    """The desk's answer in `language`: `message` (its English) unless the language is another and the desk gave
    the answer's wording."""
    if wording is None or language_of(language) == "en":
        return message
    return wording_text(wording, language)


def wording_text(wording: Wording, language: str) -> str:
    """The desk's `wording` written in `language` (in English it reads as the desk's own message)."""

    def value(name: str, field: object) -> object:
        if isinstance(field, Wording):
            return wording_text(field, language)
        if name in _CODE_FIELDS and isinstance(field, str):
            return request_word(_CODE_FIELDS[name], field, language)
        if name == "next" and isinstance(field, tuple):
            return phrase("after_sales.or", language).join(request_word("status", s, language) for s in field)
        if name in _CODE_LISTS and isinstance(field, tuple):
            return phrase("list.comma", language).join(request_word(_CODE_LISTS[name], c, language) for c in field)
        if name == "results" and isinstance(field, tuple):
            return "".join("\n" + str(value("result", result)) for result in field)
        if isinstance(field, tuple) and all(isinstance(item, Wording) for item in field):
            return phrase("list.comma", language).join(wording_text(item, language) for item in field)
        return field

    return phrase(f"after_sales.{wording.key}", language,
                  **{name: value(name, field) for name, field in wording.fields.items()})


# ---- answers ------------------------------------------------------------------------------------------------


def _who(ctx: AnswerContext) -> Who:
    from bot.after_sales.desk import Who

    name = ctx.actor.name or "local-admin"
    return Who(name, name, ctx.actor.has_role("manager"))


def _run(ctx: AnswerContext, action: str, call: object) -> CommandAnswer:
    from bot.after_sales.desk import AfterSalesError
    from handlers.commands.answers import CommandAnswer

    if ctx.after_sales is None:
        return CommandAnswer(phrase("returns.unavailable", ctx.language), ok=False,
                             details={"error": "no after-sales desk"})
    try:
        outcome = call(ctx.after_sales)  # type: ignore[operator]
    except AfterSalesError as exc:
        return CommandAnswer(after_sales_text(str(exc), exc.wording, ctx.language), ok=False,
                             details={"after_sales": action, "error": str(exc)})
    return CommandAnswer(after_sales_text(outcome.message, outcome.wording, ctx.language), card=outcome.card,
                         details={"after_sales": action, "requests": list(outcome.request_ids)})


def answer_returns_pending(_command: ReturnsPendingCommand, ctx: AnswerContext) -> CommandAnswer:
    from bot.after_sales.desk import money_of
    from handlers.commands.answers import CommandAnswer, format_seconds, table

    lang = ctx.language
    if ctx.after_sales is None:
        return CommandAnswer(phrase("returns.unavailable", lang), ok=False, details={"error": "no after-sales desk"})
    rows, total = ctx.after_sales.pending()
    if not rows:
        return CommandAnswer(phrase("returns.none", lang))
    lines = [[f"#{r.id}", f"#{r.ticket_id}", request_word("type", r.type, lang), str(money_of(r) or "–"),
              request_word("reason", r.reason, lang), r.sku or "–", r.marketplace or "–", r.country or "–",
              format_seconds((ctx.now - r.created_at).total_seconds(), lang)] for r in rows]
    head = phrase("returns.pending.1" if total == 1 else "returns.pending.n", lang, count=total)
    header = ["ID", *(phrase(f"returns.header.{column}", lang) for column in ("ticket", "type", "amount", "reason")),
              "SKU", *(phrase(f"returns.header.{column}", lang) for column in ("market", "country", "age"))]
    text = "\n".join([head, table(header, lines)])
    if total > len(rows):
        text += "\n" + phrase("returns.more", lang, count=total - len(rows))
    text += "\n" + phrase("returns.how", lang)
    return CommandAnswer(text, details={"pending": total})


def answer_returns_approve(command: ReturnsApproveCommand, ctx: AnswerContext) -> CommandAnswer:
    return _run(ctx, "approve", lambda desk: desk.approve_many(command.request_ids, _who(ctx), now=ctx.now))


def answer_returns_reject(command: ReturnsRejectCommand, ctx: AnswerContext) -> CommandAnswer:
    return _run(ctx, "reject", lambda desk: desk.advance(command.request_id, "rejected", _who(ctx),
                                                         note=command.reason, now=ctx.now))


def answer_request_open(command: RequestOpenCommand, ctx: AnswerContext) -> CommandAnswer:
    money = parse_amount(command.amount, command.currency) if command.amount and command.currency else None
    return _run(ctx, "open", lambda desk: desk.open_request(
        command.ticket_id, command.request_type, _who(ctx), amount=money, reason=command.reason,
        note=command.note, now=ctx.now))


def answer_request_step(command: RequestStepCommand, ctx: AnswerContext) -> CommandAnswer:
    return _run(ctx, command.status, lambda desk: desk.advance(command.request_id, command.status, _who(ctx),
                                                               note=command.note, now=ctx.now))


AFTER_SALES_ANSWERS: Final = {
    ReturnsPendingCommand: answer_returns_pending,
    ReturnsApproveCommand: answer_returns_approve,
    ReturnsRejectCommand: answer_returns_reject,
    RequestOpenCommand: answer_request_open,
    RequestStepCommand: answer_request_step,
}
