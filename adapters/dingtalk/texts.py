"""kefu's own words on DingTalk, Chinese first (`[dingtalk] language = "en"` switches to English): button labels,
card headings, the text actions agents type, and the adapter's refusals. The core writes its command answers and
action results in the same language (handlers.phrases); data in them (intents, metric names) stays as it is.

The text actions are the DingTalk form of a card's buttons: "/发送 42" (or "/send 42") does what Send does on
ticket #42. Each action has its English and Chinese words; both work whatever the language setting.
"""

from __future__ import annotations

from typing import Final, Literal

Language = Literal["zh", "en"]

# action name → the words that ask for it ("/send 42", "/发送 42"); the first word of each language is shown.
TICKET_ACTION_WORDS: Final[dict[str, dict[Language, tuple[str, ...]]]] = {
    "send": {"zh": ("发送",), "en": ("send",)},
    "edit": {"zh": ("编辑", "回复"), "en": ("edit", "reply")},
    "assign": {"zh": ("认领",), "en": ("assign", "claim")},
    "escalate": {"zh": ("升级",), "en": ("escalate",)},
    "resolve": {"zh": ("解决", "关闭"), "en": ("resolve", "close")},
    "wrong_intent": {"zh": ("改意图",), "en": ("wrong-intent", "intent-is")},
}
ALERT_ACTION_WORDS: Final[dict[str, dict[Language, tuple[str, ...]]]] = {
    "alert_acknowledge": {"zh": ("确认告警",), "en": ("ack",)},
    "alert_silence_2h": {"zh": ("静音告警",), "en": ("mute",)},
    "alert_show_tickets": {"zh": ("告警工单",), "en": ("alert-tickets",)},
}

# What a command's first word is about, for the heading of its answer.
COMMAND_HEADINGS: Final[dict[Language, dict[str, str]]] = {
    "zh": {"metrics": "指标", "sla": "SLA 时效", "alerts": "告警", "silence": "告警静默", "unsilence": "取消静默",
           "ticket": "工单", "agent": "客服", "help": "帮助"},
    "en": {"metrics": "Metrics", "sla": "SLA", "alerts": "Alerts", "silence": "Silence", "unsilence": "Unsilence",
           "ticket": "Ticket", "agent": "Agent", "help": "Help"},
}

TEXTS: Final[dict[Language, dict[str, str]]] = {
    "zh": {
        "send": "发送建议回复",
        "edit": "编辑后发送",
        "assign": "认领",
        "escalate": "升级",
        "resolve": "解决",
        "wrong_intent": "意图有误",
        "alert_acknowledge": "确认",
        "alert_silence_2h": "静默 2 小时",
        "alert_show_tickets": "查看工单",
        "suggested_reply": "建议回复",
        "customer_wrote": "客户原文",
        "severity": "严重程度",
        "follow_up": "跟进",
        "updated": "卡片已更新",
        "commands_hint": "也可以 @机器人 发送：",
        "edit_usage": "/编辑 {ticket} 回复内容",
        "intent_usage": "/改意图 {ticket} 意图名",
        "answer": "kefu 答复",
        "chart": "查看图表",
        "chart_no_link": "图表已生成，但 kefu 没有可供浏览器打开的地址：请管理员设置 KEFU_PUBLIC_URL。",
        "done": "✅ 已完成",
        "refused": "⚠️ 未完成",
        "needs_text": "请在工单号后写上要发给客户的回复，例如：/编辑 {ticket} 您好，包裹已经寄出。",
        "needs_intent": "请在工单号后写上正确的意图，例如：/改意图 {ticket} order_status。",
        "error": "kefu 处理这条消息时出了内部错误，详情已记入日志。",
        "merged": "{count} 条告警",
        "loading": "kefu 正在启动，请稍后再试。",
    },
    "en": {
        "send": "Send suggested reply",
        "edit": "Edit and send",
        "assign": "Assign to me",
        "escalate": "Escalate",
        "resolve": "Resolve",
        "wrong_intent": "Wrong intent",
        "alert_acknowledge": "Acknowledge",
        "alert_silence_2h": "Silence 2h",
        "alert_show_tickets": "Show tickets",
        "suggested_reply": "Suggested reply",
        "customer_wrote": "Customer wrote",
        "severity": "Severity",
        "follow_up": "Follow-up",
        "updated": "Card updated",
        "commands_hint": "Or @-mention the robot with:",
        "edit_usage": "/edit {ticket} your reply",
        "intent_usage": "/wrong-intent {ticket} intent_name",
        "answer": "kefu answer",
        "chart": "Open the chart",
        "chart_no_link": "The chart is ready, but kefu has no address browsers can open: set KEFU_PUBLIC_URL.",
        "done": "✅ Done",
        "refused": "⚠️ Not done",
        "needs_text": "Write the reply for the customer after the ticket number, e.g. /edit {ticket} Hello, your "
                      "parcel is on its way.",
        "needs_intent": "Write the right intent after the ticket number, e.g. /wrong-intent {ticket} order_status.",
        "error": "kefu hit an internal error on this message; it is in kefu's log.",
        "merged": "{count} alerts",
        "loading": "kefu is starting: try again in a moment.",
    },
}


def text(language: Language, key: str, **values: object) -> str:
    return TEXTS[language][key].format(**values)


def action_word(language: Language, action: str) -> str:
    """The word shown for an action in `language` ("发送" for send)."""
    words = TICKET_ACTION_WORDS.get(action) or ALERT_ACTION_WORDS[action]
    return words[language][0]
