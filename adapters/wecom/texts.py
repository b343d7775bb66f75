"""kefu's own words on WeCom, Chinese first: card labels, button texts, refusals and notes (`language = "en"`
switches to English). The core writes its command answers and action results in the same language
(handlers.phrases)."""

from __future__ import annotations

from typing import Final, Literal

from handlers.phrases import card_field_label

Language = Literal["zh", "en"]

TEXTS: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "send": "发送回复",
        "assign": "分配给我",
        "escalate": "升级",
        "resolve": "解决",
        "alert_acknowledge": "确认",
        "alert_silence_2h": "静默2小时",
        "alert_show_tickets": "查看工单",
        "done": "已处理",
        "resolved": "已解决",
        "customer_message": "客户消息",
        "suggested_reply": "建议回复",
        "alerts_merged": "{count} 条告警",
        "unknown_button": "kefu 不认识这个按钮（卡片可能来自旧版本）。请发送 /ticket 工单号 查看工单。",
        "internal_error": "kefu 处理命令时出错，详情见 kefu 日志。",
        "chart_link": "图表：{link}",
        "chart_saved": "图表已保存在 kefu 服务器：{path}（设置 public_url 后可直接打开链接）",
        "commands_only": "kefu 只处理以 / 开头的命令，例如 /指标 7天 或 /kefu help。",
    },
    "en": {
        "send": "Send reply",
        "assign": "Assign to me",
        "escalate": "Escalate",
        "resolve": "Resolve",
        "alert_acknowledge": "Acknowledge",
        "alert_silence_2h": "Silence 2h",
        "alert_show_tickets": "Show tickets",
        "done": "Done",
        "resolved": "Resolved",
        "customer_message": "Customer's message",
        "suggested_reply": "Suggested reply",
        "alerts_merged": "{count} alerts",
        "unknown_button": "kefu does not know this button (the card may come from an older kefu). Send "
                          "/ticket ID to see the ticket.",
        "internal_error": "kefu could not answer that command because of an internal error; it is in kefu's log.",
        "chart_link": "Chart: {link}",
        "chart_saved": "The chart is saved on the kefu server as {path} (set public_url to get a link)",
        "commands_only": "kefu answers commands starting with /, such as /metrics 7d or /kefu help.",
    },
}

def text(language: Language, key: str, **values: object) -> str:
    return TEXTS[language][key].format(**values)


def field_label(language: Language, label: str) -> str:
    """A card field's label as WeCom shows it (the catalogue's, handlers.phrases)."""
    return card_field_label(label, language)
