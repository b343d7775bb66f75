"""The words manager commands understand: command names, options and their English and Chinese aliases.

Every alias is stored casefolded and NFKC-normalised (the parser compares that form). Keys of each table are what
a user may type; values are the canonical names the typed commands carry. The did-you-mean suggestions are drawn
from these same tables, so adding an alias here makes it both accepted and suggested.

"客服" is both the bot's Chinese name and an alias of the agent scorecard command: with a leading "@" ("@客服") it is
the bot mention that DingTalk and WeCom put first and is stripped; without "@" it is the `/agent` command.
"""

from __future__ import annotations

from typing import Final

# The commands. "silence"/"unsilence" are shortcuts for "/alerts silence" and "/alerts unsilence".
COMMAND_ALIASES: Final[dict[str, str]] = {
    "metrics": "metrics",
    "metric": "metrics",
    "stats": "metrics",
    "指标": "metrics",
    "数据": "metrics",
    "统计": "metrics",
    "sla": "sla",
    "alerts": "alerts",
    "alert": "alerts",
    "告警": "alerts",
    "报警": "alerts",
    "silence": "silence",
    "静默": "silence",
    "unsilence": "unsilence",
    "取消静默": "unsilence",
    "解除静默": "unsilence",
    "ticket": "ticket",
    "工单": "ticket",
    "agent": "agent",
    "scorecard": "agent",
    "客服": "agent",
    "坐席": "agent",
    "assign": "assign",
    "分配": "assign",
    "指派": "assign",
    "resolve": "resolve",
    "解决": "resolve",
    "结单": "resolve",
    "queue": "queue",
    "队列": "queue",
    "待分配": "queue",
    "shift": "shift",
    "shifts": "shift",
    "班次": "shift",
    "值班": "shift",
    "returns": "returns",
    "售后": "returns",
    "退换货": "returns",
    "request": "request",
    "申请": "request",
    "售后申请": "request",
    "customer": "customer",
    "客户": "customer",
    "顾客": "customer",
    "help": "help",
    "帮助": "help",
    "?": "help",
}

# "/shift start", "/shift stop" and their Chinese words ("/值班 上班").
SHIFT_ACTIONS: Final[dict[str, str]] = {
    "start": "start",
    "on": "start",
    "begin": "start",
    "上班": "start",
    "开始": "start",
    "stop": "stop",
    "off": "stop",
    "end": "stop",
    "下班": "stop",
    "结束": "stop",
}

# The namespace word: "/kefu metrics 7d" is "/metrics 7d", "/kefu" alone and "/kefu help" are help.
NAMESPACE_WORDS: Final[frozenset[str]] = frozenset({"kefu"})

# Bot mentions stripped from the start of a message (DingTalk and WeCom put the @-mention first).
DEFAULT_BOT_NAMES: Final[tuple[str, ...]] = ("kefu", "客服")

# Words that ask for help on a command when they follow it: "/metrics help", "/告警 帮助".
HELP_WORDS: Final[frozenset[str]] = frozenset({"help", "帮助", "?", "-h", "--help"})

# Help topics: the commands a user can ask about.
HELP_TOPICS: Final[tuple[str, ...]] = ("metrics", "sla", "alerts", "ticket", "agent", "assign", "resolve", "queue",
                                       "shift",
                                       "returns", "request", "customer")

# Dimensions of /metrics "by X" (and labels of silence matchers, see MATCHER_LABEL_ALIASES).
DIMENSION_ALIASES: Final[dict[str, str]] = {
    "intent": "intent",
    "intents": "intent",
    "意图": "intent",
    "channel": "channel",
    "channels": "channel",
    "source": "channel",
    "渠道": "channel",
    "region": "region",
    "regions": "region",
    "country": "region",
    "geo": "region",
    "地区": "region",
    "国家": "region",
    "agent": "agent",
    "agents": "agent",
    "assignee": "agent",
    "客服": "agent",
    "坐席": "agent",
    "language": "language",
    "languages": "language",
    "lang": "language",
    "语言": "language",
    "marketplace": "marketplace",
    "marketplaces": "marketplace",
    "market": "marketplace",
    "mp": "marketplace",
    "平台": "marketplace",
    "市场": "marketplace",
    "sku": "sku",
    "product": "sku",
    "商品": "sku",
}
DIMENSIONS: Final[tuple[str, ...]] = ("intent", "channel", "region", "agent", "language", "marketplace", "sku")

# "by region", "per region", "按 地区"; "按地区" (no space) is handled by the parser as 按 + dimension.
BY_WORDS: Final[frozenset[str]] = frozenset({"by", "per", "按"})
BY_PREFIX: Final[str] = "按"

# "vs prev", "vs previous"; "compare", "对比", "环比" alone.
VS_WORDS: Final[frozenset[str]] = frozenset({"vs", "vs.", "versus"})
PREVIOUS_WORDS: Final[frozenset[str]] = frozenset({"prev", "previous"})
COMPARE_WORDS: Final[frozenset[str]] = frozenset({"compare", "对比", "环比"})

CHART_WORDS: Final[frozenset[str]] = frozenset({"chart", "graph", "图表", "图"})

# Words that may precede a rolling window and add nothing: "last 7 days", "past 24h", "最近 7天".
WINDOW_FILLER_WORDS: Final[frozenset[str]] = frozenset({"last", "past", "近", "最近", "过去"})

# "/agent me" is the caller's own scorecard, like "/agent".
SELF_WORDS: Final[frozenset[str]] = frozenset({"me", "myself", "我", "自己"})

ALERT_LIST_WORDS: Final[frozenset[str]] = frozenset({"list", "ls", "列表"})
ALERT_SUBCOMMANDS: Final[dict[str, str]] = {
    "silence": "silence",
    "静默": "silence",
    "unsilence": "unsilence",
    "取消静默": "unsilence",
    "解除静默": "unsilence",
    "list": "list",
    "ls": "list",
    "列表": "list",
}

# Labels a silence may match on (besides the rule itself), with the same aliases as the dimensions.
MATCHER_LABELS: Final[tuple[str, ...]] = ("channel", "intent", "region", "marketplace", "severity", "language", "sku",
                                          "kind", "agent", "group")  # every label a rule can group by (DIMENSIONS)
MATCHER_LABEL_ALIASES: Final[dict[str, str]] = {
    **{label: label for label in MATCHER_LABELS},
    **{alias: dim for alias, dim in DIMENSION_ALIASES.items() if dim in MATCHER_LABELS},
    "severity": "severity",
    "sev": "severity",
    "严重度": "severity",
    "级别": "severity",
    "group": "group",
    "team": "group",
    "分组": "group",
}

# Metrics a /metrics command may name ("/metrics frt 7d"): every name of bot.metrics.METRICS plus short and
# Chinese aliases (tests/handlers checks that each target exists there). The executor may pass its own table to
# `parse_command(metric_aliases=...)`.
DEFAULT_METRIC_ALIASES: Final[dict[str, str]] = {
    **{
        name: name
        for name in (
            "volume",
            "inbound_messages",
            "first_response_time_mean",
            "first_response_time_median",
            "first_response_time_p90",
            "resolution_time_mean",
            "resolution_time_median",
            "resolution_time_p90",
            "first_response_time_business_mean",
            "first_response_time_business_median",
            "first_response_time_business_p90",
            "resolution_time_business_mean",
            "resolution_time_business_median",
            "resolution_time_business_p90",
            "sla_first_response_compliance",
            "sla_resolution_compliance",
            "one_touch_resolution_rate",
            "backlog",
            "backlog_under_4h",
            "backlog_4h_to_24h",
            "backlog_1d_to_3d",
            "backlog_over_3d",
            "auto_reply_rate",
            "auto_reply_acceptance_rate",
            "suggestion_edit_rate",
            "csat_mean",
            "csat_response_rate",
            "negative_sentiment_share",
            "complaint_rate",
            "refund_return_request_rate",
            "after_sales_requests",
            "refund_amount",
            "after_sales_age_mean",
            "refund_rate",
        )
    },
    "sentiment": "negative_sentiment_share",
    "negative": "negative_sentiment_share",
    "情绪": "negative_sentiment_share",
    "负面情绪": "negative_sentiment_share",
    "csat_rate": "csat_response_rate",
    "回评率": "csat_response_rate",
    "tickets": "volume",
    "工单量": "volume",
    "messages": "inbound_messages",
    "消息量": "inbound_messages",
    "frt": "first_response_time_mean",
    "first_response": "first_response_time_mean",
    "first_response_time": "first_response_time_mean",
    "response_time": "first_response_time_mean",
    "首响": "first_response_time_mean",
    "首次响应": "first_response_time_mean",
    "frt_median": "first_response_time_median",
    "frt_p90": "first_response_time_p90",
    "frt_business": "first_response_time_business_mean",
    "business_frt": "first_response_time_business_mean",
    "resolution_business": "resolution_time_business_mean",
    "resolution": "resolution_time_mean",
    "resolution_time": "resolution_time_mean",
    "解决时长": "resolution_time_mean",
    "sla": "sla_first_response_compliance",
    "首响达标率": "sla_first_response_compliance",
    "one_touch": "one_touch_resolution_rate",
    "一次解决率": "one_touch_resolution_rate",
    "积压": "backlog",
    "auto_reply": "auto_reply_rate",
    "deflection": "auto_reply_rate",
    "自动回复率": "auto_reply_rate",
    "acceptance": "auto_reply_acceptance_rate",
    "auto_reply_acceptance": "auto_reply_acceptance_rate",
    "采纳率": "auto_reply_acceptance_rate",
    "edit_rate": "suggestion_edit_rate",
    "csat": "csat_mean",
    "satisfaction": "csat_mean",
    "满意度": "csat_mean",
    "complaints": "complaint_rate",
    "投诉率": "complaint_rate",
    "refunds": "refund_return_request_rate",
    "退款率": "refund_return_request_rate",
    "returns": "after_sales_requests",
    "after_sales": "after_sales_requests",
    "售后量": "after_sales_requests",
    "refunded": "refund_amount",
    "退款金额": "refund_amount",
    "return_age": "after_sales_age_mean",
    "售后时长": "after_sales_age_mean",
    "实际退款率": "refund_rate",
}

# Window words suggested when a /metrics or /agent word is unknown (the full grammar is in time_windows).
WINDOW_EXAMPLES: Final[tuple[str, ...]] = (
    "today",
    "yesterday",
    "24h",
    "7d",
    "30d",
    "今天",
    "昨天",
    "24小时",
    "7天",
    "30天",
)
