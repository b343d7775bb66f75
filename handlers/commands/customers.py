"""The `/customer` command: a customer's profile, and the tags and notes agents keep on it.

    /customer ID|EMAIL                     the profile: value tier, orders, lifetime value, tags, latest notes
    /customer ID tag vip | untag vip       add or remove a tag
    /customer ID note "prefers email"      add a note (shown on the customer's next cards)

ID is the customer's id on their channel (`c-42`, or `webhook:c-42` where two channels share an id) or their
email. Chinese: 客户 ID, 客户 ID 标签 vip, 客户 ID 删除标签 vip, 客户 ID 备注 …. Any agent may run it; every
change is an AuditEvent (bot/customer_profiles.py). The parser (handlers/commands/parser.py) hands the words after
the command here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from sqlmodel import Session

from bot.customer_profiles import (
    add_note,
    add_tag,
    find_customers,
    money,
    recent_notes,
    remove_tag,
)
from handlers.commands.errors import CommandError
from handlers.commands.help_texts import usage_line
from handlers.commands.parsed import CustomerCommand, Word
from handlers.commands.returns import core_error
from handlers.phrases import PHRASES, phrase, say

if TYPE_CHECKING:
    from handlers.commands.answers import AnswerContext, CommandAnswer

CUSTOMER_ACTIONS: Final[dict[str, str]] = {
    "tag": "tag", "标签": "tag", "加标签": "tag",
    "untag": "untag", "删除标签": "untag", "去掉标签": "untag",
    "note": "note", "备注": "note",
}
CJK_WORDS: Final[tuple[str, ...]] = tuple(word for word in CUSTOMER_ACTIONS if not word.isascii())
MAX_WHO: Final[int] = 255
_QUOTES: Final[str] = "\"'“”‘’「」『』"


def parse_customer(head: Word, args: Sequence[Word], source: str) -> CustomerCommand:
    usage = usage_line("customer")
    command = "/" + head.text.lstrip("/")
    if not args:
        raise CommandError(say("customer.needs_who", command=command), usage)
    who = args[0].text.strip(_QUOTES)
    if not who or len(who) > MAX_WHO:
        raise CommandError(say("customer.not_who", word=args[0].text[:40]), usage, word=args[0].text)
    if len(args) == 1:
        return CustomerCommand(who=who)
    action = CUSTOMER_ACTIONS.get(args[1].key)
    if action is None:
        raise CommandError(say("customer.unknown_action", word=args[1].text, after=f"{command} {args[0].text}"),
                           usage, word=args[1].text)
    if len(args) < 3:
        example = say("customer.example.note") if action == "note" else "vip"
        raise CommandError(say("customer.needs_value", word=args[1].text, command=command, who=who, example=example),
                           usage)
    value = source[args[2].start:].strip().strip(_QUOTES).strip()
    if action != "note" and len(args) > 3 and not args[2].text.startswith(tuple(_QUOTES)):
        raise CommandError(say("customer.tag_one_word", first=args[2].text, second=args[3].text), usage,
                           word=args[3].text)
    return CustomerCommand(who=who, action=action, value=value)


def answer_customer(command: CustomerCommand, ctx: AnswerContext) -> CommandAnswer:
    from handlers.commands.answers import CommandAnswer, local_time

    actor = f"agent:{ctx.actor.name}" if ctx.actor.name else "local-admin"
    lang = ctx.language
    with Session(ctx.engine) as session, session.begin():
        customers = find_customers(session, command.who)
        if not customers:
            return CommandAnswer(phrase("customer.unknown", lang, who=command.who),
                                 ok=False, details={"error": "unknown customer"})
        if len(customers) > 1 and command.action is not None:
            names = ", ".join(f"{c.channel}:{c.external_id}" for c in customers[:5])
            return CommandAnswer(phrase("customer.ambiguous", lang, count=len(customers), who=command.who,
                                        names=names), ok=False, details={"error": "ambiguous customer"})
        done = ""
        if command.action is not None:
            customer = customers[0]
            assert command.value is not None
            tag = command.value.lower()
            try:
                if command.action == "tag":
                    changed = add_tag(session, customer, command.value, actor)
                    done = phrase("customer.tagged" if changed else "customer.already_tagged", lang, tag=tag)
                elif command.action == "untag":
                    changed = remove_tag(session, customer, command.value, actor)
                    done = phrase("customer.untagged" if changed else "customer.no_such_tag", lang, tag=tag)
                else:
                    add_note(session, customer, command.value, actor)
                    done = phrase("customer.noted", lang)
            except ValueError as exc:  # a ProfileError: a bad tag or note
                raise CommandError(core_error("customer.error", exc), usage_line("customer")) from None
        blocks = []
        for customer in customers[:5]:
            assert customer.id is not None
            who = customer.name or customer.external_id
            lines = [f"*{who}* · {customer.channel}:{customer.external_id}"
                     + (f" · {customer.email}" if customer.email else "")]
            place = " · ".join(x for x in (customer.language, customer.country) if x)
            if place:
                lines.append(place)
            tier = f"customer.tier.{customer.tier}"
            lines.append(phrase("customer.tier", lang,
                                tier=say(tier if tier in PHRASES else "customer.tier.unknown")))
            history = []
            if customer.orders_count is not None:
                history.append(phrase("customer.orders", lang, count=customer.orders_count))
            if (spent := money(customer)) is not None:
                history.append(phrase("customer.lifetime_value", lang, amount=spent))
            if customer.last_order_at is not None:
                history.append(phrase("customer.last_order", lang,
                                      at=local_time(customer.last_order_at, ctx.timezone)))
            if history:
                lines.append(" · ".join(history))
            lines.append(phrase("customer.tags", lang, tags=", ".join(customer.tags) if customer.tags
                                else say("customer.no_tags")))
            notes = recent_notes(session, customer.id, limit=5)
            if notes:
                lines.append(phrase("customer.notes", lang))
                lines += [f"  {local_time(note.created_at, ctx.timezone)} {note.author}: {note.text}" for note in notes]
            blocks.append("\n".join(lines))
        text = "\n\n".join(blocks)
        if len(customers) > 5:
            text += "\n\n" + phrase("customer.first_five", lang, count=len(customers))
    return CommandAnswer(f"{done}\n{text}" if done else text)


CUSTOMER_ANSWERS: Final = {CustomerCommand: answer_customer}
