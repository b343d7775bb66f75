"""Usage lines, examples and the help text of manager commands (plain text; adapters render it), in English and
Chinese (`help_text(language="zh")`: summaries and details from `COMMAND_HELP_ZH`, usage lines with the Chinese
aliases of each command, Chinese examples first; the fixed words come from handlers.phrases).

The parser takes its usage lines from here, so an error and `/kefu help` always show the same grammar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

from handlers.commands.errors import CommandError, usage_in
from handlers.commands.vocabulary import COMMAND_ALIASES, HELP_TOPICS
from handlers.phrases import language_of, phrase, say


@dataclass(frozen=True)
class CommandHelp:
    name: str
    usage: str
    summary: str
    details: tuple[str, ...]
    examples: tuple[str, ...]  # the first is the one shown in the overview
    manager_note: str | None = None


COMMAND_HELP: Final[dict[str, CommandHelp]] = {
    "metrics": CommandHelp(
        name="metrics",
        usage="/metrics [today|24h|7d|30d|FROM..TO] [by intent|channel|region|agent|language|marketplace|sku]"
        " [vs prev] [chart]",
        summary="team numbers for a time window, optionally broken down, compared and charted",
        details=(
            "Window: today (default; since midnight in your timezone), yesterday, 24h, 7d, 30d, any Nh/Nd/Nw up to"
            " 400 days,"
            " or dates FROM..TO such as 2026-11-01..2026-11-15 (TO included).",
            "by: intent, channel (source), region (country, geo), agent (assignee), language (lang),"
            " marketplace (market, mp), sku (product).",
            "vs prev (or compare) adds the window just before; chart adds a chart where images are supported.",
            "Options go in any order. Chinese: 指标/数据, 今天, 昨天, 24小时, 7天/近7天, 30天,"
            " 按地区/按渠道/按意图/按客服/按语言/按平台/按商品, 对比/环比, 图表.",
        ),
        examples=("/metrics 7d by intent", "/metrics today vs prev chart", "/指标 近7天 按地区 环比"),
        manager_note="metrics by agent need the manager role",
    ),
    "sla": CommandHelp(
        name="sla",
        usage="/sla",
        summary="open tickets at risk of breaching their SLA and those already breached, oldest first, with owners",
        details=("At risk means due within the pre-breach window of the SLA policy.",),
        examples=("/sla",),
    ),
    "alerts": CommandHelp(
        name="alerts",
        usage="/alerts | /alerts silence RULE [LABEL=VALUE…] DURATION [reason] | /alerts unsilence ID",
        summary="firing alerts; silence a rule for a while or end a silence",
        details=(
            "LABEL is one of channel, intent, region, marketplace, severity, language, group.",
            "DURATION: 30m, 2h, 1d, 1h30m … at most 30 days. Everything after it is the reason.",
            "Chinese: 告警, 告警 静默 RULE 2小时 原因, 告警 取消静默 ID.",
        ),
        examples=("/alerts", "/alerts silence first_response_slow channel=slack 2h peak sale", "/alerts unsilence 12"),
        manager_note="silence and unsilence need the manager role",
    ),
    "ticket": CommandHelp(
        name="ticket",
        usage="/ticket ID",
        summary="a ticket's summary, messages and timeline",
        details=("Chinese: 工单 ID.",),
        examples=("/ticket 1042", "/工单 1042"),
    ),
    "agent": CommandHelp(
        name="agent",
        usage="/agent [@someone] [7d]",
        summary="an agent's scorecard, yours when nobody is named; the window defaults to 7d",
        details=('Any window /metrics accepts. Chinese: 客服 @某人 30天 ("@客服" at the start is the bot itself).',),
        examples=("/agent", "/agent @alice 30d", "/客服 @张三 近7天"),
        manager_note="another agent's scorecard needs the manager role",
    ),
    "assign": CommandHelp(
        name="assign",
        usage="/assign TICKET [@agent]",
        summary="give a ticket to an agent, yourself when nobody is named",
        details=("The card shows the new assignee; the ticket's history records who assigned it.",
                 "Chinese: 分配 1042 @某人."),
        examples=("/assign 1042 @mei", "/assign 1042", "/分配 1042 @李"),
        manager_note="assigning someone else needs the manager role",
    ),
    "resolve": CommandHelp(
        name="resolve",
        usage="/resolve TICKET [note]",
        summary="resolve a ticket, as its card's Resolve button does; the customer is then asked for a rating",
        details=("The note goes on the card's history and the ticket's timeline.",
                 "The satisfaction survey goes out [csat] delay later (KEFU_CSAT_DELAY, 1h by default), once per "
                 "ticket. Chinese: 解决 1042 备注 / 结单 1042."),
        examples=("/resolve 1042", "/resolve 1042 refund sent, customer happy", "/结单 1042"),
    ),
    "queue": CommandHelp(
        name="queue",
        usage="/queue [intent|language]",
        summary="open tickets nobody has taken, most urgent first, then oldest",
        details=("Give an intent (refund_request) or a customer language (de) to see only those.",
                 "Chinese: 队列 de."),
        examples=("/queue", "/queue de", "/queue refund_request", "/队列"),
    ),
    "shift": CommandHelp(
        name="shift",
        usage="/shift [start|stop] [@agent]",
        summary="who is on shift now; start or stop your shift by hand",
        details=("Shifts follow each agent's calendar (kefu agents set NAME --shift 'mon-fri 09:00-18:00 "
                 "Asia/Shanghai'); start covers time outside it, stop ends yours early until the next one.",
                 "With automatic assignment, the open tickets of an agent who goes off shift move to agents on shift.",
                 "Chinese: 值班, 值班 上班, 值班 下班."),
        examples=("/shift", "/shift start", "/shift stop", "/值班 下班"),
        manager_note="starting or stopping another agent's shift needs the manager role",
    ),
    "returns": CommandHelp(
        name="returns",
        usage="/returns [pending] | /returns approve ID [ID…] | /returns approve all | /returns reject ID REASON",
        summary="after-sales requests awaiting approval; approve them in a batch or reject one",
        details=("Approving a return or an exchange sends the customer the return instructions in their language.",
                 "Chinese: 售后 待审批, 售后 批准 3 4, 售后 批准 全部, 售后 拒绝 3 原因."),
        examples=("/returns pending", "/returns approve 3 4", "/returns approve all", "/returns reject 5 used item"),
        manager_note="every /returns command needs the manager role",
    ),
    "request": CommandHelp(
        name="request",
        usage="/request TICKET return|refund|exchange|reship [AMOUNT CURRENCY] [REASON] [note] | "
              "/request ID received|refunded|reshipped|close [note]",
        summary="open an after-sales request on a ticket, or record its next step",
        details=("AMOUNT with a dot and an ISO 4217 CURRENCY: 25.00 EUR, 1500 JPY.",
                 "REASON: damaged, wrong_item, not_received, changed_mind, defective, late, other (default: from "
                 "the ticket's intent).",
                 "Chinese: 申请 42 退款 25.00 EUR 损坏, 申请 3 已收货 / 已退款 / 已补发 / 关闭."),
        examples=("/request 42 refund 25.00 EUR damaged", "/request 42 return", "/request 3 received",
                  "/request 3 close"),
    ),
    "customer": CommandHelp(
        name="customer",
        usage='/customer ID|EMAIL [tag TAG | untag TAG | note "TEXT"]',
        summary="a customer's profile (value tier, orders, lifetime value, tags, notes); tag them or add a note",
        details=("ID is the customer's id on their channel (CHANNEL:ID where two channels share it) or their email.",
                 "Tags and notes show on the customer's next triage cards.",
                 "Chinese: 客户 ID, 客户 ID 标签 vip, 客户 ID 删除标签 vip, 客户 ID 备注 内容."),
        examples=("/customer c-42", "/customer ana@example.com tag vip", '/customer c-42 note "prefers email"'),
    ),
}



@dataclass(frozen=True)
class ChineseHelp:
    """A command's help in Chinese; its usage line and examples are the English entry's."""

    summary: str
    details: tuple[str, ...]
    manager_note: str | None = None


COMMAND_HELP_ZH: Final[dict[str, ChineseHelp]] = {
    "metrics": ChineseHelp(
        "某个时间窗口的团队数据，可按维度拆分、与上一期对比并出图",
        ("时间窗口：今天（默认，从你所在时区的零点起）、昨天、24小时、7天/近7天、30天，任意 Nh/Nd/Nw（最多 400 天），"
         "或日期 FROM..TO，例如 2026-11-01..2026-11-15（含结束日）。",
         "拆分：按意图、按渠道、按地区、按客服、按语言、按平台、按商品（by intent|channel|region|agent|language|"
         "marketplace|sku）。",
         "对比/环比（vs prev）加上前一个同样长的窗口；图表（chart）在能显示图片的平台附上图表。",
         "选项顺序不限，中英文可以混用。"),
        "按客服拆分需要经理角色",
    ),
    "sla": ChineseHelp("有超时风险和已超时的未结工单，最早的在前，附处理人",
                       ("“有风险”指在 SLA 策略的预警时间内到期。",)),
    "alerts": ChineseHelp(
        "正在触发的告警；静默某条规则一段时间，或提前结束静默",
        ("LABEL 可以是 channel、intent、region、marketplace、severity、language、group。",
         "DURATION：30m、2h、1d、1h30m、2小时……最多 30 天，后面的内容是原因。",
         "中文：告警、告警 静默 RULE 2小时 原因、告警 取消静默 ID。"),
        "静默和取消静默需要经理角色",
    ),
    "ticket": ChineseHelp("工单的概要、消息和时间线", ("中文：工单 ID。",)),
    "agent": ChineseHelp("客服的评分卡，不指定人时是你自己的；时间窗口默认 7 天",
                         ("时间窗口同 /metrics。中文：客服 @某人 30天（开头的“@客服”是机器人本身）。",),
                         "查看别人的评分卡需要经理角色"),
    "assign": ChineseHelp("把工单分配给某位客服，不指定人时分配给自己",
                          ("卡片会显示新的处理人，工单记录会写明是谁分配的。", "中文：分配 1042 @某人。"),
                          "分配给别人需要经理角色"),
    "resolve": ChineseHelp(
        "结单，和卡片上的“解决”按钮一样；之后会请客户评分",
        ("备注会写进卡片记录和工单时间线。",
         "满意度调查在 [csat] delay 之后发出（KEFU_CSAT_DELAY，默认 1 小时），每个工单一次。中文：解决 1042 备注 / "
         "结单 1042。"),
    ),
    "queue": ChineseHelp("没人接手的未结工单，最紧急的在前，其次是最早的",
                         ("写上意图（refund_request）或客户语言（de）只看这些。中文：队列 de。",)),
    "shift": ChineseHelp(
        "现在谁在值班；手动开始或结束你的班次",
        ("班次按每位客服的日历（kefu agents set NAME --shift 'mon-fri 09:00-18:00 Asia/Shanghai'）；上班（start）"
         "覆盖日历之外的时间，下班（stop）提前结束，直到下一个班次。",
         "开启自动分配时，下班客服的未结工单会转给在班的客服。",
         "中文：值班、值班 上班、值班 下班。"),
        "为别人上班或下班需要经理角色",
    ),
    "returns": ChineseHelp(
        "待审批的售后申请；批量批准，或拒绝某一条",
        ("批准退货或换货时，会用客户的语言把退货说明发给客户。",
         "中文：售后 待审批、售后 批准 3 4、售后 批准 全部、售后 拒绝 3 原因。"),
        "所有 /returns 命令都需要经理角色",
    ),
    "request": ChineseHelp(
        "为工单发起售后申请，或记录它的下一步",
        ("金额用小数点加 ISO 4217 币种：25.00 EUR、1500 JPY。",
         "原因：damaged、wrong_item、not_received、changed_mind、defective、late、other（默认取自工单的意图）。",
         "中文：申请 42 退款 25.00 EUR 损坏，申请 3 已收货 / 已退款 / 已补发 / 关闭。"),
    ),
    "customer": ChineseHelp(
        "客户档案（价值等级、订单、终身价值、标签、备注）；打标签或加备注",
        ("ID 是客户在其渠道上的 ID（两个渠道 ID 相同时写 CHANNEL:ID）或邮箱。",
         "标签和备注会显示在该客户之后的分诊卡片上。",
         "中文：客户 ID、客户 ID 标签 vip、客户 ID 删除标签 vip、客户 ID 备注 内容。"),
    ),
}

HELP_USAGE: Final[str] = "/kefu help [metrics|sla|alerts|ticket|agent|assign|resolve|queue|shift|returns|request|" \
                         "customer]"
OVERVIEW_USAGE: Final[str] = "/metrics, /sla, /alerts, /ticket ID, /agent, /assign, /resolve, /queue, /shift, " \
                             "/returns, /request, /customer ID, /kefu help"


def usage_line(command: str) -> str:
    """The usage line of a canonical command name ("metrics", "help", …)."""
    if command == "help":
        return HELP_USAGE
    return COMMAND_HELP[command].usage


class HelpCapabilities(Protocol):
    """What help needs to know of a platform (an adapter's capabilities satisfy it; every field is optional)."""

    slash_commands: bool
    image_upload: bool


def help_text(
    topic: str | None = None, capabilities: HelpCapabilities | object | None = None, *, mention: str = "@kefu",
    language: str | None = "en",
) -> str:
    """Plain-text help: every command with its usage line and one example, or one command in detail.

    `topic` is a command name or alias ("metrics", "指标"). Where the platform has no slash commands
    (`capabilities.slash_commands` false) examples are written as mentions ("@kefu /metrics 7d"); where it cannot
    upload images the chart option is marked unavailable. `language` "zh" writes it in Chinese (a command without
    a Chinese entry keeps its English summary). Raises CommandError for an unknown topic.
    """
    slash = bool(getattr(capabilities, "slash_commands", True))
    images = bool(getattr(capabilities, "image_upload", True))
    lang = language_of(language)

    def example(text: str) -> str:
        return text if slash else f"{mention} {text}"

    def in_language(entry: CommandHelp) -> tuple[str, tuple[str, ...], str | None, tuple[str, ...]]:
        """Summary, details, manager note and examples (Chinese ones first in Chinese)."""
        chinese = COMMAND_HELP_ZH.get(entry.name) if lang == "zh" else None
        if chinese is None:
            return entry.summary, entry.details, entry.manager_note, entry.examples
        examples = tuple(sorted(entry.examples, key=lambda text: text.isascii()))
        return chinese.summary, chinese.details, chinese.manager_note, examples

    if topic is not None:
        name = COMMAND_ALIASES.get(topic.casefold(), topic.casefold())
        name = {"silence": "alerts", "unsilence": "alerts"}.get(name, name)
        if name == "help":
            return help_text(None, capabilities, mention=mention, language=lang)
        if name not in COMMAND_HELP:
            raise CommandError(say("command.no_help", topic=topic), HELP_USAGE, word=topic)
        entry = COMMAND_HELP[name]
        summary, details, manager_note, examples = in_language(entry)
        ending = "。" if lang == "zh" else "."
        lines = [usage_in(entry.usage, lang), f"{summary[0].upper()}{summary[1:]}{ending}"]
        lines += details
        if entry.name == "metrics" and not images:
            lines.append(phrase("help.no_charts", lang))
        if manager_note:
            lines.append(phrase("help.note", lang, note=manager_note))
        lines.append(phrase("help.examples", lang))
        lines += [f"  {example(text)}" for text in examples]
        return "\n".join(lines)

    lines = [phrase("help.title", lang)]
    for name in HELP_TOPICS:
        entry = COMMAND_HELP[name]
        summary, _details, manager_note, examples = in_language(entry)
        note = phrase("help.entry_note", lang, note=manager_note) if manager_note else ""
        lines.append(usage_in(entry.usage, lang))
        lines.append(phrase("help.entry", lang, summary=summary, note=note, example=example(examples[0])))
    lines.append(usage_in(HELP_USAGE, lang))
    this_help = "/帮助 指标" if lang == "zh" else "/kefu help metrics"
    lines.append(phrase("help.this_help", lang, example=example(this_help)))
    if not slash:
        lines.append(phrase("help.mention_first", lang, mention=mention))
    lines.append(phrase("help.chinese_words", lang))
    return "\n".join(lines)
